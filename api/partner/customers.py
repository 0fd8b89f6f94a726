"""Customers of the brand for staff: the list with filters and search, one customer's profile, allocation and status,
and the unallocated queue."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
