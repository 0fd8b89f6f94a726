"""Provider callbacks as received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, pk


class WebhookEvent(Base):
    """Every provider callback, stored once per (provider, event id) before anything acts on it. ``signal_arg``:
    for a payment matched to a loan, the payment as the loan's workflow takes it (migration 0034), what the payment
    redelivery sends again when the event stayed undelivered (``db.webhook_events``)."""

    __tablename__ = "webhook_events"
    id: Mapped[str] = pk()
    provider: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(60))
    loan_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received_at: Mapped[datetime] = created()
    # Deferred, so the ORM reads events on a schema without it.
    # none_as_null: an event with no payment stores SQL NULL, not JSON null (which IS NOT NULL would take)
    signal_arg: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True), nullable=True, deferred=True)
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        # the payment redelivery's question (``db.webhook_events.undelivered_payments``): only the payment events
        # still undelivered, a handful among every event of the book
        Index(
            "ix_webhook_events_undelivered_payments",
            "received_at",
            postgresql_where=text("delivered_at IS NULL AND signal_arg IS NOT NULL"),
        ),
    )
