"""Provider callbacks as received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, pk


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
