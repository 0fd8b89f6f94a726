"""The staff workbench of a brand, under /api/v1/partner/brand/{brandId}: the CAM calculator, loan comments and
the staff member's own notifications.

* CAM (seed 001 ``CAMCalculator``): one per loan, computed by ``domain.cam.calculate_cam`` from what the credit
  team enters, saved (and replaced, or deleted) only while the loan is APPLIED or UNDER_REVIEW.
* Comments: notes staff leave on a loan, never edited.
* Notifications: written by the workflow activities and allocation (``activities.notify``); each staff member
  sees, reads and dismisses only their own, brand by brand.

Every route declares its permission with ``api.access.Allow``; a loan or notification that is not the caller's
brand's (or, for notifications, not the caller's) is 404.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.access import Allow, audit, not_audited
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.security import Principal
from api.types import IsoDate, Paise, Tenure
from db.models import Brand, CamRecord, Loan, LoanComment, StaffNotification, StaffUser
from domain import cam
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import LoanStatus

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}", tags=["partner workbench"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]

CAM_STATUSES = frozenset({LoanStatus.APPLIED, LoanStatus.UNDER_REVIEW})
Percent = Annotated[str, Field(min_length=1, max_length=20, description='a decimal string, e.g. "50" or "12.5"')]


def _loan(session: Session, brand_id: str, loan_id: str, *, lock: bool = False) -> Loan:
    loan = session.get(Loan, loan_id, with_for_update=lock) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    return loan


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------------------------------- CAM
class CamIn(BaseModel):
    """What the credit team enters (seed 001 CAMCalculator). Amounts are integer paise, percentages decimal
    strings. ``loanApplied``, ``roi`` and ``tenureMonths`` default to the loan's; ``salaryThreshold`` to the
    brand's BRE minimum salary."""

    model_config = ConfigDict(extra="forbid")
    salary_credit_date_1: IsoDate | None = Field(default=None, alias="salaryCreditDate1")
    salary_amount_1: Paise | None = Field(default=None, alias="salaryAmount1")
    salary_credit_date_2: IsoDate | None = Field(default=None, alias="salaryCreditDate2")
    salary_amount_2: Paise | None = Field(default=None, alias="salaryAmount2")
    salary_credit_date_3: IsoDate | None = Field(default=None, alias="salaryCreditDate3")
    salary_amount_3: Paise | None = Field(default=None, alias="salaryAmount3")
    actual_salary: Paise | None = Field(default=None, alias="actualSalary", description="assessed salary")
    obligations: Paise = Field(default=0, description="existing monthly EMIs")
    eligible_foir: Percent = Field(alias="eligibleFoir", description="the policy FOIR limit, percent")
    loan_applied: Paise | None = Field(default=None, alias="loanApplied")
    roi: Percent | None = Field(default=None, description="percent per annum")
    tenure_months: Tenure | None = Field(default=None, alias="tenureMonths")
    round_eligible_to: Paise = Field(default=1, alias="roundEligibleTo", description="1 = the paisa, 100 = rupee")
    recommend_multiple: Paise = Field(default=1, alias="recommendMultiple")
    loan_recommended: Paise | None = Field(default=None, alias="loanRecommended", description="an override")
    salary_threshold: Paise | None = Field(default=None, alias="salaryThreshold")


# domain.cam's field names that do not camelCase into the body's
_CAM_FIELDS = {"salary_credits": "salaryAmount1", "round_to": "roundEligibleTo"}


def _body_field(field: str | None) -> str | None:
    if field is None:
        return None
    return _CAM_FIELDS.get(field) or re.sub(r"_([a-z0-9])", lambda m: m[1].upper(), field)


def _salary_credits(body: CamIn) -> tuple[cam.SalaryCredit, ...]:
    credits: list[cam.SalaryCredit] = []
    for i in range(1, cam.MAX_SALARY_CREDITS + 1):
        amount, when = getattr(body, f"salary_amount_{i}"), getattr(body, f"salary_credit_date_{i}")
        if amount is None:
            if when is not None:
                raise ValidationError("a salary credit date needs its amount", field=f"salaryAmount{i}")
            continue
        if len(credits) != i - 1:
            raise ValidationError("enter the salary credits in order, from the first", field=f"salaryAmount{i - 1}")
        try:
            credits.append(cam.SalaryCredit(amount, when))
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"salaryAmount{i}") from exc
    return tuple(credits)


def _cam_input(body: CamIn, loan: Loan, brand: Brand) -> tuple[cam.CamInput, dict[str, Any]]:
    """The domain input and the inputs as stored (camelCase, the loan's and brand's defaults filled in)."""
    threshold = body.salary_threshold
    if threshold is None:
        threshold = int((BrandConfig.of(brand.config).bre or {}).get("salary_threshold", 0))
    stored = {
        **body.model_dump(by_alias=True, mode="json"),
        "loanApplied": loan.amount if body.loan_applied is None else body.loan_applied,
        "roi": body.roi if body.roi is not None else str(Decimal(loan.annual_rate_bps) / 100),
        "tenureMonths": loan.tenure if body.tenure_months is None else body.tenure_months,
        "salaryThreshold": threshold,
    }
    inp = cam.CamInput(
        salary_credits=_salary_credits(body),
        obligations=body.obligations,
        eligible_foir=body.eligible_foir,  # type: ignore[arg-type]  # domain.cam parses decimal strings
        loan_applied=stored["loanApplied"],
        roi=stored["roi"],
        tenure_months=stored["tenureMonths"],
        actual_salary=body.actual_salary,
        round_eligible_to=body.round_eligible_to,
        recommend_multiple=body.recommend_multiple,
        loan_recommended=body.loan_recommended,
        salary_threshold=threshold,
    )
    return inp, stored


