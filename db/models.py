"""SQLAlchemy 2 typed models. Money is BIGINT paise; timestamps are timezone-aware."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


def pk() -> Mapped[str]:
    return mapped_column(Uuid(as_uuid=False), primary_key=True, default=new_id)


def fk(target: str, **kw: Any) -> Mapped[Any]:
    return mapped_column(Uuid(as_uuid=False), ForeignKey(target, ondelete="RESTRICT"), **kw)


def created() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[str] = pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Credit policy, eSign expiry, providers... (BrandConfig of seed 001, kept as JSON at this depth)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()


class LoanProduct(Base):
    __tablename__ = "loan_products"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    min_amount: Mapped[int] = mapped_column(BigInteger)
    max_amount: Mapped[int] = mapped_column(BigInteger)
    min_tenure: Mapped[int] = mapped_column(Integer)
    max_tenure: Mapped[int] = mapped_column(Integer)
    annual_rate_bps: Mapped[int] = mapped_column(Integer)
    repay_every: Mapped[int] = mapped_column(Integer, default=1)
    repay_unit: Mapped[str] = mapped_column(String(10), default="MONTHS")
    # Demo products compress each repayment period into this many seconds of wall time.
    period_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Fineract-named schedule options (see domain.product)
    interest_method: Mapped[str] = mapped_column(String(30), default="DECLINING_BALANCE")
    amortization: Mapped[str] = mapped_column(String(30), default="EQUAL_INSTALLMENTS")
    interest_calc: Mapped[str] = mapped_column(String(30), default="SAME_AS_REPAYMENT_PERIOD")
    days_in_year: Mapped[str] = mapped_column(String(10), default="ACTUAL")
    days_in_month: Mapped[str] = mapped_column(String(10), default="ACTUAL")
    in_multiples_of: Mapped[int] = mapped_column(Integer, default=1)  # paise
    grace_principal: Mapped[int] = mapped_column(Integer, default=0)
    grace_interest: Mapped[int] = mapped_column(Integer, default=0)
    daily_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 4), nullable=True)  # % per day (bullet)
    # What a due date on a brand non-repayment date does (domain.product.HolidayStrategy, domain.holidays)
    holiday_strategy: Mapped[str] = mapped_column(
        String(40), default="NEXT_WORKING_DAY_EXTEND_TERM", server_default="NEXT_WORKING_DAY_EXTEND_TERM"
    )
    # Upfront fees, GST, pass-through and penal charges (see domain.charges)
    charges: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("brand_id", "code"),)


class BrandNonRepaymentDate(Base):
    """Seed 001 "Brand Non-Repayment Dates": a due date on one of these moves to the next working day."""

    __tablename__ = "brand_non_repayment_dates"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    __table_args__ = (UniqueConstraint("brand_id", "day"),)


class StaffUser(Base):
    """Seed 001 PartnerUser. ``brand_id``/``role`` are the home brand and role; ``staff_brand_roles`` lists
    every brand the user may work in (with the role there). SUPER_ADMIN is platform-wide."""

    __tablename__ = "staff_users"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(15), nullable=True)
    reporting_to_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lockout: consecutive failed logins, and until when the account refuses logins.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class StaffBrandRole(Base):
    """Seed 000 PartnerUserBrandRole: one row per brand a staff user works in, with the role there."""

    __tablename__ = "staff_brand_roles"
    id: Mapped[str] = pk()
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    brand_id: Mapped[str] = fk("brands.id", index=True)
    role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("staff_id", "brand_id"),)


class StaffLoginLog(Base):
    """Seed 001 PartnerUserLoginLog: every login attempt, successful or not, with the device fingerprint."""

    __tablename__ = "staff_login_logs"
    id: Mapped[str] = pk()
    staff_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True, index=True
    )
    email: Mapped[str] = mapped_column(String(200))
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    device_fingerprint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    new_device: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index("ix_staff_login_logs_email_created", "email", "created_at"),
        Index("ix_staff_login_logs_ip_created", "ip", "created_at"),
    )


class StaffActivitySession(Base):
    """Seed 001 PartnerUserActivitySession: one per login, pinged while active, closed on logout."""

    __tablename__ = "staff_activity_sessions"
    id: Mapped[str] = pk()
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    refresh_family_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True, index=True)
    device_fingerprint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    login_at: Mapped[datetime] = created()
    last_active_at: Mapped[datetime] = mapped_column(server_default=func.now())
    logout_at: Mapped[datetime | None] = mapped_column(nullable=True)


class BrandApiKey(Base):
    """A brand's key for machine access (``X-API-Key``): shown once, stored as SHA-256, listed by last 4."""

    __tablename__ = "brand_api_keys"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    created_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = created()
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)


