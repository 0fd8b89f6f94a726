"""Admin corrections of a loan, the reports bypass and the disbursed amount: /api/v1/partner/brand/{brandId}/loans/...
(docs/operations.md, "Loan corrections").

A correction never writes the loan's tables: the requested move is checked against the one status table
(``domain.lifecycle``), then mapped to the loan workflow's own update for it, whose validator checks role, state and
freshness and whose ``record_status`` activity writes the move. The workflow has no generic "set status" update, so
only the corrections it already supports are offered (``CORRECTIONS``); any other move is 409 naming what is
allowed from the loan's status.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import UpdateBound
from api.partner.common import Db, Temporal, find_loan, iso, staff_router
from api.partner.review import ActionResult, _act, _check_reason_code
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate
from api.workflow_calls import StaffUpdate
from db.models import Loan, LoanProduct, LoanStatusHistory
from domain.access import Permission as P
from domain.errors import Conflict, IllegalTransition, ValidationError
from domain.lifecycle import check_move
from domain.status import LoanStatus
from workflows.loan import LoanWorkflow

router = staff_router()
IST = ZoneInfo("Asia/Kolkata")
S = LoanStatus
# Whoever may take one of the corrections below; the workflow's validator then checks the role for the one asked
# (a hold or a cancellation: loan ops or an admin; a rejection in review: the sanction manager or head).
Corrector = Annotated[
    Principal, Allow(P.LOAN_OPS_DISBURSE, P.REVIEW_SANCTION_MANAGER, P.REVIEW_SANCTION_HEAD, api_key=False)
]

#: (the loan's status, the status asked for) -> the workflow update that makes that move. A hold's resumption goes
#: back to the status the loan was parked from (RESUME below: any of those, checked against its HOLD row).
RESUME = "RESUME"
CORRECTIONS: dict[tuple[LoanStatus, LoanStatus | str], tuple[StaffUpdate, str]] = {
    (S.NEEDS_ATTENTION, S.REJECTED): (LoanWorkflow.reject_hold, "reject_hold"),
    (S.NEEDS_ATTENTION, RESUME): (LoanWorkflow.resume_hold, "resume_hold"),
    (S.SANCTIONED, S.CANCELLED): (LoanWorkflow.cancel_agreement, "cancel_agreement"),
    (S.AGREEMENT_PENDING, S.CANCELLED): (LoanWorkflow.cancel_agreement, "cancel_agreement"),
    (S.UNDER_REVIEW, S.REJECTED): (LoanWorkflow.reject, "reject"),
}


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: LoanStatus = Field(description="the status the loan should move to")
    reason: str = Field(min_length=1, max_length=1000, description="why; kept on the move and audited")
    reason_code: str | None = Field(
        default=None, alias="reasonCode", max_length=40, description="a brand status reason (required to reject)"
    )


class ReasonsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: LoanStatus = Field(description="the status the loan should move to")
    reason_codes: list[str] = Field(
        alias="reasonCodes", min_length=1, max_length=5, description="the brand's status reasons for that status"
    )
    remarks: str | None = Field(default=None, max_length=1000)


class CorrectionResult(ActionResult):
    """Where the loan stands after the correction, and the workflow update that made it."""

    via: str = Field(description="the loan workflow's update: reject_hold, resume_hold, cancel_agreement or reject")


class BypassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class BypassResult(ApiModel):
    loan_id: str
    reports_bypassed: bool
    bypassed_by: str | None
    bypassed_at: str | None


class DisbursedByProduct(ApiModel):
    product_code: str
    count: int
    net_disbursed_paise: int


class DisbursedAmount(ApiModel):
    """Loans disbursed in the IST date range (both ends included)."""

    from_date: str | None = Field(alias="from", description="YYYY-MM-DD (IST); null: from the first")
    to_date: str | None = Field(alias="to", description="YYYY-MM-DD (IST); null: up to now")
    product_code: str | None
    count: int
    amount_paise: int = Field(description="the principal of those loans, paise")
    net_disbursed_paise: int = Field(description="what reached the borrowers' banks (after upfront charges), paise")
    by_product: list[DisbursedByProduct]


# ------------------------------------------------------------------------------------------- corrections
def _hold_origin(session: Session, loan_id: str) -> str | None:
    """The status the loan was parked from (its latest HOLD move's ``from_status``)."""
    return session.scalars(
        select(LoanStatusHistory.from_status)
        .where(LoanStatusHistory.loan_id == loan_id, LoanStatusHistory.action == "HOLD")
        .order_by(LoanStatusHistory.seq.desc())
        .limit(1)
    ).first()


def _supported(current: LoanStatus, origin: str | None) -> list[str]:
    out = [str(to) for (src, to) in CORRECTIONS if src == current and to != RESUME]
    if current == S.NEEDS_ATTENTION and origin:
        out.insert(0, origin)
    return out


def _correct(
    request: Request,
    session: Db,
    client: Temporal,
    bound: float,
    staff: Principal,
    brand_id: str,
    loan_id: str,
    target: LoanStatus,
    reason: str,
    reason_code: str | None,
) -> dict:
    loan = find_loan(session, brand_id, loan_id)
    current = S(loan.status)
    try:
        check_move(current, target)
    except IllegalTransition as exc:
        raise Conflict(
            f"{exc.message}; corrections from {current}: {', '.join(_supported(current, None)) or 'none'}",
            field="status",
        ) from exc
    origin = _hold_origin(session, loan.id) if current == S.NEEDS_ATTENTION else None
    key = (current, RESUME) if current == S.NEEDS_ATTENTION and target == origin else (current, target)
    if key not in CORRECTIONS:
        allowed = ", ".join(_supported(current, origin)) or "none"
        raise Conflict(
            f"the loan's workflow takes no correction from {current} to {target}; from {current}: {allowed}",
            field="status",
        )
    update, via = CORRECTIONS[key]
    extra: dict[str, str | None] = {}
    if via == "reject":
        if not reason_code:
            raise ValidationError("rejecting a loan under review needs one of the brand's reasons", field="reasonCode")
        extra["reason_code"] = _check_reason_code(session, brand_id, reason_code, "REJECTED")
    before = {"status": str(current), "reviewStage": loan.review_stage}
    result = _act(session, client, bound, staff, brand_id, loan_id, update, reason=reason, **extra)
    audit(
        session,
        request,
        staff,
        "loan.status.correct",
        "loan",
        loan_id,
        before=before,
        after={"status": result["status"], "requested": str(target), "via": via, "reason": reason, **extra},
    )
    session.commit()
    return {**result, "via": via}


@router.post("/brand/{brand_id}/loans/{loan_id}/status", response_model=CorrectionResult)
def correct_status(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: StatusIn,
    staff: Corrector,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
) -> dict:
    """Move the loan to ``status`` through its workflow: a hold resumed (to the status it left) or rejected, an
    agreement declined or awaiting the KFS cancelled, a loan under review rejected (``reasonCode``). Anything else
    is 409 naming the corrections allowed from the loan's status. Audited (``loan.status.correct``)."""
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required", field="reason")
    return _correct(request, session, client, bound, staff, brand_id, loan_id, body.status, reason, body.reason_code)


@router.post("/brand/{brand_id}/loans/{loan_id}/update-with-reasons", response_model=CorrectionResult)
def correct_with_reasons(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: ReasonsIn,
    staff: Corrector,
    session: Db,
    client: Temporal,
    bound: UpdateBound,
) -> dict:
    """The same corrections, with the brand's status reasons for the status asked for (each an active reason
    whose ``statuses`` hold it; 422 naming ``reasonCodes.<n>`` otherwise), their labels kept as the reason."""
    codes = []
    for n, code in enumerate(body.reason_codes):
        try:
            codes.append(_check_reason_code(session, brand_id, code, str(body.status)))
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"reasonCodes.{n}") from exc
    reason = "; ".join([*codes, *([body.remarks.strip()] if body.remarks and body.remarks.strip() else [])])
    return _correct(request, session, client, bound, staff, brand_id, loan_id, body.status, reason, codes[0])