def _cam_result(inp: cam.CamInput) -> dict[str, Any]:
    try:
        r = cam.calculate_cam(inp)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=_body_field(exc.field)) from exc
    return {
        **r.as_record(),
        "repaymentData": {
            "tenureMonths": r.tenure_months,
            "income": r.income,
            "maxEmi": r.max_emi,
            "proposedEmi": r.proposed_emi,
        },
        "withinPolicy": r.within_policy,
        "meetsSalaryThreshold": r.meets_salary_threshold,
    }


def _cam_view(record: CamRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "loanId": record.loan_id,
        "customerId": record.customer_id,
        "staffId": record.staff_id,
        "inputs": record.inputs,
        "result": record.result,
        "createdAt": _iso(record.created_at),
        "updatedAt": _iso(record.updated_at),
    }


def _cam_of(session: Session, loan_id: str) -> CamRecord | None:
    return session.scalars(select(CamRecord).where(CamRecord.loan_id == loan_id)).first()


def _open_for_cam(loan: Loan) -> None:
    if LoanStatus(loan.status) not in CAM_STATUSES:
        raise Conflict(f"the loan is {loan.status}: the CAM can change only while it is applied or under review")


CamManager = Annotated[Principal, Allow(P.CAM_MANAGE, api_key=False)]


@router.post("/loans/{loan_id}/cam")
def save_cam(request: Request, brand_id: str, loan_id: str, body: CamIn, staff: CamManager, session: Db) -> dict:
    """Compute the loan's CAM and save it, replacing the one saved before (one per loan)."""
    loan = _loan(session, brand_id, loan_id, lock=True)  # serialises saves, and the status check
    _open_for_cam(loan)
    inp, inputs = _cam_input(body, loan, session.get_one(Brand, brand_id))
    result = _cam_result(inp)
    record = _cam_of(session, loan.id)
    before = None if record is None else {"inputs": record.inputs, "result": record.result, "staffId": record.staff_id}
    if record is None:
        record = CamRecord(brand_id=brand_id, loan_id=loan.id, customer_id=loan.customer_id, staff_id=staff.id)
        session.add(record)
    record.staff_id, record.inputs, record.result = staff.id, inputs, result
    audit(
        session,
        request,
        staff,
        "loan.cam.save",
        "loan",
        loan.id,
        before=before,
        after={"inputs": inputs, "result": result, "staffId": staff.id},
    )
    session.flush()
    session.refresh(record)
    view = _cam_view(record)
    session.commit()
    return view


@router.get("/loans/{loan_id}/cam")
def get_cam(brand_id: str, loan_id: str, staff: Annotated[Principal, Allow(P.LOANS_VIEW)], session: Db) -> dict:
    record = _cam_of(session, _loan(session, brand_id, loan_id).id)
    if record is None:
        raise NotFound("no CAM saved for this loan")
    return _cam_view(record)


class CamFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str | None = Field(default=None, alias="staffId", description="who saved the CAM")
    customer_id: str | None = Field(default=None, alias="customerId")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=20, ge=1, le=100)


@router.get("/cam")
def list_cams(
    brand_id: str, staff: Annotated[Principal, Allow(P.CAM_MANAGE)], session: Db, f: Annotated[CamFilters, Query()]
) -> dict:
    """The brand's CAMs, last saved first, optionally of one staff member (who saved it) or one customer."""
    query = select(CamRecord).where(CamRecord.brand_id == brand_id)
    for value, column, name in (
        (f.staff_id, CamRecord.staff_id, "staffId"),
        (f.customer_id, CamRecord.customer_id, "customerId"),
    ):
        if value is not None:
            if not is_uuid(value):
                raise ValidationError("not an id", field=name)
            query = query.where(column == value)
    rows, total = page_of(session, query.order_by(CamRecord.updated_at.desc(), CamRecord.id), f.page, f.limit)
    return {"items": [_cam_view(r) for (r,) in rows], "page": f.page, "limit": f.limit, "total": total}


@router.delete("/loans/{loan_id}/cam", status_code=204)
def delete_cam(request: Request, brand_id: str, loan_id: str, staff: CamManager, session: Db) -> None:
    loan = _loan(session, brand_id, loan_id, lock=True)
    record = _cam_of(session, loan.id)
    if record is None:
        raise NotFound("no CAM saved for this loan")
    _open_for_cam(loan)
    before = {"inputs": record.inputs, "result": record.result, "staffId": record.staff_id}
    session.delete(record)
    audit(session, request, staff, "loan.cam.delete", "loan", loan.id, before=before, after=None)
    session.commit()


