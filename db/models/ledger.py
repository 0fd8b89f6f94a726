"""Repayment and money: the schedule, payment links, payments received, the double-entry ledger, parked payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class RepaymentInstallment(Base):
    """One row of the repayment schedule (seed 001 RepaymentTimeline)."""

    __tablename__ = "repayment_installments"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    installment_no: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]  # when it becomes overdue (the end of the due date, or a demo period)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    days: Mapped[int] = mapped_column(Integer, default=0)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    principal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    fees_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    penal: Mapped[int] = mapped_column(BigInteger, default=0)  # penal charges levied (never principal)
    penal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING / OVERDUE / PAID
    paid_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (
        UniqueConstraint("loan_id", "installment_no"),
        Index("ix_repayment_installments_due_date", "due_date"),  # dashboards: due in a period
        Index("ix_repayment_installments_overdue", "loan_id", postgresql_where=text("status = 'OVERDUE'")),
    )


class PaymentLink(Base):
    __tablename__ = "payment_links"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    installment_no: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    link_id: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # PaymentLinkStatus
    # INSTALLMENT (the amount due, kept by the workflow), or one the borrower asked for (installment_no 0):
    # PREPAYMENT, FORECLOSURE, COOLING_OFF, OVERDUE (a collector's link)
    purpose: Mapped[str] = mapped_column(String(20), default="INSTALLMENT", server_default="INSTALLMENT")
    created_at: Mapped[datetime] = created()
    # When the link was HELD: found paid at its gateway as it was being superseded, its payment not yet recorded by
    # the loan; its successor is held back from then for the gateways' webhook retry window (migration 0030,
    # activities.loan.link_holds). Deferred: loaded only when read, so this release's code also reads links, and
    # inserts them with Core, on a schema without the column (docs/runbook.md).
    held_since: Mapped[datetime | None] = mapped_column(nullable=True, deferred=True)
    # One ACTIVE link per amount due on an installment: a penal charge or a part-payment changes the amount. A
    # borrower's one-off links (installment 0) are one per amount and purpose. A link superseded or cancelled stays
    # beside the one made for its amount again (migration 0029): a late payment on it still finds its loan.
    __table_args__ = (
        Index(
            "uq_payment_links_active_key",
            "loan_id",
            "installment_no",
            "amount",
            "purpose",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
    )


class PaymentTransaction(Base):
    """Seed 001 PaymentCollectionTransaction. One row per gateway payment id, ever."""

    __tablename__ = "payment_transactions"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_payment_id: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column(BigInteger)
    principal_part: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_part: Mapped[int] = mapped_column(BigInteger, default=0)
    fees_part: Mapped[int] = mapped_column(BigInteger, default=0)
    penal_part: Mapped[int] = mapped_column(BigInteger, default=0)
    advance_part: Mapped[int] = mapped_column(BigInteger, default=0)  # advance to principal (prepayment)
    excess_part: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="SUCCESS")
    mode: Mapped[str | None] = mapped_column(String(20), nullable=True)  # UPI, CARD, EMANDATE, NEFT, CASH...
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True)  # UTR / bank reference when known
    outstanding_after: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # principal left after it
    receipt_no: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    receipt_key: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the stored receipt PDF
    collected_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("gateway", "gateway_payment_id"),
        Index("ix_payment_transactions_collected_at", "collected_at"),  # dashboards: collected in a period
        # the receipt sweep's credited payments with no stored receipt yet (db.receipts.payments_without_receipt)
        Index(
            "ix_payment_transactions_without_receipt",
            "collected_at",
            postgresql_where=text("receipt_key IS NULL AND status = 'SUCCESS'"),
        ),
    )


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    # The IST date the transaction counts from (a ledger as of a date sums the transactions on or before it)
    value_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_at: Mapped[datetime] = created()


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = fk("ledger_transactions.id", index=True)
    account: Mapped[str] = mapped_column(String(60))
    amount: Mapped[int] = mapped_column(BigInteger)  # debit > 0, credit < 0


class ParkedPayment(Base):
    """A received payment the loan could not apply (malformed, or its recording refused for good), kept for
    ops with the reason so the payments behind it go on. ``amount`` is kept as received (NUMERIC: it may be
    absurd, e.g. beyond BIGINT); RESOLVED once ops has dealt with it."""

    __tablename__ = "parked_payments"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    gateway: Mapped[str] = mapped_column(Text)
    gateway_payment_id: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Numeric(40, 0))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="PARKED")  # PARKED / RESOLVED
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("loan_id", "gateway", "gateway_payment_id"),)
