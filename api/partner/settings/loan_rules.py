"""Loan rules (the brand's products): /settings/loan-rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import audit
from api.partner.settings.common import (
    Db,
    Manager,
    Name,
    Strict,
    Viewer,
    api_alias,
    diff,
    flush_or_conflict,
    own_row,
    settings_router,
)
from api.products import preview_for
from api.responses import ApiModel
from api.types import PositivePaise
from db.models import LoanProduct
from domain.charges import charge_config_from_dict
from domain.errors import ValidationError
from domain.product import (
    PRODUCT_HOLIDAY_STRATEGIES,
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    HolidayStrategy,
    InterestCalc,
    InterestMethod,
)

router = settings_router()

MAX_ANNUAL_RATE_BPS = 5000  # the platform's cap on a product's rate: 50% a year (a daily rate is held to it too)


MAX_AMOUNT = 10**12  # paise (₹1,000 crore)


# The strategies a product may pick (the legacy one only keeps older loans' schedules).
ProductHolidayStrategy = StrEnum(  # type: ignore[misc]
    "ProductHolidayStrategy", {s.name: s.value for s in PRODUCT_HOLIDAY_STRATEGIES}
)


class LoanRuleIn(Strict):
    """A loan product: amounts in paise, tenure in installments, schedule options named as Fineract names them."""

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
    name: Name
    min_amount: PositivePaise = Field(alias="minAmount", le=MAX_AMOUNT)
    max_amount: PositivePaise = Field(alias="maxAmount", le=MAX_AMOUNT)
    min_tenure: int = Field(alias="minTenure", ge=1, le=600)
    max_tenure: int = Field(alias="maxTenure", ge=1, le=600)
    annual_rate_bps: int = Field(alias="annualRateBps", ge=0, le=MAX_ANNUAL_RATE_BPS)
    repay_every: int = Field(default=1, alias="repayEvery", ge=1, le=52)
    repay_unit: Frequency = Field(default=Frequency.MONTHS, alias="repayUnit")
    period_seconds: int | None = Field(
        default=None, alias="periodSeconds", ge=1, le=31 * 24 * 3600, description="demo: seconds per period"
    )
    interest_method: InterestMethod = Field(default=InterestMethod.DECLINING_BALANCE, alias="interestMethod")
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS
    interest_calc: InterestCalc = Field(default=InterestCalc.SAME_AS_REPAYMENT_PERIOD, alias="interestCalc")
    days_in_year: DaysInYear = Field(default=DaysInYear.ACTUAL, alias="daysInYear")
    days_in_month: DaysInMonth = Field(default=DaysInMonth.ACTUAL, alias="daysInMonth")
    in_multiples_of: PositivePaise = Field(default=1, alias="inMultiplesOf", le=100_000)
    grace_principal: int = Field(default=0, alias="gracePrincipal", ge=0, le=600)
    grace_interest: int = Field(default=0, alias="graceInterest", ge=0, le=600)
    daily_rate: Decimal | None = Field(
        default=None, alias="dailyRate", gt=0, max_digits=8, decimal_places=4, description="% a day (bullet loan)"
    )
    charges: dict[str, Any] = Field(default_factory=dict, description="see domain.charges.charge_config_from_dict")
    is_active: bool = Field(default=True, alias="isActive")
    holiday_strategy: ProductHolidayStrategy = Field(
        default=ProductHolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM,
        alias="holidayStrategy",
        description="what a due date on a brand holiday does (docs/money.md: Fineract's reschedule types)",
    )


class LoanRule(ApiModel):
    """A loan product of the brand, as ``LoanRuleIn`` sets it: amounts in paise, tenure in installments."""

    id: str
    code: str
    name: str
    min_amount: int = Field(description="paise")
    max_amount: int = Field(description="paise")
    min_tenure: int = Field(description="installments")
    max_tenure: int = Field(description="installments")
    annual_rate_bps: int = Field(description="basis points a year (2400 = 24% p.a.)")
    repay_every: int = Field(description="repayUnits between two due dates")
    repay_unit: Frequency
    period_seconds: int | None = Field(description="demo: seconds per period")
    interest_method: InterestMethod
    amortization: Amortization
    interest_calc: InterestCalc
    days_in_year: DaysInYear
    days_in_month: DaysInMonth
    in_multiples_of: int = Field(description="paise; installments are rounded to a multiple of it")
    grace_principal: int = Field(description="first installments with no principal due")
    grace_interest: int = Field(description="first installments with no interest due")
    daily_rate: str | None = Field(description="% a day (bullet loan), a decimal string")
    charges: dict[str, Any] = Field(description="see domain.charges.charge_config_from_dict")
    is_active: bool = Field(description="false: no new applications")
    holiday_strategy: HolidayStrategy = Field(
        description="what a due date on a brand holiday does; LEGACY_NEXT_WORKING_DAY only on older products"
    )


def _rule_view(p: LoanProduct) -> dict:
    out: dict[str, Any] = {"id": p.id}
    for name in LoanRuleIn.model_fields:
        out[api_alias(LoanRuleIn, name)] = getattr(p, name)
    out["dailyRate"] = str(p.daily_rate) if p.daily_rate is not None else None
    return out


def _rule_columns(session: Session, brand_id: str, body: LoanRuleIn) -> dict[str, Any]:
    """The product's columns, once the rule is proven usable: bounds in order, charges valid, and a loan at
    each end of the bounds schedules (the same engine as applications and EMI previews)."""
    if body.min_amount > body.max_amount:
        raise ValidationError("must not be below minAmount", field="maxAmount")
    if body.min_tenure > body.max_tenure:
        raise ValidationError("must not be below minTenure", field="maxTenure")
    if body.daily_rate is not None and body.daily_rate * 365 * 100 > MAX_ANNUAL_RATE_BPS:
        raise ValidationError(f"above the cap of {MAX_ANNUAL_RATE_BPS} bps a year", field="dailyRate")
    try:
        charge_config_from_dict(body.charges)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=f"charges.{exc.field}" if exc.field else "charges") from exc
    except TypeError as exc:
        raise ValidationError(str(exc), field="charges") from exc
    columns = body.model_dump(mode="json") | {"daily_rate": body.daily_rate}
    trial = LoanProduct(brand_id=brand_id, **columns)  # never added to the session
    for amount, tenure, amount_field, tenure_field in (
        (body.min_amount, body.min_tenure, "minAmount", "minTenure"),
        (body.max_amount, body.max_tenure, "maxAmount", "maxTenure"),
    ):
        try:
            preview_for(session, trial, amount, tenure, date.today())
        except ValidationError as exc:
            field = {"principal": amount_field, "amount": amount_field, "installments": tenure_field}.get(
                exc.field or "", api_alias(LoanRuleIn, exc.field)
            )
            raise ValidationError(
                f"a loan of {amount} paise over {tenure} installments cannot be scheduled: {exc.message}", field=field
            ) from exc
    return columns


@router.get("/loan-rules", response_model=list[LoanRule])
def list_loan_rules(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    rows = session.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id).order_by(LoanProduct.code))
    return [_rule_view(p) for p in rows]


@router.post("/loan-rules", status_code=201, response_model=LoanRule)
def create_loan_rule(request: Request, brand_id: str, body: LoanRuleIn, staff: Manager, session: Db) -> dict:
    product = LoanProduct(brand_id=brand_id, **_rule_columns(session, brand_id, body))
    session.add(product)
    flush_or_conflict(session, f"this brand already has a loan rule {body.code}", "code")
    view = _rule_view(product)
    audit(session, request, staff, "settings.loan_rule.create", "loan_product", product.id, after=view)
    session.commit()
    return view


@router.put("/loan-rules/{rule_id}", response_model=LoanRule)
def replace_loan_rule(
    request: Request, brand_id: str, rule_id: str, body: LoanRuleIn, staff: Manager, session: Db
) -> dict:
    product = own_row(session, LoanProduct, brand_id, rule_id, "loan rule")
    columns = _rule_columns(session, brand_id, body)
    old = _rule_view(product)
    for name, value in columns.items():
        setattr(product, name, value)
    flush_or_conflict(session, f"this brand already has a loan rule {body.code}", "code")
    before, after = diff(old, _rule_view(product))
    audit(session, request, staff, "settings.loan_rule.update", "loan_product", product.id, before=before, after=after)
    session.commit()
    return _rule_view(product)


@router.delete("/loan-rules/{rule_id}", response_model=LoanRule)
def deactivate_loan_rule(request: Request, brand_id: str, rule_id: str, staff: Manager, session: Db) -> dict:
    """Loans keep their product: a rule is deactivated (no new applications), never deleted."""
    product = own_row(session, LoanProduct, brand_id, rule_id, "loan rule")
    before = {"isActive": product.is_active}
    product.is_active = False
    audit(
        session,
        request,
        staff,
        "settings.loan_rule.deactivate",
        "loan_product",
        product.id,
        before=before,
        after={"isActive": False},
    )
    session.commit()
    return _rule_view(product)
