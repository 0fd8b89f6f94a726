"""Money received that no installment takes: its SQL, shared by the receipt activities and the webhook intake.

A payment captured after the loan closed (a borrower who paid by link and again by UPI), or the part of a
payment beyond everything due, is recorded as a payment transaction whose whole amount (or the rest) is
``excess_part`` and posted Dr BANK / Cr CUSTOMER_CREDIT (a liability: owed back to the borrower or applied
later). Staff see it as the loan's ``creditBalance``. A payment that cannot even be recorded is parked for
ops (``parked_payments``). Every function runs in the caller's transaction and takes plain values (paise,
vendor ids), not workflow messages, so the API and the activities share it without depending on each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.colending_recovery import record_recovery
from db.models import LedgerEntry, LedgerTransaction, Loan, OfflinePayment, ParkedPayment, PaymentTransaction, Refund
from domain import ledger
from domain.outcomes import PaymentStatus


def record_credit_balance(
    session: Session,
    loan_id: str,
    *,
    gateway: str,
    payment_id: str,
    amount: int,
    mode: str | None = None,
    reference: str | None = None,
) -> bool:
    """Record a payment of ``amount`` paise against ``loan_id`` wholly as a credit balance, once per
    (``gateway``, ``payment_id``).

    A WRITTEN_OFF loan owes nothing on its books any more: the money is a recovery (Dr COLLECTION_BANK / Cr
    BAD_DEBTS_RECOVERED_INCOME, ``domain.ledger.recovery_after_write_off``), not a credit balance (see
    :func:`is_recovery`). On a co-lent loan the recovery is also split between the lenders as the write-off was,
    in this transaction (``db.colending_recovery.record_recovery``: each lender's sub-ledger, the default-loss
    guarantee paid back from the partner's part, the escrow's apportionment).

    ``mode`` and ``reference`` (a UTR) are kept for the receipt, cut to their columns; a recovery's mode reads
    ``RECOVERY``. Returns False when that gateway payment id was already recorded (a duplicate changes nothing). Raises
    ``domain.errors.ValidationError`` for a non-positive amount (the ledger refuses it), and the database's
    ``DataError`` for a value its columns cannot hold."""
    recovery = is_recovery(session, loan_id)
    if recovery:
        txn = ledger.recovery_after_write_off(amount)
    else:
        txn = ledger.repayment_split(principal=0, interest=0, fees=0, penal=0, excess=amount, accrued_interest=0)
    inserted = session.execute(
        insert(PaymentTransaction)
        .values(
            loan_id=loan_id,
            gateway=gateway,
            gateway_payment_id=payment_id,
            amount=amount,
            excess_part=0 if recovery else amount,
            mode="RECOVERY" if recovery else column_text(mode, 20),
            reference=column_text(reference, 80),
            status=PaymentStatus.SUCCESS,
        )
        .on_conflict_do_nothing(index_elements=["gateway", "gateway_payment_id"])
        .returning(PaymentTransaction.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    txn_id = session.execute(
        insert(LedgerTransaction)
        .values(
            loan_id=loan_id,
            kind=txn.kind,
            idempotency_key=payment_posting_key(gateway, payment_id),
            value_date=(datetime.now(UTC) + timedelta(hours=5, minutes=30)).date(),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LedgerTransaction.id)
    ).scalar_one_or_none()
    if txn_id is not None:
        session.add_all(LedgerEntry(transaction_id=txn_id, account=leg.account, amount=leg.amount) for leg in txn.legs)
    if recovery:
        today = (datetime.now(UTC) + timedelta(hours=5, minutes=30)).date()
        key = f"colending:recovery:{gateway}:{payment_id}"[:190]
        record_recovery(session, loan_id, key=key, amount=amount, on=today)
    session.execute(update(Loan).where(Loan.id == loan_id).values(total_collected=Loan.total_collected + amount))
    return True


def payments_without_receipt(
    session: Session, *, since: datetime, before: datetime, limit: int
) -> list[tuple[str, str, str, int, datetime]]:
    """Credited payments (status SUCCESS) collected in [``since``, ``before``) whose receipt is not stored yet,
    oldest first, at most ``limit``: ``(loan_id, gateway, gateway_payment_id, amount, collected_at)`` (paise). The
    receipt sweep's work (``workflows.receipt_sweep``): money kept as a credit balance or a recovery by the webhook
    intake or an approval after the loan's workflow ended, and any receipt its loan could not issue. Read through
    the partial index ``ix_payment_transactions_without_receipt`` (its status written as a literal, as the index's
    predicate is, so a prepared statement's generic plan still matches it)."""
    rows = session.execute(
        select(
            PaymentTransaction.loan_id,
            PaymentTransaction.gateway,
            PaymentTransaction.gateway_payment_id,
            PaymentTransaction.amount,
            PaymentTransaction.collected_at,
        )
        .where(
            PaymentTransaction.receipt_key.is_(None),
            PaymentTransaction.status == literal_column("'SUCCESS'"),
            PaymentTransaction.collected_at >= since,
            PaymentTransaction.collected_at < before,
        )
        .order_by(PaymentTransaction.collected_at)
        .limit(limit)
    ).all()
    return [(str(loan_id), gateway, payment_id, int(amount), at) for loan_id, gateway, payment_id, amount, at in rows]


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def offline_value_dates(session: Session, payment_ids: Iterable[str]) -> dict[str, date]:
    """The value date ops recorded (``offline_payments.paid_on``, an IST date) of each of ``payment_ids`` that is an
    approved offline payment's id (the ``offline`` gateway's payment id is the row's id), in one query: id → date.
    An offline payment is dated by it on its receipt and notice, not by the day it was approved."""
    ids = [p for p in payment_ids if _UUID.fullmatch(p)]
    if not ids:
        return {}
    rows = session.execute(select(OfflinePayment.id, OfflinePayment.paid_on).where(OfflinePayment.id.in_(ids)))
    return {str(pid): paid_on for pid, paid_on in rows}


def payment_posting_key(gateway: str, payment_id: str) -> str:
    """The ledger idempotency key of a credited payment's posting (``payment:<gateway>:<payment id>``); its other
    postings (fees, a reversal of penal charges, an interest credit) take it with a suffix (``:interest-credit``)."""
    return f"payment:{gateway}:{payment_id}"


def interest_credited(session: Session, gateway: str, payment_id: str) -> int:
    """Paise of interest paid ahead that the foreclosing payment (``gateway``, ``payment_id``) moved to principal
    (its ``INTEREST_CREDIT`` posting, ``domain.ledger.interest_credit``); 0 for any other payment."""
    amount = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.idempotency_key == f"{payment_posting_key(gateway, payment_id)}:interest-credit",
            LedgerEntry.account == ledger.INTEREST_INCOME,
        )
    )
    return int(amount or 0)


