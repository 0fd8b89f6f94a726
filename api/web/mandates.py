"""The borrower's autopay mandate, /api/v1/web/loans/{loanId}/mandate (Razorpay e-mandate or UPI Autopay; the
gateway's adapter is ``activities.providers.payments.razorpay_autopay``, docs/money-in.md "Autopay mandates").

- ``POST .../mandate`` {``method``: EMANDATE | UPI, ``bankAccountId``?}: registers a mandate at the brand's payment
  gateway and answers the URL where the borrower authorises it. Only once the agreement is signed (AGREEMENT_SIGNED,
  DISBURSAL_PENDING, DISBURSED, OVERDUE; else 409 ``status``) and with no other live mandate (CREATED, ACTIVE or
  PAUSED; else 409 ``mandate``). An e-mandate debits the borrower's verified account (``bankAccountId``, else the
  verified primary one; none: 409 ``bankAccountId``). ``maxAmount`` (paise) is :func:`max_debit`.
- ``POST .../mandate/cancel``: cancels the live mandate at the gateway, records it CANCELLED and tells the loan's
  workflow (signal ``mandate_updated``); no live mandate: 409.
- ``GET .../mandate``: the latest mandate with every debit of it (404 when there is none).

Only the borrower's own loan is found (another's is 404). The mandate row is written here, as offline payments are:
the gateway's later word (token confirmed, rejected, paused, cancelled) reaches the row through the loan's workflow.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from activities import providers
from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.payments.mandate_base import (
    MandateAccount,
    MandateCustomer,
    MandateMethod,
    RegistrationRequest,
)
from activities.providers.webhooks import LoanSignal
from api.deps import call_async, db_session, is_uuid
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.webhooks.intake import signal
from db.kfs import loan_kfs
from db.models import BankAccount, Brand, Customer, Loan, Mandate, MandateDebit, RepaymentInstallment
from domain.errors import Conflict, NotFound, ServiceUnavailable, ValidationError
from domain.status import LoanStatus
from los.crypto import BANK_ACCOUNT, unseal
from workflows.contracts import MandateEvent
from workflows.options import IST

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/web", tags=["web (customer): autopay mandate"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]

SIGNED = frozenset(
    {LoanStatus.AGREEMENT_SIGNED, LoanStatus.DISBURSAL_PENDING, LoanStatus.DISBURSED, LoanStatus.OVERDUE}
)
LIVE = ("CREATED", "ACTIVE", "PAUSED")
#: the mandate's ceiling per debit: the largest installment plus half of it (an installment with the penal charges
#: and a partial catch-up of a missed one fit; more than that goes by payment link), in whole rupees
MARGIN_PERCENT = 150
VALIDITY = timedelta(days=366)  # the mandate outlives the last due date by a year (late installments)
INSTANT = "ISO 8601 instant with offset"


class MandateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    method: Literal["EMANDATE", "UPI"] = Field(description="EMANDATE (net banking at the bank) or UPI (UPI Autopay)")
    bank_account_id: str | None = Field(
        default=None, alias="bankAccountId", description="EMANDATE: the verified account to debit (default: primary)"
    )


class MandateDebitView(ApiModel):
    """One debit attempt of the mandate for an installment, as recorded."""

    debit_id: str
    installment_no: int
    attempt: int
    amount: int = Field(description="paise")
    due_date: str | None = Field(description="IST calendar date, ISO YYYY-MM-DD")
    notified_at: str | None = Field(description=INSTANT)
    charge_at: str | None = Field(description=INSTANT)
    status: str = Field(description="NOTIFIED, SENT, CAPTURED, FAILED or SKIPPED")
    failure_reason: str | None
    order_id: str | None = Field(description="the gateway's order of this debit")
    payment_id: str | None = Field(description="the gateway's payment of this debit")


class MandateView(ApiModel):
    """The loan's latest autopay mandate and its debits (newest first)."""

    mandate_id: str
    loan_id: str
    provider: str
    method: str = Field(description="EMANDATE, UPI or NACH")
    status: str = Field(description="CREATED, ACTIVE, REJECTED, CANCELLED or PAUSED")
    max_amount: int = Field(description="paise: the most one debit may take")
    registration_url: str | None = Field(description="where the borrower authorises it (while CREATED)")
    token_id: str | None = Field(description="the gateway's token of the confirmed mandate")
    failure_reason: str | None
    created_at: str = Field(description=INSTANT)
    activated_at: str | None = Field(description=INSTANT)
    cancelled_at: str | None = Field(description=INSTANT)
    debits: list[MandateDebitView]


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def mandate_view(session: Session, mandate: Mandate) -> dict:
    """A mandate and its debits as :class:`MandateView` (wire names)."""
    debits = session.scalars(
        select(MandateDebit)
        .where(MandateDebit.mandate_id == mandate.id)
        .order_by(MandateDebit.installment_no.desc(), MandateDebit.attempt.desc())
    ).all()
    return MandateView(
        mandate_id=mandate.id,
        loan_id=mandate.loan_id,
        provider=mandate.provider,
        method=mandate.method,
        status=mandate.status,
        max_amount=mandate.max_amount,
        registration_url=mandate.registration_url if mandate.status == "CREATED" else None,
        token_id=mandate.token_id,
        failure_reason=mandate.failure_reason,
        created_at=mandate.created_at.isoformat(),
        activated_at=_iso(mandate.activated_at),
        cancelled_at=_iso(mandate.cancelled_at),
        debits=[
            MandateDebitView(
                debit_id=d.id,
                installment_no=d.installment_no,
                attempt=d.attempt,
                amount=d.amount,
                due_date=_iso(d.due_date),
                notified_at=_iso(d.notified_at),
                charge_at=_iso(d.charge_at),
                status=d.status,
                failure_reason=d.failure_reason,
                order_id=d.order_id,
                payment_id=d.payment_id,
            )
            for d in debits
        ],
    ).model_dump(by_alias=True)