# ------------------------------------------------------------------------------------------- comments
class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _comment_view(comment: LoanComment, author: StaffUser) -> dict[str, Any]:
    return {
        "id": comment.id,
        "loanId": comment.loan_id,
        "comment": comment.comment,
        "author": {"id": author.id, "name": author.name, "email": author.email},
        "createdAt": _iso(comment.created_at),
    }


@router.get("/loans/{loan_id}/comments")
def list_comments(
    brand_id: str, loan_id: str, staff: Annotated[Principal, Allow(P.LOANS_VIEW)], session: Db
) -> list[dict]:
    """The loan's comments, newest first, with their authors."""
    loan = _loan(session, brand_id, loan_id)
    rows = session.execute(
        select(LoanComment, StaffUser)
        .join(StaffUser, StaffUser.id == LoanComment.staff_id)
        .where(LoanComment.loan_id == loan.id)
        .order_by(LoanComment.created_at.desc(), LoanComment.id)
    ).all()
    return [_comment_view(c, a) for c, a in rows]


@router.post("/loans/{loan_id}/comments", status_code=201)
def add_comment(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: CommentIn,
    staff: Annotated[Principal, Allow(P.LOANS_COMMENT, api_key=False)],
    session: Db,
) -> dict:
    """Add a comment (comments are never edited)."""
    loan = _loan(session, brand_id, loan_id)
    comment = LoanComment(brand_id=brand_id, loan_id=loan.id, staff_id=staff.id, comment=body.comment)
    session.add(comment)
    session.flush()
    session.refresh(comment)
    audit(
        session,
        request,
        staff,
        "loan.comment.add",
        "loan",
        loan.id,
        after={"commentId": comment.id, "comment": comment.comment},
    )
    view = _comment_view(comment, session.get_one(StaffUser, staff.id))
    session.commit()
    return view


# ------------------------------------------------------------------------------------------- notifications
AnyStaff = Annotated[Principal, Allow(P.LOANS_VIEW, P.COLLECTIONS_VIEW, api_key=False)]


class NotificationFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = Field(default=False, description="only the unread ones")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=20, ge=1, le=100)


def _mine(staff: Principal, brand_id: str) -> list[Any]:
    return [
        StaffNotification.staff_id == staff.id,
        StaffNotification.brand_id == brand_id,
        StaffNotification.dismissed_at.is_(None),
    ]


def _notification_view(n: StaffNotification) -> dict[str, Any]:
    return {
        "id": n.id,
        "type": n.type,
        "title": n.title,
        "body": n.body,
        "metadata": n.meta,
        "isRead": n.is_read,
        "createdAt": _iso(n.created_at),
    }


def _notification(session: Session, staff: Principal, brand_id: str, notification_id: str) -> StaffNotification:
    n = session.get(StaffNotification, notification_id) if is_uuid(notification_id) else None
    if n is None or n.staff_id != staff.id or n.brand_id != brand_id or n.dismissed_at is not None:
        raise NotFound("notification not found")
    return n


@router.get("/notifications")
def list_notifications(brand_id: str, staff: AnyStaff, session: Db, f: Annotated[NotificationFilters, Query()]) -> dict:
    """The caller's notifications in this brand, newest first (dismissed ones excluded)."""
    mine = _mine(staff, brand_id)
    query = select(StaffNotification).where(*mine)
    if f.unread:
        query = query.where(StaffNotification.is_read.is_(False))
    rows, total = page_of(
        session, query.order_by(StaffNotification.created_at.desc(), StaffNotification.id), f.page, f.limit
    )
    unread = session.scalar(
        select(func.count()).select_from(StaffNotification).where(*mine, StaffNotification.is_read.is_(False))
    )
    return {
        "items": [_notification_view(n) for (n,) in rows],
        "unreadCount": unread,
        "total": total,
        "page": f.page,
        "limit": f.limit,
    }


@router.patch("/notifications/read-all")
def read_all_notifications(request: Request, brand_id: str, staff: AnyStaff, session: Db) -> dict:
    not_audited(request)
    result = session.execute(
        update(StaffNotification)
        .where(*_mine(staff, brand_id), StaffNotification.is_read.is_(False))
        .values(is_read=True)
    )
    session.commit()
    return {"updated": result.rowcount}  # type: ignore[attr-defined]


@router.patch("/notifications/{notification_id}/read")
def read_notification(request: Request, brand_id: str, notification_id: str, staff: AnyStaff, session: Db) -> dict:
    not_audited(request)
    n = _notification(session, staff, brand_id, notification_id)
    n.is_read = True
    session.commit()
    return _notification_view(n)


@router.delete("/notifications/{notification_id}", status_code=204)
def dismiss_notification(request: Request, brand_id: str, notification_id: str, staff: AnyStaff, session: Db) -> None:
    """Dismiss: the notification leaves the caller's list for good."""
    not_audited(request)
    _notification(session, staff, brand_id, notification_id).dismissed_at = datetime.now(UTC)
    session.commit()
