"""The refund of an SME business's credit balance (``sme_credit_balances``: late credits to a settled invoice, the
part kept for the business), maker-checker (docs/invoice-financing.md, "Refunding the credit balance"). Money is
BIGINT paise; the business's account number is sealed (``los.crypto``, purpose ``bank-account``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class SmeCreditRefund(Base):
    """A refund of ``amount`` paise, the credit balance of request ``request_id`` made of the credits ``credit_ids``
    (``sme_credit_balances`` rows OPEN when it was recorded). A maker records it PENDING with the business's account
    (``account_sealed``, ``account_last4``, ``ifsc``, ``account_holder``) and ``reference``; a checker, never the
    maker, approves it as PAID with the transfer's ``mode`` and ``utr`` (those credits then CLOSED, once) or
    REJECTED with ``reason`` (the credits stay OPEN). At most one PENDING per request."""

    __tablename__ = "sme_credit_refunds"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    business_id: Mapped[str] = fk("sme_businesses.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    credit_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    account_sealed: Mapped[str] = mapped_column(Text)
    account_last4: Mapped[str] = mapped_column(String(4))
    ifsc: Mapped[str] = mapped_column(String(11))
    account_holder: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(60))
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    requested_by: Mapped[str] = mapped_column(Uuid(as_uuid=False))
    decided_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    mode: Mapped[str | None] = mapped_column(String(4), nullable=True)
    utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index("uq_sme_credit_refunds_pending", "request_id", unique=True, postgresql_where=text("status = 'PENDING'")),
    )


__all__ = ["SmeCreditRefund"]
