"""Inputs and outputs of the partner disbursal watch (``workflows.partner_disbursal_watch``, its activities in
``activities.partners``). Dataclasses, so fields can be added later; instants tz-aware."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DisbursalDue:
    """One case to ask its partner about: ``checks`` is how many were recorded before this one (a retry of a check
    already recorded changes nothing)."""

    case_id: str
    loan_id: str
    brand_id: str
    partner_code: str
    checks: int


@dataclass
class DisbursalChecked:
    """What one check did: the partner's ``answer`` (``PartnerTxnStatus``), the case's new ``state``, whether the
    breach was marked and whether the case was escalated by it; ``recorded`` False when it had been recorded
    before (a retry) or the case was confirmed meanwhile."""

    case_id: str
    answer: str
    state: str
    breach_now: bool = False
    escalate_now: bool = False
    recorded: bool = True
