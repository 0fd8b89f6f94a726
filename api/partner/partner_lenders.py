"""Partner lenders (multi-NBFC routing): their settings, eligibility tables, the brand's routing choices, each
loan's offers and attempts, and the SLA report, under /api/v1/partner/brand/{brandId}/partner-lenders
(docs/partner-lenders.md).

- ``GET  partner-lenders``: the brand's partners (credentials masked); ``POST``: add one; ``PUT .../{code}``:
  change one (limits, pricing, SLA, settings, priority, active). ``settings.view`` / ``settings.manage``, audited.
- ``GET  .../{code}/rules``: every version of its eligibility table; ``PUT``: a new version, put in force
  (the old ones stay: an offer names the version that decided it). Audited.
- ``GET|PUT partner-lenders/routing``: whether the borrower picks among offers, and the pick window.
- ``GET  partner-lenders/loans/{loanId}``: the loan's offers (all rounds) and attempts (``loans.view``).
- ``GET  partner-lenders/sla?fromDate&toDate``: per partner attempts, outcomes, SLA breaches, median and worst
  time taken (``reports.view``; IST dates, both included, at most 366 days).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel
from sqlalchemy import select

from activities.providers.partners import ADAPTERS
from api.access import Allow, audit
from api.partner.common import Db, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from db import partners as q
from db.models import PartnerLender, PartnerRouting
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError
from domain.partners import Limits, PartnerPricing, parse_rules, parse_sla, sla_summary
from domain.partners.rules import rules_as_rows

router = staff_router()
BASE = "/brand/{brand_id}/partner-lenders"
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
LoanViewer = Annotated[Principal, Allow(P.LOANS_VIEW)]
Reports = Annotated[Principal, Allow(P.REPORTS_VIEW)]
SECRET_KEYS = ("api_key", "webhook_secret")


class In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PricingIn(In):
    annual_rate_bps: int = Field(ge=0, le=5000, description="nominal rate, basis points a year (1850 = 18.50 %)")
    processing_fee_bps: int = Field(default=0, ge=0, le=1000, description="basis points of the principal")
    processing_fee_min: int = Field(default=0, ge=0, description="paise")
    processing_fee_max: int | None = Field(default=None, ge=0, description="paise; null: no cap")
    gst_percent: str = Field(default="18", pattern=r"^\d{1,2}(\.\d{1,2})?$")


class SettingsIn(In):
    base_url: str = Field(min_length=8, max_length=300, pattern=r"^https?://")
    api_key: str = Field(default="", max_length=300)
    webhook_secret: str = Field(default="", max_length=300, description="HMAC secret where the lender signs")
    partner_id: str | None = Field(default=None, max_length=100, description="the lender's id for us (Lendbox)")


class PartnerIn(In):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    adapter: str = Field(description="the adapter module: " + ", ".join(sorted(ADAPTERS)))
    active: bool = True
    priority: int = Field(default=100, ge=0, le=10_000)
    min_amount: int = Field(gt=0, description="paise")
    max_amount: int = Field(gt=0, description="paise")
    min_tenure: int = Field(gt=0, le=1200, description="installments")
    max_tenure: int = Field(gt=0, le=1200, description="installments")
    pricing: PricingIn
    sla: dict[str, int] = Field(default_factory=dict, description="seconds per step: DECISION, DISBURSAL")
    settings: SettingsIn


class RulesIn(In):
    rules: list[dict[str, Any]] = Field(max_length=50, description='rows {"fact", "op", "value", "reason"}')
    note: str | None = Field(default=None, max_length=200)


class RoutingIn(In):
    borrower_pick: bool
    pick_window_seconds: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)


class PartnerView(ApiModel):
    id: str
    code: str
    name: str
    adapter: str
    active: bool
    priority: int
    min_amount: int
    max_amount: int
    min_tenure: int
    max_tenure: int
    pricing: dict[str, Any]
    sla: dict[str, int]
    settings: dict[str, Any] = Field(description="credentials masked")
    rules_version: int


class RulesView(ApiModel):
    version: int
    in_force: bool
    rules: list[dict[str, Any]]
    note: str | None
    created_by: str | None
    created_at: str | None


class RoutingView(ApiModel):
    borrower_pick: bool
    pick_window_seconds: int


class OfferView(ApiModel):
    id: str
    round: int
    partner_code: str
    partner_name: str
    status: str
    reasons: list[str]
    rules_version: int
    amount: int
    tenure: int
    annual_rate_bps: int
    emi: int
    total_interest: int
    fees: int
    gst: int
    third_party: int
    net_disbursed: int
    total_payable: int
    apr: str
    picked: bool


class AttemptView(ApiModel):
    partner_code: str
    offer_id: str
    outcome: str
    reason: str | None
    partner_reference: str | None
    elapsed_ms: int
    sla_seconds: int
    sla_breached: bool
    started_at: str | None


class LoanRoutingView(ApiModel):
    loan_id: str
    offers: list[OfferView]
    attempts: list[AttemptView]


class SlaRow(ApiModel):
    partner_code: str
    attempts: int
    accepted: int
    rejected: int
    errors: int
    breaches: int
    breach_rate: str
    median_ms: int
    max_ms: int


def _masked(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as the API spells them (camelCase), credentials down to their last 4 characters."""
    return {to_camel(k): ("****" + str(v)[-4:] if k in SECRET_KEYS and v else v) for k, v in settings.items()}


