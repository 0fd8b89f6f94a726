"""Partner lenders (multi-NBFC routing): their settings, eligibility tables, the brand's routing choices, each
loan's offers and attempts, and the SLA report, under /api/v1/partner/brand/{brandId}/partner-lenders
(docs/partner-lenders.md).

- ``GET  partner-lenders``: the brand's partners (credentials masked); ``POST``: add one; ``PUT .../{code}``:
  change one (limits, pricing, SLA, settings, priority, active). ``settings.view`` / ``settings.manage``, audited.
- ``GET  .../{code}/rules``: every version of its eligibility table; ``PUT``: a new version, put in force
  (the old ones stay: an offer names the version that decided it). Audited.
- ``GET|PUT partner-lenders/routing``: whether the borrower picks among offers, and the pick window.
- ``GET  partner-lenders/loans/{loanId}``: the loan's offers (all rounds) and attempts (``loans.view``).
- ``GET  partner-lenders/disbursals``: the partner disbursal cases still open (not confirmed), most overdue first:
  loan, partner, SLA, time overdue, the partner's status answers, the re-send, the escalation (``loans.view``).
- ``GET  partner-lenders/sla?fromDate&toDate``: per partner attempts, outcomes, SLA breaches, median and worst
  time taken, and its disbursals of booked loans against its DISBURSAL SLA (``reports.view``; IST dates, both
  included, at most 366 days).
- ``POST /api/v1/partner/partner-lenders/callbacks/{brandId}/{code}/disbursal``: the partner's signed disbursal
  callback, deprecated: it is served at ``/api/v1/webhooks/{brandId}/partner/{code}``
  (``api.webhooks.partner_disbursals``) and this path answers with the same handler for partners configured with
  it; outside ``/brand/{brandId}`` (no staff guard).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic.alias_generators import to_camel
from sqlalchemy import select

from activities.providers.partners import ADAPTERS
from api.access import Allow, audit
from api.partner.common import Db, find_loan, iso, staff_router
from api.partner.partner_lenders_schemas import (
    CallbackAnswer,
    DisbursalCaseRow,
    LoanRoutingView,
    PartnerIn,
    PartnerView,
    RoutingIn,
    RoutingView,
    RulesIn,
    RulesView,
    SlaRow,
)
from api.security import Principal
from api.types import IsoDate
from api.webhooks.partner_disbursals import partner_disbursal_callback
from db import partner_disbursals as pd
from db import partner_resends as pr
from db import partners as q
from db.models import PartnerDisbursal, PartnerLender, PartnerRouting
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError
from domain.partners import Limits, PartnerPricing, parse_rules, parse_sla, sla_summary
from domain.partners.disbursal import WatchConfig, disbursal_summary
from domain.partners.rules import rules_as_rows

router = staff_router()
BASE = "/brand/{brand_id}/partner-lenders"
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
LoanViewer = Annotated[Principal, Allow(P.LOANS_VIEW)]
Reports = Annotated[Principal, Allow(P.REPORTS_VIEW)]
SECRET_KEYS = ("api_key", "webhook_secret")


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
    WatchConfig.of(settings)  # the disbursal follow-up settings, named as the API spells them
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
        "disbursal": _disbursal_view(session, pd.loan_case(session, loan.id)),
    }


def _disbursal_view(session: Db, case: PartnerDisbursal | None) -> dict | None:
    if case is None:
        return None
    partner = session.get_one(PartnerLender, case.partner_id)
    return {
        "state": case.state, "partnerCode": partner.code, "partnerReference": case.partner_reference,
        "amount": case.amount, "disbursedAt": iso(case.disbursed_at), "slaSeconds": case.sla_seconds,
        "dueAt": iso(case.due_at), "utr": case.utr, "confirmedAt": iso(case.confirmed_at),
        "confirmedVia": case.confirmed_via, "breached": case.breached, "breachedAt": iso(case.breached_at),
        "escalatedAt": iso(case.escalated_at), "checks": case.checks, "nextCheckAt": iso(case.next_check_at),
        "checkLog": list(case.check_log or []), "resend": pr.resend_view(pr.resend_of(session, case.id)),
    }  # fmt: skip


@router.get(BASE + "/disbursals", response_model=list[DisbursalCaseRow])
def open_partner_disbursals(brand_id: str, staff: LoanViewer, session: Db) -> list[dict]:
    """The brand's partner disbursal cases not confirmed yet (PENDING, BREACHED, ESCALATED), most overdue first (at
    most 200): the loan, the partner, its DISBURSAL SLA (seconds), how long past due (seconds, 0 within it), its
    status answers, the re-send of its request and the escalation. Read-only."""
    now = datetime.now(UTC)
    rows = []
    for case, partner, loan, resend in pr.open_cases(session, brand_id):
        log = list(case.check_log or [])
        rows.append({
            "caseId": case.id, "loanId": loan.id, "loanStatus": loan.status, "amount": case.amount,
            "partnerCode": partner.code, "partnerName": partner.name, "partnerReference": case.partner_reference,
            "state": case.state, "disbursedAt": iso(case.disbursed_at), "slaSeconds": case.sla_seconds,
            "dueAt": iso(case.due_at), "overdueSeconds": max(0, int((now - case.due_at).total_seconds())),
            "checks": case.checks, "lastAnswer": log[-1].get("status") if log else None, "checkLog": log,
            "breached": case.breached, "breachedAt": iso(case.breached_at), "escalatedAt": iso(case.escalated_at),
            "nextCheckAt": iso(case.next_check_at), "resend": pr.resend_view(resend),
        })  # fmt: skip
    return rows


@router.get(BASE + "/sla", response_model=list[SlaRow])
def partner_sla_report(
    brand_id: str,
    staff: Reports,
    session: Db,
    from_date: Annotated[IsoDate, Query(alias="fromDate")],
    to_date: Annotated[IsoDate, Query(alias="toDate")],
) -> list[dict]:
    if to_date < from_date:
        raise ValidationError("must not be before fromDate", field="toDate")
    if (to_date - from_date).days > 366:
        raise ValidationError("at most 366 days after fromDate", field="toDate")
    decisions = {r.partner_code: r for r in sla_summary(q.sla_attempts(session, brand_id, from_date, to_date))}
    disbursals = disbursal_summary(pd.report_cases(session, brand_id, from_date, to_date))
    rows = []
    for code in sorted(set(decisions) | set(disbursals)):
        r, d = decisions.get(code), disbursals.get(code)
        rows.append({
            "partnerCode": code,
            "attempts": r.attempts if r else 0, "accepted": r.accepted if r else 0, "rejected": r.rejected if r else 0,
            "errors": r.errors if r else 0, "breaches": r.breaches if r else 0,
            "breachRate": str(r.breach_rate) if r else "0.00", "medianMs": r.median_ms if r else 0,
            "maxMs": r.max_ms if r else 0,
            "disbursals": d.tracked if d else 0, "disbursalsConfirmed": d.confirmed if d else 0,
            "disbursalsOpen": d.open if d else 0, "disbursalBreaches": d.breaches if d else 0,
            "disbursalsEscalated": d.escalated if d else 0,
            "disbursalMedianSeconds": d.median_seconds if d else 0, "disbursalMaxSeconds": d.max_seconds if d else 0,
        })  # fmt: skip
    return rows


# The partner's disbursal callback lives at /api/v1/webhooks/{brandId}/partner/{code} (api.webhooks.partner_disbursals);
# this older path answers with the same handler, deprecated, for partners configured with it.
router.add_api_route(
    "/partner-lenders/callbacks/{brand_id}/{code}/disbursal",
    partner_disbursal_callback,
    methods=["POST"],
    response_model=CallbackAnswer,
    response_model_exclude_none=True,
    tags=["webhooks"],
    deprecated=True,
    summary="A partner lender's signed disbursal callback (deprecated path)",
)
