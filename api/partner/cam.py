"""The CAM calculator of the staff workbench, under /api/v1/partner/brand/{brandId} (see docs/workbench.md).

One CAM per loan (seed 001 ``CAMCalculator``), computed by ``domain.cam.calculate_cam`` from what the credit team
enters, saved (and replaced, or deleted) only while the loan is APPLIED or UNDER_REVIEW. Every route declares its
permission with ``api.access.Allow``; a loan of another brand is 404.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import MAX_PAGE, is_uuid, page_of
from api.loan_views import INSTANT
from api.partner.common import Db, find_loan, iso, workbench_router
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate, Paise, Tenure, Whole
from db.models import Brand, CamRecord, Loan
from domain import cam
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import LoanStatus

router = workbench_router()

CAM_STATUSES = frozenset({LoanStatus.APPLIED, LoanStatus.UNDER_REVIEW})
Percent = Annotated[str, Field(min_length=1, max_length=20, description='a decimal string, e.g. "50" or "12.5"')]


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


class CamView(ApiModel):
    """A saved CAM: the inputs as stored (the loan's and brand's defaults filled in) and the computed result."""

    id: str
    loan_id: str
    customer_id: str
    staff_id: str = Field(description="who saved it last")
    inputs: dict[str, Any] = Field(
        description="the CamIn body with loanApplied, roi, tenureMonths and salaryThreshold filled in; "
        "amounts paise, percentages decimal strings"
    )
    result: dict[str, Any] = Field(
        description="seed 001 CAMCalculator fields (avgSalary, eligibleLoan, loanRecommended, proposedFoir...), "
        "repaymentData {tenureMonths, income, maxEmi, proposedEmi}, withinPolicy and meetsSalaryThreshold; "
        "amounts paise, percentages decimal strings"
    )
    created_at: str = Field(description=INSTANT)
    updated_at: str = Field(description=f"when it was saved last; {INSTANT}")


class CamPage(ApiModel):
    """One page of the brand's CAMs, last saved first."""

    items: list[CamView]
    page: int
    limit: int
    total: int = Field(description="CAMs matching the filters, over all pages")


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
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }


def _cam_of(session: Session, loan_id: str) -> CamRecord | None:
    return session.scalars(select(CamRecord).where(CamRecord.loan_id == loan_id)).first()


def _open_for_cam(loan: Loan) -> None:
    if LoanStatus(loan.status) not in CAM_STATUSES:
        raise Conflict(f"the loan is {loan.status}: the CAM can change only while it is applied or under review")


CamManager = Annotated[Principal, Allow(P.CAM_MANAGE, api_key=False)]


@router.post("/loans/{loan_id}/cam", response_model=CamView)
def save_cam(request: Request, brand_id: str, loan_id: str, body: CamIn, staff: CamManager, session: Db) -> dict:
    """Compute the loan's CAM and save it, replacing the one saved before (one per loan)."""
    loan = find_loan(session, brand_id, loan_id, lock=True)  # serialises saves, and the status check
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


@router.get("/loans/{loan_id}/cam", response_model=CamView)
def get_cam(brand_id: str, loan_id: str, staff: Annotated[Principal, Allow(P.LOANS_VIEW)], session: Db) -> dict:
    record = _cam_of(session, find_loan(session, brand_id, loan_id).id)
    if record is None:
        raise NotFound("no CAM saved for this loan")
    return _cam_view(record)


class CamFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str | None = Field(default=None, alias="staffId", description="who saved the CAM")
    customer_id: str | None = Field(default=None, alias="customerId")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=20, ge=1, le=100)


@router.get("/cam", response_model=CamPage)
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
    loan = find_loan(session, brand_id, loan_id, lock=True)
    record = _cam_of(session, loan.id)
    if record is None:
        raise NotFound("no CAM saved for this loan")
    _open_for_cam(loan)
    before = {"inputs": record.inputs, "result": record.result, "staffId": record.staff_id}
    session.delete(record)
    audit(session, request, staff, "loan.cam.delete", "loan", loan.id, before=before, after=None)
    session.commit()
