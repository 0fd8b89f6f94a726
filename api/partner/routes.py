"""Staff API for loans: /api/v1/partner/brand/{brandId}/loans..., the role queues and the sanction hierarchy.

Every route declares its permission with ``api.access.Allow``; decisions are Temporal updates on the loan's
workflow, whose validators enforce brand, role, state and maker-checker (see ``workflows.loan``). What the
workflow cannot know (the brand's status reasons, whether a CAM was saved) is checked here first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.orm import Session
from temporalio.client import Client

from activities.notify import notify
from api.access import Allow, audit
from api.deps import MAX_PAGE, UpdateBound, db_session, is_uuid, page_of, temporal
from api.guards import GUARDS
from api.products import preview_for
from api.security import Principal
from api.types import IsoDate, Paise, Score, Uuid
from api.views import json_response, loan_detail, loan_ledger, staff_loan_summary
from api.workflow_calls import StaffUpdate, staff_update
from db.models import (
    Brand,
    BrandStatusReason,
    BsaReport,
    BureauReport,
    CamRecord,
    Customer,
    Loan,
    LoanDecision,
    LoanProduct,
    ProviderCall,
    StaffBrandRole,
    StaffUser,
)
from domain.access import Permission as P
from domain.access import ReviewStage, Role
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import TERMINAL, LoanStatus
from workflows.contracts import StaffAction
from workflows.loan import LoanWorkflow

router = APIRouter(prefix="/api/v1/partner", tags=["partner (staff)"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Temporal = Annotated[Client, Depends(temporal)]
Viewer = Annotated[Principal, Allow(P.LOANS_VIEW)]


def _loan(session: Session, brand_id: str, loan_id: str) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    return loan


# ------------------------------------------------------------------------------------------- lists
class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    AMOUNT_DESC = "amount_desc"
    AMOUNT_ASC = "amount_asc"


def _page(
    session: Session,
    query: Select,
    staff: Principal,
    *,
    assigned_to: str | None,
    search: str | None,
    min_amount: int | None,
    max_amount: int | None,
    created_from: date | None,
    created_to: date | None,
    sort: Sort,
    page: int,
    limit: int,
) -> Response:
    """Filters shared by the loan list and every queue, then one page and the total."""
    if assigned_to == "me":
        query = query.where(Loan.assigned_to == staff.id)
    elif assigned_to == "none":
        query = query.where(Loan.assigned_to.is_(None))
    elif assigned_to:
        if not is_uuid(assigned_to):
            raise ValidationError("assignedTo is me, none or a staff id", field="assignedTo")
        query = query.where(Loan.assigned_to == assigned_to)
    if min_amount is not None:
        query = query.where(Loan.amount >= min_amount)
    if max_amount is not None:
        query = query.where(Loan.amount <= max_amount)
    if created_from is not None:
        query = query.where(Loan.created_at >= datetime.combine(created_from, datetime.min.time(), UTC))
    if created_to is not None:
        query = query.where(Loan.created_at < datetime.combine(created_to, datetime.max.time(), UTC))
    if search:
        term = search.strip()
        customers = select(Customer.id).where(
            Customer.brand_id == staff.brand_id,
            or_(Customer.phone == term, Customer.pan == term.upper(), Customer.full_name.ilike(f"%{term}%")),
        )
        query = query.where(or_(Loan.customer_id.in_(customers), Loan.id == term if is_uuid(term) else false()))
    order = {
        Sort.NEWEST: (Loan.created_at.desc(), Loan.id.desc()),  # both ways along ix_loans_brand_created
        Sort.OLDEST: (Loan.created_at.asc(), Loan.id.asc()),
        Sort.AMOUNT_DESC: (Loan.amount.desc(), Loan.id),
        Sort.AMOUNT_ASC: (Loan.amount.asc(), Loan.id),
    }[sort]
    rows, total = page_of(session, query, page, limit, *order)
    return json_response(
        {"items": [staff_loan_summary(loan) for (loan,) in rows], "page": page, "limit": limit, "total": total}
    )


class ListFilters(BaseModel):
    """Query filters of the loan list and the queues."""

    model_config = ConfigDict(extra="forbid")
    assigned_to: str | None = Field(default=None, alias="assignedTo", description="me, none or a staff id")
    search: str | None = Field(default=None, max_length=100, description="phone, PAN, name or loan id")
    min_amount: Paise | None = Field(default=None, alias="minAmount")
    max_amount: Paise | None = Field(default=None, alias="maxAmount")
    created_from: IsoDate | None = Field(default=None, alias="createdFrom")
    created_to: IsoDate | None = Field(default=None, alias="createdTo")
    sort: Sort = Sort.NEWEST
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=50, ge=1, le=200)


Filters = Annotated[ListFilters, Query()]


def _filtered(session: Session, query: Select, staff: Principal, f: ListFilters) -> Response:
    return _page(
        session,
        query,
        staff,
        assigned_to=f.assigned_to,
        search=f.search,
        min_amount=f.min_amount,
        max_amount=f.max_amount,
        created_from=f.created_from,
        created_to=f.created_to,
        sort=f.sort,
        page=f.page,
        limit=f.limit,
    )


class LoanListFilters(ListFilters):
    status: LoanStatus | None = None
    review_stage: ReviewStage | None = Field(default=None, alias="reviewStage")


@router.get("/brand/{brand_id}/loans")
def list_loans(brand_id: str, staff: Viewer, session: Db, filters: Annotated[LoanListFilters, Query()]) -> Response:
    query = select(Loan).where(Loan.brand_id == brand_id)
    if filters.status is not None:
        query = query.where(Loan.status == filters.status.value)
    if filters.review_stage is not None:
        query = query.where(Loan.review_stage == filters.review_stage.value)
    return _filtered(session, query, staff, filters)


# The three review-stage queues: (stage, the permission that opens it, what it holds).
QUEUE_STAGES = {
    "credit-executive": (
        ReviewStage.CREDIT_EXECUTIVE,
        P.QUEUE_CREDIT_EXECUTIVE,
        "Loans under review waiting for a credit executive (new, or sent back).",
    ),
    "sanction-manager": (
        ReviewStage.SANCTION_MANAGER,
        P.QUEUE_SANCTION_MANAGER,
        "Loans a credit executive forwarded, waiting for a sanction manager.",
    ),
    "sanction-head": (
        ReviewStage.SANCTION_HEAD,
        P.QUEUE_SANCTION_HEAD,
        "Loans a sanction manager approved, waiting for the sanction head's final approval.",
    ),
}


def _stage_queue_route(name: str, stage: ReviewStage, permission: P, doc: str) -> None:
    def queue(brand_id: str, session: Db, filters: Filters, staff: Principal = Allow(permission)) -> Response:
        query = select(Loan).where(
            Loan.brand_id == brand_id, Loan.status == LoanStatus.UNDER_REVIEW.value, Loan.review_stage == stage.value
        )
        return _filtered(session, query, staff, filters)

    queue.__doc__ = doc
    queue.__name__ = f"{name.replace('-', '_')}_queue"
    router.add_api_route(f"/brand/{{brand_id}}/queues/{name}", queue, methods=["GET"], name=queue.__name__)


for _name, (_stage, _permission, _doc) in QUEUE_STAGES.items():
    _stage_queue_route(_name, _stage, _permission, _doc)


OPS_STATUSES = (LoanStatus.AGREEMENT_SIGNED.value, LoanStatus.DISBURSAL_PENDING.value)


@router.get("/brand/{brand_id}/queues/loans-ops")
def loans_ops_queue(
    brand_id: str, staff: Annotated[Principal, Allow(P.QUEUE_LOANS_OPS)], session: Db, filters: Filters
) -> Response:
    """Signed loans waiting for loan ops to release the money, and transfers in flight."""
    query = select(Loan).where(Loan.brand_id == brand_id, Loan.status.in_(OPS_STATUSES))
    return _filtered(session, query, staff, filters)


@router.get("/brand/{brand_id}/queues/unallocated")
def unallocated_queue(
    brand_id: str, staff: Annotated[Principal, Allow(P.QUEUE_UNALLOCATED)], session: Db, filters: Filters
) -> Response:
    """Loans under review that nobody holds (auto-allocation found no one, or a stage's pool)."""
    query = select(Loan).where(
        Loan.brand_id == brand_id, Loan.status == LoanStatus.UNDER_REVIEW.value, Loan.assigned_to.is_(None)
    )
    return _filtered(session, query, staff, filters.model_copy(update={"assigned_to": None}))


@router.get("/brand/{brand_id}/loans/{loan_id}")
def get_loan(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    return json_response(loan_detail(session, _loan(session, brand_id, loan_id), staff=True))


@router.get("/brand/{brand_id}/loans/{loan_id}/ledger")
def ledger(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    """The loan's double-entry postings (disbursal, fees, GST, collections, penal charges), in order."""
    return json_response({"loanId": loan_id, "entries": loan_ledger(session, _loan(session, brand_id, loan_id).id)})


@router.get("/brand/{brand_id}/loans/{loan_id}/review")
def review_file(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> dict:
    """What the credit executive and sanction managers review: the bureau report, the bank-statement analysis,
    each automatic decision with its rule-by-rule breakdown (KYC, BRE, evaluation, allocation), the KYC
    provider calls, the score override and conditions, and the CAM if one was saved."""
    loan = _loan(session, brand_id, loan_id)
    bureau = session.scalars(select(BureauReport).where(BureauReport.loan_id == loan.id)).first()
    bsa = session.scalars(
        select(BsaReport).where(BsaReport.loan_id == loan.id).order_by(BsaReport.created_at.desc())
    ).first()
    decisions = session.scalars(
        select(LoanDecision).where(LoanDecision.loan_id == loan.id).order_by(LoanDecision.created_at)
    ).all()
    calls = session.scalars(
        select(ProviderCall).where(ProviderCall.loan_id == loan.id).order_by(ProviderCall.created_at)
    ).all()
    cam = session.scalars(select(CamRecord).where(CamRecord.loan_id == loan.id)).first()
    return {
        "loanId": loan.id,
        "status": loan.status,
        "reviewStage": loan.review_stage,
        "evaluationScore": str(loan.evaluation_score) if loan.evaluation_score is not None else None,
        "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
        "scoreOverrideReason": loan.score_override_reason,
        "sanctionConditions": loan.sanction_conditions,
        "bureau": None
        if bureau is None
        else {
            "provider": bureau.provider,
            "score": bureau.score,
            "reusedFrom": bureau.reused_from,
            "report": bureau.report,
            "pulledAt": bureau.created_at.isoformat(),
        },
        "bankStatement": None
        if bsa is None
        else {"source": bsa.source, "provider": bsa.provider, "status": bsa.status, "summary": bsa.summary},
        "decisions": [
            {
                "stage": d.stage,
                "outcome": d.outcome,
                "score": str(d.score) if d.score is not None else None,
                "details": d.details,
                "at": d.created_at.isoformat(),
            }
            for d in decisions
        ],
        "checks": [
            {
                "kind": c.kind,
                "provider": c.provider,
                "outcome": c.outcome,
                "score": str(c.score) if c.score is not None else None,
                "attempts": c.attempts,
                "at": c.created_at.isoformat(),
            }
            for c in calls
        ],
        "cam": None if cam is None else {"inputs": cam.inputs, "result": cam.result, "savedBy": cam.staff_id},
    }


@router.get("/brand/{brand_id}/loans/{loan_id}/schedule-preview")
def schedule_preview(
    brand_id: str,
    loan_id: str,
    staff: Viewer,
    session: Db,
    disbursed_on: Annotated[IsoDate | None, Query(alias="disbursedOn")] = None,
) -> dict:
    """The loan's schedule, charges, APR and Key Fact Statement, as if disbursed on ``disbursedOn``
    (default: its disbursal date, or today if not yet disbursed)."""
    loan = _loan(session, brand_id, loan_id)
    product = session.get_one(LoanProduct, loan.product_id)
    on = disbursed_on or (loan.disbursed_at.date() if loan.disbursed_at else date.today())
    return {
        "loanId": loan.id,
        "disbursedOn": on.isoformat(),
        **preview_for(session, product, loan.amount, loan.tenure, on, with_kfs=True, loan_account_no=loan.id),
    }


# ------------------------------------------------------------------------------------------- allocation
class AllocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: Uuid | None = Field(alias="staffId", description="the new holder; null puts the loan back in the pool")
    reason: str | None = Field(default=None, max_length=500)


STAGE_ROLE = {
    ReviewStage.CREDIT_EXECUTIVE.value: Role.CREDIT_EXECUTIVE.value,
    ReviewStage.SANCTION_MANAGER.value: Role.SANCTION_MANAGER.value,
    ReviewStage.SANCTION_HEAD.value: Role.SANCTION_HEAD.value,
}


def release_held_loans(session: Session, staff_id: str, brand_id: str, new_role: str | None = None) -> list[str]:
    """Loans this person holds in the brand go back to the pool: all of them (``new_role`` None: they leave
    the brand), or those under review at a stage their new role does not act at."""
    query = update(Loan).where(
        Loan.brand_id == brand_id, Loan.assigned_to == staff_id, Loan.status.not_in([s.value for s in TERMINAL])
    )
    if new_role is not None:
        query = query.where(Loan.review_stage.in_([stage for stage, role in STAGE_ROLE.items() if role != new_role]))
    return list(session.scalars(query.values(assigned_to=None, assigned_at=None).returning(Loan.id)).all())


def check_allocatable(loan: Loan, holder_role: str | None, field: str) -> None:
    """The allocation rules of one loan: nothing to allocate once it ended; under review it goes only to
    someone holding its stage's role (``holder_role`` None: back to the pool, always allowed)."""
    if LoanStatus(loan.status) in TERMINAL:
        raise Conflict(f"loan {loan.id} is {loan.status}; nothing to allocate", field=field)
    needed = STAGE_ROLE.get(loan.review_stage or "")
    if holder_role is not None and needed and holder_role != needed:
        raise ValidationError(
            f"loan {loan.id} is at the {loan.review_stage} stage: it goes to a {needed}, not a {holder_role}",
            field=field,
        )


@router.post("/brand/{brand_id}/loans/{loan_id}/allocate")
def allocate_loan(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: AllocateIn,
    staff: Annotated[Principal, Allow(P.LOANS_ALLOCATE, api_key=False)],
    session: Db,
) -> dict:
    """Manual (re)allocation. A loan under review goes only to someone holding its stage's role in this brand."""
    loan = session.get(Loan, loan_id, with_for_update=True) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    holder_role = None
    if body.staff_id is not None:
        if not is_uuid(body.staff_id):
            raise ValidationError("not a staff id", field="staffId")
        holder = session.execute(
            select(StaffUser, StaffBrandRole.role)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(StaffUser.id == body.staff_id, StaffBrandRole.brand_id == brand_id)
        ).first()
        if holder is None or not holder[0].is_active:
            raise ValidationError("no active staff member of this brand has that id", field="staffId")
        holder_role = holder[1]
    check_allocatable(loan, holder_role, "staffId")
    before = {"assignedTo": loan.assigned_to}
    loan.assigned_to = body.staff_id
    loan.assigned_at = datetime.now(UTC) if body.staff_id else None
    audit(
        session,
        request,
        staff,
        "loan.allocate",
        "loan",
        loan.id,
        before=before,
        after={"assignedTo": body.staff_id, "reason": body.reason},
    )
    if body.staff_id and body.staff_id != before["assignedTo"]:
        notify(
            session,
            body.staff_id,
            brand_id,
            "NEW_ASSIGNMENT",
            "Loan assigned to you",
            body.reason or f"assigned by {staff.email}",
            {"loanId": loan.id, "reviewStage": loan.review_stage},
        )
    session.commit()
    return staff_loan_summary(loan)


# ------------------------------------------------------------------------------------------- decisions
class ForwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000, description="notes; required with scoreOverride")
    score_override: Score | None = Field(default=None, alias="scoreOverride")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conditions: str | None = Field(default=None, max_length=2000, description="conditions of the approval")
    reason: str | None = Field(default=None, max_length=1000)


class ReasonedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason_code: str = Field(alias="reasonCode", min_length=1, max_length=40, description="a brand status reason")
    reason: str | None = Field(default=None, max_length=1000, description="free-text remarks")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


def _check_reason_code(session: Session, brand_id: str, code: str, applies_to: str) -> str:
    """The reason must be one of the brand's active status reasons for this kind of action."""
    row = session.scalars(
        select(BrandStatusReason).where(
            BrandStatusReason.brand_id == brand_id,
            BrandStatusReason.code == code.strip().upper(),
            BrandStatusReason.is_active.is_(True),
        )
    ).first()
    if row is None or applies_to not in (row.statuses or []):
        raise ValidationError(f"{code} is not one of this brand's reasons for {applies_to}", field="reasonCode")
    return row.code


async def _act(
    session: Session,
    client: Client,
    bound: float,
    staff: Principal,
    brand_id: str,
    loan_id: str,
    update: StaffUpdate,
    **extra: str | None,
) -> dict:
    loan = _loan(session, brand_id, loan_id)
    workflow_id = loan.workflow_id
    session.rollback()  # hold no transaction open across the workflow call
    action = StaffAction(staff.id, staff.email or "", staff.role or "", brand_id, **extra)  # type: ignore[arg-type]
    status = await staff_update(client, workflow_id, update, action, timeout=bound)
    fresh = session.get_one(Loan, loan_id)
    return {"loanId": loan_id, "status": status, "reviewStage": fresh.review_stage, "assignedTo": fresh.assigned_to}


@router.post("/brand/{brand_id}/loans/{loan_id}/forward")
async def forward(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.REVIEW_CREDIT, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: ForwardIn | None = None,
) -> dict:
    """Credit executive → sanction manager, optionally overriding the evaluation score (with a reason).
    A brand with ``cam_required`` needs the loan's CAM saved first."""
    body = body or ForwardIn()
    loan = _loan(session, brand_id, loan_id)
    brand = session.get_one(Brand, brand_id)
    if (
        BrandConfig.of(brand.config).cam_required
        and session.scalars(select(CamRecord.id).where(CamRecord.loan_id == loan.id)).first() is None
    ):
        raise Conflict("this brand requires the CAM to be saved before forwarding", field="cam")
    if body.score_override is not None and not (body.reason or "").strip():
        raise ValidationError("overriding the evaluation score needs a reason", field="reason")
    override = str(body.score_override) if body.score_override is not None else None
    return await _act(
        session,
        client,
        bound,
        staff,
        brand_id,
        loan_id,
        LoanWorkflow.forward,
        reason=body.reason,
        score_override=override,
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/approve")
async def approve(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.REVIEW_SANCTION_MANAGER, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: ApproveIn | None = None,
) -> dict:
    """Sanction manager approves (optionally with conditions) → sanction head."""
    body = body or ApproveIn()
    return await _act(
        session,
        client,
        bound,
        staff,
        brand_id,
        loan_id,
        LoanWorkflow.approve,
        reason=body.reason,
        conditions=body.conditions,
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/send-back")
async def send_back(
    brand_id: str,
    loan_id: str,
    body: ReasonedIn,
    staff: Annotated[Principal, Allow(P.REVIEW_SANCTION_MANAGER, P.REVIEW_SANCTION_HEAD, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
) -> dict:
    """Sanction manager or head sends the loan back to the credit executive who forwarded it."""
    code = _check_reason_code(session, brand_id, body.reason_code, "SEND_BACK")
    return await _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.send_back, reason=body.reason, reason_code=code
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/reject")
async def reject(
    brand_id: str,
    loan_id: str,
    body: ReasonedIn,
    staff: Annotated[Principal, Allow(P.REVIEW_SANCTION_MANAGER, P.REVIEW_SANCTION_HEAD, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
) -> dict:
    """Sanction manager or head rejects, with one of the brand's rejection reasons."""
    code = _check_reason_code(session, brand_id, body.reason_code, "REJECTED")
    return await _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.reject, reason=body.reason, reason_code=code
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/sanction")
async def sanction(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.REVIEW_SANCTION_HEAD, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Sanction head's final approval → SANCTIONED (the agreement goes out for eSign)."""
    return await _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.sanction, reason=(body or DecisionIn()).reason
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/approve-disbursal")
async def approve_disbursal(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Loan ops releases the money of a signed loan (the bank confirms by webhook)."""
    return await _act(
        session,
        client,
        bound,
        staff,
        brand_id,
        loan_id,
        LoanWorkflow.approve_disbursal,
        reason=(body or DecisionIn()).reason,
    )


@router.get("/brand/{brand_id}/status-reasons")
def status_reasons(
    brand_id: str,
    staff: Viewer,
    session: Db,
    applies_to: Annotated[str | None, Query(alias="appliesTo", max_length=30)] = None,
) -> list[dict]:
    """The reasons staff pick from (reject, send back...), for the decision dropdowns."""
    rows = session.scalars(
        select(BrandStatusReason)
        .where(BrandStatusReason.brand_id == brand_id, BrandStatusReason.is_active.is_(True))
        .order_by(BrandStatusReason.code)
    ).all()
    return [
        {"code": r.code, "label": r.label, "appliesTo": r.statuses}
        for r in rows
        if applies_to is None or applies_to.upper() in (r.statuses or [])
    ]
