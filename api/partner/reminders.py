"""Staff reminders: messages staff schedule for customers, dispatched at their time through the messaging layer, with
their log."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
