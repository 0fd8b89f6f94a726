"""The dialer's call log (``dialer_calls``) and the vendors' events (``dialer_call_events``): a call row made before
the vendor is asked, what the vendor answered, each event stored once and applied forward only, a staff member
ending a call, and the lists and stats staff read. Plain values in, rows out; synchronous (run inside a unit of
work). The API calls these (``api/partner/dialer.py``, ``api/webhooks/dialer.py``).

**Forward only.** Statuses rank INITIATED < RINGING < ANSWERED < a terminal one (COMPLETED, MISSED, BUSY, FAILED).
An event moves a call to a higher rank only, so a late "answered" after the hangup, or a redelivered event, changes
no status. The first terminal status stays — except one set by a staff member ending the call (``ENDED_BY_STAFF``),
which the vendor's own hangup then replaces: the vendor knows whether the customer answered and for how long. Facts
are filled, never erased: the first answered / ended time, the longest talk time, the first recording URL, hangup
cause and agent number; only a final MISSED / BUSY / FAILED clears an answer time that belonged to the agent's leg.

**Stored once.** An event's key is unique (``event_key``, prefixed by the brand); a second delivery is a duplicate
and changes nothing. An event whose call cannot be found in the brand (an unknown reference and call id) is kept
with no call (``unmatched``).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import DialerCall, DialerCallEvent

INITIATED, RINGING, ANSWERED = "INITIATED", "RINGING", "ANSWERED"
COMPLETED, MISSED, BUSY, FAILED = "COMPLETED", "MISSED", "BUSY", "FAILED"
STATUSES = (INITIATED, RINGING, ANSWERED, COMPLETED, MISSED, BUSY, FAILED)
RANK = {INITIATED: 0, RINGING: 1, ANSWERED: 2, COMPLETED: 3, MISSED: 3, BUSY: 3, FAILED: 3}
TERMINAL = frozenset({COMPLETED, MISSED, BUSY, FAILED})
ENDED_BY_STAFF = "ENDED_BY_STAFF"  # hangup_cause of a call a staff member ended before the vendor said so
NOT_PLACED = "NOT_PLACED"  # hangup_cause prefix of a call no vendor took
RECORDED, DUPLICATE, UNMATCHED = "recorded", "duplicate", "unmatched"
KEY_MAX = 200  # dialer_call_events.event_key
IST = timezone(timedelta(hours=5, minutes=30))


def _now() -> datetime:
    return datetime.now(UTC)


def create_call(
    session: Session,
    *,
    brand_id: str,
    provider: str,
    customer_id: str,
    loan_id: str | None,
    staff_id: str,
    customer_number_masked: str,
) -> DialerCall:
    """A new call, INITIATED, before any vendor is asked (its id is the reference the vendor carries back)."""
    call = DialerCall(
        brand_id=brand_id,
        provider=provider,
        customer_id=customer_id,
        loan_id=loan_id,
        staff_id=staff_id,
        customer_number_masked=customer_number_masked,
        status=INITIATED,
        direction="OUTBOUND",
        duration_seconds=0,
    )
    session.add(call)
    session.flush()
    return call


def mark_placed(
    session: Session, call_id: str, *, provider: str, provider_call_id: str | None, agent_number: str
) -> DialerCall:
    """The vendor took the call: which vendor, the agent's number it rings, its call id when it gave one."""
    call = session.get_one(DialerCall, call_id, with_for_update=True)
    call.provider = provider
    call.agent_number = agent_number
    call.started_at = call.started_at or _now()
    if provider_call_id and call.provider_call_id is None and not _id_taken(session, provider, provider_call_id):
        call.provider_call_id = provider_call_id
    return call


def mark_not_placed(session: Session, call_id: str, *, provider: str | None, reason: str) -> DialerCall:
    """No vendor took the call: FAILED, the reason in ``hangup_cause`` (``NOT_PLACED: …``)."""
    call = session.get_one(DialerCall, call_id, with_for_update=True)
    if provider:
        call.provider = provider
    call.status = FAILED
    call.ended_at = call.ended_at or _now()
    call.hangup_cause = f"{NOT_PLACED}: {reason}"[:60]
    return call