class AuditLog(Base):
    """Every change made by a staff member, an admin or an API key: who, brand, what, when, before/after."""

    __tablename__ = "audit_logs"
    id: Mapped[str] = pk()
    brand_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("brands.id"), nullable=True, index=True
    )
    actor_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True, index=True)
    actor_email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    action: Mapped[str] = mapped_column(String(80))  # e.g. loan.forward, settings.blocklist.create
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    # Writes from workflow activities are retried: the key makes them land once.
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index("ix_audit_logs_brand_created", "brand_id", "created_at"),)


class BrandStatusReason(Base):
    """Seed 001 Brand Status Reasons: the reasons staff pick from, per loan status they apply to."""

    __tablename__ = "brand_status_reasons"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    statuses: Mapped[list[Any]] = mapped_column(JSONB, default=list)  # e.g. ["REJECTED", "SEND_BACK"]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "code"),)


class CamRecord(Base):
    """Seed 001 CAMCalculator: the credit appraisal a credit executive saves for a loan (one per loan)."""

    __tablename__ = "cam_records"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", unique=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class LoanComment(Base):
    __tablename__ = "loan_comments"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id")
    loan_id: Mapped[str] = fk("loans.id", index=True)
    staff_id: Mapped[str] = fk("staff_users.id")
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created()


class StaffNotification(Base):
    """Seed 001 Notification: in-app messages for one staff member (new assignment, status change...)."""

    __tablename__ = "staff_notifications"
    id: Mapped[str] = pk()
    staff_id: Mapped[str] = fk("staff_users.id")
    brand_id: Mapped[str] = fk("brands.id")
    type: Mapped[str] = mapped_column(String(30))  # NEW_ASSIGNMENT / STATUS_CHANGE / SYSTEM
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Notifications raised by workflow activities are retried: the key makes them land once.
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index("ix_staff_notifications_staff_read", "staff_id", "is_read", "created_at"),)


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
    photo_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    onboarding_step: Mapped[str] = mapped_column(String(30), default="REGISTERED")
    utm: Mapped[dict[str, Any]] = mapped_column(default=dict)  # utm_source/medium/campaign/term/content
    assigned_to: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "phone"),)


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


class RefreshToken(Base):
    """Refresh tokens, stored hashed. Each use rotates it (the old one is revoked and points at its
    successor); reusing a revoked token revokes its whole family."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = pk()
    subject_kind: Mapped[str] = mapped_column(String(10))  # customer / staff
    subject_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    brand_id: Mapped[str] = fk("brands.id")
    family_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    created_at: Mapped[datetime] = created()


class RevokedAccessToken(Base):
    """Access tokens revoked by logout before they expire (by JWT id)."""

    __tablename__ = "revoked_access_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]


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
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("loans.id"), nullable=True)
    provider: Mapped[str] = mapped_column(String(40))
    consent_handle: Mapped[str] = mapped_column(String(80), unique=True)
    consent_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING/APPROVED/REJECTED/REVOKED
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class BlocklistEntry(Base):
    """Seed 001 blocklist: a PAN, Aadhaar (keyed hash), phone or device that is refused at the BRE."""

    __tablename__ = "blocklist_entries"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    kind: Mapped[str] = mapped_column(String(10))  # PAN / AADHAAR / PHONE / DEVICE
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "kind", "value"),)


class EvaluationItem(Base):
    """Seed 001 Brand Evaluation Items: name, weight, threshold, pass/fail logic, hard reject or soft flag."""

    __tablename__ = "evaluation_items"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    version: Mapped[str] = mapped_column(String(4), default="V1")
    name: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(60))  # e.g. bureau.score, bsa.avg_salary, employment.months
    comparator: Mapped[str] = mapped_column(String(4))  # >=, >, <=, <, ==, !=
    threshold: Mapped[str] = mapped_column(String(60))
    weight: Mapped[int] = mapped_column(Integer, default=1)
    hard_reject: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("brand_id", "version", "name"),)


class PartnerUnavailabilityDate(Base):
    """A staff member's day off: auto-allocation skips them."""

    __tablename__ = "partner_unavailability_dates"
    id: Mapped[str] = pk()
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    __table_args__ = (UniqueConstraint("staff_id", "day"),)


