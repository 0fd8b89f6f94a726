"""A brand and what it configures: products, holidays, status reasons, evaluation items, blocklist, API keys."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


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
