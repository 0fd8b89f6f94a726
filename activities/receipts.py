"""Receipt activities: money received that no installment takes is kept on the loan as a credit balance or
parked for ops, never dropped (the SQL is :mod:`db.receipts`, shared with the webhook intake)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from db import receipts
from domain.errors import ValidationError
from workflows.contracts import CreditBalanceRecord
from workflows.contracts import ParkedPayment as ParkedPaymentInput


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
        payment = parked.payment

        def write(session: Session) -> None:
            receipts.park_payment(
                session,
                parked.loan_id,
                gateway=payment.gateway,
                payment_id=payment.payment_id,
                amount=payment.amount,
                reason=parked.reason,
                payload=dataclasses.asdict(payment),
            )

        await self._tx(write)

    @activity.defn
    async def record_credit_balance(self, rec: CreditBalanceRecord) -> None:
        """:func:`db.receipts.record_credit_balance` as an activity (payments that reach an ended loan's
        workflow)."""
        payment = rec.payment

        def write(session: Session) -> None:
            receipts.record_credit_balance(
                session, rec.loan_id, gateway=payment.gateway, payment_id=payment.payment_id, amount=payment.amount,
                mode=payment.mode, reference=payment.reference,
            )  # fmt: skip

        try:
            await self._tx(write)
        except (DataError, ValidationError) as exc:
            raise unrecordable(exc) from exc
