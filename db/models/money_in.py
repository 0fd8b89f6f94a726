"""Money in beyond the schedule: every gateway payment attempt (captured or failed), offline payments waiting for a
checker, autopay mandates and their debits, refunds of a credit balance, and the customer messages sent with
their templates. Money is BIGINT paise; dates of payment are IST calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


def updated() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


class PaymentAttempt(Base):
    """One gateway payment as the gateway reported it, once per (gateway, payment id): ``CAPTURED`` or ``FAILED``.
    A failed attempt changes no dues; a ``failed`` event after ``captured`` never turns it back (Cashfree: one
    order carries several attempts, each its own ``cf_payment_id``). ``order_id``: the gateway's order or link.
    ``delivered_at``: when the capture was signalled to the loan."""

    __tablename__ = "payment_attempts"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str | None] = fk("loans.id", index=True, nullable=True)
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_payment_id: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str | None] = mapped_column(String(30), nullable=True)  # upi, card, netbanking, emandate...
    status: Mapped[str] = mapped_column(String(20))  # CAPTURED / FAILED
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    mandate_debit_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    # When a captured payment was first signalled to its loan (migration 0031): a later event of the same payment
    # (Razorpay's payment_link.paid after payment.captured) is stored without a second signal. Deferred, so the ORM
    # reads attempts on a schema without it.
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True, deferred=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (UniqueConstraint("gateway", "gateway_payment_id"),)


class OfflinePayment(Base):
    """A payment made outside the gateways (NEFT/IMPS/UPI to the lender's account, cash, cheque), recorded by one
    staff member and approved or rejected by another (maker-checker). ``reference`` (the UTR) is used once per
    brand. Approval signals the loan with a ``PaymentEvent`` whose gateway is ``offline`` and id this row's id."""

    __tablename__ = "offline_payments"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(20))  # NEFT / IMPS / RTGS / UPI / CASH / CHEQUE
    reference: Mapped[str] = mapped_column(String(40))
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    proof_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    proof_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proof_content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recorded_by: Mapped[str] = fk("staff_users.id")
    status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING / APPROVED / REJECTED
    decided_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # How the approval credited it (migration 0035): LOAN (sent to its workflow, which applies it, or keeps it as credit
    # balance when it was ending) or CREDIT_BALANCE (the loan had ended); NULL while undecided or rejected.
    credited_as: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # What it pays (migration 0036): PREPAYMENT (applied as the borrower's any-amount link is: the foreclosure quote
    # or more forecloses) or COOLING_OFF (the exit within the cooling-off period: at least the exit amount cancels).
    purpose: Mapped[str] = mapped_column(String(20), default="PREPAYMENT", server_default="PREPAYMENT")
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "reference"),)


class Mandate(Base):
    """An autopay mandate on a loan (Razorpay e-mandate / UPI Autopay; NACH fits the same shape): registered by
    the borrower through ``registration_url``; ``token_id`` arrives by webhook and makes it ACTIVE."""

    __tablename__ = "mandates"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    provider: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(20))  # EMANDATE / UPI / NACH
    status: Mapped[str] = mapped_column(String(20), default="CREATED")  # CREATED/ACTIVE/REJECTED/CANCELLED/PAUSED
    customer_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)  # the gateway's customer id
    order_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)  # registration order
    token_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    registration_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    max_amount: Mapped[int] = mapped_column(BigInteger)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    activated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class MandateDebit(Base):
    """One debit of a mandate for an installment: the pre-debit notice (``notified_at``, at least 24 h before
    ``charge_at``), the charge sent to the gateway, and its outcome. ``attempt`` counts retries per installment."""

    __tablename__ = "mandate_debits"
    id: Mapped[str] = pk()
    mandate_id: Mapped[str] = fk("mandates.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    installment_no: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    charge_at: Mapped[datetime | None] = mapped_column(nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    payment_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="NOTIFIED")  # NOTIFIED/SENT/CAPTURED/FAILED/SKIPPED
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (UniqueConstraint("loan_id", "installment_no", "attempt"),)


class Refund(Base):
    """A refund of a loan's credit balance to its verified account through the disbursal bank, after a
    maker-checker approval. ``transfer_id`` is ours (idempotency at the bank); ``utr`` the bank's."""

    __tablename__ = "refunds"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # PENDING_APPROVAL / APPROVED / REJECTED / SENT / PROCESSED / FAILED
    status: Mapped[str] = mapped_column(String(20), default="PENDING_APPROVAL")
    requested_by: Mapped[str | None] = fk("staff_users.id", nullable=True)  # None: raised by the loan itself
    decided_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    bank_account_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    account_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    transfer_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class CustomerMessage(Base):
    """The delivery log: one message to a customer (kind sms / email / whatsapp) for an event, the vendor that
    took it after failover (``attempts``: every vendor tried), its status as delivery webhooks report it.
    ``recipient`` is masked; ``idempotency_key`` makes a retried send find its own row."""

    __tablename__ = "customer_messages"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str | None] = fk("loans.id", index=True, nullable=True)
    customer_id: Mapped[str | None] = fk("customers.id", index=True, nullable=True)
    event: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # sms / email / whatsapp
    vendor: Mapped[str | None] = mapped_column(String(40), nullable=True)
    template_id: Mapped[str | None] = mapped_column(String(60), nullable=True)  # DLT template id for SMS
    recipient: Mapped[str] = mapped_column(String(200))
    # QUEUED / SENT / DELIVERED / READ / FAILED / UNDELIVERED
    status: Mapped[str] = mapped_column(String(20), default="QUEUED")
    vendor_message_id: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    attempts: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class MessageTemplate(Base):
    """A brand's template for one event and kind (jinja2, rendered sandboxed). SMS templates carry the DLT
    template id registered with the operator (TRAI TCCCPR 2018); email ones a subject."""

    __tablename__ = "message_templates"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    event: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    dlt_template_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (UniqueConstraint("brand_id", "event", "kind"),)
