"""SME invoice financing, the staff's side: queues and decisions under /api/v1/partner/brand/{brandId}/sme/...
(routes to come; docs/invoice-financing.md)."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