def column_text(value: str | None, size: int) -> str | None:
    """A gateway's text (a mode, a reference) cut to a column of ``size`` characters, without NUL; None when
    nothing is left. An odd value never stops a payment being recorded (``record_payment`` and
    :func:`record_credit_balance`)."""
    return (value or "")[:size].replace("\x00", "") or None


def is_recovery(session: Session, loan_id: str) -> bool:
    """True when money reaching ``loan_id`` now is a recovery: the loan was written off."""
    return session.scalar(select(Loan.status).where(Loan.id == loan_id)) == "WRITTEN_OFF"


def credit_balance_of(loan_id: Any) -> Any:
    """The credit balance of ``loan_id`` (a value or a bound parameter) as a SQL expression, paise: every excess
    received, less the refunds paid (PROCESSED)."""
    received = select(func.coalesce(func.sum(PaymentTransaction.excess_part), 0)).where(
        PaymentTransaction.loan_id == loan_id
    )
    refunded = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.loan_id == loan_id, Refund.status == "PROCESSED"
    )
    return received.scalar_subquery() - refunded.scalar_subquery()


def credit_balance(session: Session, loan_id: str) -> int:
    """The loan's credit balance in paise (``credit_balance_of``)."""
    return int(session.scalar(select(credit_balance_of(loan_id))) or 0)


def park_payment(
    session: Session, loan_id: str, *, gateway: object, payment_id: object, amount: object, reason: str, payload: Any
) -> None:
    """Keep a payment aside for ops with ``reason`` (``parked_payments``), once per (loan, gateway, payment id),
    whatever its fields hold: an absurd ``amount`` is kept as a number (0 when it is not one), text without
    NUL, ``payload`` (the payment as received) as JSON."""
    session.execute(
        insert(ParkedPayment)
        .values(
            loan_id=loan_id,
            gateway=str(gateway)[:200].replace("\x00", ""),
            gateway_payment_id=str(payment_id)[:500].replace("\x00", ""),
            amount=_as_number(amount),
            reason=reason.replace("\x00", ""),
            payload=_jsonable(payload),
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
    """JSON for JSONB: strings without NUL (PostgreSQL refuses it), big integers and dates as text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)
    return value
