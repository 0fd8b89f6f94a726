"""The worker's kill points (los.chaos): which activity, before or after its body, and the phase it stands for.

A kill loses every activity in flight, which Temporal retries only once its start-to-close timeout has passed
(database writes 15 s, provider calls 30 s, notices 60 s, the agreement 90 s; a database write, a KYC step or the
bureau pull, run as a local activity, is lost with its workflow task, retried after the workflow task's timeout,
10 s), and the whole suite has minutes, not hours, on a two-core CI machine: ``quick`` (the default, run in CI) is 21
points across every phase, each on an activity with a short timeout or a local one; ``all`` (``LOS_CHAOS_POINTS=all``)
adds seven more, mostly on long activities, 28 in all."""

from __future__ import annotations

import os

from los.chaos import KillPoint

QUICK: list[tuple[str, str]] = [
    ("credit_rules_and_evaluation:after", "decision: rules and evaluation recorded, not yet in history"),
    ("record_status:after", "any status move (sanction, eSign, disbursal...) written, not yet in history"),
    ("initiate_disbursal:after", "disbursal: the bank accepted the transfer, its result not recorded"),
    ("record_disbursal:before", "disbursal: settled, the schedule and ledger about to be written"),
    ("record_payment:before", "payment: received, about to be allocated"),
    ("record_payment:after", "payment: allocated and posted (mid-allocation for the history), not yet recorded"),
    ("levy_penal:after", "penal accrual: charge levied, not yet in history"),
    ("mark_overdue:after", "servicing: installment marked overdue, not yet in history"),
    ("record_closing_postings:before", "settlement: paid, the waiver about to be posted"),
    ("record_closure:after", "closure: recorded, not yet in history"),
    ("credit_allocation:before", "decision: the amount about to be allocated"),
    ("kyc_record_results:after", "KYC: results recorded for reuse"),
    ("kyc_pan:after", "KYC: PAN verified (a local activity, lost with its workflow task)"),
    ("store_signed_agreement:after", "eSign: signed PDF stored"),
    ("record_agreement_outcome:after", "eSign: outcome recorded"),
    ("reverify_beneficiary:after", "disbursal: beneficiary re-verified"),
    ("initiate_disbursal:before", "disbursal: about to ask the bank"),
    ("record_disbursal:after", "disbursal: posted, not yet in history"),
    ("ensure_payment_link:after", "servicing: the installment's link made"),
    ("record_closing_postings:after", "settlement: waiver posted, not yet in history"),
    ("record_closure:before", "closure: the loan about to be closed"),
]
"""CI's points: every phase (not ``kyc_reuse_lookup``: it runs only for a customer with an earlier loan, and the chaos
journeys are all first loans), on activities whose own timeout is short (database writes 15 s, provider calls 30 s) or
that run in the workflow task (local activities, 10 s), so a kill costs at most half a minute."""

MORE: list[tuple[str, str]] = [
    # KYC and the credit decision
    ("credit_bureau_pull:after", "decision: bureau report pulled (a local activity; 120 s on loans before it)"),
    # agreement and eSign
    ("prepare_agreement:after", "agreement: PDF rendered, eSign docket opened (a 90 s activity)"),
    # disbursal
    ("notify_disbursed:after", "disbursal: borrower told"),
    # servicing and money in
    ("accrue_interest:after", "servicing: interest of an overdue installment accrued at period end"),
    ("issue_receipt:after", "payment: receipt issued (a 60 s activity)"),
    # settlement and closure
    ("settlement_link:after", "settlement: approved, the borrower's link made (its notice in flight)"),
    ("issue_closure_certificate:after", "closure: certificate issued (a 60 s activity)"),
]
"""The rest (``LOS_CHAOS_POINTS=all``): the agreement and notices are long activities, so a kill there costs the loan up
to two minutes before Temporal retries what was lost."""


def quick_mode() -> bool:
    """Whether ``LOS_CHAOS_POINTS`` asks for the CI set (``quick``, the default) rather than ``all``."""
    mode = os.environ.get("LOS_CHAOS_POINTS", "quick")
    if mode not in ("quick", "all"):
        raise ValueError(f"LOS_CHAOS_POINTS={mode!r}: expected quick or all")
    return mode == "quick"


def selected_points() -> list[KillPoint]:
    """The points of ``LOS_CHAOS_POINTS`` (``quick``, the default, or ``all``)."""
    chosen = QUICK + ([] if quick_mode() else MORE)
    return [KillPoint.parse(point) for point, _ in chosen]
