"""A brand's settings (seed 001's settings module): /api/v1/partner/brand/{brandId}/settings/...

Each sub-route is one configuration domain of the brand: its general configuration, loan rules (its
products), evaluation items, status reasons, blocklist, providers, staff days off and non-repayment dates.
Reading needs ``settings.view``, changing ``settings.manage`` (never with an API key). A change is validated
whole before anything is written (422 naming the field and the reason), refused when it would duplicate an
existing row (409), and audited with before/after in the same transaction. Another brand's row is 404.

Entity ``PUT``s replace the row (the body is the same as for ``POST``); ``PUT /brand`` is a partial update.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from activities.providers import VENDORS
from api.access import Allow, audit
from api.brand_config import (
    BrandSettingsIn,
    brand_view,
    check_evaluation,
    configured,
    mask,
    providers_view,
    update_brand,
)
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.products import preview_for
from api.security import Principal
from api.types import IsoDate, PositivePaise, Uuid
from db.models import (
    BlocklistEntry,
    Brand,
    BrandNonRepaymentDate,
    BrandStatusReason,
    EvaluationItem,
    LoanProduct,
    PartnerUnavailabilityDate,
    StaffBrandRole,
    StaffUser,
)
from domain import kyc, rules
from domain.access import Permission as P
from domain.bre import BlockKind
from domain.charges import charge_config_from_dict
from domain.errors import Conflict, NotFound, ValidationError
from domain.evaluation import EVALUATION_METRICS, Comparator, Criterion, EngineVersion
from domain.product import (
    PRODUCT_HOLIDAY_STRATEGIES,
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    InterestCalc,
    InterestMethod,
)
from domain.status import LoanStatus

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}/settings", tags=["partner settings"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200)]
Row = TypeVar("Row", LoanProduct, EvaluationItem, BrandStatusReason, BlocklistEntry, BrandNonRepaymentDate)

MAX_ANNUAL_RATE_BPS = 5000  # the platform's cap on a product's rate: 50% a year (a daily rate is held to it too)
MAX_AMOUNT = 10**12  # paise (₹1,000 crore)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _alias(model: type[BaseModel], name: str | None) -> str:
    """The API name of a model field (a domain error names the attribute); other names as they are."""
    field = model.model_fields.get(name or "")
    return (field and field.alias) or name or "body"


def _own(session: Session, model: type[Row], brand_id: str, row_id: str, what: str) -> Row:
    """The brand's row, locked for the change; another brand's (or a malformed id) is 404."""
    row = session.get(model, row_id, with_for_update=True) if is_uuid(row_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound(f"{what} not found")
    return row


def _flush(session: Session, message: str, field: str) -> None:
    """Write now, so a unique constraint a concurrent request won is a 409, not a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def _period(day_from: date | None, day_to: date | None) -> None:
    if day_from and day_to and day_from > day_to:
        raise ValidationError("must not be before from", field="to")


# ------------------------------------------------------------------------------------------- brand
@router.get("/brand")
def get_brand(brand_id: str, staff: Viewer, session: Db) -> dict:
    """The brand's name and configuration: ``config`` what it set, ``effective`` what the code uses."""
    return brand_view(session.get_one(Brand, brand_id))


@router.put("/brand")
def put_brand(request: Request, brand_id: str, body: BrandSettingsIn, staff: Manager, session: Db) -> dict:
    """Partial update of the name and configuration: only the keys sent change, ``null`` resets a key."""
    brand = session.get_one(Brand, brand_id, with_for_update=True)
    before, after = update_brand(session, brand, body)
    audit(session, request, staff, "settings.brand.update", "brand", brand.id, before=before, after=after)
    session.commit()
    return brand_view(brand)


# ------------------------------------------------------------------------------------------- loan rules
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


def _rule_view(p: LoanProduct) -> dict:
    out: dict[str, Any] = {"id": p.id}
    for name in LoanRuleIn.model_fields:
        out[_alias(LoanRuleIn, name)] = getattr(p, name)
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
                exc.field or "", _alias(LoanRuleIn, exc.field)
            )
            raise ValidationError(
                f"a loan of {amount} paise over {tenure} installments cannot be scheduled: {exc.message}", field=field
            ) from exc
    return columns


@router.get("/loan-rules")
def list_loan_rules(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    rows = session.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id).order_by(LoanProduct.code))
    return [_rule_view(p) for p in rows]


