"""Closed loans: completed, settled and written-off lists, the closure certificate (NDC/NOC) regenerated, and reloans
started by staff. Under /api/v1/partner/brand/{brandId}/:

- ``GET completed`` (COMPLETED; ``closedAs`` REPAID / FORECLOSED / COOLING_OFF_EXIT), ``GET completed/settled``
  (SETTLED), ``GET completed/writeoff`` (WRITTEN_OFF): newest closure first, filters ``closedFrom`` / ``closedTo``
  (IST dates, inclusive), ``page`` / ``limit``; each row with its current certificate number (loans viewers).
- ``POST loans/{loanId}/generate-ndc``: a new version of the certificate of a COMPLETED or SETTLED loan (409
  naming the status otherwise), by the same function the loan's activity issues it with at closure
  (``db.closure.issue_certificate``; the loan's workflow has ended, so no workflow is involved), sent to the
  customer; audit-logged. ``GET loans/{loanId}/ndc``: the current PDF.
- ``POST customers/{userId}/reloan``: start a new loan for the customer from their open reloan offer, or from
  their last closed loan if it closed in good standing (``domain.reloan``); else 409 with the reason. The loan is
  started exactly as the customer's own application starts one (``api.loan_start.start_loan``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from activities.documents import render_html
from activities.messaging.send import Sender
from api.access import Allow, audit
from api.deps import MAX_PAGE, call_async, is_uuid, page_of
from api.files import storage
from api.loan_start import Application, ist_today, start_loan
from api.loan_views import LoanSummary
from api.partner.common import Db, Temporal, Viewer, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate, Rupees, Tenure, Whole
from api.views import loan_summary
from api.web.closure import CERTIFICATE_PDF, certificate_response
from api.web.kfs import _renderer
from db import closure, receipts
from db.models import Brand, ClosureCertificate, Customer, Loan, ReloanOffer
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import to_paise
from domain.reloan import ineligibility, reloan_offer
from domain.status import LoanStatus
from workflows.options import IST

router = staff_router()
Issuer = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, P.COLLECTIONS_MANAGE, api_key=False)]
Starter = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]


class ClosedFilters(BaseModel):
    """Query filters of the closed-loan lists."""

    model_config = ConfigDict(extra="forbid")
    closed_as: Literal["REPAID", "FORECLOSED", "COOLING_OFF_EXIT", "SETTLED", "WRITTEN_OFF"] | None = Field(
        default=None,
        alias="closedAs",
        description="how it closed (loans.closed_as): REPAID, FORECLOSED, COOLING_OFF_EXIT, SETTLED, WRITTEN_OFF",
    )
    closed_from: IsoDate | None = Field(default=None, alias="closedFrom", description="IST date, inclusive")
    closed_to: IsoDate | None = Field(default=None, alias="closedTo", description="IST date, inclusive")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


class ClosedLoanView(ApiModel):
    """A closed loan in the lists."""

    id: str
    customer_id: str
    customer_name: str | None = Field(default=None, description="the borrower's name")
    credit_balance_paise: int = Field(
        default=0, description="money received beyond what was due and not yet refunded, owed back to the borrower"
    )
    status: LoanStatus
    closed_as: str | None = Field(description="how a COMPLETED loan closed: REPAID, FORECLOSED, COOLING_OFF_EXIT")
    amount_paise: int = Field(description="the principal, paise")
    total_collected_paise: int = Field(description="everything collected, paise")
    max_dpd: int = Field(description="the worst DPD the loan reached")
    bureau_flag: str | None = Field(description="what the bureau is told (SETTLED, WRITTEN_OFF...)")
    closed_at: str | None = Field(description="when it closed, ISO 8601 instant with its offset")
    previous_loan_id: str | None = Field(description="the loan this one was a reloan of")
    certificate_no: str | None = Field(description="its current closure certificate, once issued")
    certificate_version: int | None = None


class ClosedLoanPage(ApiModel):
    """One page of closed loans."""

    items: list[ClosedLoanView]
    page: Whole = Field(description="1-based page number")
    limit: Whole = Field(description="page size")
    total: int = Field(description="loans matching the filters, over all pages")


class CertificateIssued(ApiModel):
    """A certificate as issued."""

    certificate_no: str = Field(description="NOC/<BRANDCODE>/<FY>/<seq>")
    version: int = Field(description="1 at closure, one more per regeneration")
    kind: str = Field(description="NO_DUES or SETTLED")
    sent: bool = Field(description="whether the NOC_ISSUED notice went to the customer")


class ReloanIn(BaseModel):
    """A reloan started by staff: the amount (default the offer's) and tenure, and the product (default the
    brand's first)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    amount: Rupees | None = Field(default=None, description="rupees as a decimal string; default: the offer's amount")
    tenure: Tenure
    product_code: str | None = Field(default=None, alias="productCode", max_length=40)


def _certificates(session: Session, loans: Sequence[Loan]) -> dict[str, ClosureCertificate]:
    rows = session.scalars(
        select(ClosureCertificate)
        .where(ClosureCertificate.loan_id.in_([loan.id for loan in loans]), ClosureCertificate.sha256 != "")
        .order_by(ClosureCertificate.version)
    ).all()
    return {row.loan_id: row for row in rows}  # the highest version last, so it stays


def _credit_balances(session: Session, loans: Sequence[Loan]) -> dict[str, int]:
    """Each loan's credit balance (paise, ``db.receipts.credit_balance_of``), in one statement for the page."""
    query = select(Loan.id, receipts.credit_balance_of(Loan.id)).where(Loan.id.in_([x.id for x in loans]))
    return {loan_id: int(balance or 0) for loan_id, balance in session.execute(query).all()}


def _names(session: Session, loans: Sequence[Loan]) -> dict[str, str | None]:
    """The borrowers' names by customer id (their PAN name when no full name was given)."""
    ids = {x.customer_id for x in loans}
    rows = session.execute(select(Customer.id, Customer.full_name, Customer.pan_name).where(Customer.id.in_(ids))).all()
    return {cid: full or pan for cid, full, pan in rows}


def _closed_page(session: Session, query: Select, f: ClosedFilters) -> dict[str, Any]:
    if f.closed_from is not None and f.closed_to is not None and f.closed_from > f.closed_to:
        raise ValidationError(f"is after closedTo ({f.closed_to.isoformat()})", field="closedFrom")
    if f.closed_as:
        query = query.where(Loan.closed_as == f.closed_as)
    if f.closed_from is not None:
        query = query.where(Loan.closed_at >= datetime.combine(f.closed_from, time(), IST).astimezone(UTC))
    if f.closed_to is not None:
        end = datetime.combine(f.closed_to + timedelta(days=1), time(), IST).astimezone(UTC)
        query = query.where(Loan.closed_at < end)
    rows, total = page_of(session, query, f.page, f.limit, Loan.closed_at.desc().nulls_last(), Loan.id.desc())
    loans = [loan for (loan,) in rows]
    certs = _certificates(session, loans) if loans else {}
    names = _names(session, loans) if loans else {}
    credit = _credit_balances(session, loans) if loans else {}
    items = []
    for loan in loans:
        cert = certs.get(loan.id)
        items.append(
            {
                "id": loan.id,
                "customerId": loan.customer_id,
                "customerName": names.get(loan.customer_id),
                "creditBalancePaise": credit.get(loan.id, 0),
                "status": loan.status,
                "closedAs": loan.closed_as,
                "amountPaise": loan.amount,
                "totalCollectedPaise": loan.total_collected,
                "maxDpd": loan.max_dpd or 0,
                "bureauFlag": loan.bureau_flag,
                "closedAt": iso(loan.closed_at),
                "previousLoanId": loan.previous_loan_id,
                "certificateNo": cert.certificate_no if cert else None,
                "certificateVersion": cert.version if cert else None,
            }
        )
    return {"items": items, "page": f.page, "limit": f.limit, "total": total}


def _of_status(brand_id: str, status: LoanStatus) -> Select:
    return select(Loan).where(Loan.brand_id == brand_id, Loan.status == status.value)


@router.get("/brand/{brand_id}/completed", response_model=ClosedLoanPage)
def completed(brand_id: str, staff: Viewer, session: Db, filters: Annotated[ClosedFilters, Query()]) -> dict:
    """Loans COMPLETED (repaid, foreclosed, or exited in the cooling-off period: ``closedAs``)."""
    return _closed_page(session, _of_status(brand_id, LoanStatus.COMPLETED), filters)


@router.get("/brand/{brand_id}/completed/settled", response_model=ClosedLoanPage)
def settled(brand_id: str, staff: Viewer, session: Db, filters: Annotated[ClosedFilters, Query()]) -> dict:
    """Loans closed by a compromise settlement (SETTLED)."""
    return _closed_page(session, _of_status(brand_id, LoanStatus.SETTLED), filters)


@router.get("/brand/{brand_id}/completed/writeoff", response_model=ClosedLoanPage)
def written_off(brand_id: str, staff: Viewer, session: Db, filters: Annotated[ClosedFilters, Query()]) -> dict:
    """Loans written off (WRITTEN_OFF)."""
    return _closed_page(session, _of_status(brand_id, LoanStatus.WRITTEN_OFF), filters)


@router.post("/brand/{brand_id}/loans/{loan_id}/generate-ndc", status_code=201, response_model=CertificateIssued)
def generate_ndc(request: Request, brand_id: str, loan_id: str, staff: Issuer, session: Db) -> dict:
    """Issue a new version of the loan's closure certificate (NO_DUES for COMPLETED, SETTLED for SETTLED) and
    send it to the customer; 409 naming the loan's status when it is neither."""
    loan = find_loan(session, brand_id, loan_id)
    kind = closure.kind_for(loan.status)
    if kind is None:
        raise Conflict(f"loan is {loan.status}; a certificate is issued for COMPLETED or SETTLED loans", field="status")
    session.rollback()  # the issue runs in its own transactions (it locks the loan row)
    state = request.app.state
    renderer = _renderer(request)
    api_url = state.settings.api_url.rstrip("/")

    async def render(context: dict[str, Any]) -> bytes:
        return await renderer.pdf(render_html("noc.html", context))

    async def notify(issued: closure.IssuedCertificate) -> None:
        await Sender(state.db, state.http, api_url).notice(
            loan_id,
            "NOC_ISSUED",
            f"noc:{issued.certificate_no}",
            {
                "certificate_no": issued.certificate_no,
                "noc_link": f"{api_url}/api/v1/web/loans/{loan_id}/noc",
                "kind": issued.kind,
            },
        )

    issued = call_async(
        closure.issue_certificate,
        state.db,
        storage(request),
        render,
        loan_id=loan_id,
        kind=kind,
        staff_id=staff.id,
        regenerate=True,
        notify=notify,
    )
    answer = {**issued.as_dict(), "sent": issued.sent}
    audit(session, request, staff, "loan.ndc_generated", "loan", loan_id, after=answer, brand_id=brand_id)
    return answer


@router.get("/brand/{brand_id}/loans/{loan_id}/ndc", response_class=Response, responses=CERTIFICATE_PDF)
def staff_ndc(request: Request, brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    """The loan's current closure certificate (PDF); 404 until one is issued."""
    return certificate_response(request, session, find_loan(session, brand_id, loan_id))


def _reloan_offer(session: Session, customer: Customer, brand_config: dict) -> ReloanOffer:
    """The customer's open offer, or one made now from their last closed loan in good standing; Conflict with the
    reason otherwise."""
    offer = closure.open_offer(session, customer.id, ist_today())
    if offer is not None:
        return offer
    last = closure.last_closed_loan(session, customer.id)
    if last is None:
        raise Conflict("the customer has no closed loan to follow", field="userId")
    policy = BrandConfig.of(brand_config).reloan_policy()
    reason = ineligibility(last.max_dpd or 0, last.closed_as, policy)
    closed_on = (last.closed_at or datetime.now(UTC)).astimezone(IST).date()
    made = reloan_offer(last.amount, last.max_dpd or 0, last.closed_as, policy, closed_on)
    if reason is not None or made is None:
        raise Conflict(reason or "the reloan amount comes to nothing", field="userId")
    row = closure.insert_offer(
        session,
        brand_id=customer.brand_id,
        customer_id=customer.id,
        previous_loan_id=last.id,
        amount=made.amount,
        expires_on=max(made.expires_on, ist_today()),
    )
    if row.status != "OFFERED":
        raise Conflict(f"the reloan offer of loan {last.id} is {row.status}", field="userId")
    return row


@router.post("/brand/{brand_id}/customers/{user_id}/reloan", status_code=201, response_model=LoanSummary)
def start_reloan(
    request: Request, brand_id: str, user_id: str, body: ReloanIn, staff: Starter, session: Db, client: Temporal
) -> dict:
    """Start a reloan for the customer (see the module docstring); 404 for a customer not of the brand, 409 with
    the reason when they have no open offer and no closed loan in good standing, or a loan in progress."""
    customer = session.get(Customer, user_id) if is_uuid(user_id) else None
    if customer is None or customer.brand_id != brand_id:
        raise NotFound("customer not found", field="userId")
    brand = session.get_one(Brand, brand_id)
    offer = _reloan_offer(session, customer, brand.config)
    application = Application(
        amount=to_paise(body.amount) if body.amount is not None else offer.amount,
        tenure=body.tenure,
        product_code=body.product_code,
        actor=f"{staff.role}:{staff.email}",
        offer=offer,
    )
    offer_id = offer.id
    settings = request.app.state.settings
    loan = start_loan(session, client, settings.task_queue, customer, brand, application, settings.followup_task_queue)
    audit(
        session,
        request,
        staff,
        "loan.reloan_started",
        "loan",
        loan.id,
        after={"customerId": customer.id, "offerId": offer_id, "previousLoanId": loan.previous_loan_id},
        brand_id=brand_id,
    )
    return loan_summary(loan)
