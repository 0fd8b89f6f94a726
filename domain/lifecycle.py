"""The loan lifecycle: the one table of status moves, checked before every status change.

The workflow calls ``check_move(current, target, ...)`` before it records a move; a move the table does not
hold raises ``domain.errors.IllegalTransition`` naming both states, and nothing is recorded. The table holds
exactly the moves the loan workflow makes today (``workflows/``, every ``_move``/``_end``), nothing more.

The lifecycle of a loan
=======================

Origination (a loan starts APPLIED, created by the application)::

    APPLIED           -> REJECTED           KYC incomplete or failed (PAN), or the credit rules refuse
    APPLIED           -> SANCTIONED         auto-sanction (the rules' AUTO_SANCTION verdict)
    APPLIED           -> UNDER_REVIEW       manual review, at the CREDIT_EXECUTIVE stage
                                            (or with no stage: loans that reached review before the
                                            sanction hierarchy, one staff decision)
    UNDER_REVIEW      -> UNDER_REVIEW       the review stage changes (below)
    UNDER_REVIEW      -> SANCTIONED         the sanction head sanctions (or the one staff decision)
    UNDER_REVIEW      -> REJECTED           the sanction manager or head rejects (or the one staff decision)
    SANCTIONED        -> SANCTIONED         the borrower accepted the Key Fact Statement (action KFS_ACCEPTED)
    SANCTIONED        -> AGREEMENT_PENDING  agreement + KFS rendered and sent for eSign
    SANCTIONED        -> EXPIRED            the KFS not accepted within the eSign expiry
    SANCTIONED        -> CANCELLED          staff cancel a loan whose KFS is awaited
    AGREEMENT_PENDING -> AGREEMENT_PENDING  the signer declined (waits for a new link), a new docket replaced
                                            the old one, or a new KFS was accepted (its validity had lapsed)
    AGREEMENT_PENDING -> AGREEMENT_SIGNED   the eSign webhook says SIGNED
    AGREEMENT_PENDING -> EXPIRED            not signed before the eSign expiry (or, before the money-out
                                            patch, the eSign ended otherwise)
    AGREEMENT_PENDING -> CANCELLED          staff cancel a loan whose signer declined (or whose new KFS is awaited)
    AGREEMENT_SIGNED  -> DISBURSAL_PENDING  loan ops approve the disbursal; the bank transfer is initiated
    DISBURSAL_PENDING -> AGREEMENT_SIGNED   the transfer failed; a new disbursal approval is awaited
    DISBURSAL_PENDING -> DISBURSED          the transfer settled (UTR); schedule and ledger recorded

The hold (``NEEDS_ATTENTION``): a step refused in a way retrying cannot fix parks the loan instead of failing::

    APPLIED | SANCTIONED | AGREEMENT_PENDING | AGREEMENT_SIGNED | DISBURSAL_PENDING -> NEEDS_ATTENTION
    NEEDS_ATTENTION   -> the status it was parked from   loan ops resume (the step runs again)
    NEEDS_ATTENTION   -> REJECTED                        loan ops reject it with a reason

(the table allows NEEDS_ATTENTION back to each of those statuses; the workflow returns only to the one it left).

Servicing::

    DISBURSED         -> OVERDUE            an installment is unpaid after its due date
    OVERDUE           -> DISBURSED          arrears cleared
    DISBURSED         -> COMPLETED          all installments paid, or the loan foreclosed (``loans.closed_as``)
    OVERDUE           -> COMPLETED          all installments paid (the last payment also cleared the arrears)
    DISBURSED|OVERDUE -> OVERPAID           all paid, and more received than owed: a credit balance to refund
    OVERPAID          -> COMPLETED          the credit balance refunded
    DISBURSED         -> CANCELLED          the borrower exited within the cooling-off period (RBI Digital Lending)
    OVERDUE           -> SETTLED            a compromise settlement approved and paid before its deadline (RBI's
                                            Framework for Compromise Settlements and Technical Write-offs, 2023)
    DISBURSED         -> SETTLED            the same, when earlier part-payments had already cleared the arrears
    OVERDUE           -> WRITTEN_OFF        written off past the brand's write-off DPD by a role with the authority

Review stages within UNDER_REVIEW (``domain.access.REVIEW_RULES``, derived from it here, not restated):
a review starts at CREDIT_EXECUTIVE; FORWARD goes CREDIT_EXECUTIVE -> SANCTION_MANAGER, APPROVE goes
SANCTION_MANAGER -> SANCTION_HEAD, SEND_BACK goes SANCTION_MANAGER or SANCTION_HEAD -> CREDIT_EXECUTIVE.
The review ends in SANCTIONED only from SANCTION_HEAD (SANCTION), in REJECTED from SANCTION_MANAGER or
SANCTION_HEAD (REJECT). A stage move is a same-status move UNDER_REVIEW -> UNDER_REVIEW and names both
stages; SANCTIONED and AGREEMENT_PENDING also move to themselves (a KFS accepted, a docket replaced), no other
status does.

Terminal: COMPLETED, REJECTED, EXPIRED, CANCELLED, SETTLED, WRITTEN_OFF (``domain.status.TERMINAL``): no move out.
Money that reaches a WRITTEN_OFF loan is a recovery (recovery income), recorded without a move.

Where the next issues go
========================

* Collections work an OVERDUE loan inside its own workflow (docs/collections.md); the loan stays OVERDUE, so
  collections add no status. A restructure rolls the arrears into a new schedule: ``OVERDUE -> DISBURSED``.
* Settlement (RBI's Framework for Compromise Settlements and Technical Write-offs, 8 June 2023) ends SETTLED;
  write-off (same framework; Fineract: WRITE_OFF_OUTSTANDING from ACTIVE) ends WRITTEN_OFF. Fineract's undo of a
  write-off is not followed (below).
* Closure and foreclosure: full repayment already closes a loan (-> COMPLETED). A foreclosure (repaying
  everything before the schedule ends) is ``DISBURSED/OVERDUE -> COMPLETED`` with its own reason, as
  Fineract keeps it (LoanEvent.LOAN_FORECLOSURE, LoanSubStatus.FORECLOSED under a closed status), unless the
  issue needs a FORECLOSED status; then add it to ``LoanStatus`` and ``TERMINAL`` and its rows here. A new
  status is one ``LoanStatus`` member and one row of ``MOVES`` (every status has a row, terminal ones an
  empty set); the tests then ask for the workflow move that makes it.

Sources and where this differs
==============================

* Names: seed 001's "Loan Lifecycle States" (APPLIED UNDER_REVIEW SANCTIONED AGREEMENT_PENDING
  AGREEMENT_SIGNED DISBURSED OVERDUE SETTLED WRITTEN_OFF COMPLETED REJECTED), which use RBI's words
  (sanction, disbursal, overdue, settlement, write-off). DISBURSAL_PENDING (a bank transfer in flight) and
  EXPIRED (an unsigned agreement) are not in the seed: the workflow needs both.
* Apache Fineract's loan state machine (``LoanStatus``, ``LoanEvent``, ``DefaultLoanLifecycleStateMachine``
  in fineract-loan): SUBMITTED_AND_PENDING_APPROVAL -> APPROVED | REJECTED | WITHDRAWN_BY_CLIENT;
  APPROVED -> ACTIVE on disbursal; ACTIVE -> CLOSED_OBLIGATIONS_MET | CLOSED_WRITTEN_OFF | OVERPAID.
  Followed: rejection only before approval (sanction); closing statuses are ends; foreclosure is a way of
  closing, not a status. Different:

  - Fineract keys its table by event ((status, event) -> status); this one by (status, status), because the
    workflow is the only source of events and records each move's reason with it.
  - SUBMITTED_AND_PENDING_APPROVAL is APPLIED and UNDER_REVIEW here, and UNDER_REVIEW has stages (the
    sanction hierarchy); Fineract approves in one step.
  - Between APPROVED (SANCTIONED) and ACTIVE this lifecycle has the agreement and the bank transfer
    (AGREEMENT_PENDING, AGREEMENT_SIGNED, DISBURSAL_PENDING), and an unsigned agreement EXPIRES. Fineract's
    WITHDRAWN_BY_CLIENT has no counterpart yet: a declined eSign ends EXPIRED.
  - ACTIVE is DISBURSED and OVERDUE here (seed 001). Fineract derives arrears from the schedule; the DPD
    and the SMA/NPA class stay derived here too (``domain.delinquency``), only "in arrears or not" is a
    status.
  - No undo moves (approval, disbursal, write-off undo) and no reopening of a closed loan (Fineract moves
    CLOSED_OBLIGATIONS_MET back to ACTIVE on a chargeback or an adjustment): a terminal status ends the
    workflow, and a correction is a new record, not a move back. OVERPAID is a status, as in Fineract, but only
    once everything is paid: before that an excess is a credit balance on a loan still DISBURSED or OVERDUE.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.access import REVIEW_RULES, ReviewAction, ReviewStage
from domain.errors import IllegalTransition
from domain.status import TERMINAL, LoanStatus

_S = LoanStatus

START = _S.APPLIED

# Every status has a row; a terminal status has an empty one.
MOVES: Mapping[LoanStatus, frozenset[LoanStatus]] = MappingProxyType(
    {
        _S.APPLIED: frozenset({_S.UNDER_REVIEW, _S.SANCTIONED, _S.REJECTED, _S.NEEDS_ATTENTION}),
        _S.UNDER_REVIEW: frozenset({_S.UNDER_REVIEW, _S.SANCTIONED, _S.REJECTED}),
        _S.SANCTIONED: frozenset({_S.SANCTIONED, _S.AGREEMENT_PENDING, _S.NEEDS_ATTENTION, _S.EXPIRED, _S.CANCELLED}),
        _S.AGREEMENT_PENDING: frozenset(
            {_S.AGREEMENT_PENDING, _S.AGREEMENT_SIGNED, _S.EXPIRED, _S.CANCELLED, _S.NEEDS_ATTENTION}
        ),
        _S.AGREEMENT_SIGNED: frozenset({_S.DISBURSAL_PENDING, _S.NEEDS_ATTENTION}),
        _S.DISBURSAL_PENDING: frozenset({_S.DISBURSED, _S.AGREEMENT_SIGNED, _S.NEEDS_ATTENTION}),
        _S.NEEDS_ATTENTION: frozenset(
            {_S.APPLIED, _S.SANCTIONED, _S.AGREEMENT_PENDING, _S.AGREEMENT_SIGNED, _S.DISBURSAL_PENDING, _S.REJECTED}
        ),
        _S.DISBURSED: frozenset({_S.OVERDUE, _S.COMPLETED, _S.OVERPAID, _S.CANCELLED, _S.SETTLED}),
        _S.OVERDUE: frozenset({_S.DISBURSED, _S.COMPLETED, _S.OVERPAID, _S.SETTLED, _S.WRITTEN_OFF}),
        _S.OVERPAID: frozenset({_S.COMPLETED}),
        _S.SETTLED: frozenset(),
        _S.WRITTEN_OFF: frozenset(),
        _S.COMPLETED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
        _S.CANCELLED: frozenset(),
    }
)

# Named and terminal, but no move leads to them yet (none: every status is reached).
NOT_YET_REACHED: frozenset[LoanStatus] = frozenset()

# The stage a review starts at.
REVIEW_START = ReviewStage.CREDIT_EXECUTIVE

# REVIEW_RULES read as moves: an action with a next stage moves within UNDER_REVIEW; one without ends it.
STAGE_MOVES: frozenset[tuple[ReviewStage, ReviewStage]] = frozenset(
    (stage, after) for (stage, _action), (_roles, after) in REVIEW_RULES.items() if after is not None
)
_REVIEW_OUTCOME: dict[ReviewAction, LoanStatus] = {
    ReviewAction.SANCTION: _S.SANCTIONED,
    ReviewAction.REJECT: _S.REJECTED,
}
REVIEW_EXITS: frozenset[tuple[ReviewStage, LoanStatus]] = frozenset(
    (stage, _REVIEW_OUTCOME[action]) for (stage, action), (_roles, after) in REVIEW_RULES.items() if after is None
)


def allowed_moves(status: LoanStatus) -> frozenset[LoanStatus]:
    """The statuses a loan in ``status`` may move to (empty for a terminal status)."""
    return MOVES[LoanStatus(status)]


def check_move(
    from_status: LoanStatus,
    to_status: LoanStatus,
    *,
    review_stage: ReviewStage | str | None = None,
    from_review_stage: ReviewStage | str | None = None,
) -> None:
    """Raise ``IllegalTransition`` unless a loan may move from ``from_status`` to ``to_status``.

    ``review_stage`` is the stage the move leads to (only with ``to_status`` UNDER_REVIEW, as the workflow's
    ``review_stage=`` and ``StatusChange.review_stage``); ``from_review_stage`` the stage the loan is at
    (only with ``from_status`` UNDER_REVIEW). A move into review starts at CREDIT_EXECUTIVE (or has no stage:
    the single-decision review of older loans); a move within UNDER_REVIEW names both stages and must be one
    of ``STAGE_MOVES``; a review ending with ``from_review_stage`` given must be one of ``REVIEW_EXITS``.
    """
    src, dst = LoanStatus(from_status), LoanStatus(to_status)
    after = ReviewStage(review_stage) if review_stage is not None else None
    before = ReviewStage(from_review_stage) if from_review_stage is not None else None

    def refuse(why: str) -> IllegalTransition:
        return IllegalTransition(src, dst, why, from_review_stage=before, review_stage=after)

    if dst not in MOVES[src]:
        if src in TERMINAL:
            raise refuse(f"{src} is terminal, no move leads out of it")
        raise refuse(f"from {src} a loan moves only to {_names(MOVES[src])}")
    if before is not None and src != _S.UNDER_REVIEW:
        raise refuse(f"only an {_S.UNDER_REVIEW} loan has a review stage")
    if after is not None and dst != _S.UNDER_REVIEW:
        raise refuse(f"only a move to {_S.UNDER_REVIEW} leads to a review stage")
    if dst == _S.UNDER_REVIEW and src != _S.UNDER_REVIEW:
        if after not in (None, REVIEW_START):
            raise refuse(f"a review starts at the {REVIEW_START} stage")
    elif src == dst == _S.UNDER_REVIEW:  # within UNDER_REVIEW: the stage changes
        if before is None or after is None:
            raise refuse("a move within review changes the review stage; name the stage it is at and the next")
        if (before, after) not in STAGE_MOVES:
            nexts = sorted(b for a, b in STAGE_MOVES if a == before)
            raise refuse(f"from the {before} stage a review moves only to {', '.join(nexts)}")
    elif src == _S.UNDER_REVIEW and before is not None and (before, dst) not in REVIEW_EXITS:
        ends = _names(frozenset(s for a, s in REVIEW_EXITS if a == before))
        if not ends:
            raise refuse(f"a review does not end at the {before} stage")
        raise refuse(f"at the {before} stage a review ends only in {ends}")


def can_move(
    from_status: LoanStatus,
    to_status: LoanStatus,
    *,
    review_stage: ReviewStage | str | None = None,
    from_review_stage: ReviewStage | str | None = None,
) -> bool:
    """``check_move`` as a yes/no (for validators that refuse with their own message)."""
    try:
        check_move(from_status, to_status, review_stage=review_stage, from_review_stage=from_review_stage)
    except IllegalTransition:
        return False
    return True


def _names(statuses: frozenset[LoanStatus]) -> str:
    return ", ".join(s for s in LoanStatus if s in statuses)  # in lifecycle order
