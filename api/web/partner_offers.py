"""The borrower's choice of lender, /api/v1/web/loans/{loanId}/partner-offers (docs/partner-lenders.md).

- ``GET``: the latest round's offers from the brand's partner lenders (amount, rate, EMI, fees, GST, net
  disbursal, APR; paise and basis points) and whether the loan waits for the borrower's pick (``pickOpen``).
- ``POST .../pick`` ``{"offerId"}``: the borrower picks one; the loan's workflow tries it first. Refused 409 when
  the loan does not wait for a pick (the brand does not offer one, the window closed, a pick was made), 422 for an
  offer that is not among the loan's. Only the borrower's own loan is found (another's is 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import UpdateBound, call_async, db_session, is_uuid, temporal
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.workflow_calls import customer_update
from db import partners as q
from db.models import Loan
from domain.errors import NotFound
from workflows.contracts.partners import PartnerPick
from workflows.loan import LoanWorkflow

router = APIRouter(prefix="/api/v1/web", tags=["web (customer): choice of lender"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
Engine = Annotated[Client, Depends(temporal)]


class BorrowerOffer(ApiModel):
    """One lender's offer as the borrower sees it (paise, basis points, APR percent with 2 decimals)."""

    offer_id: str
    lender: str
    amount: int
    tenure: int
    annual_rate_bps: int
    emi: int
    fees: int
    gst: int
    net_disbursed: int
    total_payable: int
    apr: str
    status: str


class BorrowerOffers(ApiModel):
    loan_id: str
    pick_open: bool = Field(description="the loan waits for the borrower to pick a lender")
    offers: list[BorrowerOffer]


class PickIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    offer_id: str = Field(alias="offerId", min_length=36, max_length=36, description="an offerId from GET")


class Picked(ApiModel):
    offer_id: str
    status: str


def _my_loan(session: Session, loan_id: str, me: Principal) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id:
        raise NotFound("loan not found")
    return loan


@router.get("/loans/{loan_id}/partner-offers", response_model=BorrowerOffers)
def my_partner_offers(loan_id: str, me: Me, session: Db, client: Engine) -> dict:
    loan = _my_loan(session, loan_id, me)
    rows = q.loan_offers(session, loan.id)
    latest = rows[0][0].round if rows else 0
    offers = [
        {
            "offerId": o.id,
            "lender": p.name,
            "amount": o.amount,
            "tenure": o.tenure,
            "annualRateBps": o.annual_rate_bps,
            "emi": o.emi,
            "fees": o.fees,
            "gst": o.gst,
            "netDisbursed": o.net_disbursed,
            "totalPayable": o.total_payable,
            "apr": q.apr_text(o.apr),
            "status": o.status,
        }  # fmt: skip
        for o, p in rows
        if o.round == latest and o.status != "INELIGIBLE"
    ]
    workflow_id = loan.workflow_id
    session.rollback()
    pick_open = False
    if offers:
        try:
            state = call_async(client.get_workflow_handle(workflow_id).query, LoanWorkflow.partner_routing)
            pick_open = state.get("state") == "PICKING" and state.get("picked") is None
        except RPCError:  # the workflow ended or is unreachable: nothing to pick
            pick_open = False
    return {"loanId": loan_id, "pickOpen": pick_open, "offers": offers}


@router.post("/loans/{loan_id}/partner-offers/pick", response_model=Picked)
def pick_partner_offer(loan_id: str, body: PickIn, me: Me, session: Db, client: Engine, bound: UpdateBound) -> dict:
    loan = _my_loan(session, loan_id, me)
    workflow_id = loan.workflow_id
    session.rollback()
    pick = PartnerPick(customer_id=me.id, offer_id=body.offer_id)
    return call_async(customer_update, client, workflow_id, LoanWorkflow.pick_partner_offer, pick, timeout=bound)
