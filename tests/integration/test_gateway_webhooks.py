"""The payment gateways over real HTTP (API, worker, sandbox, Temporal, PostgreSQL): a loan repaid through each
gateway's links to COMPLETED, a failed attempt before the successful one recorded and told to the loan but credited
never; duplicate, out-of-order, forged and stale events credit nothing twice and nothing forged; a primary gateway
that is down gives way to the next one for the link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from db.models import Brand, Loan, PaymentAttempt, PaymentLink, PaymentTransaction, WebhookEvent
from los.demo import Driver, Journey, demo_identity
from los.seed import SANDBOX_SECRET
from sandbox import gateway_events
from tests.conftest import eventually, signal_names
from tests.integration.test_staff_and_webhooks import _signed
from tests.integration.test_webhooks_documented import _disbursed


def _use_gateways(db, brand_id: str, primary: str, razorpay_key: str | None = None) -> None:  # noqa: ANN001
    """Make ``primary`` the brand's primary payment gateway (the others stay, in their order, as fallbacks)."""
    with db.unit_of_work() as s:
        brand = s.get_one(Brand, brand_id)
        config = dict(brand.config)
        providers = dict(config["providers"])
        entries = []
        for entry in providers["payments"]:
            entry = {**entry, "primary": entry["vendor"] == primary}
            if razorpay_key and entry["vendor"] == "razorpay":
                entry["api_key"] = razorpay_key
            entries.append(entry)
        providers["payments"] = entries
        config["providers"] = providers
        brand.config = config


def _rows(db, model, *where) -> list:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(select(model).where(*where)).all()
        s.expunge_all()
        return list(rows)


def _collected(db, loan_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.get_one(Loan, loan_id).total_collected


async def _begin(driver: Driver, index: int) -> tuple[dict[str, str], Journey, dict[str, Any], float, float]:
    """A DEMO-FAST loan (an installment every 2 s) taken to DISBURSED: (headers, journey, loan, start, deadline)."""
    start = time.monotonic()
    deadline = start + driver.timeout
    phone, pan = demo_identity(index, "auto")
    j = Journey(phone=phone, pan=pan)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    body = {"amount": "30000", "tenure": 2, "productCode": "DEMO-FAST"}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    j.loan_id, j.workflow_id = created["id"], created["workflowId"]
    await driver.complete_kyc(headers, j.loan_id, deadline)
    loan = await driver.to_signature(headers, j, deadline)
    await driver.sign(headers, j, loan, deadline)
    loan = await driver.disburse(headers, j, deadline)
    return headers, j, loan, start, deadline


def _cashfree(payload: dict, secret: str = SANDBOX_SECRET, at_ms: int | None = None) -> tuple[bytes, dict]:
    raw = json.dumps(payload).encode()
    if at_ms is None:
        return raw, {"Content-Type": "application/json", **gateway_events.cashfree_headers(raw, secret)}
    stamp = str(at_ms)
    digest = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    return raw, {"Content-Type": "application/json", "x-webhook-timestamp": stamp, "x-webhook-signature": signature}


def _cashfree_payment(status: str, payment_id: str, paise: int, tags: dict, order_id: str = "CFPay_t_1") -> dict:
    order = {"order_id": order_id, "amount": paise, "tags": tags}
    attempt = {"cf_payment_id": payment_id, "status": status, "amount": paise, "message": "declined by the bank"}
    return gateway_events.cashfree_payment_webhook(order, attempt, "9876543210")


@pytest.mark.parametrize("primary", ["razorpay", "cashfree", "paytring"])
async def test_a_loan_is_repaid_through_each_gateway(app, brand, sandbox, db, primary: str) -> None:  # noqa: ANN001
    """The brand's primary gateway makes every link; the first installment's payer fails once and then pays on the
    same link: the failure reaches the loan (``payment_failed``), is kept as a FAILED attempt and credits nothing;
    each payment is credited once; the loan completes."""
    _use_gateways(db, brand["brand_id"], primary)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, j, loan, start, deadline = await _begin(driver, 3)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x.get("paymentLink"), "a payment link", deadline)
        first = loan["paymentLink"]
        paid = (await driver.sandbox.post(first["url"], params={"outcome": "failed_then_success"})).json()
        loan = await driver.wait_for(
            headers,
            j.loan_id,
            lambda x: (
                x["status"] == "COMPLETED"
                or (x.get("paymentLink") is not None and x["paymentLink"]["linkId"] != first["linkId"])
            ),
            "the next payment link",
            deadline,
        )
        j = await driver.repay(headers, j, loan, deadline, start)
    finally:
        await driver.close()
    assert j.status == "COMPLETED"

    links = _rows(db, PaymentLink, PaymentLink.loan_id == j.loan_id)
    assert links and {link.provider for link in links} == {primary}
    payments = _rows(db, PaymentTransaction, PaymentTransaction.loan_id == j.loan_id)
    assert {p.gateway for p in payments} == {primary}
    assert sum(p.amount for p in payments) == j.total_collected == _collected(db, j.loan_id)
    attempts = _rows(db, PaymentAttempt, PaymentAttempt.loan_id == j.loan_id)
    captured = {a.gateway_payment_id for a in attempts if a.status == "CAPTURED"}
    failed = [a for a in attempts if a.status == "FAILED"]
    assert captured == {p.gateway_payment_id for p in payments}  # every credited payment, once
    assert len(failed) == 1 and failed[0].failure_reason and failed[0].gateway == primary
    assert failed[0].gateway_payment_id not in captured
    if primary == "cashfree":  # both attempts were made on the link's one order, each its own cf_payment_id
        (first_paid,) = [a for a in attempts if a.gateway_payment_id == paid["payments"][1]["cf_payment_id"]]
        assert failed[0].order_id == first_paid.order_id == first["linkId"]
        assert failed[0].gateway_payment_id == paid["payments"][0]["cf_payment_id"]
    assert "payment_failed" in await signal_names(app.client, j.workflow_id)

    async with httpx.AsyncClient() as http:
        sent = [r for r in (await http.get(f"{sandbox.url}/_webhooks")).json() if f"/{brand['brand_id']}/" in r["url"]]
    ours = [r for r in sent if r["vendor"] == primary]
    assert ours and all(r["status"] == 200 for r in ours), [
        (r["payload"], r["status"]) for r in ours if r["status"] != 200
    ]

    if primary == "cashfree":  # a failed attempt reported after the loan ended is stored, and changes nothing
        raw, hdrs = _cashfree(_cashfree_payment("FAILED", "9900000001", 100_00, {"loan_id": j.loan_id}))
        async with httpx.AsyncClient() as http:
            answer = (
                await http.post(
                    f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/cashfree", content=raw, headers=hdrs
                )
            ).json()
        assert (answer["status"], answer["reason"]) == ("ignored", "the loan has ended")
        (late,) = _rows(db, PaymentAttempt, PaymentAttempt.gateway_payment_id == "9900000001")
        assert (late.status, late.loan_id) == ("FAILED", j.loan_id)
        assert _collected(db, j.loan_id) == j.total_collected


