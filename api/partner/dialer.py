"""The dialer: click-to-call through Acefone (Stringee secondary), the vendor's call events, call logs and stats."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
