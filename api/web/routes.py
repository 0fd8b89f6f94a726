"""Customer API, /api/v1/web (seed 001's web endpoints, walking-skeleton depth)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import call_async, db_session, is_uuid, temporal
from api.guards import GUARDS
from api.kyc_waits import KycWait
from api.loan_changes import MAX_WAIT_SECONDS, NOT_MODIFIED_RESPONSE, conditional_read
from api.loan_start import Application, ist_today, start_loan
from api.loan_views import CustomerLoanDetail, LoanSummary
from api.preview_views import SchedulePreview
from api.products import preview_for
from api.responses import ApiModel
from api.security import Principal, current_customer, current_customer_own_session
from api.types import Rupees, Tenure
from api.views import loan_detail, loan_summary
from api.web.auth import find_brand
from api.web.kyc_view import kyc_status, kyc_view
from db import closure
from db.models import Brand, Customer, Loan, LoanProduct
from domain import rules
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import to_paise
from domain.status import TERMINAL, LoanStatus

router = APIRouter(prefix="/api/v1/web", tags=["web (customer)"], dependencies=GUARDS)
OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PanIn(Strict):
    pan: str = Field(min_length=10, max_length=10)


class ApplyIn(Strict):
    amount: Rupees = Field(description="rupees as a decimal string, up to 2 decimals")
    tenure: Tenure
    product_code: str | None = Field(default=None, alias="productCode")


class ProductView(ApiModel):
    """A loan product a customer may apply for."""

    code: str
    name: str
    min_amount_paise: int
    max_amount_paise: int
    min_tenure: int = Field(description="installments")
    max_tenure: int = Field(description="installments")
    annual_rate_bps: int = Field(description="interest rate per annum, basis points")
    repay_every: int = Field(description="installments fall every repayEvery repayUnit")
    repay_unit: str = Field(description="DAYS, WEEKS or MONTHS")


class BrandView(ApiModel):
    """An active brand and its active products."""

    id: str
    code: str
    name: str
    brand_colour: str | None = Field(default=None, description="#rrggbb, the app's main colour (unset: the default)")
    min_prepayment_paise: int = Field(description="the least part-payment a borrower may make, paise")
    products: list[ProductView]


class PanSubmitted(ApiModel):
    """The PAN as stored (normalised); the workflow verifies it on application."""

    pan: str
    status: str = Field(description="SUBMITTED")


@router.get("/products/{product_code}/emi-preview", response_model=SchedulePreview)
def emi_preview(
    product_code: str,
    session: Db,
    brand: Annotated[str, Query(description="brand id or code", min_length=1, max_length=60)],
    amount: Annotated[Rupees, Query(description="rupees, up to 2 decimals")],
    tenure: Annotated[Tenure, Query(description="number of installments")],
) -> dict:
    """EMI, schedule, charges, net disbursed amount and APR for a product, before applying."""
    found = find_brand(session, brand)
    product = session.scalars(
        select(LoanProduct).where(
            LoanProduct.brand_id == found.id, LoanProduct.code == product_code, LoanProduct.is_active
        )
    ).first()
    if product is None:
        raise NotFound("no such loan product", field="productCode")
    return preview_for(session, product, to_paise(amount), tenure, date.today())


@router.get("/brands", response_model=list[BrandView])
def list_brands(session: Db) -> list[dict]:
    """Active brands and their products (what a customer app shows before registration)."""
    out = []
    for brand in session.scalars(select(Brand).where(Brand.is_active).order_by(Brand.code)):
        products = session.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand.id, LoanProduct.is_active)
        ).all()
        out.append(
            {
                "id": brand.id,
                "code": brand.code,
                "name": brand.name,
                "brandColour": BrandConfig.of(brand.config).brand_colour,
                "minPrepaymentPaise": BrandConfig.of(brand.config).min_prepayment,
                "products": [
                    {
                        "code": p.code,
                        "name": p.name,
                        "minAmountPaise": p.min_amount,
                        "maxAmountPaise": p.max_amount,
                        "minTenure": p.min_tenure,
                        "maxTenure": p.max_tenure,
                        "annualRateBps": p.annual_rate_bps,
                        "repayEvery": p.repay_every,
                        "repayUnit": p.repay_unit,
                    }
                    for p in products
                ],
            }
        )
    return out


@router.post("/kyc/verify-pan", response_model=PanSubmitted)
def submit_pan(body: PanIn, me: Me, session: Db) -> dict:
    """Stores the PAN; the loan workflow verifies it with the brand's KYC provider on application."""
    pan = rules.normalise_pan(body.pan)
    customer = session.get_one(Customer, me.id)
    if customer.pan and customer.pan != pan:
        active = session.scalars(
            select(Loan).where(Loan.customer_id == me.id, Loan.status.not_in([s.value for s in TERMINAL]))
        ).first()
        if active is not None:
            raise Conflict("PAN cannot change while a loan is in progress", field="pan")
    customer.pan = pan
    return {"pan": pan, "status": "SUBMITTED"}