@router.post("/loan-rules", status_code=201)
def create_loan_rule(request: Request, brand_id: str, body: LoanRuleIn, staff: Manager, session: Db) -> dict:
    product = LoanProduct(brand_id=brand_id, **_rule_columns(session, brand_id, body))
    session.add(product)
    _flush(session, f"this brand already has a loan rule {body.code}", "code")
    view = _rule_view(product)
    audit(session, request, staff, "settings.loan_rule.create", "loan_product", product.id, after=view)
    session.commit()
    return view


@router.put("/loan-rules/{rule_id}")
def replace_loan_rule(
    request: Request, brand_id: str, rule_id: str, body: LoanRuleIn, staff: Manager, session: Db
) -> dict:
    product = _own(session, LoanProduct, brand_id, rule_id, "loan rule")
    columns = _rule_columns(session, brand_id, body)
    old = _rule_view(product)
    for name, value in columns.items():
        setattr(product, name, value)
    _flush(session, f"this brand already has a loan rule {body.code}", "code")
    before, after = _diff(old, _rule_view(product))
    audit(session, request, staff, "settings.loan_rule.update", "loan_product", product.id, before=before, after=after)
    session.commit()
    return _rule_view(product)


@router.delete("/loan-rules/{rule_id}")
def deactivate_loan_rule(request: Request, brand_id: str, rule_id: str, staff: Manager, session: Db) -> dict:
    """Loans keep their product: a rule is deactivated (no new applications), never deleted."""
    product = _own(session, LoanProduct, brand_id, rule_id, "loan rule")
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


# ------------------------------------------------------------------------------------------- evaluation items
class ItemIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    metric: str = Field(max_length=60, description="one of the facts of the credit decision, e.g. bureau.score")
    comparator: Comparator
    threshold: bool | int | str = Field(description="a number, true/false or text")
    weight: int = Field(default=1, ge=0, le=1000)
    hard_reject: bool = Field(default=False, alias="hardReject")
    is_active: bool = Field(default=True, alias="isActive")


class EvaluationItemIn(ItemIn):
    version: EngineVersion = EngineVersion.V1


class EvaluationSetIn(Strict):
    version: EngineVersion
    items: list[ItemIn] = Field(max_length=50)


def _item_columns(item: ItemIn, version: EngineVersion, prefix: str = "") -> dict[str, Any]:
    if item.metric not in EVALUATION_METRICS:
        raise ValidationError(
            f"unknown metric {item.metric!r}; known: {', '.join(sorted(EVALUATION_METRICS))}", field=f"{prefix}metric"
        )
    threshold = str(item.threshold).lower() if isinstance(item.threshold, bool) else str(item.threshold).strip()
    if len(threshold) > 60:
        raise ValidationError("at most 60 characters", field=f"{prefix}threshold")
    columns = {
        "version": version.value,
        "name": item.name,
        "metric": item.metric,
        "comparator": item.comparator.value,
        "threshold": threshold,
        "weight": item.weight,
        "hard_reject": item.hard_reject,
        "is_active": item.is_active,
    }
    try:
        Criterion.from_dict(columns)  # the engine's own rules (an ordering comparator needs a number...)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=prefix + _alias(ItemIn, exc.field)) from exc
    return columns


def _item_view(i: EvaluationItem) -> dict:
    return {
        "id": i.id,
        "version": i.version,
        "name": i.name,
        "metric": i.metric,
        "comparator": i.comparator,
        "threshold": i.threshold,
        "weight": i.weight,
        "hardReject": i.hard_reject,
        "isActive": i.is_active,
    }


def _unique_item_name(session: Session, brand_id: str, version: str, name: str, own_id: str | None = None) -> None:
    """Names are unique per brand and version, whatever the case (the engine compares them so)."""
    query = select(EvaluationItem.id).where(
        EvaluationItem.brand_id == brand_id,
        EvaluationItem.version == version,
        func.lower(EvaluationItem.name) == name.lower(),
    )
    if own_id is not None:
        query = query.where(EvaluationItem.id != own_id)
    if session.scalars(query).first() is not None:
        raise Conflict(f"this brand already has a {version} evaluation item named {name!r}", field="name")


