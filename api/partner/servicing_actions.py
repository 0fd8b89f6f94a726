"""Staff decisions on a servicing loan, under /api/v1/partner/brand/{brandId}/collection/{loanId}/: settlement
(propose, approve, reject; seed 001's ``POST collection/:loanId/settlement``), penal waiver, write-off (``POST
collection/:loanId/writeoff``) and restructure (propose, approve, reject), and the loan's settlements and restructures.

Each decision is a Temporal update on the loan's workflow (``workflows.collections``), whose validator refuses a wrong
role (403), a wrong state (409), the same person on both sides of a maker-checker (403) or an amount above the role's
limit (403), and writes nothing then. The limits come from the brand's ``collections`` settings as they are when the
request is made (``domain.collection_policy``) and travel in the update.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.access import Allow, audit
from api.deps import UpdateBound, call_async
from api.loan_views import INSTANT
from api.partner.common import Db, Temporal, Viewer, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import PositivePaise
from api.workflow_calls import staff_update
from db.models import Brand, Loan, PaymentTransaction, Restructure, Settlement
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.collection_policy import CollectionPolicy
from domain.status import LoanStatus
from workflows.contracts import RestructureProposal, ServicingAction, SettlementProposal
from workflows.loan import LoanWorkflow

router = staff_router()
Manager = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
WriteOff = Annotated[Principal, Allow(P.COLLECTIONS_WRITEOFF, api_key=False)]
Reason = Annotated[str, Field(min_length=1, max_length=1000, description="why (kept with the decision)")]
PREFIX = "/brand/{brand_id}/collection/{loan_id}"


class SettlementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositivePaise = Field(description="what the borrower pays to settle, paise; below the outstanding")
    reason: Reason
    deadline: date | None = Field(
        default=None, description="the last day (IST) to pay it; default: the brand's settlementDays after approval"
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000, description="required to reject or write off")


class RestructureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    installments: int | None = Field(default=None, ge=1, le=360, description="the new number of installments")
    emi: PositivePaise | None = Field(default=None, description="or the new installment, paise (the count follows)")
    first_due: date | None = Field(default=None, alias="firstDue", description="the first new due date (IST)")
    reason: Reason


class DecisionResult(ApiModel):
    """The loan after a decision: its status and, for a proposal, the new record's id."""

    loan_id: str
    status: LoanStatus
    id: str | None = Field(description="the settlement, restructure or waiver the decision was about")
    result: str = Field(description="PROPOSED, APPROVED, REJECTED, WAIVED, or the loan's status")


class SettlementView(ApiModel):
    """A settlement and where it stands (paise; dates IST)."""

    id: str
    amount: int
    outstanding: int = Field(description="what was owed when proposed")
    waiver: dict[str, int] = Field(description="penal, fees, interest, principal waived if paid in time")
    reason: str
    deadline: str
    status: str = Field(
        description="PROPOSED, APPROVED, REJECTED, PAID, LAPSED, or PAID_IN_FULL (everything owed was paid while it "
        "was approved: nothing waived, the loan closed as paid)"
    )
    proposed_by: str
    decided_by: str | None
    decided_at: str | None = Field(description=INSTANT)
    decision_reason: str | None = Field(default=None, description="why it was approved or rejected, as decided")
    collected: int = Field(
        description="paise collected towards it: once PAID, PAID_IN_FULL or LAPSED, as recorded then; while APPROVED, "
        "what the loan has been credited since the approval"
    )
    created_at: str = Field(description=INSTANT)


class RestructureView(ApiModel):
    """A restructure and where it stands."""

    id: str
    outstanding_principal: int
    installments: int
    emi: int
    first_due: str
    schedule: list[Any]
    reason: str
    status: str = Field(description="PROPOSED, APPROVED or REJECTED")
    proposed_by: str
    decided_by: str | None
    created_at: str = Field(description=INSTANT)


def _policy(session: Session, brand_id: str) -> CollectionPolicy:
    brand = session.get_one(Brand, brand_id)
    return BrandConfig.of(brand.config).collection_policy()


def _send(session: Session, client: Client, bound: float, loan: Loan, update: Any, arg: Any) -> tuple[str, str]:
    """Send the decision to the loan's workflow; once it took it, the audit row (``collection.<decision>``)."""
    workflow_id, loan_id = loan.workflow_id, loan.id
    session.rollback()  # hold no transaction open across the workflow call
    answer = call_async(staff_update, client, workflow_id, update, arg, timeout=bound)
    staff = Principal("staff", arg.staff_id, arg.brand_id, role=arg.role, email=arg.staff_email)
    details = {k: v for k, v in vars(arg).items() if k in ("amount", "reason", "installments", "emi", "limit")}
    audit(session, None, staff, f"collection.{update.__name__}", "loan", loan_id, after={**details, "answer": answer})
    session.commit()
    return answer, session.get_one(Loan, loan_id).status