def partner_view(p: PartnerLender) -> dict:
    return {
        "id": p.id, "code": p.code, "name": p.name, "adapter": p.adapter, "active": p.active, "priority": p.priority,
        "minAmount": p.min_amount, "maxAmount": p.max_amount, "minTenure": p.min_tenure, "maxTenure": p.max_tenure,
        "pricing": dict(p.pricing), "sla": parse_sla(p.sla), "settings": _masked(dict(p.settings)),
        "rulesVersion": p.rules_version,
    }  # fmt: skip


def _columns(body: PartnerIn) -> dict[str, Any]:
    """The row's columns, every rule of the domain checked (errors name the field as the API spells it)."""
    if body.adapter not in ADAPTERS:
        raise ValidationError(f"unknown adapter; one of {', '.join(sorted(ADAPTERS))}", field="adapter")
    Limits(body.min_amount, body.max_amount, body.min_tenure, body.max_tenure)
    price = body.pricing
    try:
        pricing = PartnerPricing(
            price.annual_rate_bps, price.processing_fee_bps, price.processing_fee_min, price.processing_fee_max,
            Decimal(price.gst_percent),
        )  # fmt: skip
    except ValidationError as exc:
        raise ValidationError(exc.message, field=f"pricing.{exc.field}") from exc
    settings = {k: v for k, v in body.settings.model_dump().items() if v is not None}
    return {
        "code": body.code, "name": body.name, "adapter": body.adapter, "active": body.active,
        "priority": body.priority, "min_amount": body.min_amount, "max_amount": body.max_amount,
        "min_tenure": body.min_tenure, "max_tenure": body.max_tenure, "pricing": pricing.as_dict(),
        "sla": parse_sla(body.sla), "settings": settings,
    }  # fmt: skip


def _own(session: Db, brand_id: str, code: str) -> PartnerLender:
    """The brand's partner ``code`` (row-locked); another brand's, or none, is 404."""
    query = select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.code == code)
    row = session.scalars(query.with_for_update()).first()
    if row is None:
        raise NotFound("partner lender not found")
    return row


@router.get(BASE + "/routing", response_model=RoutingView)
def get_partner_routing(brand_id: str, staff: Viewer, session: Db) -> dict:
    pick, window = q.routing_of(session, brand_id)
    return {"borrowerPick": pick, "pickWindowSeconds": window}


@router.put(BASE + "/routing", response_model=RoutingView)
def put_partner_routing(request: Request, brand_id: str, body: RoutingIn, staff: Manager, session: Db) -> dict:
    row = session.get(PartnerRouting, brand_id, with_for_update=True)
    pick, window = q.routing_of(session, brand_id)
    if row is None:
        row = PartnerRouting(brand_id=brand_id)
        session.add(row)
    row.borrower_pick, row.pick_window_seconds = body.borrower_pick, body.pick_window_seconds
    after = {"borrowerPick": body.borrower_pick, "pickWindowSeconds": body.pick_window_seconds}
    audit(
        session, request, staff, "partner_lender.routing", "partner_routing", brand_id,
        before={"borrowerPick": pick, "pickWindowSeconds": window}, after=after,
    )  # fmt: skip
    session.commit()
    return after