def _check_items(session: Session, brand_id: str, field: str) -> None:
    session.flush()
    check_evaluation(session, brand_id, session.get_one(Brand, brand_id).config or {}, field=field)


@router.get("/evaluation-items")
def list_evaluation_items(
    brand_id: str, staff: Viewer, session: Db, version: Annotated[EngineVersion | None, Query()] = None
) -> list[dict]:
    query = select(EvaluationItem).where(EvaluationItem.brand_id == brand_id)
    if version is not None:
        query = query.where(EvaluationItem.version == version.value)
    return [_item_view(i) for i in session.scalars(query.order_by(EvaluationItem.version, EvaluationItem.name))]


@router.put("/evaluation-items")
def replace_evaluation_items(
    request: Request, brand_id: str, body: EvaluationSetIn, staff: Manager, session: Db
) -> list[dict]:
    """Replace every item of one version at once (one transaction: all or nothing)."""
    seen: set[str] = set()
    columns = []
    for n, item in enumerate(body.items):
        if item.name.lower() in seen:
            raise ValidationError(f"the name {item.name!r} is used twice", field=f"items.{n}.name")
        seen.add(item.name.lower())
        columns.append(_item_columns(item, body.version, f"items.{n}."))
    old = select(EvaluationItem).where(EvaluationItem.brand_id == brand_id, EvaluationItem.version == body.version)
    before = [_item_view(i) for i in session.scalars(old.order_by(EvaluationItem.name))]
    session.execute(
        delete(EvaluationItem).where(EvaluationItem.brand_id == brand_id, EvaluationItem.version == body.version)
    )
    rows = [EvaluationItem(brand_id=brand_id, **c) for c in columns]
    session.add_all(rows)
    _check_items(session, brand_id, "items")
    after = [_item_view(i) for i in rows]
    audit(
        session,
        request,
        staff,
        "settings.evaluation_items.replace",
        "evaluation_items",
        body.version.value,
        before={"items": before},
        after={"items": after},
    )
    session.commit()
    return after


@router.post("/evaluation-items", status_code=201)
def create_evaluation_item(
    request: Request, brand_id: str, body: EvaluationItemIn, staff: Manager, session: Db
) -> dict:
    columns = _item_columns(body, body.version)
    _unique_item_name(session, brand_id, body.version.value, body.name)
    item = EvaluationItem(brand_id=brand_id, **columns)
    session.add(item)
    _flush(session, f"this brand already has a {body.version} evaluation item named {body.name!r}", "name")
    _check_items(session, brand_id, "version")
    audit(
        session, request, staff, "settings.evaluation_item.create", "evaluation_item", item.id, after=_item_view(item)
    )
    session.commit()
    return _item_view(item)


@router.put("/evaluation-items/{item_id}")
def replace_evaluation_item(
    request: Request, brand_id: str, item_id: str, body: EvaluationItemIn, staff: Manager, session: Db
) -> dict:
    item = _own(session, EvaluationItem, brand_id, item_id, "evaluation item")
    columns = _item_columns(body, body.version)
    _unique_item_name(session, brand_id, body.version.value, body.name, own_id=item.id)
    old = _item_view(item)
    for name, value in columns.items():
        setattr(item, name, value)
    _flush(session, f"this brand already has a {body.version} evaluation item named {body.name!r}", "name")
    _check_items(session, brand_id, "version")
    before, after = _diff(old, _item_view(item))
    audit(
        session,
        request,
        staff,
        "settings.evaluation_item.update",
        "evaluation_item",
        item.id,
        before=before,
        after=after,
    )
    session.commit()
    return _item_view(item)


@router.delete("/evaluation-items/{item_id}")
def delete_evaluation_item(request: Request, brand_id: str, item_id: str, staff: Manager, session: Db) -> dict:
    item = _own(session, EvaluationItem, brand_id, item_id, "evaluation item")
    before = _item_view(item)
    session.delete(item)
    _check_items(session, brand_id, "id")
    audit(session, request, staff, "settings.evaluation_item.delete", "evaluation_item", item.id, before=before)
    session.commit()
    return {"id": item.id, "deleted": True}


# ------------------------------------------------------------------------------------------- status reasons
REASON_STATUSES = (
    "SEND_BACK",  # a review action, not a loan status
    LoanStatus.REJECTED.value,
    LoanStatus.WRITTEN_OFF.value,
    LoanStatus.SETTLED.value,
    LoanStatus.COMPLETED.value,
)