async def test_duplicate_out_of_order_forged_and_stale_events_credit_once(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Cashfree (the brand's primary) made the link; events about its payment arrive signed, forged, stale,
    repeated, and a failure after the capture: the payment is credited once and nothing else counts."""
    _use_gateways(db, brand["brand_id"], "cashfree")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}"
    try:
        headers, loan_id = await _disbursed(driver)
        loan = await driver.wait_for(
            headers, loan_id, lambda x: x.get("paymentLink"), "a payment link", time.monotonic() + 60
        )
        link = loan["paymentLink"]
        (row,) = _rows(db, PaymentLink, PaymentLink.loan_id == loan_id)
        assert row.provider == "cashfree" and row.link_id == link["linkId"]
        due = loan["schedule"][0]["totalPaise"]
        # a payment on the link: its order names only the link (as Cashfree tags a link's order), not the loan
        tags = {"cf_link_id": "123", "link_id": link["linkId"]}
        captured = _cashfree_payment("SUCCESS", "7700000001", due, tags)
        failed_before = _cashfree_payment("FAILED", "7700000000", due, tags)
        async with httpx.AsyncClient() as http:

            async def post(vendor: str, raw: bytes, hdrs: dict) -> httpx.Response:
                return await http.post(f"{hook}/{vendor}", content=raw, headers=hdrs)

            # forged (another secret; a body altered after signing) and stale or future signatures: 401, nothing kept
            for raw, hdrs in (
                _cashfree(captured, secret="not-the-secret"),
                (json.dumps(captured).encode().replace(b'"INR"', b'"INR" '), _cashfree(captured)[1]),
                _cashfree(captured, at_ms=int((time.time() - 600) * 1000)),
                _cashfree(captured, at_ms=int((time.time() + 600) * 1000)),
            ):
                assert (await post("cashfree", raw, hdrs)).status_code == 401
            assert not _rows(db, WebhookEvent, WebhookEvent.event_id == "PAYMENT_SUCCESS_WEBHOOK:7700000001")
            assert not _rows(db, PaymentAttempt, PaymentAttempt.gateway_payment_id == "7700000001")

            # an attempt that failed: told to the loan, kept as FAILED, no money
            answer = (await post("cashfree", *_cashfree(failed_before))).json()
            assert answer["status"] == "delivered", answer
            # the payment itself, then the same event again (a retry, signed afresh), then its failure out of order
            assert (await post("cashfree", *_cashfree(captured))).json()["status"] == "delivered"
            assert (await post("cashfree", *_cashfree(captured))).json()["status"] == "duplicate"
            late_failure = _cashfree_payment("FAILED", "7700000001", due, tags)
            answer = (await post("cashfree", *_cashfree(late_failure))).json()
            assert (answer["status"], answer["reason"]) == ("ignored", "the payment was captured"), answer
            # the link's own event about the same payment is stored, and credits nothing
            link_row = {"cf_link_id": 123, "link_id": link["linkId"], "link_status": "PAID", "amount": due,
                        "amount_paid": due, "link_created_at": "2026-01-01T10:00:00+05:30", "link_url": link["url"],
                        "link_notes": {"loan_id": loan_id}}  # fmt: skip
            attempt = {"cf_payment_id": "7700000001", "status": "SUCCESS", "amount": due}
            event = gateway_events.cashfree_link_event(link_row, {"order_id": "CFPay_t_1"}, attempt)
            assert (await post("cashfree", *_cashfree(event))).json()["status"] == "ignored"

            # Razorpay and Paytring refuse forged deliveries too
            forged_rzp = gateway_events.razorpay_payment_captured(
                gateway_events.razorpay_payment("pay_forged", due, None, {"loan_id": loan_id}, "order_f")
            )
            raw, hdrs = _signed("razorpay", forged_rzp, secret="not-the-secret")
            assert (await post("razorpay", raw, hdrs)).status_code == 401
            order = {"order_id": "1", "receipt_id": "r", "notes": {"udf1": loan_id}}
            callback = gateway_events.paytring_callback(order, {"id": "pt_forged", "status": "success", "amount": due})
            raw = json.dumps(callback).encode()
            hdrs = gateway_events.paytring_headers(raw, "not-the-secret")
            assert (await post("paytring", raw, {**hdrs, "Content-Type": "application/json"})).status_code == 401
            # a Razorpay failure reported after the capture of the same payment changes nothing either
            rzp = gateway_events.razorpay_payment("pay_rzp_1", 100_00, None, {"loan_id": loan_id}, "order_r")
            raw, hdrs = _signed("razorpay", gateway_events.razorpay_payment_captured(rzp))
            assert (await post("razorpay", raw, hdrs)).json()["status"] == "delivered"
            raw, hdrs = _signed("razorpay", gateway_events.razorpay_payment_failed(rzp))
            assert (await post("razorpay", raw, hdrs)).json()["reason"] == "the payment was captured"

        async def paid() -> dict | None:
            now = await driver.loan(headers, loan_id)
            return now if now["schedule"][0]["status"] == "PAID" else None

        await eventually(paid)
        await eventually(lambda: _collected(db, loan_id) == due + 100_00)
        # a payment the loan credited with no attempt kept (as an autopay debit found captured by the workflow's
        # look-up, its webhooks lost), then its failure, late: nothing to act on, and the attempt kept as captured
        with db.unit_of_work() as s:
            s.execute(delete(PaymentAttempt).where(PaymentAttempt.gateway_payment_id == "pay_rzp_1"))
        late = gateway_events.razorpay_payment_failed(rzp)
        raw, hdrs = _signed("razorpay", late)
        async with httpx.AsyncClient() as http:
            answer = (await http.post(f"{hook}/razorpay", content=raw, headers=hdrs)).json()
        assert (answer["status"], answer["reason"]) == ("ignored", "the payment was captured"), answer
    finally:
        await driver.close()
    payments = _rows(db, PaymentTransaction, PaymentTransaction.loan_id == loan_id)
    assert sorted((p.gateway, p.gateway_payment_id, p.amount) for p in payments) == [
        ("cashfree", "7700000001", due),
        ("razorpay", "pay_rzp_1", 100_00),
    ]
    attempts = {a.gateway_payment_id: a for a in _rows(db, PaymentAttempt, PaymentAttempt.loan_id == loan_id)}
    assert {k: a.status for k, a in attempts.items()} == {
        "7700000000": "FAILED",
        "7700000001": "CAPTURED",
        "pay_rzp_1": "CAPTURED",
    }
    assert attempts["7700000001"].order_id == link["linkId"] and attempts["pay_rzp_1"].method == "UPI"
    assert not _rows(db, PaymentAttempt, PaymentAttempt.gateway_payment_id.in_(["pay_forged", "pt_forged"]))


async def test_a_primary_gateway_that_is_down_gives_way_to_the_next(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Razorpay (primary) answers 503 to every link request: the link is made by Cashfree, the next gateway, and
    the borrower pays it there."""
    key = f"rzp-{uuid.uuid4().hex[:10]}"  # a key of this test's own, so the drill touches no other test
    _use_gateways(db, brand["brand_id"], "razorpay", razorpay_key=key)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
        fault = {"vendor": "razorpay", "mode": "503", "times": 0, "api_key": key, "path": "/razorpay/payment_links"}
        (await sbx.post("/_faults", json=fault)).raise_for_status()
        try:
            headers, loan_id = await _disbursed(driver)
            loan = await driver.wait_for(
                headers, loan_id, lambda x: x.get("paymentLink"), "a payment link", time.monotonic() + 60
            )
            (row,) = _rows(db, PaymentLink, PaymentLink.loan_id == loan_id)
            assert row.provider == "cashfree" and "/cashfree/pay/" in loan["paymentLink"]["url"]
            faults = [f for f in (await sbx.get("/_faults")).json() if f.get("api_key") == key]
            assert faults and faults[0]["hits"] >= 1  # Razorpay was asked first
            (await sbx.post(loan["paymentLink"]["url"])).raise_for_status()

            async def paid() -> dict | None:
                now = await driver.loan(headers, loan_id)
                return now if now["schedule"][0]["status"] == "PAID" else None

            await eventually(paid)
        finally:
            await sbx.delete("/_faults", params={"vendor": "razorpay"})
            await driver.close()
    (payment,) = _rows(db, PaymentTransaction, PaymentTransaction.loan_id == loan_id)
    assert payment.gateway == "cashfree"


async def test_razorpay_sends_two_events_a_link_payment_and_the_loan_is_signalled_once(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Razorpay sends ``payment.captured`` and ``payment_link.paid`` for one payment on a link: once one of them is
    delivered to the loan, the other is stored and answered ``duplicate`` without a second signal, whichever came
    first; each payment is credited once (the sandbox's own pair, sent 50 ms apart, may both be signalled when the
    first is not delivered yet: it is only checked to credit once)."""
    _use_gateways(db, brand["brand_id"], "razorpay")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay"
    try:
        headers, loan_id = await _disbursed(driver)
        workflow_id = f"loan-{loan_id}"
        loan = await driver.wait_for(
            headers, loan_id, lambda x: x.get("paymentLink"), "a payment link", time.monotonic() + 60
        )
        link = loan["paymentLink"]
        # the borrower pays the link at the sandbox's Razorpay, which sends both events (captured first)
        first = (await driver.sandbox.post(link["url"])).json()["payment_id"]
        await eventually(lambda: _collected(db, loan_id) == link["amountPaise"])

        def both_delivered() -> list:
            rows = _rows(db, WebhookEvent, WebhookEvent.loan_id == loan_id, WebhookEvent.provider == "razorpay")
            ours = [r for r in rows if first in json.dumps(r.payload)]
            return ours if len(ours) == 2 and all(r.delivered_at for r in ours) else []

        events = await eventually(both_delivered)
        assert {e.event_type for e in events} == {"payment.captured", "payment_link.paid"}
        signals_before = await signal_names(app.client, workflow_id)
        # two part-payments on other links, each pair of events sent one after the other: captured first, then the
        # other way round (payment_link.paid first)
        answers = []
        async with httpx.AsyncClient() as http:
            for n, link_paid_first in ((1, False), (2, True)):
                rzp = gateway_events.razorpay_payment(f"pay_two_events_{n}", 100_00, None, {"loan_id": loan_id}, "o")
                entity = {"id": f"plink_twoEvents{n}", "amount": 100_00, "notes": {"loan_id": loan_id}}
                pair = [
                    gateway_events.razorpay_payment_captured(rzp),
                    gateway_events.razorpay_payment_link_paid(entity, rzp, f"https://rzp.io/i/twoEvents{n}"),
                ]
                for payload in reversed(pair) if link_paid_first else pair:
                    raw, hdrs = _signed("razorpay", payload)
                    answers.append((await http.post(hook, content=raw, headers=hdrs)).json())
        assert [a["status"] for a in answers] == ["delivered", "duplicate"] * 2, answers
        assert {a["reason"] for a in answers[1::2]} == {"payment already delivered to the loan"}
        await eventually(lambda: _collected(db, loan_id) == link["amountPaise"] + 2 * 100_00)
    finally:
        await driver.close()
    signals = await signal_names(app.client, workflow_id)
    new = signals[len(signals_before) :]
    assert new.count("payment_received") == 2  # one signal a payment, not one an event
    paid = [first, "pay_two_events_1", "pay_two_events_2"]
    with db.unit_of_work() as s:  # delivered_at is deferred in the model: read as columns
        attempts = s.execute(
            select(PaymentAttempt.status, PaymentAttempt.delivered_at).where(
                PaymentAttempt.gateway_payment_id.in_(paid)
            )
        ).all()
    assert len(attempts) == 3 and all(status == "CAPTURED" and at is not None for status, at in attempts)
    payments = _rows(db, PaymentTransaction, PaymentTransaction.loan_id == loan_id)
    assert sorted(p.gateway_payment_id for p in payments) == sorted(paid)  # each credited once
