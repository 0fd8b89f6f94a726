"""Global search: one box for name, phone, PAN, loan id, UTR and email, with trigram (pg_trgm) fuzzy matching on
names."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
