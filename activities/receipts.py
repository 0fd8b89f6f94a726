"""Money received that no installment takes: kept on the loan as a credit balance, never dropped.

A payment captured after the loan closed (a borrower who paid by link and again by UPI), or the part of a
payment beyond everything due, is recorded as a payment transaction whose whole amount (or the rest) is
``excess_part`` and posted Dr BANK / Cr CUSTOMER_CREDIT (a liability: owed back to the borrower or applied
later). Staff see it as the loan's ``creditBalance``; refunds are a later concern.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import LedgerEntry, LedgerTransaction, Loan, PaymentTransaction
from domain import ledger
from workflows.contracts import PaymentEvent


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