# ------------------------------------------------------------------------------------------- reports bypass
@router.post("/brand/{brand_id}/loans/{loan_id}/force-bypass-reports", response_model=BypassResult)
def force_bypass_reports(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: BypassIn,
    staff: Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)],
    session: Db,
) -> dict:
    """Let this loan be forwarded without the reports the brand requires (the CAM of ``cam_required``): an admin's
    audited decision (``loan.reports.bypass``), only before it leaves review. Asking again changes nothing."""
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required", field="reason")
    loan = find_loan(session, brand_id, loan_id, lock=True)
    if loan.status not in (S.APPLIED, S.UNDER_REVIEW):
        raise Conflict(f"loan is {loan.status}: the reports matter only before it leaves review", field="status")
    if loan.reports_bypassed_at is None:
        loan.reports_bypassed_by, loan.reports_bypassed_at = staff.id, datetime.now(UTC)
        audit(
            session,
            request,
            staff,
            "loan.reports.bypass",
            "loan",
            loan.id,
            before={"reportsBypassed": False},
            after={"reportsBypassed": True, "reason": reason},
        )
    session.commit()
    return {
        "loanId": loan.id,
        "reportsBypassed": True,
        "bypassedBy": loan.reports_bypassed_by,
        "bypassedAt": iso(loan.reports_bypassed_at),
    }


