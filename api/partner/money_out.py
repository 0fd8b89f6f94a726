"""Money out, for loan ops: /api/v1/partner/brand/{brandId}/... — the loans on hold and the loan-ops queue (each
row with what ops decide on), a loan's transfer attempts, and the decisions that clear a hold or cancel a declined
agreement.

The decisions are Temporal updates on the loan's workflow (``workflows.hold``, ``workflows.agreement``), whose
validators enforce role, state and freshness; a reason the workflow requires is checked here first, so a missing
one is a 422 naming ``reason`` without a workflow call. The queues are the loan list (``api/partner/loans.py``
``filtered``) with an endpoint-specific row, extended with one query per page for each addition, answered
through orjson like every list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi.responses import Response
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from api.access import Allow
from api.deps import UpdateBound
from api.loan_views import HeldLoanPage, LoansOpsPage, TransferList
from api.partner.common import Db, Temporal, Viewer, find_loan, iso, staff_router
from api.partner.loans import Filters, filtered, masked, transfers_of
from api.partner.review import ActionResult, DecisionIn, _act
from api.security import Principal
from api.views import json_response
from db.models import BankAccount, Disbursal, Loan, LoanStatusHistory
from domain.access import Permission as P
from domain.errors import ValidationError
from domain.status import LoanStatus
from workflows.loan import LoanWorkflow

router = staff_router()
LoanOps = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]
OPS_STATUSES = (LoanStatus.AGREEMENT_SIGNED.value, LoanStatus.DISBURSAL_PENDING.value)


def _reason(body: DecisionIn | None, what: str) -> str:
    """The body's reason, required (422 naming ``reason`` when missing or blank)."""
    reason = (body.reason if body is not None else None) or ""
    if not reason.strip():
        raise ValidationError(f"a reason is required to {what}", field="reason")
    return reason.strip()


