"""Co-lending (split books with a partner lender), under /api/v1/partner/brand/{brandId}/co-lending
(docs/co-lending.md):

- ``GET agreements`` (``settings.view``); ``PUT agreements/{partnerCode}`` (``settings.manage``, audited): the
  brand's agreement with a partner: its share of each loan's principal, its rate on that share, who gets fees and
  penal charges, the originator's minimum share (RBI: 10 % under the 2025 directions, 20 % under the 2020 CLM).
- ``GET loans/{loanId}`` (``loans.view``): a co-lent loan's split, the partner's lifecycle steps, its wallet orders
  and each lender's sub-ledger balances.
- ``GET loans/{loanId}/partner`` (``loans.view``): the partner's own view (its loan status, its foreclosure amount
  today); ``GET loans/{loanId}/noc``: the partner's NOC (PDF) once it has closed the loan.
- ``GET book?asOf=`` (``reports.view``): each partner's book and the originator's side of the same loans.
- ``GET settlement?fromDate&toDate`` and ``.../settlement/csv`` (``reports.view``): what each lender was collected
  in the period (the escrow's apportionment), what was remitted to it and what it is still owed, and its part of
  what was waived, settled below dues or written off.
- The default-loss guarantee, the escrow account and the retry of a partner's step: ``api.partner.colending_losses``;
  the resend of a failed wallet order, maker-checker: ``api.partner.colending_orders`` (their routes are on this
  router).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import select

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.partners.lendbox_colending import colending_adapter
from api.access import Allow, audit
from api.deps import call_async
from api.partner.common import Db, find_loan, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate
from db import colending as q
from db.models import CoLendingAgreement, PartnerLender
from domain.access import Permission as P
from domain.colending import Agreement, Rule
from domain.colending import ledger as cl
from domain.colending.reports import BUCKETS
from domain.errors import Conflict, NotFound, ValidationError

router = staff_router()
BASE = "/brand/{brand_id}/co-lending"
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
LoanViewer = Annotated[Principal, Allow(P.LOANS_VIEW)]
Reports = Annotated[Principal, Allow(P.REPORTS_VIEW)]
IST_NOTE = "IST date"
IST = timezone(timedelta(hours=5, minutes=30), "IST")
MAX_RATE_BPS = 5000  # the highest rate a partner's pricing takes (api/partner/partner_lenders.py)


class AgreementIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    partner_share_bps: int = Field(ge=1, le=9000, description="the partner's share of each loan's principal, bps")
    partner_rate_bps: int = Field(ge=0, le=5000, description="the partner's rate on its share, bps a year")
    fees_rule: Rule = Rule.ORIGINATOR
    penal_rule: Rule = Rule.SHARE
    min_originator_share_bps: int = Field(default=1000, ge=1000, le=9999, description="RBI floor followed, bps")
    active: bool = True


class AgreementView(ApiModel):
    partner_code: str
    partner_name: str
    partner_share_bps: int
    partner_rate_bps: int
    fees_rule: str
    penal_rule: str
    min_originator_share_bps: int
    active: bool


class LenderSide(ApiModel):
    principal: int = Field(description="paise funded")
    balances: dict[str, int] = Field(description="sub-account → signed paise (debit > 0)")
    balanced: bool = Field(description="the lender's legs sum to zero")


class CoLentLoanView(ApiModel):
    loan_id: str
    partner_code: str
    partner_share_bps: int
    partner_rate_bps: int
    blended_rate_bps: int
    originator_rate_bps: str = Field(description="the originator's own rate on its share, bps (2 decimals)")
    principal: int
    disbursed_on: date
    partner_loan_id: str | None
    partner_borrower_id: str | None
    partner_utr: str | None
    partner_funded_on: date | None
    partner_status: str | None
    steps: dict[str, Any]
    originator: LenderSide
    partner: LenderSide


class PartnerView(ApiModel):
    loan_id: str
    partner_loan_id: str
    status: str
    principal_outstanding: int
    foreclosure_total: int
    foreclosure_principal: int
    foreclosure_interest: int
    as_of: date


class BookSide(ApiModel):
    loans: int
    disbursed: int
    outstanding: int
    collected_principal: int
    collected_interest: int
    collected_fees: int
    collected_penal: int
    overdue: dict[str, int] = Field(description="bucket (DPD 1-30, 31-60, 61-90, 90+) → paise overdue")
    overdue_total: int
    lost_principal: int = Field(description="waived, settled below dues or written off, paise")
    lost_interest: int
    lost_fees: int
    lost_penal: int


class BookRow(ApiModel):
    partner_code: str
    as_of: date
    partner: BookSide
    originator: BookSide


class StatementRow(ApiModel):
    partner_code: str
    lender: str
    principal: int
    interest: int
    fees: int
    penal: int
    collected: int
    remitted: int
    owed: int
    lost_principal: int = Field(description="waived, settled below dues or written off in the period, paise")
    lost_interest: int
    lost_fees: int
    lost_penal: int
    lost: int


def _view(a: CoLendingAgreement, p: PartnerLender) -> dict:
    return {"partnerCode": p.code, "partnerName": p.name, "partnerShareBps": a.partner_share_bps,
            "partnerRateBps": a.partner_rate_bps, "feesRule": a.fees_rule, "penalRule": a.penal_rule,
            "minOriginatorShareBps": a.min_originator_share_bps, "active": a.active}  # fmt: skip


@router.get(BASE + "/agreements", response_model=list[AgreementView])
def list_co_lending_agreements(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    return [_view(a, p) for a, p in q.agreements(session, brand_id)]


@router.put(BASE + "/agreements/{code}", response_model=AgreementView)
def put_co_lending_agreement(
    request: Request, brand_id: str, code: str, body: AgreementIn, staff: Manager, session: Db
) -> dict:
    """Set the brand's agreement with partner ``code`` (422 naming the field; the partner's rate is checked against
    each loan's blended rate when it is booked)."""
    partner = session.scalars(
        select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.code == code)
    ).first()
    if partner is None:
        raise NotFound("partner lender not found")
    terms = Agreement(body.partner_share_bps, body.partner_rate_bps, body.fees_rule, body.penal_rule,
                      body.min_originator_share_bps)  # fmt: skip
    terms.check(MAX_RATE_BPS)  # the share's bounds here; the rate against each loan's blended rate at booking
    row = q.agreement_row(session, brand_id, partner.id)
    before = _view(row, partner) if row is not None else None
    if row is None:
        row = CoLendingAgreement(brand_id=brand_id, partner_id=partner.id)
        session.add(row)
    row.partner_share_bps, row.partner_rate_bps = body.partner_share_bps, body.partner_rate_bps
    row.fees_rule, row.penal_rule = body.fees_rule.value, body.penal_rule.value
    row.min_originator_share_bps, row.active = body.min_originator_share_bps, body.active
    after = _view(row, partner)
    audit(session, request, staff, "co_lending.agreement", "colending_agreements", partner.id, before=before,
          after=after)  # fmt: skip
    session.commit()
    return after


