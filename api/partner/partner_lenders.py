"""Partner lenders (multi-NBFC routing and co-lending): their settings, offers, SLA and books under
/api/v1/partner/brand/{brandId}/partner-lenders/... (routes to come; docs/partner-lenders.md)."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
