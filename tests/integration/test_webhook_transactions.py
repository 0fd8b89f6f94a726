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


def _loan_with_link(db: Any, brand_id: str, purpose: str) -> tuple[str, str]:
    """A loan row (no workflow) of a customer of its own, with a Cashfree link of ``purpose``: (loan id, link id)."""
    from db.models import Customer, Loan, LoanProduct, PaymentLink

    link_id = f"CFLink_{uuid.uuid4().hex[:12]}"
    with db.unit_of_work() as s:
        customer = Customer(brand_id=brand_id, phone=f"9{uuid.uuid4().int % 10**9:09d}")
        s.add(customer)
        s.flush()
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id)).first()
        assert product is not None
        loan = Loan(
            brand_id=brand_id, customer_id=customer.id, product_id=product.id, workflow_id=f"loan-{uuid.uuid4()}",
            amount=5_000_000, tenure=3, annual_rate_bps=2400, status="ACTIVE",
        )  # fmt: skip
        s.add(loan)
        s.flush()
        s.add(PaymentLink(
            loan_id=loan.id, installment_no=0, provider="cashfree", link_id=link_id, url="https://cfre.in/x",
            amount=4_000_000, purpose=purpose,
        ))  # fmt: skip
        return loan.id, link_id


def test_a_link_payment_without_notes_takes_its_links_purpose_read_with_its_loan(db, brand) -> None:  # noqa: ANN001
    """A Cashfree link payment names only its link: the link that finds its loan gives its purpose in the same read
    (``intake.as_paid`` then reads nothing); an event that names its loan but not the purpose still has the link's
    purpose read, in a transaction of its own, as before."""
    from activities.providers.webhooks import InboundEvent
    from api.webhooks import intake
    from workflows.contracts import PaymentEvent

    brand_id = brand["brand_id"]
    loan_id, link_id = _loan_with_link(db, brand_id, "FORECLOSURE")
    paid = PaymentEvent(f"{uuid.uuid4().int % 10**12}", 4_000_000, gateway="cashfree", link_id=link_id)
    by_link = InboundEvent(f"cf-{uuid.uuid4()}", "PAYMENT_SUCCESS_WEBHOOK", None, None, paid, is_payment=True)
    with db.unit_of_work() as s:
        stored = intake.store_in(s, "cashfree", brand_id, by_link, {"data": {}})
    assert (stored.loan_id, stored.by_link, stored.link_purpose) == (loan_id, True, "FORECLOSURE")
    with statements() as seen:
        taken = intake.as_paid(db, stored, paid)
    assert taken.purpose == "FORECLOSURE" and [sql for _, sql, _ in seen if "payment_links" in sql] == []

    named = InboundEvent(f"cf-{uuid.uuid4()}", "PAYMENT_SUCCESS_WEBHOOK", loan_id, None, paid, is_payment=True)
    with db.unit_of_work() as s:
        stored = intake.store_in(s, "cashfree", brand_id, named, {"data": {}})
    assert (stored.loan_id, stored.by_link, stored.link_purpose) == (loan_id, False, None)
    with statements() as seen:
        taken = intake.as_paid(db, stored, paid)
    assert taken.purpose == "FORECLOSURE" and [sql for _, sql, _ in seen if "FROM payment_links" in sql]


async def test_a_cashfree_link_callback_reads_its_links_purpose_only_with_its_store(app, brand, db) -> None:  # noqa: ANN001
    """The callback as Cashfree sends it for a link payment (the link's ids in the order's tags, none of our notes):
    the link's purpose is read in the store's transaction, and no statement reads it again before the loan is told."""
    from tests.integration.test_gateway_webhooks import _cashfree, _cashfree_payment

    brand_id = brand["brand_id"]
    _, link_id = _loan_with_link(db, brand_id, "FORECLOSURE")
    payment_id = str(uuid.uuid4().int % 10**12)
    tags = {"link_id": link_id, "cf_link_id": "4455667788"}
    raw, headers = _cashfree(_cashfree_payment("SUCCESS", payment_id, 4_000_000, tags, order_id=f"CFPay_{link_id}"))
    with statements() as seen:
        answer = await app.http.post(f"{app.api.url}/api/v1/webhooks/{brand_id}/cashfree", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    store = [t for t, sql, _ in seen if sql.startswith("INSERT INTO webhook_events")]
    found = [t for t, sql, params in seen if "AS link_purpose" in sql and link_id in str(params)]
    assert len(store) == 1 and found == store, seen  # the loan and its link's purpose, read in the store's transaction
    again = [sql for _, sql, _ in seen if sql.startswith("SELECT payment_links.purpose")]
    assert again == [], again