def _id_taken(session: Session, provider: str, provider_call_id: str) -> bool:
    return (
        session.scalar(
            select(DialerCall.id).where(
                DialerCall.provider == provider, DialerCall.provider_call_id == provider_call_id
            )
        )
        is not None
    )


def event_key(brand_id: str, key: str) -> str:
    """The stored key of a vendor's event in a brand: ``<brand>:<vendor key>``, hashed when longer than the column."""
    full = f"{brand_id}:{key}"
    return full if len(full) <= KEY_MAX else f"{brand_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def find_call(
    session: Session, brand_id: str, provider: str, ref: str | None, provider_call_id: str | None
) -> DialerCall | None:
    """The brand's call an event names, row-locked: by our reference (the call id we gave the vendor), else by the
    vendor's call id."""
    if ref and _is_uuid(ref):
        call = session.get(DialerCall, ref, with_for_update=True)
        if call is not None and call.brand_id == brand_id:
            return call
    if provider_call_id:
        return session.scalars(
            select(DialerCall)
            .where(
                DialerCall.brand_id == brand_id,
                DialerCall.provider == provider,
                DialerCall.provider_call_id == provider_call_id,
            )
            .with_for_update()
        ).first()
    return None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError):
        return False


@dataclass(frozen=True)
class Recorded:
    """What became of an event: ``recorded`` (applied to its call), ``duplicate`` (stored before) or ``unmatched``
    (stored with no call), the call's id and the call's status afterwards."""

    outcome: str
    call_id: str | None
    status: str | None