def _co_lent(session: Db, brand_id: str, loan_id: str) -> Any:
    loan = find_loan(session, brand_id, loan_id)
    row = q.co_lent(session, loan.id)
    if row is None:
        raise NotFound("the loan is not co-lent")
    return row


@router.get(BASE + "/loans/{loan_id}", response_model=CoLentLoanView)
def co_lent_loan(brand_id: str, loan_id: str, staff: LoanViewer, session: Db) -> dict:
    row = _co_lent(session, brand_id, loan_id)
    balances = q.lender_balances(session, row.loan_id)
    rate = q.as_agreement(row).originator_rate(row.blended_rate_bps)
    side = lambda lender, principal: {"principal": principal, "balances": balances.get(lender, {}),  # noqa: E731
                                      "balanced": sum(balances.get(lender, {}).values()) == 0}  # fmt: skip
    return {
        "loanId": row.loan_id, "partnerCode": row.partner_code, "partnerShareBps": row.partner_share_bps,
        "partnerRateBps": row.partner_rate_bps, "blendedRateBps": row.blended_rate_bps,
        "originatorRateBps": f"{rate.numerator / rate.denominator:.2f}", "principal": row.principal,
        "disbursedOn": row.disbursed_on, "partnerLoanId": row.partner_loan_id,
        "partnerBorrowerId": row.partner_borrower_id, "partnerUtr": row.partner_utr,
        "partnerFundedOn": row.partner_funded_on, "partnerStatus": row.partner_status, "steps": row.steps or {},
        "originator": side(cl.ORIGINATOR, row.originator_principal), "partner": side(cl.PARTNER, row.partner_principal),
    }  # fmt: skip


def _partner_api(request: Request, session: Db, row: Any) -> Any:
    partner = session.get_one(PartnerLender, row.partner_id)
    api = colending_adapter(request.app.state.http, partner.adapter, dict(partner.settings or {}))
    if api is None or not row.partner_loan_id:
        raise Conflict("the partner has no co-lending loan to ask about")
    return api


@router.get(BASE + "/loans/{loan_id}/partner", response_model=PartnerView)
def co_lent_loan_at_partner(request: Request, brand_id: str, loan_id: str, staff: LoanViewer, session: Db) -> dict:
    """The partner's own view of the loan: its status and the amount that closes its share today (IST)."""
    row = _co_lent(session, brand_id, loan_id)
    api = _partner_api(request, session, row)
    today = datetime.now(UTC).astimezone(IST).date()
    try:
        status = call_async(api.loan_status, row.partner_loan_id)
        quote = call_async(api.foreclosure_amount, row.partner_loan_id, today)
    except (ProviderError, BusinessRefusal) as exc:
        raise Conflict(f"the partner did not answer: {exc}") from exc
    return {"loanId": row.loan_id, "partnerLoanId": row.partner_loan_id, "status": status["status"],
            "principalOutstanding": status["principal_outstanding"], "foreclosureTotal": quote["total"],
            "foreclosurePrincipal": quote["principal"], "foreclosureInterest": quote["interest"],
            "asOf": today}  # fmt: skip


