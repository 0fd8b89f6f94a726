"""Operations' own records: staff reminders to customers (scheduled messages and their audit), lead forms imported
from ad platforms, and the brand's published credit-policy versions with the simulations run against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


def updated() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


class StaffReminder(Base):
    """A message a staff member schedules for a customer (seed 000's user reminders): the channel, the template (a
    notice event of the brand's catalogue) and its variables, when it goes; PENDING → SENT / FAILED / CANCELLED."""

    __tablename__ = "staff_reminders"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    loan_id: Mapped[str | None] = fk("loans.id", nullable=True)
    created_by: Mapped[str] = fk("staff_users.id")
    channel: Mapped[str] = mapped_column(String(10))  # sms / email / whatsapp
    template: Mapped[str] = mapped_column(String(40))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    scheduled_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (Index("ix_staff_reminders_status_scheduled_at", "status", "scheduled_at"),)


class StaffReminderLog(Base):
    """One thing that happened to a reminder (created, edited, cancelled, sent, failed), by whom."""

    __tablename__ = "staff_reminder_logs"
    id: Mapped[str] = pk()
    reminder_id: Mapped[str] = fk("staff_reminders.id", index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = fk("staff_users.id", nullable=True)  # None: the dispatcher
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created()


class LeadForm(Base):
    """A lead from an ad platform's lead form (seed 000: Facebook Ads CSV) or an organic form: who, from which
    campaign, their answers; NEW → DUPLICATE (same phone or email in the brand) / PROCESSED (matched to a customer) /
    FAILED (with the reason)."""

    __tablename__ = "lead_forms"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    source: Mapped[str] = mapped_column(String(20))  # FACEBOOK / ORGANIC / ...
    is_paid: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    campaign_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ad_set_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ad_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    form_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(15), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    responses: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="NEW")
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    customer_id: Mapped[str | None] = fk("customers.id", nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    lead_created_at: Mapped[datetime | None] = mapped_column(nullable=True)  # as the platform dated it
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index("ix_lead_forms_brand_phone", "brand_id", "phone"),
        Index("ix_lead_forms_brand_email", "brand_id", "email"),
        Index("ix_lead_forms_brand_status", "brand_id", "status"),
    )


class PolicyVersion(Base):
    """A published version of the brand's credit policy (its BRE rules and evaluation items, as a snapshot), numbered
    per brand; decisions record the version they used (``loan_decisions.policy_version``)."""

    __tablename__ = "policy_versions"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    published_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "version"),)


class PolicySimulation(Base):
    """A draft policy run against the brand's last N decided applications: the draft, the sample and the outcome
    (decisions changed, rules flipped, approval rate and expected loss before and after)."""

    __tablename__ = "policy_simulations"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    draft: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    sample_size: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by: Mapped[str] = fk("staff_users.id")
    created_at: Mapped[datetime] = created()


class BlocklistVersion(Base):
    """One change to the brand's blocklist, and the version it makes: ``version`` (1, 2, … per brand) is the
    blocklist after this change (ADD or REMOVE of ``kind``/``value``), made by ``changed_by`` (None: not through
    the settings routes) at ``created_at``. Written by a trigger on ``blocklist_entries`` (migration 0023), so every
    change is versioned however it is made; the blocklist at version v is the replay of changes 1..v."""

    __tablename__ = "blocklist_versions"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # ADD / REMOVE
    kind: Mapped[str] = mapped_column(String(10))  # PAN / AADHAAR / PHONE / DEVICE
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "version"),)


class CreditDecisionInput(Base):
    """What one credit decision ran on: the facts it built (``domain.credit_facts.CreditFacts.to_json``), the
    credit-policy version (``policy_versions.version``) and the blocklist version (``blocklist_versions.version``,
    0: an empty blocklist never changed). Explain and simulation re-run these facts with these versions."""

    __tablename__ = "credit_decision_inputs"
    id: Mapped[str] = pk()
    loan_id: Mapped[str] = fk("loans.id", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    blocklist_version: Mapped[int] = mapped_column(Integer, default=0)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created()
