"""A loan and its file: status history, decisions, provider calls, bureau, agreement, disbursal, CAM, comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


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
    # How it closed: REPAID, FORECLOSED, COOLING_OFF_EXIT (None while open, and for ends before disbursal)
    closed_as: Mapped[str | None] = mapped_column(String(30), nullable=True)
    # Collections (docs/collections.md): the brand's DPD bucket as of the last day-end, the collector working the
    # loan now, the worst DPD the loan ever reached (reloan eligibility), what the bureau must be told (SETTLED,
    # WRITTEN_OFF, RESTRUCTURED), when it was restructured, and the loan a reloan came from.
    collection_bucket: Mapped[str | None] = mapped_column(String(30), nullable=True)
    collector_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("staff_users.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    max_dpd: Mapped[int] = mapped_column(Integer, default=0)
    bureau_flag: Mapped[str | None] = mapped_column(String(20), nullable=True)
    restructured_at: Mapped[datetime | None] = mapped_column(nullable=True)
    previous_loan_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("loans.id", ondelete="RESTRICT"), nullable=True
    )
    # An admin's audited bypass of the loan's reports requirement (the CAM of ``cam_required`` brands) before
    # forwarding (POST loans/{id}/force-bypass-reports): who and when; null while the requirement applies.
    reports_bypassed_by: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("staff_users.id", ondelete="RESTRICT"), nullable=True
    )
    reports_bypassed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    __table_args__ = (
        Index("ix_loans_brand_status", "brand_id", "status"),
        Index("ix_loans_brand_created", "brand_id", "created_at", "id"),  # staff lists: newest first, stable
        Index("ix_loans_brand_utr", "brand_id", "disbursal_utr"),  # global search by UTR
        Index("ix_loans_brand_disbursed", "brand_id", "disbursed_at"),  # dashboards: disbursals in a period
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
    __table_args__ = (
        UniqueConstraint("loan_id", "seq"),
        Index("ix_loan_status_history_to_status_created", "to_status", "created_at"),  # dashboards: sanctions
    )


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
    # the brand's published credit-policy version the decision used (policy_versions.version; None: unversioned)
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = created()


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
    # the signed PDF as fetched from the vendor (stored privately), and the KFS version the borrower accepted
    signed_storage_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    signed_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kfs_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = created()


class Disbursal(Base):
    """One transfer attempt (a new approval is a new attempt, under a new idempotency key). Names the verified
    account it went to by id, last 4 digits and IFSC, never by number."""

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
    mode: Mapped[str | None] = mapped_column(String(10), nullable=True)  # IMPS / NEFT / RTGS
    bank_account_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    account_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    ifsc: Mapped[str | None] = mapped_column(String(11), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # the bank's words
    # when the request left for the bank: set before sending, so a retry after a lost answer asks the bank's status
    # API instead of sending again
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    outcome_source: Mapped[str | None] = mapped_column(String(20), nullable=True)  # webhook / reconciler / status_api
    created_at: Mapped[datetime] = created()
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (Index("ix_disbursals_pending", "status", "created_at"),)


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