# ------------------------------------------------------------------------------------------- disbursed amount
@router.get("/brand/{brand_id}/loans/disbursed-amount", response_model=DisbursedAmount)
def disbursed_amount(
    brand_id: str,
    staff: Annotated[Principal, Allow(P.LOANS_VIEW, P.REPORTS_VIEW)],
    session: Db,
    from_date: Annotated[IsoDate | None, Query(alias="from", description="YYYY-MM-DD, IST")] = None,
    to_date: Annotated[IsoDate | None, Query(alias="to", description="YYYY-MM-DD, IST, included")] = None,
    product_code: Annotated[str | None, Query(alias="productCode", max_length=40)] = None,
) -> dict:
    """How many loans were disbursed between ``from`` and ``to`` (IST dates of ``disbursed_at``, both included),
    optionally of one product, their principal and their net disbursed amount (``loans.net_disbursed``; a loan
    without one counts its principal), in paise, with the split by product."""
    if from_date and to_date and from_date > to_date:
        raise ValidationError("from is after to", field="from")
    net = func.coalesce(Loan.net_disbursed, Loan.amount)
    query = (
        select(LoanProduct.code, func.count(Loan.id), func.sum(Loan.amount), func.sum(net))
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(Loan.brand_id == brand_id, Loan.disbursed_at.is_not(None))
        .group_by(LoanProduct.code)
        .order_by(LoanProduct.code)
    )
    if from_date is not None:
        query = query.where(Loan.disbursed_at >= _ist_midnight(from_date))
    if to_date is not None:
        query = query.where(Loan.disbursed_at < _ist_midnight(to_date + timedelta(days=1)))
    if product_code:
        query = query.where(LoanProduct.code == product_code.strip().upper())
    rows = session.execute(query).all()
    return {
        "from": from_date.isoformat() if from_date else None,
        "to": to_date.isoformat() if to_date else None,
        "productCode": product_code.strip().upper() if product_code else None,
        "count": sum(int(r[1]) for r in rows),
        "amountPaise": sum(int(r[2] or 0) for r in rows),
        "netDisbursedPaise": sum(int(r[3] or 0) for r in rows),
        "byProduct": [{"productCode": r[0], "count": int(r[1]), "netDisbursedPaise": int(r[3] or 0)} for r in rows],
    }


def _ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, IST)
