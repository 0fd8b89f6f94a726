"""The staff loan routes moved into one router per resource: ``loans`` (list, detail, ledger, schedule preview),
``queues``, ``allocation``, ``review`` (the review file and the decisions) and ``status_reasons``.

Kept only for the allocation rules the staff-user routes import from here; new code imports them from
``api.partner.allocation``.
"""

from __future__ import annotations

from api.partner.allocation import check_allocatable, release_held_loans

__all__ = ["check_allocatable", "release_held_loans"]
