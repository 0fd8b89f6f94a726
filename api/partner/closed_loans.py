"""Closed loans: completed, settled and written-off lists, the closure certificate (NDC/NOC) regenerated, and reloans
started by staff."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
