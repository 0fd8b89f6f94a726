"""Credit policy versions and simulation: publish the brand's BRE and evaluation as a numbered version, and run a
draft against recent decisions."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
