"""A mandate's status as the gateway reports it: the SQL shared by the mandate activities and the webhook intake (which
records a confirmation at once, whatever phase the loan's workflow is in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Mandate

REASON_MAX = 500
#: the statuses a mandate event may move a mandate from (CANCELLED and REJECTED are final)
MOVES_FROM = {
    "ACTIVE": ("CREATED", "PAUSED"),
    "REJECTED": ("CREATED",),
    "CANCELLED": ("CREATED", "ACTIVE", "PAUSED"),
    "PAUSED": ("ACTIVE",),
}


def apply_mandate_event(session: Session, event: Any, now: datetime) -> str | None:
    """Move mandate ``event.mandate_id`` (a ``MandateEvent``: mandate_id, status, token_id, reason) as the event
    says when :data:`MOVES_FROM` allows it (ACTIVE: the token and ``activated_at``; REJECTED: the reason; CANCELLED:
    ``cancelled_at``). Answers the mandate's status after, None when there is no such mandate."""
    values: dict = {"status": event.status}
    if event.status == "ACTIVE":
        values |= {"activated_at": now, "failure_reason": None}
        if event.token_id:
            values["token_id"] = event.token_id
    elif event.status == "REJECTED":
        values["failure_reason"] = (event.reason or "rejected")[:REASON_MAX]
    elif event.status == "CANCELLED":
        values["cancelled_at"] = now
    allowed = MOVES_FROM.get(event.status, ())
    session.execute(update(Mandate).where(Mandate.id == event.mandate_id, Mandate.status.in_(allowed)).values(**values))
    return session.scalars(select(Mandate.status).where(Mandate.id == event.mandate_id)).first()