# ------------------------------------------------------------------------------------------- decisions
@router.post("/brand/{brand_id}/loans/{loan_id}/hold/resume", response_model=ActionResult)
def resume_hold(
    brand_id: str,
    loan_id: str,
    staff: LoanOps,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Loan ops resume a loan on hold (NEEDS_ATTENTION): it returns to the status it left and the step that
    stopped runs again (e.g. once the borrower fixed their account). The reason is optional."""
    reason = (body or DecisionIn()).reason
    return _act(session, client, bound, staff, brand_id, loan_id, LoanWorkflow.resume_hold, reason=reason)


@router.post("/brand/{brand_id}/loans/{loan_id}/hold/reject", response_model=ActionResult)
def reject_hold(
    brand_id: str,
    loan_id: str,
    staff: LoanOps,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Loan ops reject a loan on hold with a reason (required): it ends REJECTED."""
    reason = _reason(body, "reject a loan on hold")
    return _act(session, client, bound, staff, brand_id, loan_id, LoanWorkflow.reject_hold, reason=reason)


@router.post("/brand/{brand_id}/loans/{loan_id}/agreement/cancel", response_model=ActionResult)
def cancel_agreement(
    brand_id: str,
    loan_id: str,
    staff: LoanOps,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Loan ops cancel a loan whose agreement the signer declined, or that waits for the borrower's KFS acceptance,
    with a reason (required): it ends CANCELLED. Refused (409) otherwise, or once the borrower asked for a new
    link after a decline."""
    reason = _reason(body, "cancel an agreement")
    return _act(session, client, bound, staff, brand_id, loan_id, LoanWorkflow.cancel_agreement, reason=reason)


# ------------------------------------------------------------------------------------------- reads
@router.get("/brand/{brand_id}/loans/{loan_id}/transfers", response_model=TransferList)
def transfers(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    """Every transfer attempt of the loan's disbursal, oldest first: the masked account it went to, the bank's
    ids (transfer id, UTR), the outcome and how it was learnt (webhook or reconciler), who released it."""
    loan = find_loan(session, brand_id, loan_id)
    return json_response({"loanId": loan.id, "transfers": transfers_of(session, loan.id)})


def _hold_rows(session: Session, loans: Sequence[Loan]) -> list[dict[str, Any]]:
    """Each loan's latest HOLD move: the step, the reason (without the step's prefix) and when."""
    held = session.scalars(
        select(LoanStatusHistory)
        .where(LoanStatusHistory.loan_id.in_([loan.id for loan in loans]), LoanStatusHistory.action == "HOLD")
        .order_by(LoanStatusHistory.loan_id, LoanStatusHistory.seq.desc())
        .ext(distinct_on(LoanStatusHistory.loan_id))
    ).all()
    by_loan = {h.loan_id: h for h in held}
    out = []
    for loan in loans:
        h = by_loan.get(loan.id)
        step = (h.details or {}).get("step") if h is not None else None
        reason = h.reason if h is not None else None
        if reason and step and reason.startswith(f"{step}: "):
            reason = reason[len(step) + 2 :]
        out.append({"holdStep": step, "holdReason": reason, "heldSince": iso(h.created_at) if h else None})
    return out


@router.get("/brand/{brand_id}/queues/needs-attention", response_model=HeldLoanPage)
def needs_attention_queue(
    brand_id: str, staff: Annotated[Principal, Allow(P.QUEUE_LOANS_OPS)], session: Db, filters: Filters
) -> Response:
    """Loans on hold (NEEDS_ATTENTION): a step was refused in a way retrying cannot fix (no provider configured,
    the account closed, a vendor's permanent error). Each row names the step, the reason and since when; loan ops
    resume (``.../hold/resume``) or reject (``.../hold/reject``) them."""
    query = select(Loan).where(Loan.brand_id == brand_id, Loan.status == LoanStatus.NEEDS_ATTENTION.value)
    return filtered(session, query, staff, filters, extend=_hold_rows)


def _ops_rows(session: Session, loans: Sequence[Loan]) -> list[dict[str, Any]]:
    """Each loan's net disbursal, beneficiary (with its penny drop) and latest transfer: two queries a page."""
    ids = [loan.id for loan in loans]
    latest = {
        d.loan_id: d
        for d in session.scalars(
            select(Disbursal)
            .where(Disbursal.loan_id.in_(ids))
            .order_by(Disbursal.loan_id, Disbursal.created_at.desc(), Disbursal.id.desc())
            .ext(distinct_on(Disbursal.loan_id))
        )
    }
    account_ids = [d.bank_account_id for d in latest.values() if d.bank_account_id]
    customers = [loan.customer_id for loan in loans]
    accounts = session.scalars(
        select(BankAccount).where(
            or_(
                BankAccount.id.in_(account_ids),
                and_(BankAccount.customer_id.in_(customers), BankAccount.is_primary.is_(True)),
            )
        )
    ).all()
    by_id = {a.id: a for a in accounts}
    primary = {a.customer_id: a for a in accounts if a.is_primary}
    now = datetime.now(UTC)
    out = []
    for loan in loans:
        d = latest.get(loan.id)
        account = by_id.get(d.bank_account_id) if d is not None and d.bank_account_id else None
        account = account or primary.get(loan.customer_id)
        out.append(
            {
                "netDisbursedPaise": loan.net_disbursed if loan.net_disbursed is not None else loan.amount,
                "beneficiary": _beneficiary(account, now) if account is not None else None,
                "latestTransfer": None
                if d is None
                else {
                    "id": d.id,
                    "status": d.status,
                    "utr": d.utr,
                    "failureReason": d.failure_reason,
                    "createdAt": iso(d.created_at),
                },
            }
        )
    return out


def _beneficiary(account: BankAccount, now: datetime) -> dict[str, Any]:
    verified = account.verified_at
    return {
        "bankAccountId": account.id,
        "accountMasked": masked(account.account_last4),
        "ifsc": account.ifsc,
        "bankName": account.bank_name,
        "holderName": account.beneficiary_name,
        "pennyDrop": {
            "status": account.penny_drop_status,
            "nameMatchScore": str(account.name_match_score) if account.name_match_score is not None else None,
            "verifiedAt": iso(verified),
            "ageHours": int((now - verified).total_seconds() // 3600) if verified is not None else None,
        },
    }


@router.get("/brand/{brand_id}/queues/loans-ops", response_model=LoansOpsPage)
def loans_ops_queue(
    brand_id: str, staff: Annotated[Principal, Allow(P.QUEUE_LOANS_OPS)], session: Db, filters: Filters
) -> Response:
    """Signed loans waiting for loan ops to release the money, and transfers in flight: each row with the net
    disbursal, the masked beneficiary and its penny drop (status, name-match score, age), and the latest
    transfer attempt (status, UTR, the bank's failure reason)."""
    query = select(Loan).where(Loan.brand_id == brand_id, Loan.status.in_(OPS_STATUSES))
    return filtered(session, query, staff, filters, extend=_ops_rows)
