"""The borrower pays ahead or leaves: the foreclosure quote, a payment link for any amount (part-prepayment or
foreclosure), and the cooling-off exit (docs/money-in.md, "Prepayment, foreclosure, cooling-off").

Quotes come from the loan's own workflow (queries ``quote_foreclosure`` and ``quote_cooling_off``), so what is quoted
is exactly what a payment of it does when it arrives. A link is made at the brand's gateways with failover
(``activities.providers.payments.links.create_link``); its notes carry the loan and the purpose, which the gateway's
webhook brings back with the payment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import call_async, db_session, is_uuid, temporal
from api.guards import GUARDS
from api.one_off_links import one_off_link
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.types import IsoDate, Rupees
from api.workflow_calls import loan_query
from db.models import Brand, Customer, Loan
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import to_paise
from domain.status import LoanStatus
from workflows.loan import LoanWorkflow
from workflows.options import IST

router = APIRouter(
    prefix="/api/v1/web", tags=["web (customer): prepayment, foreclosure, cooling-off"], dependencies=GUARDS
)

Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
Engine = Annotated[Client, Depends(temporal)]

REPAYING = frozenset({LoanStatus.DISBURSED, LoanStatus.OVERDUE})
QUOTE_HORIZON_DAYS = 90  # the furthest date a foreclosure quote is given for


class ForeclosureQuoteView(ApiModel):
    """What closes the loan on ``on``, in paise by component (``domain.closure.ForeclosureQuote``)."""

    on: date
    principal: int = Field(description="principal not yet repaid, paise")
    interest: int = Field(description="overdue interest plus the current period's interest to that date, paise")
    fees: int = Field(description="installment fees due, paise")
    penal: int = Field(description="penal charges unpaid, paise")
    charge: int = Field(description="the product's foreclosure charge (0 where none applies), paise")
    charge_gst: int = Field(description="GST on the foreclosure charge, paise")
    interest_credit: int = Field(
        default=0,
        description="interest already paid for days after ``on`` (an EMI paid before its due date), counted towards "
        "the principal and taken off the total, paise",
    )
    total: int = Field(description="the amount that closes the loan, paise (net of interestCredit)")
    credit_balance: int = Field(description="money already held for the borrower (not netted off), paise")


class PayIn(BaseModel):
    """Pay any amount above the brand's minimum: less than the quote is a part-prepayment (re-amortised as the
    product says), the quote or more forecloses the loan."""

    model_config = ConfigDict(extra="forbid")
    amount: Rupees = Field(description='rupees, up to 2 decimals, e.g. "25000.50"')


class PaymentLinkView(ApiModel):
    url: str = Field(description="the gateway's payment page")
    amount: int = Field(description="paise")
    purpose: str = Field(description="PREPAYMENT, FORECLOSURE or COOLING_OFF")
    gateway: str = Field(description="the gateway that made the link")


class CoolingOffView(ApiModel):
    """The cooling-off exit (RBI Digital Lending): the principal plus the proportionate APR cost, no penalty."""

    available: bool
    reason: str | None = Field(default=None, description="why the exit is not open (when not available)")
    on: date | None = None
    last_day: date | None = Field(default=None, description="the last IST day of the look-up period")
    principal: int | None = Field(default=None, description="paise")
    apr_cost: int | None = Field(default=None, description="the proportionate APR cost for the days held, paise")
    days_held: int | None = None
    amount: int | None = Field(default=None, description="what the exit costs, paise")


def _today() -> date:
    return datetime.now(IST).date()


def _my_loan(session: Session, loan_id: str, me: Principal) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id:
        raise NotFound("loan not found")
    return loan


def _quote_date(on: date | None) -> date:
    today = _today()
    on = on or today
    if on < today:
        raise ValidationError("a quote is for today or a later date", field="on")
    if on > today + timedelta(days=QUOTE_HORIZON_DAYS):
        raise ValidationError(f"a quote is for at most {QUOTE_HORIZON_DAYS} days ahead", field="on")
    return on


def foreclosure_quote(client: Client, loan: Loan, on: date) -> dict[str, Any]:
    """The loan workflow's foreclosure quote on ``on`` (409 unless the loan is being repaid); from a route's thread
    (the loan's values are read here, the query runs on the event loop)."""
    if loan.status not in REPAYING:
        raise Conflict(
            f"the loan is {loan.status}; it takes payments (and gives their quotes) only while it is being repaid",
            field="loan",
        )
    answer = call_async(loan_query, client, loan.workflow_id, LoanWorkflow.quote_foreclosure, on.isoformat())
    return {**answer, "on": on, "chargeGst": answer["chargeGst"], "creditBalance": answer["creditBalance"]}


@router.get("/loans/{loan_id}/foreclosure-quote", response_model=ForeclosureQuoteView)
def my_foreclosure_quote(
    loan_id: str,
    me: Me,
    session: Db,
    client: Engine,
    on: Annotated[IsoDate | None, Query(description="IST date, YYYY-MM-DD (default today)")] = None,
) -> dict:
    """What closes the loan on ``on``: principal, interest to that date, charges due, the foreclosure charge."""
    loan = _my_loan(session, loan_id, me)
    session.rollback()
    return foreclosure_quote(client, loan, _quote_date(on))


def _link(request: Request, session: Session, loan: Loan, amount: int, purpose: str) -> dict:
    brand = session.get(Brand, loan.brand_id)
    customer = session.get(Customer, loan.customer_id)
    assert brand is not None and customer is not None
    description = f"{brand.name} loan {purpose.lower().replace('_', '-')}"
    link = one_off_link(
        request, session, loan, brand, customer, amount=amount, purpose=purpose, description=description
    )
    return {"url": link.url, "amount": amount, "purpose": purpose, "gateway": link.gateway}


@router.post("/loans/{loan_id}/pay", response_model=PaymentLinkView)
def pay(request: Request, loan_id: str, body: PayIn, me: Me, session: Db, client: Engine) -> dict:
    """A payment link for ``amount``: at least the brand's ``minPrepayment`` (or everything due, if less), at most
    today's foreclosure quote. The quote forecloses the loan; less is a part-prepayment."""
    loan = _my_loan(session, loan_id, me)
    amount = to_paise(body.amount)
    quote = foreclosure_quote(client, loan, _today())
    total = quote["total"]
    brand = session.get(Brand, loan.brand_id)
    least = min(BrandConfig.of(brand.config if brand else {}).min_prepayment, total)
    if amount < least:
        raise ValidationError(f"the least amount is {least / 100:.2f} rupees", field="amount")
    if amount > total:
        raise ValidationError(f"more than today's foreclosure quote of {total / 100:.2f} rupees", field="amount")
    return _link(request, session, loan, amount, "FORECLOSURE" if amount == total else "PREPAYMENT")


def _cooling_off(client: Client, loan: Loan) -> dict:
    if loan.status != LoanStatus.DISBURSED:
        return {"available": False, "reason": f"the loan is {loan.status}"}
    return call_async(loan_query, client, loan.workflow_id, LoanWorkflow.quote_cooling_off, _today().isoformat())


@router.get("/loans/{loan_id}/cooling-off-exit", response_model=CoolingOffView)
def cooling_off_exit(loan_id: str, me: Me, session: Db, client: Engine) -> dict:
    """Whether the borrower may still exit the loan (the look-up period), and what it costs today."""
    loan = _my_loan(session, loan_id, me)
    session.rollback()
    return _cooling_off(client, loan)


@router.post("/loans/{loan_id}/cooling-off-exit", response_model=PaymentLinkView)
def exit_cooling_off(request: Request, loan_id: str, me: Me, session: Db, client: Engine) -> dict:
    """A payment link for the exit amount; paid, the loan closes CANCELLED (409 when the exit is not open)."""
    loan = _my_loan(session, loan_id, me)
    answer = _cooling_off(client, loan)
    if not answer.get("available"):
        raise Conflict(f"the cooling-off exit is not open: {answer.get('reason')}", field="loan")
    return _link(request, session, loan, int(answer["amount"]), "COOLING_OFF")