def _result(loan_id: str, status: str, result: str, id_: str | None = None) -> dict:
    return {"loanId": loan_id, "status": status, "id": id_, "result": result}


# ---------------------------------------------------------------- settlement
@router.post(f"{PREFIX}/settlement", response_model=DecisionResult, status_code=201)
def propose_settlement(
    brand_id: str, loan_id: str, body: SettlementIn, staff: Manager, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """A collection manager proposes a settlement of an OVERDUE loan: the amount (below the outstanding), a reason
    and optionally the deadline; the waiver is split penal first, then fees, interest, principal. 409 when one is
    already open."""
    loan = find_loan(session, brand_id, loan_id)
    proposal = SettlementProposal(
        staff.id, staff.email or "", staff.role or "", brand_id, body.amount, body.reason, body.deadline
    )
    sid, status = _send(session, client, bound, loan, LoanWorkflow.propose_settlement, proposal)
    return _result(loan_id, status, "PROPOSED", sid)


@router.post(f"{PREFIX}/settlement/approve", response_model=DecisionResult)
def approve_settlement(
    brand_id: str,
    loan_id: str,
    staff: Manager,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """A collection head (or an admin) approves the proposed settlement: another person than the proposer, and the
    waiver within their role's limit (the brand's ``settlementLimits``; above it an admin approves). The borrower
    is sent the payment link for the amount and the deadline."""
    loan = find_loan(session, brand_id, loan_id)
    policy = _policy(session, brand_id)
    action = ServicingAction(
        staff.id, staff.email or "", staff.role or "", brand_id, body.reason if body else None,
        limit=policy.settlement_limit(staff.role or ""), settlement_days=policy.settlement_days,
    )  # fmt: skip
    result, status = _send(session, client, bound, loan, LoanWorkflow.approve_settlement, action)
    return _result(loan_id, status, result, _open_settlement(session, loan_id))


@router.post(f"{PREFIX}/settlement/reject", response_model=DecisionResult)
def reject_settlement(
    brand_id: str, loan_id: str, body: DecisionIn, staff: Manager, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """A collection head (or an admin) rejects the proposed settlement, with a reason; collection goes on."""
    loan = find_loan(session, brand_id, loan_id)
    sid = _open_settlement(session, loan_id)
    action = ServicingAction(staff.id, staff.email or "", staff.role or "", brand_id, body.reason)
    result, status = _send(session, client, bound, loan, LoanWorkflow.reject_settlement, action)
    return _result(loan_id, status, result, sid)


def _open_settlement(session: Session, loan_id: str) -> str | None:
    return session.scalars(
        select(Settlement.id)
        .where(Settlement.loan_id == loan_id, Settlement.status.in_(["PROPOSED", "APPROVED"]))
        .order_by(Settlement.created_at.desc())
    ).first()


@router.get(f"{PREFIX}/settlements", response_model=list[SettlementView])
def settlements(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> list[dict]:
    """The loan's settlements, newest first."""
    find_loan(session, brand_id, loan_id)
    rows = session.scalars(
        select(Settlement).where(Settlement.loan_id == loan_id).order_by(Settlement.created_at.desc())
    ).all()
    return [
        {
            "id": r.id,
            "amount": r.amount,
            "outstanding": r.outstanding,
            "waiver": r.waiver,
            "reason": r.reason,
            "deadline": r.deadline.isoformat(),
            "status": r.status,
            "proposedBy": r.proposed_by,
            "decidedBy": r.decided_by,
            "decidedAt": iso(r.decided_at),
            "decisionReason": r.decision_reason,
            "collected": _collected(session, r),
            "createdAt": iso(r.created_at),
        }  # fmt: skip
        for r in rows
    ]


def _collected(session: Session, r: Settlement) -> int:
    """What counts towards settlement ``r`` (paise): recorded when it closed (PAID, PAID_IN_FULL, LAPSED); while
    APPROVED, what the loan has been credited since the approval."""
    if r.status != "APPROVED" or r.decided_at is None:
        return r.collected
    return _collected_since(session, r.loan_id, r.decided_at)


def _collected_since(session: Session, loan_id: str, since: datetime) -> int:
    """Paise credited to the loan since ``since`` (the approval), as the loan's workflow counts them towards the
    settlement (the whole payment, any excess included)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PaymentTransaction.amount), 0)).where(
                PaymentTransaction.loan_id == loan_id,
                PaymentTransaction.status == "SUCCESS",
                PaymentTransaction.collected_at >= since,
            )
        )
        or 0
    )


# ---------------------------------------------------------------- write-off (the waiver: api.partner.waivers)
@router.post(f"{PREFIX}/writeoff", response_model=DecisionResult)
def write_off(
    brand_id: str, loan_id: str, body: DecisionIn, staff: WriteOff, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """Write the loan off: OVERDUE at or past the brand's ``writeOffDpd``, by a role with write-off authority, with
    a reason. The receivables are written off in the ledger and the loan ends WRITTEN_OFF; money that reaches it
    later is posted as a recovery."""
    loan = find_loan(session, brand_id, loan_id)
    policy = _policy(session, brand_id)
    action = ServicingAction(
        staff.id, staff.email or "", staff.role or "", brand_id, body.reason, write_off_dpd=policy.write_off_dpd
    )
    result, status = _send(session, client, bound, loan, LoanWorkflow.write_off, action)
    return _result(loan_id, status, result)


# ---------------------------------------------------------------- restructure
@router.post(f"{PREFIX}/restructure", response_model=DecisionResult, status_code=201)
def propose_restructure(
    brand_id: str, loan_id: str, body: RestructureIn, staff: Manager, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """Propose a restructure: the outstanding principal over ``installments`` new installments (or as many as the
    ``emi`` needs), the first due on ``firstDue``; what is overdue rides on the first new installment (never
    capitalised). Another person approves it."""
    loan = find_loan(session, brand_id, loan_id)
    proposal = RestructureProposal(
        staff.id, staff.email or "", staff.role or "", brand_id, body.reason, body.installments, body.emi,
        body.first_due,
    )  # fmt: skip
    rid, status = _send(session, client, bound, loan, LoanWorkflow.propose_restructure, proposal)
    return _result(loan_id, status, "PROPOSED", rid)


@router.post(f"{PREFIX}/restructure/approve", response_model=DecisionResult)
def approve_restructure(
    brand_id: str,
    loan_id: str,
    staff: Manager,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """A collection head (or an admin), not the proposer, approves the restructure: the new schedule replaces the
    rest, the loan is flagged RESTRUCTURED for the bureau and classified NPA until it has performed for a year
    (RBI Prudential Framework, 2019)."""
    loan = find_loan(session, brand_id, loan_id)
    rid = _open_restructure(session, loan_id)
    action = ServicingAction(staff.id, staff.email or "", staff.role or "", brand_id, body.reason if body else None)
    _, status = _send(session, client, bound, loan, LoanWorkflow.approve_restructure, action)
    return _result(loan_id, status, "APPROVED", rid)


@router.post(f"{PREFIX}/restructure/reject", response_model=DecisionResult)
def reject_restructure(
    brand_id: str, loan_id: str, body: DecisionIn, staff: Manager, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """Reject the proposed restructure (another person), with a reason."""
    loan = find_loan(session, brand_id, loan_id)
    rid = _open_restructure(session, loan_id)
    action = ServicingAction(staff.id, staff.email or "", staff.role or "", brand_id, body.reason)
    result, status = _send(session, client, bound, loan, LoanWorkflow.reject_restructure, action)
    return _result(loan_id, status, result, rid)


def _open_restructure(session: Session, loan_id: str) -> str | None:
    return session.scalars(
        select(Restructure.id).where(Restructure.loan_id == loan_id, Restructure.status == "PROPOSED")
    ).first()


@router.get(f"{PREFIX}/restructures", response_model=list[RestructureView])
def restructures(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> list[dict]:
    """The loan's restructures, newest first."""
    find_loan(session, brand_id, loan_id)
    rows = session.scalars(
        select(Restructure).where(Restructure.loan_id == loan_id).order_by(Restructure.created_at.desc())
    ).all()
    return [
        {
            "id": r.id,
            "outstandingPrincipal": r.outstanding_principal,
            "installments": r.installments,
            "emi": r.emi,
            "firstDue": r.first_due.isoformat(),
            "schedule": r.schedule,
            "reason": r.reason,
            "status": r.status,
            "proposedBy": r.proposed_by,
            "decidedBy": r.decided_by,
            "createdAt": iso(r.created_at),
        }  # fmt: skip
        for r in rows
    ]


from api.partner import waivers as _waivers  # noqa: E402,F401  (the penal waiver's routes, on this router)