@router.get(BASE, response_model=list[PartnerView])
def list_partner_lenders(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    query = select(PartnerLender).where(PartnerLender.brand_id == brand_id)
    return [partner_view(p) for p in session.scalars(query.order_by(PartnerLender.priority, PartnerLender.code))]


@router.post(BASE, status_code=201, response_model=PartnerView)
def create_partner_lender(request: Request, brand_id: str, body: PartnerIn, staff: Manager, session: Db) -> dict:
    columns = _columns(body)
    taken = session.scalar(
        select(PartnerLender.id).where(PartnerLender.brand_id == brand_id, PartnerLender.code == body.code)
    )
    if taken is not None:
        raise Conflict(f"this brand already has a partner lender {body.code!r}", field="code")
    partner = PartnerLender(brand_id=brand_id, rules_version=0, **columns)
    session.add(partner)
    session.flush()
    q.save_rule_table(session, partner, [], "created with no rows: limits only", staff.actor)
    audit(session, request, staff, "partner_lender.create", "partner_lender", partner.id, after=partner_view(partner))
    session.commit()
    return partner_view(partner)


@router.put(BASE + "/{code}", response_model=PartnerView)
def update_partner_lender(
    request: Request, brand_id: str, code: str, body: PartnerIn, staff: Manager, session: Db
) -> dict:
    partner = _own(session, brand_id, code)
    columns = _columns(body)
    if columns["code"] != partner.code:
        raise ValidationError("a partner's code cannot change (offers and attempts name it)", field="code")
    before = partner_view(partner)
    for secret in SECRET_KEYS:  # a credential left empty keeps the one saved
        if not columns["settings"].get(secret) and partner.settings.get(secret):
            columns["settings"][secret] = partner.settings[secret]
    for name, value in columns.items():
        setattr(partner, name, value)
    session.flush()
    audit(
        session, request, staff, "partner_lender.update", "partner_lender", partner.id,
        before=before, after=partner_view(partner),
    )  # fmt: skip
    session.commit()
    return partner_view(partner)


@router.get(BASE + "/{code}/rules", response_model=list[RulesView])
def list_partner_rules(brand_id: str, code: str, staff: Viewer, session: Db) -> list[dict]:
    partner = _own(session, brand_id, code)
    return [
        {
            "version": r.version,
            "inForce": r.version == partner.rules_version,
            "rules": list(r.rules),
            "note": r.note,
            "createdBy": r.created_by,
            "createdAt": iso(r.created_at),
        }  # fmt: skip
        for r in q.rule_versions(session, partner.id)
    ]


@router.put(BASE + "/{code}/rules", response_model=RulesView)
def replace_partner_rules(
    request: Request, brand_id: str, code: str, body: RulesIn, staff: Manager, session: Db
) -> dict:
    partner = _own(session, brand_id, code)
    rows = rules_as_rows(parse_rules(body.rules))
    before = q.rule_table(session, partner)
    version = q.save_rule_table(session, partner, rows, body.note, staff.actor)
    session.flush()
    audit(
        session, request, staff, "partner_lender.rules", "partner_lender", partner.id,
        before={"version": before.version, "rules": rules_as_rows(before.rules)},
        after={"version": version, "rules": rows},
    )  # fmt: skip
    session.commit()
    return {"version": version, "inForce": True, "rules": rows, "note": body.note, "createdBy": staff.actor,
            "createdAt": None}  # fmt: skip


def offer_view(o: Any, p: PartnerLender) -> dict:
    return {
        "id": o.id, "round": o.round, "partnerCode": p.code, "partnerName": p.name, "status": o.status,
        "reasons": list(o.reasons), "rulesVersion": o.rules_version, "amount": o.amount, "tenure": o.tenure,
        "annualRateBps": o.annual_rate_bps, "emi": o.emi, "totalInterest": o.total_interest, "fees": o.fees,
        "gst": o.gst, "thirdParty": o.third_party, "netDisbursed": o.net_disbursed, "totalPayable": o.total_payable,
        "apr": q.apr_text(o.apr), "picked": o.picked,
    }  # fmt: skip


@router.get(BASE + "/loans/{loan_id}", response_model=LoanRoutingView)
def loan_partner_routing(brand_id: str, loan_id: str, staff: LoanViewer, session: Db) -> dict:
    loan = find_loan(session, brand_id, loan_id)
    return {
        "loanId": loan.id,
        "offers": [offer_view(o, p) for o, p in q.loan_offers(session, loan.id)],
        "attempts": [
            {
                "partnerCode": p.code,
                "offerId": a.offer_id,
                "outcome": a.outcome,
                "reason": a.reason,
                "partnerReference": a.partner_reference,
                "elapsedMs": a.elapsed_ms,
                "slaSeconds": a.sla_seconds,
                "slaBreached": a.sla_breached,
                "startedAt": iso(a.started_at),
            }  # fmt: skip
            for a, p in q.loan_attempts(session, loan.id)
        ],
    }


@router.get(BASE + "/sla", response_model=list[SlaRow])
def partner_sla_report(
    brand_id: str,
    staff: Reports,
    session: Db,
    from_date: Annotated[date, Query(alias="fromDate")],
    to_date: Annotated[date, Query(alias="toDate")],
) -> list[dict]:
    if to_date < from_date:
        raise ValidationError("must not be before fromDate", field="toDate")
    if (to_date - from_date).days > 366:
        raise ValidationError("at most 366 days after fromDate", field="toDate")
    return [
        {
            "partnerCode": r.partner_code,
            "attempts": r.attempts,
            "accepted": r.accepted,
            "rejected": r.rejected,
            "errors": r.errors,
            "breaches": r.breaches,
            "breachRate": str(r.breach_rate),
            "medianMs": r.median_ms,
            "maxMs": r.max_ms,
        }  # fmt: skip
        for r in sla_summary(q.sla_attempts(session, brand_id, from_date, to_date))
    ]
