"""Staff notifications (seed 001 Notification), written in the caller's transaction.

Activities are retried, so each notification raised by a workflow step carries an idempotency key and lands
once; API handlers pass no key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.models import StaffNotification


def notify(
    session: Session,
    staff_id: str,
    brand_id: str,
    kind: str,
    title: str,
    body: str,
    meta: dict[str, Any],
    idempotency_key: str | None = None,
) -> None:
    values = dict(
        staff_id=staff_id,
        brand_id=brand_id,
        type=kind,
        title=title,
        body=body,
        meta=meta,
        idempotency_key=idempotency_key,
    )
    if idempotency_key is None:
        session.execute(insert(StaffNotification).values(**values))
    else:
        session.execute(
            pg_insert(StaffNotification).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