class StatusReasonIn(Strict):
    code: str = Field(pattern=r"^[A-Z0-9_]{2,40}$", description="upper-case letters, digits and _")
    label: Name
    statuses: list[str] = Field(min_length=1, max_length=len(REASON_STATUSES), description="what it is a reason for")
    is_active: bool = Field(default=True, alias="isActive")


def _statuses(values: list[str]) -> list[str]:
    for n, value in enumerate(values):
        if value not in REASON_STATUSES:
            raise ValidationError(
                f"unknown status {value!r}; allowed: {', '.join(REASON_STATUSES)}", field=f"statuses.{n}"
            )
        if values.index(value) != n:
            raise ValidationError(f"{value} is listed twice", field=f"statuses.{n}")
    return values


def _reason_view(r: BrandStatusReason) -> dict:
    return {"id": r.id, "code": r.code, "label": r.label, "statuses": r.statuses, "isActive": r.is_active}


@router.get("/status-reasons")
def list_status_reasons(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    rows = session.scalars(
        select(BrandStatusReason).where(BrandStatusReason.brand_id == brand_id).order_by(BrandStatusReason.code)
    )
    return [_reason_view(r) for r in rows]


@router.post("/status-reasons", status_code=201)
def create_status_reason(request: Request, brand_id: str, body: StatusReasonIn, staff: Manager, session: Db) -> dict:
    reason = BrandStatusReason(
        brand_id=brand_id,
        code=body.code,
        label=body.label,
        statuses=_statuses(body.statuses),
        is_active=body.is_active,
    )
    session.add(reason)
    _flush(session, f"this brand already has a status reason {body.code}", "code")
    audit(
        session, request, staff, "settings.status_reason.create", "status_reason", reason.id, after=_reason_view(reason)
    )
    session.commit()
    return _reason_view(reason)


@router.put("/status-reasons/{reason_id}")
def replace_status_reason(
    request: Request, brand_id: str, reason_id: str, body: StatusReasonIn, staff: Manager, session: Db
) -> dict:
    reason = _own(session, BrandStatusReason, brand_id, reason_id, "status reason")
    statuses = _statuses(body.statuses)
    old = _reason_view(reason)
    reason.code, reason.label, reason.statuses, reason.is_active = body.code, body.label, statuses, body.is_active
    _flush(session, f"this brand already has a status reason {body.code}", "code")
    before, after = _diff(old, _reason_view(reason))
    audit(
        session, request, staff, "settings.status_reason.update", "status_reason", reason.id, before=before, after=after
    )
    session.commit()
    return _reason_view(reason)


@router.delete("/status-reasons/{reason_id}")
def deactivate_status_reason(request: Request, brand_id: str, reason_id: str, staff: Manager, session: Db) -> dict:
    """Past decisions keep their reason code: a reason is deactivated (no longer offered), never deleted."""
    reason = _own(session, BrandStatusReason, brand_id, reason_id, "status reason")
    before = {"isActive": reason.is_active}
    reason.is_active = False
    audit(
        session,
        request,
        staff,
        "settings.status_reason.deactivate",
        "status_reason",
        reason.id,
        before=before,
        after={"isActive": False},
    )
    session.commit()
    return _reason_view(reason)


# ------------------------------------------------------------------------------------------- blocklist
class BlocklistIn(Strict):
    kind: BlockKind
    value: str = Field(min_length=1, max_length=200, description="PAN, 12-digit Aadhaar, mobile or device id")
    reason: str | None = Field(default=None, max_length=1000)


def _blocked_value(request: Request, kind: BlockKind, value: str) -> str:
    """The value as the BRE matches it: PAN upper-case, phone its 10 digits, Aadhaar only as its keyed hash
    (the hash the KYC step stores on the customer; the number itself is never kept)."""
    try:
        if kind is BlockKind.PAN:
            return rules.normalise_pan(value)
        if kind is BlockKind.PHONE:
            return rules.normalise_phone(value)
        if kind is BlockKind.AADHAAR:
            return kyc.aadhaar_hash(value, request.app.state.settings.field_key())
    except ValidationError as exc:
        raise ValidationError(exc.message, field="value") from exc
    return value.strip()


def _block_view(e: BlocklistEntry) -> dict:
    return {"id": e.id, "kind": e.kind, "value": e.value, "reason": e.reason, "createdAt": e.created_at}


@router.get("/blocklist")
def list_blocklist(
    request: Request,
    brand_id: str,
    staff: Viewer,
    session: Db,
    kind: Annotated[BlockKind | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=200, description="part of a value, or a whole Aadhaar")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict:
    query = select(BlocklistEntry).where(BlocklistEntry.brand_id == brand_id)
    if kind is not None:
        query = query.where(BlocklistEntry.kind == kind.value)
    if search and search.strip():
        term = search.strip()
        matches: list[ColumnElement[bool]] = [BlocklistEntry.value.ilike(f"%{term}%")]
        digits = term.replace(" ", "")
        if len(digits) == 12 and digits.isdigit() and kyc.verhoeff_validate(digits):  # a whole Aadhaar
            matches.append(BlocklistEntry.value == _blocked_value(request, BlockKind.AADHAAR, term))
        query = query.where(or_(*matches))
    rows, total = page_of(session, query, page, limit, BlocklistEntry.created_at.desc(), BlocklistEntry.id)
    return {"items": [_block_view(e) for (e,) in rows], "page": page, "limit": limit, "total": total}


@router.post("/blocklist", status_code=201)
def create_blocklist_entry(request: Request, brand_id: str, body: BlocklistIn, staff: Manager, session: Db) -> dict:
    entry = BlocklistEntry(
        brand_id=brand_id,
        kind=body.kind.value,
        value=_blocked_value(request, body.kind, body.value),
        reason=body.reason,
    )
    session.add(entry)
    _flush(session, f"this {body.kind.value} is already blocked", "value")
    audit(session, request, staff, "settings.blocklist.create", "blocklist_entry", entry.id, after=_block_view(entry))
    session.commit()
    return _block_view(entry)


@router.delete("/blocklist/{entry_id}")
def delete_blocklist_entry(request: Request, brand_id: str, entry_id: str, staff: Manager, session: Db) -> dict:
    entry = _own(session, BlocklistEntry, brand_id, entry_id, "blocklist entry")
    before = _block_view(entry)
    session.delete(entry)
    audit(session, request, staff, "settings.blocklist.delete", "blocklist_entry", entry.id, before=before)
    session.commit()
    return {"id": entry.id, "deleted": True}


# ------------------------------------------------------------------------------------------- providers
RESERVED_OPTIONS = frozenset({"vendor", "base_url", "api_key", "webhook_secret", "primary", "active"})


class VendorIn(Strict):
    vendor: str = Field(max_length=40)
    base_url: str | None = Field(
        default=None, alias="baseUrl", pattern=r"^https?://\S+$", max_length=500, description="kept if not sent"
    )
    api_key: str | None = Field(default=None, alias="apiKey", max_length=500, description="kept if not sent")
    webhook_secret: str | None = Field(
        default=None, alias="webhookSecret", max_length=500, description="kept if not sent"
    )
    active: bool = True
    options: dict[str, str | int | float | bool] | None = Field(
        default=None, description="vendor options, e.g. timeout_seconds; kept if not sent"
    )


class ProvidersIn(Strict):
    vendors: list[VendorIn] = Field(max_length=10, description="in the order failover tries them; [] removes")
    primary: str | None = Field(default=None, description="the vendor tried first (default: the first active)")


def _secret(sent: str | None, old: str) -> str:
    """A secret not sent, or sent back as shown (masked), stays as it was."""
    return old if sent is None or (old and sent == mask(old)) else sent


def _providers_of(config: dict[str, Any]) -> dict[str, Any]:
    return {kind: {"available": sorted(VENDORS[kind]), "vendors": providers_view(config, kind)} for kind in VENDORS}


@router.get("/providers")
def get_providers(brand_id: str, staff: Viewer, session: Db) -> dict:
    """Per provider kind: the vendors the platform has adapters for, and the brand's, in order (secrets masked)."""
    return _providers_of(session.get_one(Brand, brand_id).config or {})


@router.put("/providers/{kind}")
def put_providers(request: Request, brand_id: str, kind: str, body: ProvidersIn, staff: Manager, session: Db) -> dict:
    """Set the vendors of one kind: their order, the primary, which are active, URLs, secrets and options."""
    if kind not in VENDORS:
        raise ValidationError(f"unknown provider kind {kind!r}; known: {', '.join(VENDORS)}", field="kind")
    brand = session.get_one(Brand, brand_id, with_for_update=True)
    config = dict(brand.config or {})
    old = {c.vendor: c for c in configured(config, kind)}
    names = [v.vendor for v in body.vendors]
    primary = body.primary or next((v.vendor for v in body.vendors if v.active), None)
    entries, rotated = [], []
    for n, v in enumerate(body.vendors):
        if v.vendor not in VENDORS[kind]:
            allowed = ", ".join(sorted(VENDORS[kind]))
            raise ValidationError(f"no {kind} adapter {v.vendor!r}; available: {allowed}", field=f"vendors.{n}.vendor")
        if names.index(v.vendor) != n:
            raise ValidationError(f"{v.vendor} is listed twice", field=f"vendors.{n}.vendor")
        prior = old.get(v.vendor)
        base_url = v.base_url or (prior.base_url if prior else None)
        if not base_url:
            raise ValidationError("a vendor configured for the first time needs its URL", field=f"vendors.{n}.baseUrl")
        options = v.options if v.options is not None else (prior.options if prior else {})
        clash = sorted(RESERVED_OPTIONS & set(options))
        if clash:
            raise ValidationError(f"{clash[0]} is not an option", field=f"vendors.{n}.options.{clash[0]}")
        moved = prior is not None and base_url.rstrip("/") != prior.base_url.rstrip("/")
        resent = v.api_key is not None and not (prior and prior.api_key and v.api_key == mask(prior.api_key))
        if moved and not resent:  # a kept key must never be sent to a host it was not issued for
            raise ValidationError(
                "a new URL needs the vendor's API key sent again (secrets are kept only for the same URL)",
                field=f"vendors.{n}.apiKey",
            )
        api_key = _secret(v.api_key, prior.api_key if prior and not moved else "")
        webhook_secret = _secret(v.webhook_secret, prior.webhook_secret if prior else "")
        if prior is None or (api_key, webhook_secret) != (prior.api_key, prior.webhook_secret):
            rotated.append(v.vendor)
        entries.append(
            {
                "vendor": v.vendor,
                "base_url": base_url.rstrip("/"),
                "api_key": api_key,
                "webhook_secret": webhook_secret,
                "primary": v.vendor == primary,
                "active": v.active,
                **options,
            }
        )
    if body.vendors and primary not in names:
        raise ValidationError(f"{primary!r} is not one of the vendors listed", field="primary")
    if body.vendors and not next(v for v in body.vendors if v.vendor == primary).active:
        raise ValidationError(f"the primary vendor {primary} must be active", field="primary")
    providers = {k: v for k, v in (config.get("providers") or {}).items() if k != kind}
    if entries:
        providers[kind] = entries
    before = providers_view(config, kind)
    brand.config = {**config, "providers": providers}
    after = providers_view(brand.config, kind)
    audit(
        session,
        request,
        staff,
        "settings.providers.update",
        "brand_providers",
        kind,
        before={"vendors": before},
        after={"vendors": after, "secretsChanged": rotated},
    )
    session.commit()
    return {kind: {"available": sorted(VENDORS[kind]), "vendors": after}}


# ------------------------------------------------------------------------------------------- staff days off
class UnavailabilityIn(Strict):
    staff_id: Uuid = Field(alias="staffId")
    day: IsoDate
    reason: Note = None


def _day_off_view(row: PartnerUnavailabilityDate, user: StaffUser) -> dict:
    return {
        "id": row.id,
        "staffId": row.staff_id,
        "staffName": user.name,
        "staffEmail": user.email,
        "day": row.day,
        "reason": row.reason,
    }


def _in_brand(brand_id: str) -> Any:
    return select(StaffBrandRole.staff_id).where(StaffBrandRole.brand_id == brand_id)


@router.get("/unavailability-dates")
def list_unavailability(
    brand_id: str,
    staff: Viewer,
    session: Db,
    staff_id: Annotated[str | None, Query(alias="staffId")] = None,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> list[dict]:
    """Days off of the brand's staff (auto-allocation skips them on those days)."""
    _period(day_from, day_to)
    query = (
        select(PartnerUnavailabilityDate, StaffUser)
        .join(StaffUser, StaffUser.id == PartnerUnavailabilityDate.staff_id)
        .where(PartnerUnavailabilityDate.staff_id.in_(_in_brand(brand_id)))
    )
    if staff_id is not None:
        if not is_uuid(staff_id):
            raise ValidationError("not a staff id", field="staffId")
        query = query.where(PartnerUnavailabilityDate.staff_id == staff_id)
    if day_from is not None:
        query = query.where(PartnerUnavailabilityDate.day >= day_from)
    if day_to is not None:
        query = query.where(PartnerUnavailabilityDate.day <= day_to)
    rows = session.execute(query.order_by(PartnerUnavailabilityDate.day, StaffUser.name)).all()
    return [_day_off_view(row, user) for row, user in rows]


@router.post("/unavailability-dates", status_code=201)
def create_unavailability(request: Request, brand_id: str, body: UnavailabilityIn, staff: Manager, session: Db) -> dict:
    user = session.get(StaffUser, body.staff_id) if is_uuid(body.staff_id) else None
    works_here = (
        user is not None
        and session.scalars(
            select(StaffBrandRole.id).where(StaffBrandRole.staff_id == user.id, StaffBrandRole.brand_id == brand_id)
        ).first()
    )
    if user is None or not works_here or not user.is_active:
        raise ValidationError("no active staff member of this brand has that id", field="staffId")
    row = PartnerUnavailabilityDate(staff_id=user.id, day=body.day, reason=body.reason)
    session.add(row)
    _flush(session, f"{user.email} is already off on {body.day}", "day")
    view = _day_off_view(row, user)
    audit(session, request, staff, "settings.unavailability.create", "unavailability_date", row.id, after=view)
    session.commit()
    return view


@router.delete("/unavailability-dates/{row_id}")
def delete_unavailability(request: Request, brand_id: str, row_id: str, staff: Manager, session: Db) -> dict:
    row = session.get(PartnerUnavailabilityDate, row_id, with_for_update=True) if is_uuid(row_id) else None
    if (
        row is None
        or session.scalars(_in_brand(brand_id).where(StaffBrandRole.staff_id == row.staff_id)).first() is None
    ):
        raise NotFound("unavailability date not found")
    before = _day_off_view(row, session.get_one(StaffUser, row.staff_id))
    session.delete(row)
    audit(session, request, staff, "settings.unavailability.delete", "unavailability_date", row.id, before=before)
    session.commit()
    return {"id": row.id, "deleted": True}


# ------------------------------------------------------------------------------------------- holidays
class HolidayIn(Strict):
    day: IsoDate
    reason: Note = None


def _holiday_view(h: BrandNonRepaymentDate) -> dict:
    return {"id": h.id, "day": h.day, "reason": h.reason}


@router.get("/holidays")
def list_holidays(
    brand_id: str,
    staff: Viewer,
    session: Db,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> list[dict]:
    """Non-repayment dates: an installment falling due on one moves to the next working day."""
    _period(day_from, day_to)
    query = select(BrandNonRepaymentDate).where(BrandNonRepaymentDate.brand_id == brand_id)
    if day_from is not None:
        query = query.where(BrandNonRepaymentDate.day >= day_from)
    if day_to is not None:
        query = query.where(BrandNonRepaymentDate.day <= day_to)
    return [_holiday_view(h) for h in session.scalars(query.order_by(BrandNonRepaymentDate.day))]


@router.post("/holidays", status_code=201)
def create_holiday(request: Request, brand_id: str, body: HolidayIn, staff: Manager, session: Db) -> dict:
    holiday = BrandNonRepaymentDate(brand_id=brand_id, day=body.day, reason=body.reason)
    session.add(holiday)
    _flush(session, f"{body.day} is already a non-repayment date", "day")
    audit(session, request, staff, "settings.holiday.create", "holiday", holiday.id, after=_holiday_view(holiday))
    session.commit()
    return _holiday_view(holiday)


@router.delete("/holidays/{holiday_id}")
def delete_holiday(request: Request, brand_id: str, holiday_id: str, staff: Manager, session: Db) -> dict:
    holiday = _own(session, BrandNonRepaymentDate, brand_id, holiday_id, "holiday")
    before = _holiday_view(holiday)
    session.delete(holiday)
    audit(session, request, staff, "settings.holiday.delete", "holiday", holiday.id, before=before)
    session.commit()
    return {"id": holiday.id, "deleted": True}
