"""The database work of a vendor's callback before its loan is told (``api.webhooks.routes._take``): the brand's
providers read, the signature checked, the event stored with its payment attempt, in one transaction (a due-date
storm brings every payment through it); a forged callback stores nothing.

Every statement the test's process sends PostgreSQL is seen (SQLAlchemy's engine events, on every engine: the API
here runs in this process) with the transaction it ran in."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from db.models import WebhookEvent
from los.seed import SANDBOX_SECRET
from tests.integration.test_staff_and_webhooks import _payment_event, _signed


@contextmanager
def statements() -> Iterator[list[tuple[Any, str, Any]]]:
    """(transaction, SQL, parameters) of each statement sent meanwhile; a transaction is told by its connection and
    the count of transactions begun on it."""
    seen: list[tuple[Any, str, Any]] = []
    begun: dict[int, int] = {}
    counter = itertools.count()

    def begin(conn: Any) -> None:
        begun[id(conn)] = next(counter)

    def execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append(((id(conn), begun.get(id(conn))), statement, parameters))

    event.listen(Engine, "begin", begin)
    event.listen(Engine, "before_cursor_execute", execute)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", execute)
        event.remove(Engine, "begin", begin)


def _of_brand(seen: list, brand_id: str) -> list:
    return [
        t
        for t, sql, params in seen
        if "FROM brands" in sql and isinstance(params, dict) and brand_id in params.values()
    ]


async def test_a_payment_callback_is_checked_and_stored_in_one_transaction(app, brand, db) -> None:  # noqa: ANN001
    brand_id = brand["brand_id"]
    payment_id = f"pay_{uuid.uuid4().hex[:14]}"
    body, headers = _signed("razorpay", _payment_event(str(uuid.uuid4()), payment_id, 1_000_00))  # no loan of it
    with statements() as seen:
        answer = await app.http.post(
            f"{app.api.url}/api/v1/webhooks/{brand_id}/razorpay", content=body, headers=headers
        )
    assert answer.status_code == 200 and answer.json()["status"] == "unmatched", answer.text

    read = _of_brand(seen, brand_id)
    event_id = headers["X-Razorpay-Event-Id"]
    stored = [
        t
        for t, sql, params in seen
        if sql.startswith("INSERT INTO webhook_events") and isinstance(params, dict) and event_id in params.values()
    ]
    assert len(read) == 1 and len(stored) == 1, seen
    assert read[0] == stored[0]  # the same connection, in the same transaction
    with db.unit_of_work() as s:
        assert s.scalars(
            select(WebhookEvent.event_type).where(WebhookEvent.event_id == headers["X-Razorpay-Event-Id"])
        ).all() == ["payment.captured"]


async def test_a_forged_callback_is_refused_and_its_transaction_stores_nothing(app, brand, db) -> None:  # noqa: ANN001
    brand_id = brand["brand_id"]
    body, headers = _signed("razorpay", _payment_event(str(uuid.uuid4()), "pay_forged", 1_000_00), secret="not-it")
    assert "not-it" != SANDBOX_SECRET
    with statements() as seen:
        answer = await app.http.post(
            f"{app.api.url}/api/v1/webhooks/{brand_id}/razorpay", content=body, headers=headers
        )
    assert answer.status_code == 401, answer.text
    assert len(_of_brand(seen, brand_id)) == 1
    written = [
        sql
        for _, sql, _ in seen
        if sql.startswith(("INSERT", "UPDATE")) and ("webhook_events" in sql or "payment_attempts" in sql)
    ]
    assert written == [], written  # (other threads of this process may write other tables meanwhile)
    with db.unit_of_work() as s:
        assert (
            s.scalars(select(WebhookEvent.id).where(WebhookEvent.event_id == headers["X-Razorpay-Event-Id"])).all()
            == []
        )
