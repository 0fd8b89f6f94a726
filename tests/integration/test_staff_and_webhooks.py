"""Staff updates refused with nothing written; webhooks verified, stored once, never lost."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from activities.providers import signing
from activities.providers.esign.signzy import callback_password
from db.models import Loan, LoanStatusHistory, PaymentTransaction, WebhookEvent
from los.demo import Driver, demo_identity, random_account
from los.seed import SANDBOX_SECRET
from sandbox import gateway_events
from sandbox.webhooks import EVENT_ID_HEADERS
from tests.conftest import eventually


async def _apply(driver: Driver, scenario: str, product: str = "DEMO-FAST", tenure: int = 3) -> tuple[dict, dict]:
    phone, pan = demo_identity(0, scenario)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    # the account the money goes to; no email, so Signzy (which needs one) hands the signer to SignDesk
    await driver.add_account(headers, random_account())
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "25000", "tenure": tenure, "productCode": product}, headers=headers
        )
    )
    return headers, loan


async def _status(driver: Driver, headers: dict, loan_id: str, *wanted: str) -> dict:
    async def check():  # noqa: ANN202
        loan = await driver.loan(headers, loan_id)
        return loan if loan["status"] in wanted else None

    return await eventually(check)


async def _history_events(client, workflow_id: str) -> list[int]:  # noqa: ANN001
    """What the loan workflow recorded (its history's event types, workflow tasks left out) once it is idle: no
    workflow task and no activity pending, and the same history a moment later. A status row is written by a local
    activity before its workflow task completes, and the borrower's notice of that move may still be out, so a read
    right after the row appears can miss their events. Workflow tasks are left out because the server may keep the
    task it ran an update's validator in even when the validator refused the update (a task with no command: nothing
    the workflow did); anything a handler did (an accepted update, a marker, an activity, a timer) stays in."""
    handle = client.get_workflow_handle(workflow_id)
    last: list[list[int]] = []
    tasks = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    }

    async def idle() -> list[int] | None:
        described = (await handle.describe()).raw_description
        events = [e.event_type async for e in handle.fetch_history_events() if e.event_type not in tasks]
        busy = described.pending_activities or described.HasField("pending_workflow_task")
        settled = not busy and last and last[-1] == events
        last.append(events)
        return events if settled else None

    return await eventually(idle, timeout=30, interval=0.3)


def _history_rows(db, loan_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan_id))


async def test_sanction_refusals_change_nothing(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        rows_before = _history_rows(db, loan["id"])
        events_before = await _history_events(app.client, loan["workflowId"])
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"

        # wrong role → 403
        resp = await driver.api.post(f"{url}/sanction", headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))
        assert resp.status_code == 403, resp.text
        assert resp.json()["statusCode"] == 403 and resp.json()["path"].endswith("/sanction")
        # wrong state → 409 (disbursal cannot be approved under review)
        resp = await driver.api.post(f"{url}/approve-disbursal", headers=await driver.staff_headers("LOAN_EXECUTIVE"))
        assert resp.status_code == 409, resp.text
        # reject without a reason → 422
        resp = await driver.api.post(f"{url}/reject", json={}, headers=await driver.staff_headers("SANCTION_HEAD"))
        assert resp.status_code == 422, resp.text
        # another brand's staff → 404, whether they use their brand id or this one
        other = Driver(app.api.url, sandbox.url, "demo-other")
        from los.seed import seed_brand

        other_brand = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
        other.brand = other_brand["brand_code"]
        other_headers = await other.staff_headers("SANCTION_HEAD")
        resp = await driver.api.post(f"{url}/sanction", headers=other_headers)
        assert resp.status_code == 404
        resp = await driver.api.post(
            f"/api/v1/partner/brand/{other_brand['brand_id']}/loans/{loan['id']}/sanction", headers=other_headers
        )
        assert resp.status_code == 404
        resp = await driver.api.get(
            f"/api/v1/partner/brand/{other_brand['brand_id']}/loans/{loan['id']}", headers=other_headers
        )
        assert resp.status_code == 404
        await other.close()
        # no token → 401
        assert (await driver.api.post(f"{url}/sanction")).status_code == 401

        assert _history_rows(db, loan["id"]) == rows_before
        assert await _history_events(app.client, loan["workflowId"]) == events_before  # validators wrote nothing

        # the hierarchy works, and a second decision is refused
        await driver.staff_action("CREDIT_EXECUTIVE", loan["id"], "forward")
        await driver.staff_action("SANCTION_MANAGER", loan["id"], "approve")
        ok = await driver.api.post(
            f"{url}/sanction",
            json={"reason": "salary verified"},
            headers=await driver.staff_headers("SANCTION_HEAD"),
        )
        assert ok.status_code == 200 and ok.json()["status"] != "UNDER_REVIEW"
        again = await driver.api.post(
            f"{url}/reject",
            json={"reasonCode": "POLICY_DECLINE", "reason": "changed my mind"},
            headers=await driver.staff_headers("SANCTION_HEAD"),
        )
        assert again.status_code == 409
        with db.unit_of_work() as s:
            sanction = s.scalars(
                select(LoanStatusHistory).where(
                    LoanStatusHistory.loan_id == loan["id"], LoanStatusHistory.to_status == "SANCTIONED"
                )
            ).one()
            assert sanction.actor == "SANCTION_HEAD:sanction.head@" + brand["brand_code"] + ".example"
            assert sanction.action == "SANCTION" and sanction.reason.endswith("salary verified")
    finally:
        await driver.close()


async def test_staff_reject_with_reason(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        await driver.staff_action("CREDIT_EXECUTIVE", loan["id"], "forward")
        resp = await driver.api.post(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/reject",
            json={"reasonCode": "INCOME_INSUFFICIENT", "reason": "income not verifiable"},
            headers=await driver.staff_headers("SANCTION_MANAGER"),
        )
        assert resp.status_code == 200 and resp.json()["status"] == "REJECTED"
        with db.unit_of_work() as s:
            assert s.get_one(Loan, loan["id"]).status_reason == "rejected: [INCOME_INSUFFICIENT] income not verifiable"
    finally:
        await driver.close()


def _signed(
    vendor: str, payload: dict, secret: str = SANDBOX_SECRET, event_id: str | None = None
) -> tuple[bytes, dict]:
    """The body and headers a vendor sends: the signature, and (Razorpay, IDFC) the event id header."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", signing.SIGNATURE_HEADERS[vendor]: signing.sign(body, secret)}
    if vendor in EVENT_ID_HEADERS:
        headers[EVENT_ID_HEADERS[vendor]] = event_id or f"evt_{uuid.uuid4().hex[:14]}"
    return body, headers


