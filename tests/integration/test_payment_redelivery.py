"""The payment redelivery (workflows/payment_redelivery.py, schedule ``payment-redelivery``) over the real stack: an
API whose workflow engine is unreachable stores Razorpay's signed payment webhooks and answers 503, and the gateway
is taken to have given up retrying. The redelivery's run then signals the loan whose workflow runs (credited once,
by its workflow), keeps the money of a loan with no running workflow as its credit balance, and only marks delivered
an event whose payment another event already brought to its loan. A second run changes nothing; events younger
than ``GRACE`` are left alone; ``LOS_PAYMENT_REDELIVERY_EVERY_SECONDS=0`` registers no schedule."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from api.app import create_app
from db.models import Loan, PaymentTransaction, WebhookEvent
from los.settings import Settings
from tests.conftest import ThreadedServer, eventually, free_port
from tests.integration import webhook_storm_events as ev
from worker import scheduled_job
from workflows.contracts import PaymentEvent, payment_as_json, payment_from_json
from workflows.payment_redelivery import GRACE, SCHEDULE_ID, PaymentRedeliveryWorkflow

PAISE = 2_500_00


_PAYMENT_ID = WebhookEvent.payload["payload"]["payment"]["entity"]["id"].astext  # Razorpay's payment id


def _events(db, payment_id: str) -> list[tuple[str, datetime | None]]:  # noqa: ANN001
    """The stored events of a Razorpay payment: (event type, delivered_at)."""
    with db.unit_of_work() as s:
        rows = s.execute(
            select(WebhookEvent.event_type, WebhookEvent.delivered_at).where(_PAYMENT_ID == payment_id)
        ).all()
    return [tuple(r) for r in rows]


def _credits(db, payment_id: str) -> list[tuple[str, int, int]]:  # noqa: ANN001
    """The payment's credits: (loan id, amount, excess part)."""
    with db.unit_of_work() as s:
        rows = s.execute(
            select(PaymentTransaction.loan_id, PaymentTransaction.amount, PaymentTransaction.excess_part).where(
                PaymentTransaction.gateway == "razorpay", PaymentTransaction.gateway_payment_id == payment_id
            )
        ).all()
    return [tuple(r) for r in rows]


def _age(db, payment_ids: list[str], by: timedelta) -> None:  # noqa: ANN001
    """Date the payments' stored events ``by`` earlier (as if the gateway had retried, and given up, since)."""
    with db.unit_of_work() as s:
        s.execute(
            update(WebhookEvent).where(_PAYMENT_ID.in_(payment_ids)).values(received_at=WebhookEvent.received_at - by)
        )


async def _post(url: str, delivery: ev.Delivery) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{url}/api/v1/webhooks/{delivery.brand_id}/{delivery.vendor}",
                               content=delivery.body, headers=delivery.headers)  # fmt: skip


def _for(brand_id: str, delivery: ev.Delivery) -> ev.Delivery:
    return ev.Delivery(delivery.vendor, delivery.body, delivery.headers, delivery.forged, brand_id)


async def test_payments_stored_but_never_delivered_reach_their_loans_once(  # noqa: ANN001
    app, brand, sandbox, db, database_url
) -> None:
    brand_id = brand["brand_id"]
    running, never_started, told = ev.seed_servicing_loans(db, brand_id, 3)
    await ev.start_servicing(app.client, app.task_queue, [running, told])  # the second loan's workflow never ran
    pay_running, pay_gone, pay_told = (f"pay_RD{uuid.uuid4().hex[:12]}" for _ in range(3))

    # an API whose workflow engine cannot be reached: it stores each event, answers 503, and the gateway retries
    # (here: gives up)
    cut_off = Settings(
        database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}", api_port=free_port(),
        storage_dir=app.settings.storage_dir,
    )  # fmt: skip
    with ThreadedServer(create_app(cut_off), port=cut_off.api_port) as down:
        for loan, payment_id in ((running, pay_running), (never_started, pay_gone), (told, pay_told)):
            answer = await _post(down.url, _for(brand_id, ev.razorpay_captured(loan.loan_id, payment_id, PAISE)))
            assert answer.status_code == 503, answer.text
    for payment_id in (pay_running, pay_gone, pay_told):
        assert [at for _, at in _events(db, payment_id)] == [None]  # stored, never delivered
        assert _credits(db, payment_id) == []
    # the third payment reaches its loan by its other event (Razorpay's payment_link.paid), through the API that works
    answer = await _post(app.api.url, _for(brand_id, ev.razorpay_link_paid(told.loan_id, pay_told, PAISE)))
    assert answer.json()["status"] == "delivered", answer.text
    await eventually(lambda: len(_credits(db, pay_told)) == 1)

    # too recent: left to the intake and the gateway's retries
    first = await app.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=app.task_queue
    )
    assert _credits(db, pay_running) == [] and _credits(db, pay_gone) == []
    assert first["failed"] == 0

    _age(db, [pay_running, pay_gone, pay_told], GRACE + timedelta(minutes=1))
    out = await app.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=app.task_queue
    )
    assert out["delivered"] >= 1 and out["kept"] >= 1 and out["failed"] == 0, out

    # signalled: its loan's workflow applied it to the dues (nothing of it is excess)
    await eventually(lambda: len(_credits(db, pay_running)) == 1)
    assert _credits(db, pay_running) == [(running.loan_id, PAISE, 0)]
    with db.unit_of_work() as s:
        assert s.scalar(select(Loan.total_collected).where(Loan.id == running.loan_id)) == PAISE
    # no workflow to take it: kept whole as the loan's credit balance
    assert _credits(db, pay_gone) == [(never_started.loan_id, PAISE, PAISE)]
    # brought by its other event: credited once, and its first event marked delivered without a second signal
    assert len(_credits(db, pay_told)) == 1
    for payment_id in (pay_running, pay_gone, pay_told):
        assert all(at is not None for _, at in _events(db, payment_id)), payment_id

    # a second run: nothing of these is sent or recorded again
    await app.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=app.task_queue
    )
    assert _credits(db, pay_running) == [(running.loan_id, PAISE, 0)]
    assert _credits(db, pay_gone) == [(never_started.loan_id, PAISE, PAISE)]
    assert len(_credits(db, pay_told)) == 1
    with db.unit_of_work() as s:
        assert s.scalar(select(Loan.total_collected).where(Loan.id == running.loan_id)) == PAISE


def test_a_payment_is_kept_as_its_loan_takes_it() -> None:
    """``webhook_events.signal_arg`` round trip: every field, an offline value date included."""
    from datetime import date

    payment = PaymentEvent("pay_1", 1_00, "cashfree", "link_1", "UPI", "RRN1", "FORECLOSURE", None, date(2026, 12, 7))
    assert payment_from_json(payment_as_json(payment)) == payment
    assert payment_from_json({**payment_as_json(PaymentEvent("pay_2", 5)), "field_of_later": 1}) == PaymentEvent(
        "pay_2", 5
    )


@pytest.mark.parametrize("every", [0, 120])
def test_the_redelivery_runs_as_often_as_told_or_not_at_all(every: int) -> None:
    spec = scheduled_job(SCHEDULE_ID).spec(Settings(payment_redelivery_every_seconds=every))
    if every == 0:
        assert spec is None
    else:
        assert spec is not None and [i.every for i in spec.intervals] == [timedelta(seconds=every)]
    assert Settings().payment_redelivery_every_seconds == 300
