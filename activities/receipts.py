"""Money received that no installment takes: kept on the loan as a credit balance, never dropped.

A payment captured after the loan closed (a borrower who paid by link and again by UPI), or the part of a
payment beyond everything due, is recorded as a payment transaction whose whole amount (or the rest) is
``excess_part`` and posted Dr BANK / Cr CUSTOMER_CREDIT (a liability: owed back to the borrower or applied
later). Staff see it as the loan's ``creditBalance``; refunds are a later concern.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from db.models import LedgerEntry, LedgerTransaction, Loan, ParkedPayment, PaymentTransaction
from domain import ledger
from domain.errors import ValidationError
from domain.outcomes import PaymentStatus
from workflows.contracts import CreditBalanceRecord, PaymentEvent
from workflows.contracts import ParkedPayment as ParkedPaymentInput


def record_credit_balance(session: Session, loan_id: str, payment: PaymentEvent) -> bool:
    """Record ``payment`` (paise) against ``loan_id`` wholly as a credit balance, once per gateway payment id.

    Returns False when that gateway payment id was already recorded (a duplicate changes nothing).
    Runs inside the caller's transaction; raises ``domain.errors.ValidationError`` for a non-positive
    amount (the ledger refuses it)."""
    txn = ledger.repayment_split(principal=0, interest=0, fees=0, penal=0, excess=payment.amount, accrued_interest=0)
    inserted = session.execute(
        insert(PaymentTransaction)
        .values(
            loan_id=loan_id,
            gateway=payment.gateway,
            gateway_payment_id=payment.payment_id,
            amount=payment.amount,
            excess_part=payment.amount,
            status=PaymentStatus.SUCCESS,
        )
        .on_conflict_do_nothing(index_elements=["gateway", "gateway_payment_id"])
        .returning(PaymentTransaction.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    txn_id = session.execute(
        insert(LedgerTransaction)
        .values(loan_id=loan_id, kind=txn.kind, idempotency_key=f"payment:{payment.gateway}:{payment.payment_id}")
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LedgerTransaction.id)
    ).scalar_one_or_none()
    if txn_id is not None:
        session.add_all(LedgerEntry(transaction_id=txn_id, account=leg.account, amount=leg.amount) for leg in txn.legs)
    collected = Loan.total_collected + payment.amount
    session.execute(update(Loan).where(Loan.id == loan_id).values(total_collected=collected))
    return True


def credit_balance(session: Session, loan_id: str) -> int:
    """The loan's credit balance in paise: every excess received (refunds will reduce it)."""
    total = func.coalesce(func.sum(PaymentTransaction.excess_part), 0)
    return int(session.scalar(select(total).where(PaymentTransaction.loan_id == loan_id)) or 0)


def unrecordable(exc: Exception) -> ApplicationError:
    """A payment the database or the ledger refuses for good (a value out of range, an unbalanced split): not
    retried; the workflow parks the payment (``UnrecordablePayment``) and the payments behind it go on."""
    return ApplicationError(
        f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}", type="UnrecordablePayment", non_retryable=True
    )


class ReceiptActivities(DbActivities):
    """Activities that keep every rupee received: parking what cannot be applied, and credit balances."""

    @activity.defn
    async def park_payment(self, parked: ParkedPaymentInput) -> None:
        """Keep a payment the loan could not apply, once per (loan, gateway, payment id), for ops to resolve."""

        def write(session: Session) -> None:
            park_payment(session, parked.loan_id, parked.payment, parked.reason)

        await self._tx(write)

    @activity.defn
    async def record_credit_balance(self, rec: CreditBalanceRecord) -> None:
        """:func:`record_credit_balance` as an activity (payments that reach an ended loan's workflow)."""

        def write(session: Session) -> None:
            record_credit_balance(session, rec.loan_id, rec.payment)

        try:
            await self._tx(write)
        except (DataError, ValidationError) as exc:
            raise unrecordable(exc) from exc


def park_payment(session: Session, loan_id: str, payment: PaymentEvent, reason: str) -> None:
    """Keep ``payment`` aside for ops with ``reason`` (``parked_payments``), once per (loan, gateway, payment id),
    whatever its fields hold (an absurd amount is kept as a number, text without NUL). Runs in the caller's
    transaction."""
    session.execute(
        insert(ParkedPayment)
        .values(
            loan_id=loan_id,
            gateway=str(payment.gateway)[:200].replace("\x00", ""),
            gateway_payment_id=str(payment.payment_id)[:500].replace("\x00", ""),
            amount=_as_number(payment.amount),
            reason=reason.replace("\x00", ""),
            payload=_jsonable(dataclasses.asdict(payment)),
        )
        .on_conflict_do_nothing(index_elements=["loan_id", "gateway", "gateway_payment_id"])
    )


def _as_number(amount: object) -> Decimal:
    try:
        value = Decimal(str(amount))
    except ArithmeticError:
        return Decimal(0)
    if not value.is_finite() or abs(value) >= Decimal(10) ** 39:
        return Decimal(0)
    return value.to_integral_value()


def _jsonable(value: object) -> object:
    """JSON for JSONB: strings without NUL (PostgreSQL refuses it), big integers as text."""
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)
    return value