def _payment_event(loan_id: str, payment_id: str, amount: int) -> dict:
    """A ``payment.captured`` event as Razorpay documents it, naming the loan in the payment's notes."""
    payment = gateway_events.razorpay_payment(payment_id, amount, "+919876543210", {"loan_id": loan_id}, "order_T1")
    return gateway_events.razorpay_payment_captured(payment)


async def test_webhooks_verify_store_once_and_survive_early_arrival(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}"
    try:
        headers, loan = await _apply(driver, "review", product="PL-MONTHLY", tenure=2)
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")

        # Signzy's callback, authenticated by the Basic credentials given with the contract (the loan id and a
        # password keyed with the brand's webhook secret); one about a contract the loan never opened changes nothing.
        stray = {"contractId": f"ctr_{uuid.uuid4().hex[:8]}", "customerId": "demo-lender", "contractName": "k",
                 "finalSignedContract": "JVBERi0=", "contractCompletionTime": 1, "signerCount": 1}  # fmt: skip
        body = json.dumps(stray).encode()
        creds = base64.b64encode(f"{loan['id']}:{callback_password(SANDBOX_SECRET, loan['id'])}".encode()).decode()
        hdrs = {"Content-Type": "application/json", "Authorization": f"Basic {creds}"}
        async with httpx.AsyncClient() as http:
            # bad credentials → 401 and nothing stored
            forged = base64.b64encode(f"{loan['id']}:{'00' * 32}".encode()).decode()
            bad = await http.post(f"{hook}/signzy", content=body, headers={**hdrs, "Authorization": f"Basic {forged}"})
            assert bad.status_code == 401
            with db.unit_of_work() as s:
                stored = select(func.count()).select_from(WebhookEvent).where(WebhookEvent.provider == "signzy")
                assert s.scalar(stored.where(WebhookEvent.event_id.like(f"{stray['contractId']}%"))) == 0
            # malformed (authenticated, but not an object the vendor sends) → 422, nothing stored
            junk = json.dumps({"hello": "world"}).encode()
            assert (await http.post(f"{hook}/signzy", content=junk, headers=hdrs)).status_code == 422
            resp = await http.post(f"{hook}/signzy", content=body, headers=hdrs)
            assert resp.status_code == 200 and resp.json()["status"] == "delivered"

        await driver.sanction_via_hierarchy(loan["id"])
        await _status(driver, headers, loan["id"], "SANCTIONED")
        await driver.accept_kfs(headers, loan["id"])
        pending = await _status(driver, headers, loan["id"], "AGREEMENT_PENDING")
        assert pending["agreement"]["docketId"] != stray["contractId"]  # the stray signature signed nothing
        await driver.sandbox.post(pending["agreement"]["signingUrl"])
        await _status(driver, headers, loan["id"], "AGREEMENT_SIGNED")
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")
        detail = await _status(driver, headers, loan["id"], "DISBURSED")
        first_due = detail["schedule"][0]["totalPaise"]
        ledger = await driver.api.get(
            f"/api/v1/partner/brand/{driver._brand_id}/loans/{loan['id']}/ledger",
            headers=await driver.staff_headers("ADMIN"),
        )
        entries = ledger.json()["entries"]
        assert ledger.status_code == 200 and entries and {e["kind"] for e in entries} >= {"DISBURSAL"}
        for key in {e["key"] for e in entries}:  # every posting balances
            assert sum(e["amountPaise"] for e in entries if e["key"] == key) == 0

        payment = _payment_event(loan["id"], f"pay_{uuid.uuid4().hex[:10]}", first_due)
        body, hdrs = _signed("razorpay", payment)
        async with httpx.AsyncClient() as http:
            first = await http.post(f"{hook}/razorpay", content=body, headers=hdrs)
            assert first.status_code == 200 and first.json()["status"] == "delivered"
            dup = await http.post(f"{hook}/razorpay", content=body, headers=hdrs)
            assert dup.status_code == 200 and dup.json()["status"] == "duplicate"
            # same payment id under a new event id (payment_link.paid after payment.captured): still one payment
            body2, hdrs2 = _signed("razorpay", payment)
            assert (await http.post(f"{hook}/razorpay", content=body2, headers=hdrs2)).status_code == 200

        async def paid_once():  # noqa: ANN202
            loan_now = await driver.loan(headers, loan["id"])
            return loan_now if loan_now["schedule"][0]["status"] == "PAID" else None

        after = await eventually(paid_once)
        with db.unit_of_work() as s:
            assert (
                s.scalar(
                    select(func.count()).select_from(PaymentTransaction).where(PaymentTransaction.loan_id == loan["id"])
                )
                == 1
            )
            assert s.get_one(Loan, loan["id"]).total_collected == first_due
        assert after["schedule"][1]["status"] == "PENDING"
        signals = [
            e
            for e in await _history_events(app.client, f"loan-{loan['id']}")
            if e == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        ]
        assert len(signals) >= 1
    finally:
        await driver.close()