def latest_mandate(session: Session, loan_id: str, *, live: bool = False) -> Mandate | None:
    """The loan's newest mandate (``live``: only one in CREATED, ACTIVE or PAUSED)."""
    q = select(Mandate).where(Mandate.loan_id == loan_id)
    if live:
        q = q.where(Mandate.status.in_(LIVE))
    return session.scalars(q.order_by(Mandate.created_at.desc()).limit(1)).first()


def max_debit(session: Session, loan: Loan) -> int:
    """The mandate's ``max_amount`` in paise: the loan's largest installment (its schedule once disbursed, else the
    KFS schedule as if disbursed today) × :data:`MARGIN_PERCENT` %, rounded up to whole rupees."""
    largest = session.scalar(
        select(func.max(RepaymentInstallment.total)).where(RepaymentInstallment.loan_id == loan.id)
    )
    if not largest:
        kfs, _ = loan_kfs(session, loan.id, datetime.now(IST).date())
        largest = max(row.installment for row in kfs.repayment_schedule)
    return -(-largest * MARGIN_PERCENT // (100 * 100)) * 100


def _my_loan(session: Session, loan_id: str, me: Principal, *, lock: bool = False) -> Loan:
    loan = session.get(Loan, loan_id, with_for_update=lock) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id:
        raise NotFound("loan not found")
    return loan


def _mandate_gateway(brand: Brand, request: Request) -> Any:
    """The brand's first active payment gateway (primary first) that offers mandates; 409 ``method`` when none."""
    for config in ProviderConfig.candidates(brand.config, "payments"):
        if hasattr(providers.VENDORS["payments"].get(config.vendor), "create_mandate_registration"):
            return providers.adapter_for(config, request.app.state.http)
    raise Conflict("none of the brand's payment gateways offers autopay mandates", field="method")


def _account(session: Session, customer_id: str, account_id: str | None) -> BankAccount:
    if account_id is not None and not is_uuid(account_id):
        raise ValidationError("bankAccountId: must be an id", field="bankAccountId")
    q = select(BankAccount).where(BankAccount.customer_id == customer_id, BankAccount.penny_drop_status == "VERIFIED")
    q = q.where(BankAccount.id == account_id) if account_id else q.where(BankAccount.is_primary)
    account = session.scalars(q).first()
    if account is None:
        raise Conflict("an e-mandate needs a verified bank account of yours", field="bankAccountId")
    return account


@router.post("/loans/{loan_id}/mandate", response_model=MandateView)
def register_mandate(request: Request, loan_id: str, body: MandateIn, me: Me, session: Db) -> dict:
    """Register an autopay mandate: the gateway's registration URL to authorise it (status CREATED)."""
    loan = _my_loan(session, loan_id, me, lock=True)  # one registration at a time per loan
    if loan.status not in SIGNED:
        raise Conflict(f"loan is {loan.status}; autopay is set up once the agreement is signed", field="status")
    if latest_mandate(session, loan.id, live=True) is not None:
        raise Conflict("the loan already has a live mandate; cancel it first", field="mandate")
    customer = session.get_one(Customer, loan.customer_id)
    brand = session.get_one(Brand, loan.brand_id)
    method = MandateMethod(body.method)
    account = None
    if method == MandateMethod.EMANDATE:
        row = _account(session, customer.id, body.bank_account_id)
        number = unseal(request.app.state.settings.field_key(), BANK_ACCOUNT, row.account_sealed) or ""
        holder = row.beneficiary_name or customer.pan_name or customer.full_name or ""
        account = MandateAccount(holder, number, row.ifsc)
    gateway = _mandate_gateway(brand, request)
    ceiling = max_debit(session, loan)
    mandate = Mandate(loan_id=loan.id, provider=gateway.vendor, method=method.value, max_amount=ceiling)
    session.add(mandate)
    session.commit()  # the CREATED row holds the loan's one live place while the gateway is asked
    expire = datetime.now(UTC) + VALIDITY + timedelta(days=31 * max(loan.tenure, 1))
    req = RegistrationRequest(
        method=method,
        customer=MandateCustomer(customer.pan_name or customer.full_name or "Borrower", customer.phone, customer.email),
        max_amount=mandate.max_amount,
        expire_at=int(expire.timestamp()),
        receipt=mandate.id,
        description=f"Autopay for loan {loan.id}",
        notes={"loan_id": loan.id, "mandate_id": mandate.id},
        account=account,
        callback_url=f"{request.app.state.settings.api_url.rstrip('/')}/api/v1/webhooks/{brand.id}/{gateway.vendor}",
    )
    try:
        registration = call_async(gateway.create_mandate_registration, req)
    except (BusinessRefusal, ProviderError) as exc:
        session.execute(
            update(Mandate).where(Mandate.id == mandate.id).values(status="REJECTED", failure_reason=str(exc)[:500])
        )
        session.commit()
        if isinstance(exc, ProviderError):
            raise ServiceUnavailable("the payment gateway did not answer; try again") from exc
        raise Conflict(f"the payment gateway refused the mandate: {exc}", field="method") from exc
    mandate.customer_ref = registration.customer_ref
    mandate.order_id = registration.order_id
    mandate.registration_url = registration.url
    session.flush()
    return mandate_view(session, mandate)


@router.post("/loans/{loan_id}/mandate/cancel", response_model=MandateView)
def cancel_mandate(request: Request, loan_id: str, me: Me, session: Db) -> dict:
    """Cancel the live mandate at the gateway (a confirmed one) and on the loan; the loan's workflow is told."""
    loan = _my_loan(session, loan_id, me, lock=True)
    mandate = latest_mandate(session, loan.id, live=True)
    if mandate is None:
        raise Conflict("the loan has no live mandate", field="mandate")
    if mandate.token_id and mandate.customer_ref:
        brand = session.get_one(Brand, loan.brand_id)
        gateway = providers.build("payments", brand.config, request.app.state.http, vendor=mandate.provider)
        try:
            call_async(gateway.cancel_mandate, token_id=mandate.token_id, customer_ref=mandate.customer_ref)
        except BusinessRefusal as exc:
            raise Conflict(f"the payment gateway refused the cancellation: {exc}", field="mandate") from exc
        except ProviderError as exc:
            raise ServiceUnavailable("the payment gateway did not answer; try again") from exc
    mandate.status = "CANCELLED"
    mandate.cancelled_at = datetime.now(UTC)
    session.commit()
    event = MandateEvent(mandate.id, "CANCELLED", mandate.token_id, "cancelled by the borrower")
    try:
        call_async(signal, request.app.state.temporal, loan.workflow_id, LoanSignal.MANDATE_UPDATED, event)
    except ServiceUnavailable:
        log.warning("mandate %s cancelled; the gateway's token.cancelled will tell the loan", mandate.id)
    return mandate_view(session, mandate)


@router.get("/loans/{loan_id}/mandate", response_model=MandateView)
def my_mandate(loan_id: str, me: Me, session: Db) -> dict:
    """The loan's latest mandate and its debits; 404 when it has none."""
    loan = _my_loan(session, loan_id, me)
    mandate = latest_mandate(session, loan.id)
    if mandate is None:
        raise NotFound("the loan has no mandate")
    return mandate_view(session, mandate)