class LoanDecision(Base):
    """Every automatic decision step with its breakdown (BRE rules, evaluation items), for staff."""

    __tablename__ = "loan_decisions"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    stage: Mapped[str] = mapped_column(String(20))  # KYC / BRE / EVALUATION / ALLOCATION
    outcome: Mapped[str] = mapped_column(String(20))  # PASS / FAIL / MANUAL_REVIEW / AUTO_SANCTION ...
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    details: Mapped[list[Any]] = mapped_column(JSONB, default=list)  # one entry per rule/item with reason
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = created()


class Loan(Base):
    __tablename__ = "loans"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    product_id: Mapped[str] = fk("loan_products.id")
    workflow_id: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    tenure: Mapped[int] = mapped_column(Integer)
    annual_rate_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    credit_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    total_collected: Mapped[int] = mapped_column(BigInteger, default=0)
    # Upfront charges frozen at application (domain.charges) and what reaches the borrower's bank.
    upfront_charges: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    net_disbursed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    apr: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)  # percent, RBI KFS method
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    assigned_to: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("staff_users.id"), nullable=True, index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    evaluation_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    # Sanction hierarchy (UNDER_REVIEW only): CREDIT_EXECUTIVE -> SANCTION_MANAGER -> SANCTION_HEAD.
    review_stage: Mapped[str | None] = mapped_column(String(30), nullable=True, index=True)
    score_override: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    score_override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sanction_conditions: Mapped[str | None] = mapped_column(Text, nullable=True)
    asset_class: Mapped[str] = mapped_column(String(10), default="STANDARD")  # STANDARD / SMA-0..2 / NPA
    # The IST date whose day-end produced the current asset class (RBI IRACP: the date of SMA/NPA).
    asset_class_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    disbursed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disbursal_utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    next_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    __table_args__ = (
        Index("ix_loans_brand_status", "brand_id", "status"),
        Index("ix_loans_brand_created", "brand_id", "created_at", "id"),  # staff lists: newest first, stable
    )


class LoanStatusHistory(Base):
    __tablename__ = "loan_status_history"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    # Position in the workflow's sequence of status moves: makes the writing activity idempotent.
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(Text, default="system")  # role:email (emails may be long)
    # Staff actions in the sanction hierarchy: FORWARD / APPROVE / SEND_BACK / REJECT / SANCTION ...
    action: Mapped[str | None] = mapped_column(String(30), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("loan_id", "seq"),)


class ProviderCall(Base):
    """Outcome of one provider call for a loan (KYC, bureau...), with the raw answer."""

    __tablename__ = "provider_calls"
    id: Mapped[str] = pk()
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), ForeignKey("loans.id"), nullable=True, index=True)
    customer_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("customers.id"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    attempts: Mapped[list[Any]] = mapped_column(JSONB, default=list)  # vendors tried, in order, with errors
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)  # e.g. a name-match score
    provider: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    outcome: Mapped[str] = mapped_column(String(30))
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()


class BureauReport(Base):
    __tablename__ = "bureau_reports"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True, unique=True)
    customer_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("customers.id"), nullable=True, index=True
    )
    reused_from: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)  # within 24 h
    provider: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()


class LoanAgreement(Base):
    __tablename__ = "loan_agreements"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True, unique=True)
    storage_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    docket_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    signing_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    esign_provider: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class Disbursal(Base):
    __tablename__ = "disbursals"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(40))
    transfer_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="INITIATED")
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = created()
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)


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
    __table_args__ = (UniqueConstraint("loan_id", "installment_no"),)


class PaymentLink(Base):
    __tablename__ = "payment_links"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    installment_no: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    link_id: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE / PAID / SUPERSEDED
    created_at: Mapped[datetime] = created()
    # One link per amount due on an installment: a penal charge or a part-payment changes the amount.
    __table_args__ = (UniqueConstraint("loan_id", "installment_no", "amount"),)


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
    collected_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("gateway", "gateway_payment_id"),)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = created()


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = fk("ledger_transactions.id", index=True)
    account: Mapped[str] = mapped_column(String(60))
    amount: Mapped[int] = mapped_column(BigInteger)  # debit > 0, credit < 0


class WebhookEvent(Base):
    """Every provider callback, stored once per (provider, event id) before anything acts on it."""

    __tablename__ = "webhook_events"
    id: Mapped[str] = pk()
    provider: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(60))
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("provider", "event_id"),)


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
