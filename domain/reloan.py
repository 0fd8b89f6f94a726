"""Reloans: whether a closed loan earns its borrower an offer of a new one, for how much and until when, and whether
a KYC result recorded earlier is still good for the next loan.

Rules (the brand's ``reloan`` setting, ``domain.collection_policy.ReloanPolicy``; seed 001's brand reloan configs):

- only a loan closed in good standing qualifies: closed as REPAID or FORECLOSED. A SETTLED or WRITTEN_OFF loan did
  not repay what it owed (RBI's Framework for Compromise Settlements and Technical Write-offs, 8 June 2023, has
  the borrower reported as settled / written off), and a COOLING_OFF_EXIT borrower left the loan at its start;
- the worst DPD the loan ever reached is at most ``maxDpd``;
- the offer is the closed loan's amount stepped up by ``stepUpPercent``, rounded down to whole rupees, and never
  above ``maxAmount`` (paise);
- it stays open ``offerDays`` calendar days from the closure date (IST), that day included in the count from it.

Money is integer paise; dates are IST calendar dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.collection_policy import ReloanPolicy

#: how a loan must have closed to earn a reloan offer (``Loan.closed_as``)
GOOD_CLOSURES = frozenset({"REPAID", "FORECLOSED"})
RUPEE = 100  # paise


@dataclass(frozen=True)
class ReloanOffer:
    """An offer: ``amount`` in paise (whole rupees), open until ``expires_on`` (IST date, included)."""

    amount: int
    expires_on: date


def ineligibility(max_dpd_reached: int, closed_as: str | None, policy: ReloanPolicy) -> str | None:
    """Why a loan that closed ``closed_as`` having reached ``max_dpd_reached`` DPD earns no reloan offer under
    ``policy``, or None when it does. The reason names the rule (it is shown to staff in a 409)."""
    if not policy.enabled:
        return "the brand does not offer reloans"
    if closed_as not in GOOD_CLOSURES:
        return f"the loan closed as {closed_as or 'not closed'}; only REPAID or FORECLOSED loans earn a reloan"
    if max_dpd_reached > policy.max_dpd:
        return f"the loan reached {max_dpd_reached} DPD, above the brand's limit of {policy.max_dpd}"
    return None


def reloan_amount(previous_amount: int, policy: ReloanPolicy) -> int:
    """``previous_amount`` (paise) × (100 + stepUpPercent) / 100, rounded down to whole rupees, capped by
    ``maxAmount``. Raises ValueError on a negative amount."""
    if previous_amount < 0:
        raise ValueError("previous_amount must not be negative")
    stepped = previous_amount * (100 + policy.step_up_percent) // 100
    amount = stepped // RUPEE * RUPEE
    if policy.max_amount is not None:
        amount = min(amount, policy.max_amount)
    return amount


def reloan_offer(
    previous_amount: int, max_dpd_reached: int, closed_as: str | None, policy: ReloanPolicy, closed_on: date
) -> ReloanOffer | None:
    """The offer a loan of ``previous_amount`` paise closed on ``closed_on`` (IST) earns, or None when
    :func:`ineligibility` gives a reason (or the amount comes to nothing)."""
    if ineligibility(max_dpd_reached, closed_as, policy) is not None:
        return None
    amount = reloan_amount(previous_amount, policy)
    if amount <= 0:
        return None
    return ReloanOffer(amount, closed_on + timedelta(days=policy.offer_days))


def kyc_reusable(step_verified_at: datetime, now: datetime, validity_days: int) -> bool:
    """Whether a KYC step verified at ``step_verified_at`` still counts at ``now``: younger than
    ``validity_days`` days (the brand's ``reloan.kycValidityDays``; 0 reuses nothing). A verification dated in the
    future (clock skew) counts as verified now. Both datetimes timezone-aware."""
    if validity_days <= 0:
        return False
    return now - step_verified_at < timedelta(days=validity_days)


def kyc_validity_days(step: str, validity_days: int, statement_max_age_days: int) -> int:
    """How many days a KYC step's result counts for a later loan: the brand's ``reloan.kycValidityDays``, and for the
    bank statement's analysis no more than ``statementMaxAgeDays`` (the age past which the statement step would not
    read the statement itself; the analysis's age is counted from when it was made, so the statement it read may be up
    to twice that old)."""
    if step == "BANK_STATEMENT":
        return min(validity_days, statement_max_age_days)
    return validity_days


__all__ = [
    "GOOD_CLOSURES",
    "ReloanOffer",
    "ineligibility",
    "kyc_reusable",
    "kyc_validity_days",
    "reloan_amount",
    "reloan_offer",
]
