"""Two follow-ups of money that arrives (or does not) late, each once: the re-send of a partner's disbursal request
(``PartnerDisbursalResend``: at most one per partner disbursal case, docs/partner-lenders.md) and a financed
invoice's credit that arrived while it was being settled (``SmeCreditBalance``: applied to the invoice's dues left,
the rest kept as the business's refundable credit balance, docs/invoice-financing.md). Money is BIGINT paise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class PartnerDisbursalResend(Base):
    """The one re-send of a partner's disbursal request on a case (``partner_disbursals``) whose partner said its
    disbursal FAILED or that it has none (NOT_FOUND): ``reference`` is the partner's idempotency reference sent
    (the same on every retry of it), ``status`` SENT (reserved before the partner is asked), then ACCEPTED,
    REFUSED (its 4xx, ``detail`` its reason) or ERROR (it could not be asked: asked again by a retry)."""

    __tablename__ = "partner_disbursal_resends"
    id: Mapped[str] = pk()
    case_id: Mapped[str] = fk("partner_disbursals.id", unique=True)
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id")
    reference: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="SENT")
    partner_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class SmeCreditBalance(Base):
    """A buyer's credit to a financed invoice that arrived once the invoice was settled (PAID, or CLOSED): counted
    once per (request, ``payment_id``: the UTR's credit key or the gateway's payment id). ``applied`` paise went to
    the invoice's dues still left, ``kept`` paise are the business's credit balance (refundable; ``status`` OPEN
    until refunded)."""

    __tablename__ = "sme_credit_balances"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    business_id: Mapped[str] = fk("sme_businesses.id", index=True)
    payment_id: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column(BigInteger)
    applied: Mapped[int] = mapped_column(BigInteger, default=0)
    kept: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(20))
    received_while: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="OPEN")
    paid_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("request_id", "payment_id"),)


__all__ = ["PartnerDisbursalResend", "SmeCreditBalance"]