def record_event(
    session: Session,
    *,
    brand_id: str,
    provider: str,
    event: str,
    key: str,
    payload: dict[str, Any],
    provider_call_id: str | None,
    ref: str | None,
    status: str | None,
    started_at: datetime | None = None,
    answered_at: datetime | None = None,
    ended_at: datetime | None = None,
    duration_seconds: int | None = None,
    recording_url: str | None = None,
    hangup_cause: str | None = None,
    agent_number: str | None = None,
) -> Recorded:
    """Store a vendor's event once and apply it to its call, forward only (module docstring). ``payload`` is stored
    as given: the caller masks the customer's number first."""
    call = find_call(session, brand_id, provider, ref, provider_call_id)
    stored = session.scalar(
        insert(DialerCallEvent)
        .values(
            call_id=call.id if call is not None else None,
            provider=provider,
            event=event[:40],
            event_key=event_key(brand_id, key),
            payload=payload,
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(DialerCallEvent.id)
    )
    if stored is None:
        return Recorded(DUPLICATE, call.id if call else None, call.status if call else None)
    if call is None:
        return Recorded(UNMATCHED, None, None)
    if call.provider_call_id is None and provider_call_id and not _id_taken(session, provider, provider_call_id):
        call.provider = provider
        call.provider_call_id = provider_call_id
    call.started_at = call.started_at or started_at
    call.agent_number = call.agent_number or agent_number
    call.recording_url = call.recording_url or recording_url
    if duration_seconds is not None and duration_seconds > (call.duration_seconds or 0):
        call.duration_seconds = duration_seconds
    _move(call, status, answered_at, ended_at, hangup_cause)
    return Recorded(RECORDED, call.id, call.status)


def _move(
    call: DialerCall,
    status: str | None,
    answered_at: datetime | None,
    ended_at: datetime | None,
    cause: str | None,
) -> None:
    staff_ended = call.status in TERMINAL and call.hangup_cause == ENDED_BY_STAFF
    if status in TERMINAL and staff_ended:
        call.status, call.hangup_cause = status, cause  # the vendor's word replaces the staff member's end
        call.ended_at = ended_at or call.ended_at
    elif status is not None and status in RANK and call.status not in TERMINAL and RANK[status] > RANK[call.status]:
        call.status = status
        if status in TERMINAL:
            call.hangup_cause = call.hangup_cause or cause
    elif call.status in TERMINAL and call.status == status:
        call.hangup_cause = call.hangup_cause or cause
    if call.status in (ANSWERED, COMPLETED):
        call.answered_at = call.answered_at or answered_at
    elif call.status in (MISSED, BUSY, FAILED):
        call.answered_at = None  # the customer never answered: an answer time was the agent's leg
    if call.status in TERMINAL:
        call.ended_at = call.ended_at or ended_at or _now()


def end_call(session: Session, call: DialerCall) -> bool:
    """A staff member ends the call: an open call becomes COMPLETED (answered; talk time to now) or MISSED, with
    ``ENDED_BY_STAFF``; the vendor's hangup, when it comes, replaces that. A call already ended is left as it is
    (False)."""
    if call.status in TERMINAL:
        return False
    now = _now()
    if call.status == ANSWERED:
        call.status = COMPLETED
        if call.answered_at is not None:
            call.duration_seconds = max(call.duration_seconds or 0, int((now - call.answered_at).total_seconds()))
    else:
        call.status = MISSED
    call.ended_at = now
    call.hangup_cause = ENDED_BY_STAFF
    return True


def events_of(session: Session, call_id: str) -> list[DialerCallEvent]:
    """A call's stored events, in the order received."""
    return list(
        session.scalars(
            select(DialerCallEvent)
            .where(DialerCallEvent.call_id == call_id)
            .order_by(DialerCallEvent.received_at, DialerCallEvent.id)
        )
    )


def calls_query(
    brand_id: str,
    *,
    customer_id: str | None = None,
    staff_id: str | None = None,
    loan_id: str | None = None,
    status: str | None = None,
) -> Select:
    """The brand's calls, filtered (for ``api.deps.page_of``: order newest first)."""
    query = select(DialerCall).where(DialerCall.brand_id == brand_id)
    if customer_id is not None:
        query = query.where(DialerCall.customer_id == customer_id)
    if staff_id is not None:
        query = query.where(DialerCall.staff_id == staff_id)
    if loan_id is not None:
        query = query.where(DialerCall.loan_id == loan_id)
    if status is not None:
        query = query.where(DialerCall.status == status)
    return query


NEWEST_FIRST = (DialerCall.created_at.desc(), DialerCall.id.desc())


def _ist_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=IST)


def stats(
    session: Session,
    brand_id: str,
    *,
    customer_id: str | None = None,
    staff_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """Counts by status, how many were answered (ANSWERED or COMPLETED) and their share of all calls, and talk time
    (total and average over answered calls, whole seconds) — over the brand's calls of one customer or one staff
    member, placed between ``since`` and ``until`` (IST calendar dates, both included)."""
    where = [DialerCall.brand_id == brand_id]
    if customer_id is not None:
        where.append(DialerCall.customer_id == customer_id)
    if staff_id is not None:
        where.append(DialerCall.staff_id == staff_id)
    if since is not None:
        where.append(DialerCall.created_at >= _ist_start(since))
    if until is not None:
        where.append(DialerCall.created_at < _ist_start(until + timedelta(days=1)))
    by_status = dict(
        session.execute(select(DialerCall.status, func.count()).where(and_(*where)).group_by(DialerCall.status)).all()
    )
    answered_flag = DialerCall.status.in_((ANSWERED, COMPLETED))
    answered, talk = session.execute(
        select(
            func.count().filter(answered_flag),
            func.coalesce(func.sum(case((answered_flag, DialerCall.duration_seconds), else_=0)), 0),
        ).where(and_(*where))
    ).one()
    total = sum(by_status.values())
    return {
        "total": total,
        "by_status": {s: int(by_status.get(s, 0)) for s in STATUSES},
        "answered": int(answered),
        "answered_rate": round(answered / total, 4) if total else 0.0,
        "total_talk_seconds": int(talk),
        "average_talk_seconds": int(round(talk / answered)) if answered else 0,
    }