@router.post("/loans", status_code=201, response_model=LoanSummary)
def apply(request: Request, body: ApplyIn, me: Me, session: Db, client: Annotated[Client, Depends(temporal)]) -> dict:
    """Apply for a loan: checked against the product (422 naming the field), one loan in progress at a time
    (409), then the loan's workflow starts (``api.loan_start.start_loan``). A customer with an open reloan offer
    takes it up: the loan records the closed loan it follows and the offer becomes ACCEPTED."""
    customer = session.get_one(Customer, me.id)
    brand = session.get_one(Brand, me.brand_id)
    application = Application(
        amount=to_paise(body.amount),
        tenure=body.tenure,
        product_code=body.product_code,
        actor=f"customer:{customer.id}",
        offer=closure.open_offer(session, customer.id, ist_today()),
    )
    settings = request.app.state.settings
    loan = start_loan(session, client, settings.task_queue, customer, brand, application, settings.followup_task_queue)
    return loan_summary(loan)


@router.get("/loans", response_model=list[LoanSummary])
def my_loans(me: Me, session: Db) -> list[dict]:
    loans = session.scalars(select(Loan).where(Loan.customer_id == me.id).order_by(Loan.created_at.desc())).all()
    return [loan_summary(loan) for loan in loans]


DETAIL_INCLUDES = frozenset({"kyc"})  # what ?include= may name on a loan's detail


@router.get("/loans/{loan_id}", response_model=CustomerLoanDetail, responses=NOT_MODIFIED_RESPONSE)
async def my_loan(
    request: Request,
    loan_id: str,
    me: Annotated[Principal, Depends(current_customer_own_session)],
    include: Annotated[
        str | None,
        Query(
            description="`kyc`: the KYC phase's live progress (asks the workflow) while the loan is APPLIED; `kyc` "
            "is null once the phase is over. Any other value is refused (422)",
            max_length=200,
        ),
    ] = None,
    if_none_match: Annotated[
        str | None,
        Header(
            max_length=2000,
            description="the `ETag` of a detail read before: 304 without a body while the loan is unchanged",
        ),
    ] = None,
    prefer: Annotated[
        str | None,
        Header(
            max_length=2000,
            description=f"`wait=N` with `If-None-Match`: wait up to N seconds (at most {MAX_WAIT_SECONDS}) for the "
            "loan to change before answering (a long poll; with `include=kyc`, also for the KYC progress to move: "
            "the next step to wait for the customer, a result)",
        ),
    ] = None,
) -> Response:
    """The loan as its borrower sees it; the app polls it while a step runs. Every answer carries an `ETag`: sent
    back in `If-None-Match` (with `Prefer: wait=N` to wait for a change), the answer is 304 while nothing changed
    (api/loan_changes.py, docs/api.md "Waiting for a loan to change")."""
    parts = [part.strip() for part in include.split(",")] if include is not None else []
    unknown = sorted({part for part in parts if part not in DETAIL_INCLUDES})
    if unknown:
        raise ValidationError(f"include: {', '.join(unknown)} is not one of {sorted(DETAIL_INCLUDES)}", field="include")
    wants_kyc = "kyc" in parts
    if is_uuid(loan_id):
        loan_id = loan_id.lower()  # as the database writes it in its notifications
    kyc_wait = KycWait(request.app.state.temporal.get) if wants_kyc else None

    def read() -> bytes:
        # a unit of work of its own each time, ended before the request waits: no connection is held meanwhile
        with request.app.state.db.unit_of_work() as session:
            loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
            if loan is None or loan.customer_id != me.id:
                raise NotFound("loan not found")
            detail = loan_detail(session, loan)
            in_kyc = wants_kyc and loan.status == LoanStatus.APPLIED.value
            # the progress the workflow answered the long poll with when it moved, else asked (a query)
            answered = kyc_wait.take_answer() if kyc_wait is not None else None
            progress = (answered or call_async(kyc_status, request, loan)) if in_kyc else None
            if kyc_wait is not None:
                kyc_wait.saw(progress, loan.workflow_id)  # what a long poll waits on the workflow to move from
            detail["kyc"] = kyc_view(session, loan, progress) if progress is not None else None
        # orjson, like the staff detail (the model documents it, and tests/integration/test_loan_read_models.py
        # checks the answers against it)
        return orjson.dumps(detail)

    return await conditional_read(
        request,
        loan_id,
        read,
        reader=f"customer:{me.id}",
        if_none_match_header=if_none_match,
        prefer_header=prefer,
        can_wait=not wants_kyc,
        workflow_moved=kyc_wait.moved if kyc_wait is not None else None,
    )
