"""The delivery log (``customer_messages``): one row per (notice key, kind), written before the send and updated
with its outcome; delivery reports move its status on. Synchronous: run inside a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Integer, String, Table, Text, bindparam, case, func, select
from sqlalchemy import update as update_
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from activities.providers.messaging.base import QUEUED, STATUS_RANK, DeliveryUpdate
from db.models import CustomerMessage

# the table itself (Core statements: an ORM ``update`` given a list of parameters would update by primary key)
_MESSAGES = cast(Table, CustomerMessage.__table__)


def mask_recipient(kind: str, recipient: str) -> str:
    """A phone as XXXXXX and its last 4 digits; an email as its first letter, *** and the domain."""
    if kind == "email" and "@" in recipient:
        local, domain = recipient.split("@", 1)
        return f"{local[:1]}***@{domain}"[:200]
    digits = "".join(ch for ch in recipient if ch.isdigit())
    return "XXXXXX" + digits[-4:]


def claim_all(session: Session, rows: dict[str, dict[str, Any]]) -> dict[str, CustomerMessage]:
    """The rows for the keys of ``rows`` (key → its fields), in two statements whatever their number: those not yet
    there created QUEUED, then every one read row-locked → key: row, as an earlier try may have left it. Rows are
    locked in key order (bytewise), as ``finish_all`` updates them: a retry claiming while an attempt that timed out
    still records its answers waits for it, never deadlocks with it."""
    if not rows:
        return {}
    session.execute(
        insert(CustomerMessage)
        .values([{"idempotency_key": key, "status": QUEUED, "attempts": [], **fields} for key, fields in rows.items()])
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    found = session.scalars(
        select(CustomerMessage)
        .where(CustomerMessage.idempotency_key.in_(list(rows)))
        .order_by(CustomerMessage.idempotency_key.collate("C"))
        .with_for_update()
    ).all()
    return {row.idempotency_key: row for row in found}


_FINISH = (
    update_(_MESSAGES)
    .where(_MESSAGES.c.idempotency_key == bindparam("f_key"))
    .values(
        status=bindparam("f_status", type_=String),
        vendor=bindparam("f_vendor", type_=String),
        vendor_message_id=bindparam("f_vendor_message_id", type_=String),
        error=bindparam("f_error", type_=Text),
        attempts=_MESSAGES.c.attempts.op("||")(bindparam("f_attempts", type_=JSONB)),
        updated_at=func.now(),
    )
)


def finish_all(session: Session, outcomes: dict[str, dict[str, Any]]) -> None:
    """Record each send's outcome (``outcomes``: key → ``status``, ``vendor`` that took it or the last tried,
    ``vendor_message_id``, ``attempts``, ``error``) on its row, the vendor attempts appended to those logged before;
    one batch of updates."""
    if not outcomes:
        return
    session.execute(
        _FINISH,
        [
            {
                "f_key": key,
                "f_status": o["status"],
                "f_vendor": o["vendor"],
                "f_vendor_message_id": o["vendor_message_id"] or None,
                "f_error": o["error"],
                "f_attempts": list(o["attempts"]),
            }
            for key, o in sorted(outcomes.items())  # in claim_all's lock order
        ],
    )


def _report_statement() -> Any:
    """``UPDATE customer_messages`` for one delivery report, built once: the row (one, locked; the latest when the
    vendor gave the id twice) the brand sent through the vendor under that message id; its status moved to
    ``new_status`` only when ``new_rank`` is above its own (``STATUS_RANK``), the ``reason`` kept only with that move,
    the report appended to ``attempts``. A report whose
    vendor event id (``r_event``) is already among the attempts changes nothing: a vendor that batches may send an
    event again in another batch (SendGrid documents duplicates)."""
    row = _MESSAGES.c
    event = bindparam("r_event", type_=Text)
    seen = event.is_not(None) & row.attempts.op("@>")(func.jsonb_build_array(func.jsonb_build_object("event", event)))
    moves = (case(STATUS_RANK, value=row.status, else_=0) < bindparam("r_new_rank", type_=Integer)) & ~seen
    reason = bindparam("r_reason", type_=Text)
    one = (
        select(row.id)
        .where(
            row.brand_id == bindparam("r_brand_id"),
            row.vendor == bindparam("r_vendor"),
            row.vendor_message_id == bindparam("r_message_id"),
        )
        # a message id the vendor gave twice: always the brand's latest message under it (a row's position in the scan
        # moves when it is updated, so without an order the next report could go to the other row)
        .order_by(row.created_at.desc(), row.id.desc())
        .limit(1)
        .with_for_update()
        .scalar_subquery()
    )
    return (
        update_(_MESSAGES)
        .where(row.id == one)
        .values(
            status=case((moves, bindparam("r_new_status", type_=String)), else_=row.status),
            error=case((moves & reason.is_not(None), reason), else_=row.error),
            attempts=case((seen, row.attempts), else_=row.attempts.op("||")(bindparam("r_report", type_=JSONB))),
            updated_at=func.now(),
        )
        .returning(row.loan_id)
    )


_APPLY_REPORT = _report_statement()


def apply_update(session: Session, brand_id: str, vendor: str, update: DeliveryUpdate) -> tuple[str | None] | None:
    """Move the brand's message ``update.message_id`` (sent through ``vendor``) to the report's status — never back
    (a late "sent" after "delivered" changes nothing) — and add the report to its attempts, in one statement (the
    row locked, as the intake's transaction holds it); an event it already took (the same ``update.event_id``) changes
    nothing. → ``(loan id or None,)`` of the message, or None when no such message is known."""
    report = {
        "vendor": vendor,
        "outcome": "report",
        "status": update.vendor_status,
        "at": (update.at or datetime.now(UTC)).isoformat(),
        **({"event": update.event_id} if update.event_id else {}),
    }
    found = session.execute(
        _APPLY_REPORT,
        {
            "r_brand_id": brand_id,
            "r_vendor": vendor,
            "r_message_id": update.message_id,
            "r_new_rank": STATUS_RANK.get(update.status, 0),
            "r_new_status": update.status,
            "r_reason": update.reason[:500] if update.reason else None,
            "r_report": [report],
            "r_event": update.event_id,
        },
    ).first()
    return None if found is None else (found.loan_id,)
