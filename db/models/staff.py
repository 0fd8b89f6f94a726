"""Staff users, the brands they work in, their logins, sessions, notifications, days off, and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


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


class PartnerUnavailabilityDate(Base):
    """A staff member's day off: auto-allocation skips them."""

    __tablename__ = "partner_unavailability_dates"
    id: Mapped[str] = pk()
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    __table_args__ = (UniqueConstraint("staff_id", "day"),)


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