@router.get(
    BASE + "/loans/{loan_id}/noc",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the partner's NOC"}},
)
def co_lent_loan_noc(request: Request, brand_id: str, loan_id: str, staff: LoanViewer, session: Db) -> Response:
    """The partner's no-objection certificate (PDF); 409 while the partner has not closed the loan."""
    row = _co_lent(session, brand_id, loan_id)
    api = _partner_api(request, session, row)
    try:
        pdf = call_async(api.noc, row.partner_loan_id)
    except (ProviderError, BusinessRefusal) as exc:
        raise Conflict(f"no NOC from the partner: {exc}") from exc
    headers = {"Content-Disposition": f'attachment; filename="noc-{row.partner_code}-{row.loan_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _side(book: Any) -> dict:
    c = book.collected
    return {"loans": book.loans, "disbursed": book.disbursed, "outstanding": book.outstanding,
            "collectedPrincipal": c.principal, "collectedInterest": c.interest, "collectedFees": c.fees,
            "collectedPenal": c.penal, "overdue": {b: book.overdue[b] for b in BUCKETS},
            "overdueTotal": book.overdue_total, "lostPrincipal": book.lost.principal,
            "lostInterest": book.lost.interest, "lostFees": book.lost.fees, "lostPenal": book.lost.penal}  # fmt: skip


@router.get(BASE + "/book", response_model=list[BookRow])
def co_lending_book(
    brand_id: str, staff: Reports, session: Db, as_of: Annotated[IsoDate, Query(alias="asOf", description=IST_NOTE)]
) -> list[dict]:
    """Each partner's book on ``asOf``: disbursed, outstanding, collected, overdue by DPD bucket; with the
    originator's side of the same loans."""
    return [{"partnerCode": code, "asOf": as_of, "partner": _side(sides[cl.PARTNER]),
             "originator": _side(sides[cl.ORIGINATOR])}
            for code, sides in sorted(q.books(session, brand_id, as_of).items())]  # fmt: skip


def _statement(session: Db, brand_id: str, since: date, until: date) -> list[dict]:
    if until < since:
        raise ValidationError("must not be before fromDate", field="toDate")
    if (until - since).days > 366:
        raise ValidationError("at most 366 days after fromDate", field="toDate")
    rows = []
    for code, sides in sorted(q.statements(session, brand_id, since, until).items()):
        for lender in (cl.PARTNER, cl.ORIGINATOR):
            s = sides[lender]
            rows.append({"partnerCode": code, "lender": lender, "principal": s.collected.principal,
                         "interest": s.collected.interest, "fees": s.collected.fees, "penal": s.collected.penal,
                         "collected": s.collected.total, "remitted": s.remitted, "owed": s.owed,
                         "lostPrincipal": s.lost.principal, "lostInterest": s.lost.interest,
                         "lostFees": s.lost.fees, "lostPenal": s.lost.penal, "lost": s.lost.total})  # fmt: skip
    return rows


FromDate = Annotated[IsoDate, Query(alias="fromDate", description=IST_NOTE)]
ToDate = Annotated[IsoDate, Query(alias="toDate", description=IST_NOTE)]


@router.get(BASE + "/settlement", response_model=list[StatementRow])
def co_lending_settlement(
    brand_id: str, staff: Reports, session: Db, from_date: FromDate, to_date: ToDate
) -> list[dict]:
    """What each lender was collected in the period (by component), what was remitted to the partner and what it
    is still owed (paise)."""
    return _statement(session, brand_id, from_date, to_date)


@router.get(
    BASE + "/settlement/csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the settlement statement as CSV"}},
)
def co_lending_settlement_csv(
    brand_id: str, staff: Reports, session: Db, from_date: FromDate, to_date: ToDate
) -> StreamingResponse:
    """The settlement statement as CSV (amounts in paise)."""
    rows = _statement(session, brand_id, from_date, to_date)
    out = io.StringIO()
    fields = [
        "partnerCode",
        "lender",
        "principal",
        "interest",
        "fees",
        "penal",
        "collected",
        "remitted",
        "owed",
        "lostPrincipal",
        "lostInterest",
        "lostFees",
        "lostPenal",
        "lost",
    ]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    name = f"co-lending-settlement-{from_date.isoformat()}-{to_date.isoformat()}.csv"
    return StreamingResponse(iter([out.getvalue()]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


from api.partner import colending_losses, colending_orders  # noqa: E402,F401  (their routes join this router)
