"""Customer API, /api/v1/web (seed 001's web endpoints, walking-skeleton depth)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.providers.base import BusinessRefusal, ProviderConfig
from api.deps import db_session, is_uuid, temporal
from api.guards import GUARDS
from api.loan_views import CustomerLoanDetail, LoanSummary
from api.preview_views import SchedulePreview
from api.products import loan_terms, money_in_policy, preview_for
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.types import Rupees, Tenure
from api.views import json_response, loan_detail, loan_summary
from api.web.auth import find_brand
from db.models import Brand, Customer, Loan, LoanProduct, LoanStatusHistory, new_id
from domain import kyc as kyc_rules
from domain import rules
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import to_paise
from domain.status import TERMINAL, LoanStatus
from workflows.contracts import LoanPolicy, LoanWorkflowInput
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow

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
async def apply(
    request: Request, body: ApplyIn, me: Me, session: Db, client: Annotated[Client, Depends(temporal)]
) -> dict:
    customer = session.get_one(Customer, me.id)
    brand = session.get_one(Brand, me.brand_id)
    if not customer.pan:
        raise ValidationError("submit your PAN before applying", field="pan")
    query = select(LoanProduct).where(LoanProduct.brand_id == brand.id, LoanProduct.is_active)
    if body.product_code:
        query = query.where(LoanProduct.code == body.product_code)
    product = session.scalars(query.order_by(LoanProduct.code)).first()
    if product is None:
        raise NotFound("no such loan product", field="productCode")
    amount = to_paise(body.amount)
    rules.check_application(
        amount,
        body.tenure,
        rules.ProductBounds(product.min_amount, product.max_amount, product.min_tenure, product.max_tenure),
    )
    active = session.scalars(
        select(Loan).where(Loan.customer_id == customer.id, Loan.status.not_in([s.value for s in TERMINAL]))
    ).first()
    if active is not None:
        raise Conflict(f"loan {active.id} is still {active.status}", field="loan")

    terms = loan_terms(session, product, amount, body.tenure)
    preview = preview_for(session, product, amount, body.tenure, date.today())
    loan_id = new_id()
    loan = Loan(
        id=loan_id,
        brand_id=brand.id,
        customer_id=customer.id,
        product_id=product.id,
        workflow_id=f"loan-{loan_id}",
        amount=amount,
        tenure=body.tenure,
        annual_rate_bps=product.annual_rate_bps,
        status=LoanStatus.APPLIED.value,
        upfront_charges=preview["charges"],
        net_disbursed=terms.net_disbursed,
        apr=Decimal(preview["apr"]),
    )
    session.add(loan)
    session.add(
        LoanStatusHistory(
            loan_id=loan_id,
            seq=0,
            from_status=None,
            to_status=LoanStatus.APPLIED.value,
            reason="application received",
            actor=f"customer:{customer.id}",
        )
    )
    session.commit()

    cfg = brand.config
    read = BrandConfig.of(cfg)
    policy = LoanPolicy(
        min_credit_score=read.min_credit_score,
        auto_sanction_score=read.auto_sanction_score,
        esign_expiry_seconds=read.esign_expiry_seconds,
        **{
            f"{kind}_provider": _primary_vendor(cfg, key, default)
            for kind, key, default in (
                ("kyc", "kyc", "digitap"),
                ("bureau", "bureau", "cibil"),
                ("esign", "esign", "signzy"),
                ("disbursal", "disbursal", "idfc"),
                ("payment", "payments", "razorpay"),
            )
        },
        allocation=dict(read.allocation or {}),
        penal=(product.charges or {}).get("penal"),
        prepayment_mode=read.prepayment_mode,
        npa_days=read.npa_days,
        kyc_steps=[str(step) for step in kyc_rules.validate_kyc_steps(read.kyc_steps)],
        kyc_timeout_seconds=read.kyc_timeout_seconds,
        **money_in_policy(product.charges, read, preview, body.tenure),
    )
    try:
        await client.start_workflow(
            LoanWorkflow.run,
            LoanWorkflowInput(loan_id, brand.id, customer.id, terms, policy),
            id=loan.workflow_id,
            task_queue=request.app.state.settings.task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(LOAN_STATUS, LoanStatus.APPLIED.value),
                    SearchAttributePair(BRAND_ID, brand.id),
                    SearchAttributePair(LOAN_AMOUNT, amount),
                ]
            ),
            static_summary=f"Loan {amount // 100} INR × {body.tenure} for customer {customer.id}",
        )
    except WorkflowAlreadyStartedError:
        pass
    except Exception:
        # No workflow means no loan: undo the row so the customer can simply apply again.
        session.query(LoanStatusHistory).filter(LoanStatusHistory.loan_id == loan_id).delete()
        session.query(Loan).filter(Loan.id == loan_id).delete()
        session.commit()
        raise
    return loan_summary(loan)


def _primary_vendor(cfg: dict, kind: str, default: str) -> str:
    try:
        return ProviderConfig.from_brand(cfg, kind).vendor
    except BusinessRefusal:
        return default


@router.get("/loans", response_model=list[LoanSummary])
def my_loans(me: Me, session: Db) -> list[dict]:
    loans = session.scalars(select(Loan).where(Loan.customer_id == me.id).order_by(Loan.created_at.desc())).all()
    return [loan_summary(loan) for loan in loans]


@router.get("/loans/{loan_id}", response_model=CustomerLoanDetail)
async def my_loan(
    request: Request,
    loan_id: str,
    me: Me,
    session: Db,
    include: Annotated[
        str | None, Query(description="`kyc`: the KYC phase's live progress (asks the workflow)")
    ] = None,
) -> dict:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id:
        raise NotFound("loan not found")
    detail = loan_detail(session, loan)
    wants_kyc = include is not None and "kyc" in include.split(",")
    detail["kyc"] = await kyc_status(request, loan) if wants_kyc and loan.status == LoanStatus.APPLIED.value else None
    # The app polls this route while a step runs: orjson, like the staff detail (the model documents it, and
    # tests/integration/test_loan_read_models.py checks the answers against it).
    return json_response(detail)


async def kyc_status(request: Request, loan: Loan) -> dict | None:
    """Where the loan's KYC phase is (what it waits for from the customer), from its workflow."""
    try:
        client = await request.app.state.temporal.get()
        handle = client.get_workflow_handle(loan.workflow_id)
        return await asyncio.wait_for(handle.query(LoanWorkflow.kyc_status), timeout=3)
    except Exception:  # noqa: BLE001 - the detail is still useful without it
        return None
