"""Lead forms: ad platforms' leads imported from CSV (Facebook Ads), deduplicated, matched to customers, listed,
exported."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
