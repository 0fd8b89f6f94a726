"""A customer and what they bring: OTPs, documents, employment, bank accounts, statement analysis, AA consents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    phone: Mapped[str] = mapped_column(String(15))
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    pan: Mapped[str | None] = mapped_column(String(10), nullable=True)
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Personal details (seed 001 UserDetails); Aadhaar is kept masked only (last 4) plus a keyed hash
    # so blocklist/dedup checks can match it without storing the number.
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    gender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    pincode: Mapped[str | None] = mapped_column(String(6), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pan_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    pan_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    aadhaar_masked: Mapped[str | None] = mapped_column(String(14), nullable=True)
    aadhaar_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    aadhaar_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # the CKYC identifier (KIN, 14 digits) of the CKYC registry's record matched by the KYC pipeline's CKYC step;
    # reported to the CICs (docs/bureau-reporting.md)
    ckyc_number: Mapped[str | None] = mapped_column(String(14), nullable=True)
    photo_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    onboarding_step: Mapped[str] = mapped_column(String(30), default="REGISTERED")
    utm: Mapped[dict[str, Any]] = mapped_column(default=dict)  # utm_source/medium/campaign/term/content
    assigned_to: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True)
    # ACTIVE / BLOCKED / SUSPENDED (staff, POST customers/{id}/status; docs/operations.md), with the staff's reason
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE", server_default="ACTIVE")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("brand_id", "phone"),
        # Global search (api/partner/search.py): exact PAN and e-mail within a brand, fuzzy names by pg_trgm.
        Index("ix_customers_brand_pan", "brand_id", "pan"),
        Index("ix_customers_brand_email", "brand_id", func.lower(text("email"))),
        Index(
            "ix_customers_full_name_trgm",
            "full_name",
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_customers_pan_name_trgm",
            "pan_name",
            postgresql_using="gin",
            postgresql_ops={"pan_name": "gin_trgm_ops"},
        ),
    )


class OtpChallenge(Base):
    __tablename__ = "otp_challenges"
    id: Mapped[str] = pk()
    customer_id: Mapped[str] = fk("customers.id", index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="LOGIN")  # LOGIN / MOBILE
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class CustomerDocument(Base):
    """KYC documents in private storage (seed 001 Document): served only by short-lived presigned URLs."""

    __tablename__ = "customer_documents"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    doc_type: Mapped[str] = mapped_column(String(30))  # PAN_CARD / AADHAAR_FRONT / ... / OTHER
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING / VERIFIED / REJECTED
    # A password-protected bank statement's password, encrypted (los.crypto), for the statement analysis only.
    password_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class Employment(Base):
    __tablename__ = "employments"
    id: Mapped[str] = pk()
    customer_id: Mapped[str] = fk("customers.id", index=True)
    employer_name: Mapped[str] = mapped_column(String(200))
    uan: Mapped[str | None] = mapped_column(String(12), nullable=True)
    monthly_salary: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # paise
    employment_type: Mapped[str] = mapped_column(String(20), default="SALARIED")
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # provider answer (EPFO history)
    created_at: Mapped[datetime] = created()


class BankAccount(Base):
    """Seed 001 UserBankAccount. Penny drop matches the beneficiary name against the PAN name."""

    __tablename__ = "bank_accounts"
    id: Mapped[str] = pk()
    customer_id: Mapped[str] = fk("customers.id", index=True)
    # The number is kept encrypted (los.crypto.seal), found by its keyed fingerprint, shown by its last 4.
    account_sealed: Mapped[str] = mapped_column(Text)
    account_fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    account_last4: Mapped[str] = mapped_column(String(4))
    ifsc: Mapped[str] = mapped_column(String(11))
    bank_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    beneficiary_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name_match_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    penny_drop_status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING/VERIFIED/FAILED
    provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)  # the last penny drop that verified it
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("customer_id", "account_fingerprint", "ifsc"),)


class BsaReport(Base):
    """Bank statement analysis (uploaded statement, or Account Aggregator data)."""

    __tablename__ = "bsa_reports"
    id: Mapped[str] = pk()
    customer_id: Mapped[str] = fk("customers.id", index=True)
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("loans.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(10))  # UPLOAD / AA
    provider: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)  # salary credits, EMI debits, balances
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()


class AaConsent(Base):
    """Seed 001 AAConsentRequest."""

    __tablename__ = "aa_consents"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("loans.id"), nullable=True, index=True)
    provider: Mapped[str] = mapped_column(String(40))
    consent_handle: Mapped[str] = mapped_column(String(80), unique=True)
    consent_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING/APPROVED/REJECTED/REVOKED
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
