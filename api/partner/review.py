"""The sanction hierarchy: /api/v1/partner/brand/{brandId}/loans/{loanId}/review (what reviewers read) and the
decisions — forward, approve, send back, reject, sanction — and loan ops' release of the money.

Every route declares its permission with ``api.access.Allow``; decisions are Temporal updates on the loan's
workflow, whose validators enforce brand, role, state and maker-checker (see ``workflows.loan``). What the
workflow cannot know (the brand's status reasons, whether a CAM was saved) is checked here first.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.access import Allow
from api.deps import UpdateBound, call_async
from api.loan_views import INSTANT
from api.partner.common import Db, Temporal, Viewer, find_loan, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import Score
from api.workflow_calls import StaffUpdate, staff_update
from db.models import Brand, BrandStatusReason, BsaReport, BureauReport, CamRecord, Loan, LoanDecision, ProviderCall
from domain.access import Permission as P
from domain.access import ReviewStage
from domain.brand_config import BrandConfig
from domain.errors import Conflict, ValidationError
from domain.status import LoanStatus
from workflows.contracts import StaffAction
from workflows.loan import LoanWorkflow

router = staff_router()
DECIMAL = 'a decimal string, e.g. "72.50"'


# ------------------------------------------------------------------------------------------- the review file
class BureauReportView(ApiModel):
    """The bureau pull, with the vendor's report."""

    provider: str
    score: int
    reused_from: str | None = Field(description="the loan whose pull was reused (within 24 h), if any")
    report: dict[str, Any] = Field(description="the bureau's report as the vendor sent it")
    pulled_at: str = Field(description=INSTANT)


class BankStatementView(ApiModel):
    """The latest bank-statement analysis."""

    source: str = Field(description="UPLOAD or AA (account aggregator)")
    provider: str
    status: str
    summary: dict[str, Any] = Field(description="salary credits, EMI debits, balances")


class DecisionView(ApiModel):
    """One automatic decision, with its rule-by-rule breakdown."""

    stage: str = Field(description="KYC, BRE, EVALUATION or ALLOCATION")
    outcome: str = Field(description="PASS, FAIL, MANUAL_REVIEW, AUTO_SANCTION...")
    score: str | None = Field(description=DECIMAL)
    details: list[Any] = Field(description="one entry per rule or item, with its reason")
    at: str = Field(description=INSTANT)


class ProviderCheck(ApiModel):
    """One KYC provider call."""

    kind: str = Field(description="the kind of check, e.g. KYC_PAN or BUREAU")
    provider: str
    outcome: str
    score: str | None = Field(description=f"e.g. a name-match score, {DECIMAL}")
    attempts: list[Any] = Field(description="the vendors tried, in order, with their errors")
    at: str = Field(description=INSTANT)


class CamSummary(ApiModel):
    """The saved CAM (``GET .../cam`` has it in full)."""

    inputs: dict[str, Any] = Field(description="what the credit team entered; amounts paise, percentages strings")
    result: dict[str, Any] = Field(description="the computed CAM; amounts paise, percentages strings")
    saved_by: str = Field(description="the staff id that saved it last")


class ReviewFile(ApiModel):
    """What the credit executive and the sanction managers review."""

    loan_id: str
    status: LoanStatus
    review_stage: ReviewStage | None
    evaluation_score: str | None = Field(description=DECIMAL)
    score_override: str | None = Field(description=DECIMAL)
    score_override_reason: str | None
    sanction_conditions: str | None
    bureau: BureauReportView | None
    bank_statement: BankStatementView | None
    decisions: list[DecisionView]
    checks: list[ProviderCheck]
    cam: CamSummary | None


@router.get("/brand/{brand_id}/loans/{loan_id}/review", response_model=ReviewFile)
def review_file(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> dict:
    """What the credit executive and sanction managers review: the bureau report, the bank-statement analysis,
    each automatic decision with its rule-by-rule breakdown (KYC, BRE, evaluation, allocation), the KYC
    provider calls, the score override and conditions, and the CAM if one was saved."""
    loan = find_loan(session, brand_id, loan_id)
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


class ActionResult(ApiModel):
    """Where the loan stands after a staff decision."""

    loan_id: str
    status: LoanStatus = Field(description="the loan's status once the workflow took the decision")
    review_stage: ReviewStage | None = Field(description="the stage it moved to; null once out of review")
    assigned_to: str | None = Field(description="the staff id now holding it; null: in the pool")


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


def _act(
    session: Session,
    client: Client,
    bound: float,
    staff: Principal,
    brand_id: str,
    loan_id: str,
    update: StaffUpdate,
    **extra: str | None,
) -> dict:
    loan = find_loan(session, brand_id, loan_id)
    workflow_id = loan.workflow_id
    session.rollback()  # hold no transaction open across the workflow call
    action = StaffAction(staff.id, staff.email or "", staff.role or "", brand_id, **extra)  # type: ignore[arg-type]
    status = call_async(staff_update, client, workflow_id, update, action, timeout=bound)
    fresh = session.get_one(Loan, loan_id)
    return {"loanId": loan_id, "status": status, "reviewStage": fresh.review_stage, "assignedTo": fresh.assigned_to}


@router.post("/brand/{brand_id}/loans/{loan_id}/forward", response_model=ActionResult)
def forward(
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
    loan = find_loan(session, brand_id, loan_id)
    brand = session.get_one(Brand, brand_id)
    if (
        BrandConfig.of(brand.config).cam_required
        and loan.reports_bypassed_at is None  # an admin's audited bypass (api/partner/loan_admin.py)
        and session.scalars(select(CamRecord.id).where(CamRecord.loan_id == loan.id)).first() is None
    ):
        raise Conflict("this brand requires the CAM to be saved before forwarding", field="cam")
    if body.score_override is not None and not (body.reason or "").strip():
        raise ValidationError("overriding the evaluation score needs a reason", field="reason")
    override = str(body.score_override) if body.score_override is not None else None
    return _act(
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


@router.post("/brand/{brand_id}/loans/{loan_id}/approve", response_model=ActionResult)
def approve(
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
    return _act(
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


@router.post("/brand/{brand_id}/loans/{loan_id}/send-back", response_model=ActionResult)
def send_back(
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
    return _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.send_back, reason=body.reason, reason_code=code
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/reject", response_model=ActionResult)
def reject(
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
    return _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.reject, reason=body.reason, reason_code=code
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/sanction", response_model=ActionResult)
def sanction(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.REVIEW_SANCTION_HEAD, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Sanction head's final approval → SANCTIONED (the agreement goes out for eSign)."""
    return _act(
        session, client, bound, staff, brand_id, loan_id, LoanWorkflow.sanction, reason=(body or DecisionIn()).reason
    )


@router.post("/brand/{brand_id}/loans/{loan_id}/approve-disbursal", response_model=ActionResult)
def approve_disbursal(
    brand_id: str,
    loan_id: str,
    staff: Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)],
    session: Db,
    client: Temporal,
    bound: UpdateBound,
    body: DecisionIn | None = None,
) -> dict:
    """Loan ops releases the money of a signed loan (the bank confirms by webhook)."""
    return _act(
        session,
        client,
        bound,
        staff,
        brand_id,
        loan_id,
        LoanWorkflow.approve_disbursal,
        reason=(body or DecisionIn()).reason,
    )
