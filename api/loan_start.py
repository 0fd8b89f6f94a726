"""Starting a loan: the one way a loan row and its ``LoanWorkflow`` come to be, whoever asks — the customer's
application (``POST /api/v1/web/loans``) or staff starting a reloan for a customer
(``POST /api/v1/partner/brand/{brandId}/customers/{userId}/reloan``).

A customer with an open reloan offer (``reloan_offers``, OFFERED and not past its last day) who applies takes it
up: the new loan's ``previous_loan_id`` is the offer's loan and the offer becomes ACCEPTED with the new loan's id.
KYC results of the customer still within the brand's ``reloan.kycValidityDays`` are reused by the KYC phase
(``activities/kyc/reuse.py``), so a reloan goes straight to the credit decision when every step is still valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.providers.base import BusinessRefusal, ProviderConfig
from api.deps import call_async
from api.products import loan_terms, money_in_policy, preview_for
from api.web.auth import refuse_inactive
from db import closure
from db import partners as partner_lenders
from db.models import Brand, Customer, Loan, LoanProduct, LoanStatusHistory, ReloanOffer, new_id
from domain import kyc as kyc_rules
from domain import rules
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import TERMINAL, LoanStatus
from los import metrics
from workflows.contracts import LoanPolicy, LoanWorkflowInput
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow
from workflows.options import IST
from workflows.partner_routing import ROUTING_MEMO


@dataclass(frozen=True)
class Application:
    """What a loan is started with: ``amount`` in paise, ``tenure`` in installments, the product (None: the brand's
    first active one), who asked (``actor``: ``customer:<id>`` or ``<role>:<email>``), and the reloan it takes up."""

    amount: int
    tenure: int
    product_code: str | None
    actor: str
    offer: ReloanOffer | None = None
    previous_loan_id: str | None = None


def ist_today() -> date:
    return datetime.now(UTC).astimezone(IST).date()


def find_product(session: Session, brand: Brand, code: str | None) -> LoanProduct:
    """The brand's active product ``code`` (None: its first by code); NotFound naming ``productCode``."""
    query = select(LoanProduct).where(LoanProduct.brand_id == brand.id, LoanProduct.is_active)
    if code:
        query = query.where(LoanProduct.code == code)
    product = session.scalars(query.order_by(LoanProduct.code)).first()
    if product is None:
        raise NotFound("no such loan product", field="productCode")
    return product


def active_loan(session: Session, customer_id: str) -> Loan | None:
    """The customer's loan not yet ended, if any (a customer has one at a time)."""
    return session.scalars(
        select(Loan).where(Loan.customer_id == customer_id, Loan.status.not_in([s.value for s in TERMINAL]))
    ).first()


def _primary_vendor(cfg: dict, kind: str, default: str) -> str:
    try:
        return ProviderConfig.from_brand(cfg, kind).vendor
    except BusinessRefusal:
        return default


def start_loan(
    session: Session,
    client: Client,
    task_queue: str,
    customer: Customer,
    brand: Brand,
    app: Application,
    followup_task_queue: str | None = None,
) -> Loan:
    """Check the application, write the loan (APPLIED, with its history row), start its workflow on
    ``task_queue`` (its follow-up work, receipts, notices and payment links, on ``followup_task_queue``; None or
    empty: the same queue; ``Settings.followup_task_queue``) and, for a reloan, mark the offer ACCEPTED by it. Raises
    ValidationError (no PAN; amount or tenure outside the product, naming the field), PermissionDenied (403, field
    ``status``: the customer is not ACTIVE, ``refuse_inactive``), NotFound (``productCode``) and Conflict (a loan
    still in progress, field ``loan``) with nothing written; a workflow that cannot be started undoes the rows and
    re-raises."""
    refuse_inactive(customer, "a loan application")
    if not customer.pan:
        raise ValidationError("submit your PAN before applying", field="pan")
    product = find_product(session, brand, app.product_code)
    rules.check_application(
        app.amount,
        app.tenure,
        rules.ProductBounds(product.min_amount, product.max_amount, product.min_tenure, product.max_tenure),
    )
    active = active_loan(session, customer.id)
    if active is not None:
        raise Conflict(f"loan {active.id} is still {active.status}", field="loan")

    # no loan before this one: no earlier KYC result can be reused, so the workflow does not look for one
    first_loan = session.scalars(select(Loan.id).where(Loan.customer_id == customer.id).limit(1)).first() is None
    terms = loan_terms(session, product, app.amount, app.tenure)
    preview = preview_for(session, product, app.amount, app.tenure, date.today())
    loan_id = new_id()
    previous = app.offer.previous_loan_id if app.offer is not None else app.previous_loan_id
    loan = Loan(
        id=loan_id,
        brand_id=brand.id,
        customer_id=customer.id,
        product_id=product.id,
        workflow_id=f"loan-{loan_id}",
        amount=app.amount,
        tenure=app.tenure,
        annual_rate_bps=product.annual_rate_bps,
        status=LoanStatus.APPLIED.value,
        upfront_charges=preview["charges"],
        net_disbursed=terms.net_disbursed,
        apr=Decimal(preview["apr"]),
        previous_loan_id=previous,
    )
    session.add(loan)
    session.add(
        LoanStatusHistory(
            loan_id=loan_id,
            seq=0,
            from_status=None,
            to_status=LoanStatus.APPLIED.value,
            reason="reloan application received" if previous else "application received",
            actor=app.actor,
        )
    )
    if app.offer is not None:
        closure.accept_offer(session, app.offer.id, loan_id)
    routed = partner_lenders.brand_has_partners(session, brand.id)  # offered to partner lenders once sanctioned
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
        **money_in_policy(product.charges, read, preview, app.tenure),
    )
    try:
        call_async(
            client.start_workflow,
            LoanWorkflow.run,
            LoanWorkflowInput(
                loan_id,
                brand.id,
                customer.id,
                terms,
                policy,
                followup_task_queue=followup_task_queue or None,  # an empty setting: none
                first_loan=first_loan,
            ),
            id=loan.workflow_id,
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(LOAN_STATUS, LoanStatus.APPLIED.value),
                    SearchAttributePair(BRAND_ID, brand.id),
                    SearchAttributePair(LOAN_AMOUNT, app.amount),
                ]
            ),
            static_summary=f"{'Reloan' if previous else 'Loan'} {app.amount // 100} INR × {app.tenure} "
            f"for customer {customer.id}",
            memo={ROUTING_MEMO: True} if routed else None,
        )
    except WorkflowAlreadyStartedError:
        pass
    except Exception:
        # No workflow means no loan: undo the rows (and the offer's acceptance) so the application can be made again.
        if app.offer is not None:
            session.query(ReloanOffer).filter(ReloanOffer.id == app.offer.id).update(
                {"status": "OFFERED", "new_loan_id": None}
            )
        session.query(LoanStatusHistory).filter(LoanStatusHistory.loan_id == loan_id).delete()
        session.query(Loan).filter(Loan.id == loan_id).delete()
        session.commit()
        raise
    metrics.application_started(brand.id)
    return loan


__all__ = ["Application", "active_loan", "find_product", "ist_today", "start_loan"]
