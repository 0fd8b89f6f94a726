"""Offline payments and the payment approval queue (seed 001 "Payments": ``GET payment/approval``, ``POST
payment/approve/:id``, ``POST payment/reject/:id``; seed 000 "Approval Queue"), under
/api/v1/partner/brand/{brandId}/, and the staff reads of a loan's payments and receipts.

Money paid outside the gateways (NEFT/IMPS/RTGS/UPI to the lender's account, cash, cheque) is recorded by one
staff member (the maker) as PENDING, its proof attached by them, and approved or rejected by another (the
checker): nobody decides a payment they recorded (403). Approval credits it: the loan's workflow gets
``payment_received`` with a ``PaymentEvent`` whose gateway is ``offline`` and payment id the offline row's id
(applied once per id by the brand's waterfall); a loan whose workflow has finished keeps it as credit balance
(``db.receipts.record_credit_balance``). Each decision is taken once (a second is 409). Who may do what
(``domain.access`` permissions; docs/money-in.md):

- record, attach the proof: ``collections.pre`` or ``loan_ops.disburse`` (loan executive, collection roles, admins);
- approve, reject: ``collections.manage`` (collection manager, collection head, admins);
- the queue and the proofs: ``queue.loans_ops`` or ``collections.view``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.access import Allow, audit
from api.deps import call_async, is_uuid, page_of
from api.partner.common import Db, Temporal, find_loan, staff_router
from api.partner.offline_checks import REFERENCE_RULES, cooling_off_amount, quote_total, within_quote
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, IsoDate, Rupees, Whole
from api.web.payments import (
    OfflineMode,
    OfflinePaymentView,
    OfflinePurpose,
    OfflineStatus,
    offline_views,
)
from db import receipts
from db.models import BrandStatusReason, Loan, OfflinePayment, PaymentTransaction
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationError
from domain.money import to_paise
from domain.status import TERMINAL, LoanStatus
from workflows.contracts import PaymentEvent
from workflows.loan import LoanWorkflow
from workflows.options import IST

router = staff_router()
Maker = Annotated[Principal, Allow(P.COLLECTIONS_PRE, P.LOAN_OPS_DISBURSE, api_key=False)]
Checker = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
QueueViewer = Annotated[Principal, Allow(P.QUEUE_LOANS_OPS, P.COLLECTIONS_VIEW)]
# Loans being repaid take a payment (OVERPAID: all paid and a credit balance to refund, still open).
REPAYING = frozenset({LoanStatus.DISBURSED.value, LoanStatus.OVERDUE.value, "OVERPAID"})
REJECT_REASONS_FOR = "PAYMENT_REJECTED"  # brand status reasons offered when rejecting a payment apply to this


class OfflineIn(BaseModel):
    """An offline payment as the maker records it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    amount: Rupees = Field(description='rupees as a decimal string, e.g. "12500.50"')
    paid_on: IsoDate = Field(alias="paidOn", description="IST date the money was paid; not in the future")
    mode: OfflineMode
    reference: str = Field(min_length=1, max_length=40, description="UTR, cheque number or receipt book number")
    remarks: str | None = Field(default=None, max_length=1000)
    purpose: OfflinePurpose = Field(
        default=OfflinePurpose.PREPAYMENT,
        description="PREPAYMENT (default): applied to what is due, the foreclosure quote on paidOn or more closes "
        "the loan as FORECLOSED. COOLING_OFF: the borrower's exit within the cooling-off period (principal plus the "
        "proportionate APR cost, no penalty): the exit amount on paidOn or more cancels the loan; refused when the "
        "exit is not open on paidOn or the amount is less",
    )
    allow_excess: bool = Field(
        default=False,
        alias="allowExcess",
        description="true records an amount above today's foreclosure quote (the cooling-off exit amount for "
        "COOLING_OFF; the rest becomes the loan's credit balance, to be refunded); without it such an amount is "
        "refused as a likely slip",
    )

    @field_validator("paid_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > datetime.now(IST).date():
            raise ValueError("must not be in the future (IST)")
        return value

    @field_validator("reference")
    @classmethod
    def _fits_mode(cls, value: str, info: ValidationInfo) -> str:
        value = re.sub(r"\s+", "", value).upper()
        mode = info.data.get("mode")
        if mode is not None:  # (an invalid mode is reported on its own)
            pattern, what = REFERENCE_RULES[mode]
            if not pattern.fullmatch(value):
                raise ValueError(f"for {mode.value} the reference must be {what}")
        return value


class OfflinePaymentPage(ApiModel):
    items: list[OfflinePaymentView]
    page: Whole = Field(description="1-based page number")
    limit: Whole = Field(description="page size")
    total: int = Field(description="payments matching the filters, over all pages")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    reason: str | None = Field(default=None, max_length=1000, description="why (required without reasonCode)")
    reason_code: str | None = Field(default=None, alias="reasonCode", max_length=40, description="a status reason")


class ApproveIn(BaseModel):
    """An approval's optional body."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    purpose: Literal["PREPAYMENT"] | None = Field(
        default=None,
        description="PREPAYMENT approves a COOLING_OFF payment as a prepayment, when its exit is no longer open "
        "(a repayment credited since it was recorded): applied to what is due, the foreclosure quote or more "
        "closes the loan",
    )


def _offline(session: Session, brand_id: str, payment_id: str, lock: bool = True) -> OfflinePayment:
    """The brand's offline payment, row-locked (two checkers deciding at once: one decision, one 409) unless
    ``lock`` is false. 404 when the brand has no such payment."""
    # populate_existing: a row read unlocked earlier in this session is read again under the lock, never kept stale
    found = is_uuid(payment_id)
    row = session.get(OfflinePayment, payment_id, with_for_update=lock, populate_existing=lock) if found else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("offline payment not found")
    return row


def _reference_free(session: Session, brand_id: str, reference: str, exclude: str | None = None) -> None:
    """409 naming ``reference`` when the brand already has it: an offline payment (any status) or a payment
    credited with that reference (a gateway's UTR)."""
    query = select(OfflinePayment.id, OfflinePayment.status).where(
        OfflinePayment.brand_id == brand_id, OfflinePayment.reference == reference
    )
    if exclude is not None:
        query = query.where(OfflinePayment.id != exclude)
    offline = session.execute(query).first()
    if offline is not None:
        raise Conflict(
            f"reference {reference} was already used by offline payment {offline[0]} ({offline[1]})", field="reference"
        )
    credited = session.scalars(
        select(PaymentTransaction.gateway_payment_id)
        .join(Loan, Loan.id == PaymentTransaction.loan_id)
        .where(Loan.brand_id == brand_id, PaymentTransaction.reference == reference)
        .where(PaymentTransaction.gateway != "offline")
    ).first()
    if credited is not None:
        raise Conflict(f"reference {reference} is the reference of payment {credited} already", field="reference")


def _takes_payment(loan: Loan, paid_on: date) -> None:
    """409 naming ``status`` unless the loan is being repaid (DISBURSED, OVERDUE, OVERPAID); 422 naming ``paidOn``
    when it is before the disbursal date (IST)."""
    if loan.status not in REPAYING:
        raise Conflict(f"loan is {loan.status}; only a loan being repaid takes a payment", field="status")
    disbursed_on = loan.disbursed_at.astimezone(IST).date() if loan.disbursed_at else None
    if disbursed_on is not None and paid_on < disbursed_on:
        raise ValidationError(f"must not be before the disbursal ({disbursed_on.isoformat()})", field="paidOn")


def _decidable(row: OfflinePayment, staff: Principal, what: str) -> None:
    """Maker-checker: 409 unless PENDING, 403 when the checker is the maker."""
    if row.status != OfflineStatus.PENDING:
        raise Conflict(f"this payment was already {row.status.lower()}; it is decided once", field="status")
    if row.recorded_by == staff.id:
        raise PermissionDenied(
            f"maker-checker: you recorded this payment, so another staff member must {what} it", field="recordedBy"
        )


def _decided(
    request: Request, session: Session, staff: Principal, row: OfflinePayment, status: OfflineStatus, **after: str
) -> None:
    """Record the decision on ``row`` (who, when), audit it and commit."""
    row.status, row.decided_by, row.decided_at = status.value, staff.id, datetime.now(UTC)
    action = f"payment.offline_{status.value.lower()}"
    before, changed = {"status": "PENDING"}, {"status": row.status, **after}
    audit(session, request, staff, action, "offline_payment", row.id, before=before, after=changed)
    session.commit()


# ------------------------------------------------------------------------------------------- record
@router.post("/brand/{brand_id}/loans/{loan_id}/payments/offline", status_code=201, response_model=OfflinePaymentView)
def record_offline(
    request: Request, brand_id: str, loan_id: str, body: OfflineIn, staff: Maker, session: Db
) -> dict[str, Any]:
    """Record a payment made outside the gateways as PENDING (JSON): ``amount`` in rupees (decimal string),
    ``paidOn`` the IST value date (not in the future, not before the disbursal), ``mode``, ``reference`` (the UTR
    for NEFT/IMPS/RTGS/UPI, format checked; the cheque number; the receipt book number for CASH), used once per
    brand (409 naming ``reference``), ``remarks``. Only a loan being repaid (DISBURSED, OVERDUE, OVERPAID) takes
    one (409). ``purpose`` COOLING_OFF is the borrower's exit within the cooling-off period, checked against the
    loan's exit amount on ``paidOn`` (422 naming ``purpose`` or ``amount``: ``offline_checks.cooling_off_amount``).
    The maker then attaches the proof (``POST .../payment/proof/{id}``)."""
    amount = to_paise(body.amount)
    quote: int | None = None
    cooling_off = body.purpose == OfflinePurpose.COOLING_OFF
    if cooling_off or not body.allow_excess:  # asked before the row is locked, and bounded (offline_checks.ask_loan)
        seen = find_loan(session, brand_id, loan_id)
        _takes_payment(seen, body.paid_on)  # what the loan's row says first: its 409 or 422, never the workflow's
        workflow_id, repaying = seen.workflow_id, seen.status != LoanStatus.OVERPAID
        session.rollback()
        if cooling_off:
            exit_amount = cooling_off_amount(request, workflow_id, body.paid_on, amount)
            quote = None if body.allow_excess else exit_amount
        else:
            quote = quote_total(request, workflow_id) if repaying and workflow_id else None
    loan = find_loan(session, brand_id, loan_id, lock=True)
    _takes_payment(loan, body.paid_on)
    _reference_free(session, brand_id, body.reference)
    within_quote(amount, quote, "the cooling-off exit amount" if cooling_off else "today's foreclosure quote")
    row = OfflinePayment(
        id=str(uuid.uuid4()),
        brand_id=brand_id,
        loan_id=loan.id,
        amount=amount,
        paid_on=body.paid_on,
        mode=body.mode.value,
        reference=body.reference,
        purpose=body.purpose.value,
        remarks=(body.remarks or "").strip() or None,
        recorded_by=staff.id,
        status=OfflineStatus.PENDING.value,
    )
    session.add(row)
    after = {
        "loanId": loan.id, "amountPaise": row.amount, "mode": row.mode, "reference": row.reference,
        "purpose": row.purpose,
    }  # fmt: skip
    audit(session, request, staff, "payment.offline_recorded", "offline_payment", row.id, after=after)
    try:
        session.commit()
    except IntegrityError as exc:  # the same reference recorded at the same moment by someone else
        session.rollback()
        raise Conflict(f"reference {body.reference} was already used by this brand", field="reference") from exc
    return offline_views(session, row)[0]


# ------------------------------------------------------------------------------------------- queue
@router.get("/brand/{brand_id}/payment/approval", response_model=OfflinePaymentPage)
def approval_queue(
    brand_id: str,
    staff: QueueViewer,
    session: Db,
    status: Annotated[Literal["PENDING", "APPROVED", "REJECTED", "ALL"], Query(description="ALL: any")] = "PENDING",
    mode: Annotated[OfflineMode | None, Query()] = None,
    paid_from: Annotated[IsoDate | None, Query(alias="paidFrom", description="paidOn on or after (IST)")] = None,
    paid_to: Annotated[IsoDate | None, Query(alias="paidTo", description="paidOn on or before (IST)")] = None,
    loan_id: Annotated[str | None, Query(alias="loanId", max_length=36)] = None,
    page: Annotated[int, Query(ge=1, le=10_000), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """The brand's offline payments, oldest first: by default those waiting for a checker (``status``
    PENDING); filtered by ``mode``, value date (``paidFrom``..``paidTo``) and ``loanId``; paged."""
    if paid_from is not None and paid_to is not None and paid_from > paid_to:
        raise ValidationError(f"is after paidTo ({paid_to.isoformat()})", field="paidFrom")
    query = select(OfflinePayment).where(OfflinePayment.brand_id == brand_id)
    if status != "ALL":
        query = query.where(OfflinePayment.status == status)
    if mode is not None:
        query = query.where(OfflinePayment.mode == mode.value)
    if paid_from is not None:
        query = query.where(OfflinePayment.paid_on >= paid_from)
    if paid_to is not None:
        query = query.where(OfflinePayment.paid_on <= paid_to)
    if loan_id is not None:
        if not is_uuid(loan_id):
            raise ValidationError("not a loan id", field="loanId")
        query = query.where(OfflinePayment.loan_id == loan_id.lower())
    rows, total = page_of(session, query, page, limit, OfflinePayment.created_at, OfflinePayment.id)
    items = [r[0] for r in rows]
    return {"items": offline_views(session, *items) if items else [], "page": page, "limit": limit, "total": total}


# ------------------------------------------------------------------------------------------- decisions
def _credit(session: Session, client: Client, loan: Loan, row: OfflinePayment) -> str:
    """Credit an approved payment: signal the loan's workflow (LOAN), or, when the loan has ended or its workflow
    finished, record it as credit balance in this transaction (CREDIT_BALANCE). 503 when the engine is down.

    The payment is told with its ``purpose``. PREPAYMENT, as the borrower's own any-amount link is (``POST
    /web/loans/{id}/pay``): at least the foreclosure quote on its value date closes the loan as FORECLOSED (interest
    only to that date, the product's charge); less is allocated as usual (``workflows.receipts._closing_parts``), so
    money that settles everything is never charged the later periods' interest to be refunded as a credit balance.
    COOLING_OFF, as the exit link is: at least the exit amount on its value date, within the look-up period and
    before any repayment, cancels the loan (COOLING_OFF_EXIT); otherwise it is allocated as usual."""
    event = PaymentEvent(
        payment_id=row.id,
        amount=row.amount,
        gateway="offline",
        mode=row.mode,
        reference=row.reference,
        purpose=row.purpose or OfflinePurpose.PREPAYMENT.value,
        paid_on=row.paid_on,
    )
    if loan.status not in TERMINAL:
        try:
            call_async(client.get_workflow_handle(loan.workflow_id).signal, LoanWorkflow.payment_received, event)
            return "LOAN"
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise ServiceUnavailable(f"the loan could not be reached: {exc.message}; nothing changed") from exc
    receipts.record_credit_balance(
        session,
        loan.id,
        gateway="offline",
        payment_id=row.id,
        amount=row.amount,
        mode=row.mode,
        reference=row.reference,
    )
    return "CREDIT_BALANCE"


@router.post("/brand/{brand_id}/payment/approve/{payment_id}", response_model=OfflinePaymentView)
def approve(
    request: Request,
    brand_id: str,
    payment_id: str,
    staff: Checker,
    session: Db,
    client: Temporal,
    body: ApproveIn | None = None,
) -> dict[str, Any]:
    """Approve a PENDING offline payment, as a staff member other than its maker (403 otherwise). Its proof
    must be attached (409 naming ``proof``) and its reference not taken meanwhile by a gateway payment (409). The
    loan's workflow gets ``payment_received`` (gateway ``offline``, payment id this id) and applies it by the
    waterfall; a loan whose workflow has finished keeps it as credit balance. Decided once (409 after).

    A COOLING_OFF payment's exit is asked again (``offline_checks.cooling_off_amount``, before any row is locked): a
    repayment credited since it was recorded closes the exit, and the money would then be neither an exit nor a
    foreclosure. 409 naming ``purpose`` says so; ``{"purpose": "PREPAYMENT"}`` approves it as a prepayment (audited
    as a change of purpose), or the checker rejects it. 503 when the loan cannot be asked (nothing changes)."""
    seen = _offline(session, brand_id, payment_id, lock=False)
    as_prepayment = body is not None and body.purpose == OfflinePurpose.PREPAYMENT
    exit_checked = seen.purpose == OfflinePurpose.COOLING_OFF and not as_prepayment
    if exit_checked and seen.status == OfflineStatus.PENDING:
        loan = session.get_one(Loan, seen.loan_id)
        workflow_id, paid_on, amount, still_repaying = (
            loan.workflow_id,
            seen.paid_on,
            seen.amount,
            loan.status in REPAYING,
        )
        session.rollback()
        if still_repaying:
            try:
                cooling_off_amount(request, workflow_id, paid_on, amount)
            except ValidationError as exc:
                raise Conflict(
                    f'{exc.message}: approve it as a prepayment with {{"purpose": "PREPAYMENT"}} (applied to what'
                    " is due; the foreclosure quote or more closes the loan), or reject it",
                    field="purpose",
                ) from exc
    row = _offline(session, brand_id, payment_id)
    _decidable(row, staff, "approve")
    if not row.proof_key:
        raise Conflict("attach the payment's proof before it is approved", field="proof")
    _reference_free(session, brand_id, row.reference, exclude=row.id)
    changed: dict[str, str] = {}
    if as_prepayment and row.purpose != OfflinePurpose.PREPAYMENT:
        changed = {"purpose": OfflinePurpose.PREPAYMENT.value, "recordedPurpose": row.purpose}
        row.purpose = OfflinePurpose.PREPAYMENT.value
    credited_as = _credit(session, client, session.get_one(Loan, row.loan_id), row)
    row.credited_as = credited_as
    # a crash before this commits leaves it PENDING: approving again signals the same id, which is applied once
    _decided(request, session, staff, row, OfflineStatus.APPROVED, creditedAs=credited_as, **changed)
    return offline_views(session, row)[0]


@router.post("/brand/{brand_id}/payment/reject/{payment_id}", response_model=OfflinePaymentView)
def reject(
    request: Request, brand_id: str, payment_id: str, body: RejectIn, staff: Checker, session: Db
) -> dict[str, Any]:
    """Reject a PENDING offline payment with a reason (``reason``, or ``reasonCode``: one of the brand's status
    reasons for PAYMENT_REJECTED, recorded with its label), as a staff member other than its maker. Nothing is
    credited; the reference stays used. Decided once (409 after)."""
    row = _offline(session, brand_id, payment_id)
    _decidable(row, staff, "reject")
    credited = session.scalars(
        select(PaymentTransaction.id).where(
            PaymentTransaction.gateway == "offline", PaymentTransaction.gateway_payment_id == row.id
        )
    ).first()
    if credited is not None:  # an approval reached the loan but was not recorded here (a crash between the two)
        raise Conflict("this payment was already credited to the loan; approve it to record that", field="status")
    reason = (body.reason or "").strip()
    if body.reason_code is not None:
        code = session.scalars(
            select(BrandStatusReason).where(
                BrandStatusReason.brand_id == brand_id,
                BrandStatusReason.code == body.reason_code.strip().upper(),
                BrandStatusReason.is_active.is_(True),
            )
        ).first()
        if code is None or REJECT_REASONS_FOR not in (code.statuses or []):
            raise ValidationError(f"not one of this brand's reasons for {REJECT_REASONS_FOR}", field="reasonCode")
        reason = f"{code.code}: {code.label}" + (f" ({reason})" if reason else "")
    if not reason:
        raise ValidationError("a reason is required to reject a payment", field="reason")
    row.reason = reason
    _decided(request, session, staff, row, OfflineStatus.REJECTED, reason=reason)
    return offline_views(session, row)[0]


# the proof of an offline payment: attached by its maker, read by the queue; and the staff reads of a loan's
# payments and receipts (their own modules, on this router)
from api.partner import loan_payments as _loan_payments  # noqa: E402,F401
from api.partner import payment_proofs as _payment_proofs  # noqa: E402,F401
