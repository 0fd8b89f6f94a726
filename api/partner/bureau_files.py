"""Bureau (CIC) submission files: build, validate, download and resubmit (docs/bureau-reporting.md)."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
