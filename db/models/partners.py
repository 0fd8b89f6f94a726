"""Partner lenders: each brand's NBFC partners (limits, pricing, SLA, adapter settings), the versions of their
eligibility tables, the offers made on each loan and every routing attempt (outcome, time taken). Money is BIGINT
paise, rates basis points, times milliseconds (attempts) or seconds (SLA)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class PartnerLender(Base):
    """One NBFC partner of a brand: its ``code`` (unique in the brand), the ``adapter`` module that speaks its API,
    ticket (paise) and tenure (installments) limits, ``pricing`` (``domain.partners.PartnerPricing`` fields), ``sla``
    (seconds per step, ``domain.partners.SlaStep``), ``settings`` (base_url, api_key, webhook_secret and options),
    the ``rules_version`` in force and the ``priority`` among offers with the same APR (lower first)."""

    __tablename__ = "partner_lenders"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    adapter: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    min_amount: Mapped[int] = mapped_column(BigInteger)
    max_amount: Mapped[int] = mapped_column(BigInteger)
    min_tenure: Mapped[int] = mapped_column(Integer)
    max_tenure: Mapped[int] = mapped_column(Integer)
    pricing: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    sla: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    rules_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    __table_args__ = (UniqueConstraint("brand_id", "code"),)


class PartnerRuleTable(Base):
    """One version of a partner's eligibility table (rows as ``domain.partners.rules.parse_rules`` reads them).
    Versions are never changed or deleted: an offer names the version it was decided by."""

    __tablename__ = "partner_rule_tables"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("partner_id", "version"),)


class PartnerRouting(Base):
    """A brand's routing choices: whether the borrower picks among the offers (``borrower_pick``) and how long the
    loan waits for that pick (``pick_window_seconds``) before the lowest APR goes first."""

    __tablename__ = "partner_routing"
    brand_id: Mapped[str] = fk("brands.id", primary_key=True)
    borrower_pick: Mapped[bool] = mapped_column(Boolean, default=False)
    pick_window_seconds: Mapped[int] = mapped_column(Integer, default=24 * 3600)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class PartnerOffer(Base):
    """A partner's verdict on one loan in one routing ``round``: eligible (an offer: amount, rate, EMI, fees, APR)
    or not (``reasons``), by table ``rules_version``. ``status``: OFFERED, INELIGIBLE, then ACCEPTED, REJECTED,
    SLA_BREACHED or ERROR once tried; ``picked`` when the borrower chose it."""

    __tablename__ = "partner_offers"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    rules_version: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    tenure: Mapped[int] = mapped_column(Integer)
    annual_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    emi: Mapped[int] = mapped_column(BigInteger, default=0)
    total_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    fees: Mapped[int] = mapped_column(BigInteger, default=0)
    gst: Mapped[int] = mapped_column(BigInteger, default=0)
    third_party: Mapped[int] = mapped_column(BigInteger, default=0)
    net_disbursed: Mapped[int] = mapped_column(BigInteger, default=0)
    total_payable: Mapped[int] = mapped_column(BigInteger, default=0)
    apr: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0"))
    picked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("loan_id", "partner_id", "round"),)


class PartnerAttempt(Base):
    """One submission of a loan to a partner and how it ended (``domain.partners.AttemptOutcome``), its reason,
    the partner's own loan reference when it booked it, the time taken (ms, the workflow's clock) against the
    ``sla_seconds`` of the ``step``."""

    __tablename__ = "partner_attempts"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    offer_id: Mapped[str] = fk("partner_offers.id")
    step: Mapped[str] = mapped_column(String(20), default="DECISION")
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    partner_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    elapsed_ms: Mapped[int] = mapped_column(BigInteger)
    sla_seconds: Mapped[int] = mapped_column(Integer)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created()


class PartnerDisbursal(Base):
    """The partner's disbursal of a loan it booked, tracked against its DISBURSAL SLA (``domain.partners.disbursal``):
    the ``amount`` it disburses (paise: the offer's net disbursal), ``due_at`` (the loan's disbursal plus the SLA),
    the case's ``state`` (PENDING, BREACHED, ESCALATED, CONFIRMED), its ``utr`` once (by callback or the status API:
    ``confirmed_via``), the breach and escalation marks, and every status check asked of the partner (``check_log``:
    ``{"at", "status", "utr", "detail"}``), ``checks`` counting them. One row per loan."""

    __tablename__ = "partner_disbursals"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", unique=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    offer_id: Mapped[str] = fk("partner_offers.id")
    partner_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    our_reference: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    disbursed_at: Mapped[datetime]
    sla_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(20), default="PENDING", index=True)
    utr: Mapped[str | None] = mapped_column(String(60), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    confirmed_via: Mapped[str | None] = mapped_column(String(20), nullable=True)
    callback_event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    breached_at: Mapped[datetime | None] = mapped_column(nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    check_log: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


__all__ = [
    "PartnerAttempt",
    "PartnerDisbursal",
    "PartnerLender",
    "PartnerOffer",
    "PartnerRouting",
    "PartnerRuleTable",
]
