"""Collections: the pre-collection, overdue and post-collection queues, allocation, follow-ups with promises to pay,
field visits, collector profiles, and the collector's payment link."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
