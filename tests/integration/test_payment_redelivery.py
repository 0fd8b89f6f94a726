"""The payment redelivery (workflows/payment_redelivery.py, schedule ``payment-redelivery``) over the real stack: an
API whose workflow engine is unreachable stores Razorpay's signed payment webhooks and answers 503, and the gateway
is taken to have given up retrying. The redelivery's run then signals the loan whose workflow runs (credited once,
by its workflow), keeps the money of a loan with no running workflow as its credit balance, and only marks delivered
an event whose payment another event already brought to its loan. A second run changes nothing; events younger
than ``GRACE`` are left alone; ``LOS_PAYMENT_REDELIVERY_EVERY_SECONDS=0`` registers no schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update

from activities.providers.webhooks import InboundEvent
from api.app import create_app
from api.webhooks import intake
from db import receipts
from db.models import Loan, OfflinePayment, PaymentLink, PaymentTransaction, StaffBrandRole, WebhookEvent
from db.webhook_events import undelivered_payments
from domain.ops_jobs import IST
from los.settings import Settings
from tests.conftest import ThreadedServer, eventually, free_port
from tests.integration import webhook_storm_events as ev
from worker import scheduled_job
from workflows.contracts import PaymentEvent, payment_as_json, payment_from_json
from workflows.payment_redelivery import GRACE, LOOKBACK, SCHEDULE_ID, PaymentRedeliveryWorkflow

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
    await app.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=app.task_queue
    )
    assert [at for _, at in _events(db, pay_running)] == [None] and [at for _, at in _events(db, pay_gone)] == [None]
    assert _credits(db, pay_running) == [] and _credits(db, pay_gone) == []

    _age(db, [pay_running, pay_gone, pay_told], GRACE + timedelta(minutes=1))
    out = await app.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=app.task_queue
    )
    assert out["delivered"] >= 1 and out["kept"] >= 1, out  # these, and any other test's left undelivered

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


def _stored(db, loan_id: str, payment: PaymentEvent, age: timedelta) -> str:  # noqa: ANN001
    """A payment event stored for ``loan_id`` as the intake stores one, never delivered, received ``age`` ago."""
    with db.unit_of_work() as s:
        row = WebhookEvent(
            provider=payment.gateway, event_id=f"evt_{uuid.uuid4().hex}", event_type="PAYMENT_SUCCESS_WEBHOOK",
            loan_id=loan_id, payload={}, signal_arg=payment_as_json(payment),
            received_at=datetime.now(UTC) - age,
        )  # fmt: skip
        s.add(row)
        s.flush()
        return str(row.id)


def _delivered_at(db, row_id: str) -> datetime | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(WebhookEvent.delivered_at).where(WebhookEvent.id == row_id))


def test_what_is_redelivered_and_how(db, brand) -> None:  # noqa: ANN001
    """``db.webhook_events.undelivered_payments``: money kept already (credited, or parked for ops) is only marked
    delivered; a payment only signalled before is redelivered (its loan may have dropped it); a link payment
    without our notes gets its link's purpose, every payment the IST day its event came, and one whose reference is
    an APPROVED offline payment's is named its twin; the loan's end is told."""
    running, ended = ev.seed_servicing_loans(db, brand["brand_id"], 2)
    with db.unit_of_work() as s:
        s.execute(update(Loan).where(Loan.id == ended.loan_id).values(status="COMPLETED"))
        staff = s.scalar(select(StaffBrandRole.staff_id).where(StaffBrandRole.brand_id == brand["brand_id"]))
        link = PaymentLink(
            loan_id=running.loan_id, installment_no=1, provider="cashfree", link_id=f"link_{uuid.uuid4().hex[:12]}",
            url="https://payments.example/l", amount=PAISE, purpose="FORECLOSURE",
        )  # fmt: skip
        utr = f"UTR{uuid.uuid4().hex[:12].upper()}"
        offline = OfflinePayment(
            brand_id=brand["brand_id"], loan_id=running.loan_id, amount=PAISE, paid_on=date(2026, 12, 1),
            mode="UPI", reference=utr, recorded_by=staff, status="APPROVED",
        )  # fmt: skip
        s.add_all([link, offline])
        s.flush()
        link_id, offline_id = link.link_id, str(offline.id)
    tag = uuid.uuid4().hex[:10]
    age = LOOKBACK - timedelta(hours=1)  # the oldest the run takes: this test's come first
    credited = PaymentEvent(f"cf_c{tag}", PAISE, "cashfree")
    parked = PaymentEvent(f"cf_p{tag}", PAISE, "cashfree")
    with db.unit_of_work() as s:
        assert receipts.record_credit_balance(s, running.loan_id, gateway="cashfree", payment_id=credited.payment_id,
                                              amount=PAISE)  # fmt: skip
        receipts.park_payment(s, running.loan_id, gateway="cashfree", payment_id=parked.payment_id, amount=PAISE,
                              reason="kept for ops", payload={})  # fmt: skip
    rows = {
        "credited": _stored(db, running.loan_id, credited, age),
        "parked": _stored(db, running.loan_id, parked, age),
        "linked": _stored(db, running.loan_id, PaymentEvent(f"cf_l{tag}", PAISE, "cashfree", link_id), age),
        "twin": _stored(db, running.loan_id, PaymentEvent(f"pay_t{tag}", PAISE, "razorpay", reference=utr), age),
        "ended": _stored(db, ended.loan_id, PaymentEvent(f"pay_e{tag}", PAISE, "razorpay"), age),
        "recent": _stored(db, running.loan_id, PaymentEvent(f"pay_r{tag}", PAISE, "razorpay"), GRACE / 2),
    }
    # an event about no payment, stored by the intake as every event is: SQL NULL, never taken (it was once JSON null,
    # which IS NOT NULL took); and a JSON null written by hand, left out too
    bank = intake.store(db, "idfc", brand["brand_id"], InboundEvent(f"evt_b{tag}", "payout.processed", running.loan_id,
                                                                     None, None), {})  # fmt: skip
    odd = _stored(db, running.loan_id, PaymentEvent(f"pay_o{tag}", PAISE, "razorpay"), age)
    with db.unit_of_work() as s:
        aged = datetime.now(UTC) - age
        s.execute(update(WebhookEvent).where(WebhookEvent.id == bank.row_id).values(received_at=aged))
        s.execute(text("UPDATE webhook_events SET signal_arg = 'null'::jsonb WHERE id = :id"), {"id": odd})
        assert s.scalar(select(WebhookEvent.signal_arg.is_(None)).where(WebhookEvent.id == bank.row_id)) is True
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        found = undelivered_payments(s, since=now - LOOKBACK, before=now - GRACE, limit=10_000)
    by_row = {u.row_id: u for u in found}
    assert bank.row_id not in by_row and odd not in by_row
    assert rows["credited"] not in by_row and _delivered_at(db, rows["credited"]) is not None
    assert rows["parked"] not in by_row and _delivered_at(db, rows["parked"]) is not None
    assert rows["recent"] not in by_row and _delivered_at(db, rows["recent"]) is None
    came_on = (now - age).astimezone(IST).date().isoformat()
    linked, twin, gone = by_row[rows["linked"]], by_row[rows["twin"]], by_row[rows["ended"]]
    assert (linked.payment["purpose"], linked.payment["paid_on"], linked.offline_twin) == ("FORECLOSURE", came_on, None)
    assert (linked.loan_id, linked.workflow_id, linked.loan_terminal) == (running.loan_id, f"loan-{running.loan_id}",
                                                                          False)  # fmt: skip
    assert (twin.offline_twin, twin.payment["purpose"]) == (offline_id, None)
    assert gone.loan_terminal and _delivered_at(db, rows["linked"]) is None


def test_a_payment_is_kept_as_its_loan_takes_it() -> None:
    """``webhook_events.signal_arg`` round trip: every field, an offline value date included."""
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
