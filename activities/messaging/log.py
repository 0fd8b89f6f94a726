"""The delivery log (``customer_messages``): one row per (notice key, kind), written before the send and updated
with its outcome; delivery reports move its status on. Synchronous: run inside a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from activities.providers.messaging.base import QUEUED, STATUS_RANK, DeliveryUpdate
from db.models import CustomerMessage


def mask_recipient(kind: str, recipient: str) -> str:
    """A phone as XXXXXX and its last 4 digits; an email as its first letter, *** and the domain."""
    if kind == "email" and "@" in recipient:
        local, domain = recipient.split("@", 1)
        return f"{local[:1]}***@{domain}"[:200]
    digits = "".join(ch for ch in recipient if ch.isdigit())
    return "XXXXXX" + digits[-4:]


def claim(session: Session, key: str, **fields: Any) -> CustomerMessage:
    """The row for ``key``: created QUEUED when new, else the one an earlier try wrote (row-locked)."""
    session.execute(
        insert(CustomerMessage)
        .values(idempotency_key=key, status=QUEUED, attempts=[], **fields)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    return session.scalars(
        select(CustomerMessage).where(CustomerMessage.idempotency_key == key).with_for_update()
    ).one()


def finish(
    session: Session,
    key: str,
    *,
    status: str,
    vendor: str | None,
    vendor_message_id: str | None,
    attempts: list[dict],
    error: str | None,
) -> None:
    row = session.scalars(select(CustomerMessage).where(CustomerMessage.idempotency_key == key).with_for_update()).one()
    row.status, row.vendor, row.vendor_message_id, row.error = status, vendor, vendor_message_id or None, error
    row.attempts = [*row.attempts, *attempts]


def apply_update(session: Session, brand_id: str, vendor: str, update: DeliveryUpdate) -> CustomerMessage | None:
    """Move the brand's message ``update.message_id`` (sent through ``vendor``) to the report's status — never back
    (a late "sent" after "delivered" changes nothing). None when no such message is known."""
    row = session.scalars(
        select(CustomerMessage)
        .where(
            CustomerMessage.brand_id == brand_id,
            CustomerMessage.vendor == vendor,
            CustomerMessage.vendor_message_id == update.message_id,
        )
        .with_for_update()
    ).first()
    if row is None:
        return None
    if STATUS_RANK.get(update.status, 0) > STATUS_RANK.get(row.status, 0):
        row.status = update.status
        if update.reason:
            row.error = update.reason[:500]
    row.attempts = [
        *row.attempts,
        {
            "vendor": vendor,
            "outcome": "report",
            "status": update.vendor_status,
            "at": (update.at or datetime.now(UTC)).isoformat(),
        },
    ]
    return row
