"""Webhooks end to end in the vendors' documented shapes: a poisoned payment is refused at the door and
blocks nothing; money after closure is kept as the loan's credit balance; money for no known loan is
stored for ops; the sandbox sends both Razorpay payment events and each payment counts once."""

from __future__ import annotations

import time
import uuid

import httpx
from sqlalchemy import func, select

from db.models import LedgerEntry, LedgerTransaction, Loan, PaymentTransaction, WebhookEvent
from db.receipts import credit_balance
from los.demo import Driver, demo_identity
from tests.conftest import eventually, signal_names
from tests.integration.test_staff_and_webhooks import _payment_event, _signed


async def _disbursed(driver: Driver, scenario: str = "auto") -> tuple[dict, str]:
    """A PL-MONTHLY loan (real monthly EMIs: nothing falls due during the test) taken to DISBURSED."""
    phone, pan = demo_identity(0, scenario)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "25000", "tenure": 2, "productCode": "PL-MONTHLY"}, headers=headers
        )
    )
    deadline = time.monotonic() + 90
    await driver.complete_kyc(headers, loan["id"], deadline)
    await driver.wait_for(headers, loan["id"], lambda x: x["status"] == "SANCTIONED", "sanction", deadline)
    await driver.accept_kfs(headers, loan["id"])
    ready = await driver.wait_for(
        headers, loan["id"], lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
    )
    (await driver.sandbox.post(ready["agreement"]["signingUrl"])).raise_for_status()
    await driver.wait_for(headers, loan["id"], lambda x: x["status"] == "AGREEMENT_SIGNED", "signature", deadline)
    await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")
    await driver.wait_for(headers, loan["id"], lambda x: x["status"] == "DISBURSED", "disbursal", deadline)
    return headers, loan["id"]


def _stored(db, event_id: str) -> WebhookEvent | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalars(select(WebhookEvent).where(WebhookEvent.event_id == event_id)).first()


async def test_poisoned_payment_is_refused_and_blocks_nothing(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay"
    try:
        headers, loan_id = await _disbursed(driver)
        first_due = (await driver.loan(headers, loan_id))["schedule"][0]["totalPaise"]
        workflow_id = f"loan-{loan_id}"
        signals_before = await signal_names(app.client, workflow_id)

        async with httpx.AsyncClient() as http:
            for amount, field in ((10_000_000_000_000_000_000, "amount"), (12.5, "amount")):
                poison = _payment_event(loan_id, f"pay_{uuid.uuid4().hex[:10]}", 1)
                poison["payload"]["payment"]["entity"]["amount"] = amount
                body, hdrs = _signed("razorpay", poison)
                resp = await http.post(hook, content=body, headers=hdrs)
                assert resp.status_code == 422, resp.text
                assert resp.json()["errors"][0]["field"] == f"payload.payment.entity.{field}"
                assert _stored(db, hdrs["X-Razorpay-Event-Id"]) is None  # nothing stored
            nul = _payment_event(loan_id, "pay_\u0000x", first_due)
            body, hdrs = _signed("razorpay", nul)
            assert (await http.post(hook, content=body, headers=hdrs)).status_code == 422
            assert _stored(db, hdrs["X-Razorpay-Event-Id"]) is None
            assert await signal_names(app.client, workflow_id) == signals_before  # nothing signalled

            good = _payment_event(loan_id, f"pay_{uuid.uuid4().hex[:10]}", first_due)
            body, hdrs = _signed("razorpay", good)
            resp = await http.post(hook, content=body, headers=hdrs)
            assert resp.status_code == 200 and resp.json()["status"] == "delivered", resp.text

        async def paid():  # noqa: ANN202
            now = await driver.loan(headers, loan_id)
            return now if now["schedule"][0]["status"] == "PAID" else None

        await eventually(paid)
        with db.unit_of_work() as s:
            assert s.get_one(Loan, loan_id).total_collected == first_due
    finally:
        await driver.close()


async def test_money_after_closure_is_kept_and_unknown_money_is_stored(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(1, "auto"), amount=30_000, tenure=2)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED"
    loan_id = journey.loan_id

    # the sandbox sent both documented events for each link payment; each payment counted once
    async with httpx.AsyncClient() as http:
        sent = (await http.get(f"{sandbox.url}/_webhooks")).json()
    mine = [r for r in sent if r["vendor"] == "razorpay" and f"/{brand['brand_id']}/" in r["url"]]
    assert sorted({r["payload"]["event"] for r in mine}) == ["payment.captured", "payment_link.paid"]
    assert all("id" not in r["payload"] and r["headers"]["X-Razorpay-Event-Id"] for r in mine)
    assert all(r["status"] == 200 for r in mine)
    with db.unit_of_work() as s:
        rows = s.scalars(select(PaymentTransaction).where(PaymentTransaction.loan_id == loan_id)).all()
        assert len(rows) == 2 and len(mine) == 4
        collected = s.get_one(Loan, loan_id).total_collected

    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay"
    late = _payment_event(loan_id, f"pay_{uuid.uuid4().hex[:10]}", 123_45)  # paid again by UPI
    body, hdrs = _signed("razorpay", late)
    async with httpx.AsyncClient() as http:
        resp = await http.post(hook, content=body, headers=hdrs)
        assert resp.status_code == 200 and resp.json()["status"] == "recorded_as_credit_balance", resp.text
        again = await http.post(hook, content=body, headers=hdrs)  # the same delivery retried
        assert again.json()["status"] == "duplicate"
        body2, hdrs2 = _signed("razorpay", late)  # the same payment under another event id
        assert (await http.post(hook, content=body2, headers=hdrs2)).json()["status"] == "duplicate"

        # a payment naming no loan of this brand is stored, unmatched, for ops
        stray = _payment_event(str(uuid.uuid4()), f"pay_{uuid.uuid4().hex[:10]}", 500_00)
        body3, hdrs3 = _signed("razorpay", stray)
        resp = await http.post(hook, content=body3, headers=hdrs3)
        assert resp.status_code == 200 and resp.json()["status"] == "unmatched"

    with db.unit_of_work() as s:
        payment = s.scalars(
            select(PaymentTransaction).where(
                PaymentTransaction.gateway_payment_id == late["payload"]["payment"]["entity"]["id"]
            )
        ).one()
        assert (payment.loan_id, payment.amount, payment.excess_part) == (loan_id, 123_45, 123_45)
        assert credit_balance(s, loan_id) == 123_45
        assert s.get_one(Loan, loan_id).total_collected == collected + 123_45
        sums = s.execute(
            select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan_id)
            .group_by(LedgerEntry.transaction_id)
        ).all()
        assert sums and all(total == 0 for _, total in sums)
        unmatched = s.scalars(select(WebhookEvent).where(WebhookEvent.event_id == hdrs3["X-Razorpay-Event-Id"])).one()
        assert (unmatched.loan_id, unmatched.delivered_at, unmatched.event_type) == (None, None, "payment.captured")
