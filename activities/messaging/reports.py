"""Delivery reports: a vendor's verified callback, stored once and applied to the delivery log.

Each report is stored in ``webhook_events`` (provider ``dlr:<vendor>``; keyed by the vendor's event id when it
carries one event, else by the body's SHA-256), so a repeat changes nothing; each update moves its message's status
(``log.apply_update``), and an event the message already took (the same vendor event id, sent again in another
batch; vendors that give one: SendGrid, Brevo, ZeptoMail) changes nothing. Gupshup and SendGrid batch the events
of many messages in one POST: they are applied in message-id order, so two batches touching the same messages lock
them in the same order. A report for a message id the brand never sent through that vendor is stored all the same
(ops can look) and answered 200 — the vendor must not retry it forever.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from activities.messaging.log import apply_update
from activities.providers.messaging.base import DeliveryUpdate
from db.models import WebhookEvent


def record(
    session: Session, brand_id: str, vendor: str, raw: bytes, updates: list[DeliveryUpdate], payload: Any
) -> dict:
    """Store the report and apply its updates → ``{"status": "delivered" | "duplicate" | "unmatched",
    "event_id", "matched": n}`` (delivered: every update found its message; unmatched: some did not)."""
    one = updates[0].event_id if len(updates) == 1 else None  # a batch: its body, its events each by their own id
    event_id = (one or hashlib.sha256(raw).hexdigest())[:120]
    stored = payload if isinstance(payload, dict) else {"events": payload}
    inserted = session.execute(
        insert(WebhookEvent)
        .values(provider=f"dlr:{vendor}"[:40], event_id=event_id, event_type="delivery_report", payload=stored)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(WebhookEvent.id)
    ).scalar_one_or_none()
    if inserted is None:
        return {"status": "duplicate", "event_id": event_id, "matched": 0}
    in_lock_order = sorted(updates, key=lambda u: u.message_id)  # stable: a message's own events stay in order
    matched = [found for u in in_lock_order if (found := apply_update(session, brand_id, vendor, u)) is not None]
    if matched:  # else it stays as stored: no loan, not delivered
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == inserted)
            .values(loan_id=next((loan_id for (loan_id,) in matched if loan_id), None), delivered_at=datetime.now(UTC))
        )
    status = "delivered" if updates and len(matched) == len(updates) else "unmatched" if updates else "ignored"
    return {"status": status, "event_id": event_id, "matched": len(matched)}
