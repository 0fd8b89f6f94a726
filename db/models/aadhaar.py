"""The Aadhaar Data Vault (UIDAI's Aadhaar Data Vault circular, 2017; Aadhaar (Data Security) Regulations 2016):
the only table that holds an Aadhaar number, sealed, found by a random reference token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk


class AadhaarVaultEntry(Base):
    """One Aadhaar number given for one purpose (the e-KYC OTP of one loan), sealed with the field key
    (``los.crypto.seal``, purpose ``aadhaar``; ``fk1:<key id>:…`` under a ring key) and referenced everywhere else by
    ``id``, a random token that says nothing about the number. ``number_sealed`` is erased (NULL, ``erased_at`` set)
    as soon as the purpose ends: the OTP sent or refused, the request refused, or ``expires_at`` passed."""

    __tablename__ = "aadhaar_vault"
    # The reference token (``adv_`` and 32 random URL-safe characters), not a UUID: only this row maps it to a number.
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    brand_id: Mapped[str] = fk("brands.id")
    customer_id: Mapped[str] = fk("customers.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    purpose: Mapped[str] = mapped_column(String(30))  # EKYC_OTP
    number_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    masked: Mapped[str] = mapped_column(String(14))  # XXXX XXXX 1234
    # What the vendor answered once the OTP was sent, so a retried activity answers the same without the number.
    vendor: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vendor_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = created()
    expires_at: Mapped[datetime]
    erased_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (
        # the sweep of numbers past their lifetime reads only the rows that still hold one
        Index("ix_aadhaar_vault_expires_at_held", "expires_at", postgresql_where=text("number_sealed IS NOT NULL")),
    )
