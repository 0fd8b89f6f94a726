"""Autopay mandates over the public API with the real API, worker, Temporal dev server, PostgreSQL and the sandbox's
Razorpay: registration, the borrower's approval at the sandbox, ``token.confirmed`` delivered to the loan's workflow
(which records the mandate ACTIVE), a duplicate webhook, the refusals (before signing, a second live mandate,
another borrower's loan), a debit charged once however often its activity runs, cancellation, and a rejection."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities
from activities.providers.base import ProviderConfig, ProviderError
from activities.providers.payments.razorpay import RazorpayGateway
from activities.storage import LocalStorage
from db.models import BankAccount, Mandate, MandateDebit, WebhookEvent
from db.receipts import park_payment
from los.demo import Driver, demo_identity
from tests.conftest import eventually, signal_names
from tests.integration.test_staff_and_webhooks import _apply
from workflows.contracts import MandateDebitCheck, MandateDebitRequest, MandateDebitResult, MandateEvent

PRODUCT = "PL-MONTHLY"  # monthly dues: no autopay debit of the workflow's own falls inside the test


async def _until(driver: Driver, headers: dict, loan_id: str, *wanted: str) -> dict:
    async def probe():  # noqa: ANN202
        loan = await driver.loan(headers, loan_id)
        return loan if loan["status"] in wanted else None

    return await eventually(probe, timeout=90)


def _mandate(db, mandate_id: str) -> Mandate:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.get_one(Mandate, mandate_id)
        s.expunge(row)
        return row


def _account_id(db, loan_id: str) -> str:  # noqa: ANN001
    from db.models import Loan

    with db.unit_of_work() as s:
        customer_id = s.get_one(Loan, loan_id).customer_id
        return s.scalars(
            select(BankAccount.id).where(
                BankAccount.customer_id == customer_id, BankAccount.penny_drop_status == "VERIFIED"
            )
        ).first()


async def _razorpay_hooks(driver: Driver, event: str, mandate_id: str | None = None) -> list[dict]:
    """The sandbox's delivered Razorpay webhooks of ``event``; with ``mandate_id``, only those about that mandate (the
    sandbox is shared: other tests' loans register mandates too)."""
    hooks = (await driver.sandbox.get("/_webhooks")).json()
    found = [h for h in hooks if h["vendor"] == "razorpay" and h["payload"].get("event") == event]
    if mandate_id is not None:
        found = [h for h in found if mandate_id in json.dumps(h["payload"])]
    return [h for h in found if h["status"] is not None]  # delivered (the status is the API's answer)


async def _signals(client, workflow_id: str, name: str) -> int:  # noqa: ANN001
    return (await signal_names(client, workflow_id)).count(name)


async def test_mandate_refusals_before_signing_and_for_others(app, brand, sandbox) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "auto", product=PRODUCT)
        await _until(driver, headers, loan["id"], "SANCTIONED")
        url = f"/api/v1/web/loans/{loan['id']}/mandate"
        early = await driver.api.post(url, json={"method": "UPI"}, headers=headers)
        assert early.status_code == 409 and early.json()["errors"][0]["field"] == "status"
        bad = await driver.api.post(url, json={"method": "CHEQUE"}, headers=headers)
        assert bad.status_code == 422
        assert (await driver.api.get(url, headers=headers)).status_code == 404  # no mandate yet
        other = await driver.register(demo_identity(1, "auto")[0])
        for call in (driver.api.post(url, json={"method": "UPI"}, headers=other), driver.api.get(url, headers=other)):
            assert (await call).status_code == 404
    finally:
        await driver.close()


async def test_mandate_registered_confirmed_charged_once_cancelled_and_rejected(  # noqa: PLR0915
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "auto", product=PRODUCT)
        loan_id = loan["id"]
        await _until(driver, headers, loan_id, "SANCTIONED")
        await driver.accept_kfs(headers, loan_id)
        pending = await eventually(lambda: _signing(driver, headers, loan_id), timeout=90)
        await driver.sandbox.post(pending)
        await _until(driver, headers, loan_id, "AGREEMENT_SIGNED")
        await driver.staff_action("LOAN_EXECUTIVE", loan_id, "approve-disbursal")
        await _until(driver, headers, loan_id, "DISBURSED")
        url = f"/api/v1/web/loans/{loan_id}/mandate"

        # --- register (e-mandate on the verified account) ----------------------------------------------------
        body = {"method": "EMANDATE", "bankAccountId": _account_id(db, loan_id)}
        created = await driver._ok(await driver.api.post(url, json=body, headers=headers))
        assert (created["status"], created["method"], created["provider"]) == ("CREATED", "EMANDATE", "razorpay")
        assert created["maxAmount"] > 0 and created["maxAmount"] % 100 == 0
        assert "/razorpay/subscription_registration/" in created["registrationUrl"]
        second = await driver.api.post(url, json={"method": "UPI"}, headers=headers)
        assert second.status_code == 409 and second.json()["errors"][0]["field"] == "mandate"
        row = _mandate(db, created["mandateId"])
        assert row.status == "CREATED" and row.order_id.startswith("order_") and row.customer_ref.startswith("cust_")

        # --- the borrower approves: token.confirmed is delivered to the loan's workflow as mandate_updated -------
        approved = await driver._ok(
            await driver.sandbox.post(created["registrationUrl"] + "/authorize?outcome=approve")
        )
        token_id = approved["token_id"]
        mandate_id = created["mandateId"]
        hook = (await eventually(lambda: _razorpay_hooks(driver, "token.confirmed", mandate_id), timeout=30))[0]
        assert hook["status"] == 200
        await eventually(lambda: _signals(app.client, loan["workflowId"], "mandate_updated"), timeout=30)
        with db.unit_of_work() as s:
            stored = s.scalars(select(WebhookEvent).where(WebhookEvent.event_type == "token.confirmed",
                                                          WebhookEvent.loan_id == loan_id)).one()  # fmt: skip
            assert stored.delivered_at is not None
            account = stored.payload["payload"]["token"]["entity"]["bank_details"]["account_number"]
            assert account.startswith("XXXX")  # the stored event keeps only the last 4 digits
        # what the workflow records on that signal (record_mandate_event; a repeat changes nothing)
        activities = LoanActivities(
            db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url, app.settings.field_key()
        )
        env = ActivityEnvironment()
        event = _gateway(app).parse_webhook(hook["payload"], hook["headers"]).arg
        assert (event.mandate_id, event.status, event.token_id) == (created["mandateId"], "ACTIVE", token_id)
        assert await env.run(activities.record_mandate_event, event) == "ACTIVE"
        active = _mandate(db, created["mandateId"])
        assert active.status == "ACTIVE" and active.token_id == token_id and active.activated_at is not None
        assert await env.run(activities.record_mandate_event, event) == "ACTIVE"
        assert _mandate(db, created["mandateId"]).activated_at == active.activated_at
        # the same event again (Razorpay retries): duplicate, nothing changes, no second signal
        again = await driver.api.post(
            hook["url"], content=json.dumps(hook["payload"]).encode(), headers=hook["headers"]
        )
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        assert _mandate(db, created["mandateId"]).activated_at == active.activated_at
        assert await _signals(app.client, loan["workflowId"], "mandate_updated") == 1
        mine = await driver._ok(await driver.api.get(url, headers=headers))
        assert (mine["status"], mine["tokenId"], mine["registrationUrl"]) == ("ACTIVE", token_id, None)

        # --- one debit, its charge activity run twice: charged once at the gateway ----------------------------
        req = MandateDebitRequest(loan_id, created["mandateId"], 99, 1, 1_000_00, None,
                                  datetime.now(UTC) + timedelta(hours=25))  # fmt: skip
        debit_id = await env.run(activities.notify_mandate_debit, req)
        assert await env.run(activities.notify_mandate_debit, req) == debit_id
        more = dataclasses.replace(req, amount=5_000_00)  # more than the notice said: the notified amount is charged
        first = await env.run(activities.charge_mandate, more)
        second_try = await env.run(activities.charge_mandate, req)
        assert first.debit_id == second_try.debit_id == debit_id and first.status == "SENT"
        charges = (await driver.sandbox.get("/razorpay/_autopay/charges", params={"token_id": token_id})).json()
        assert len(charges) == 1 and charges[0]["notes"]["mandate_debit_id"] == debit_id
        assert charges[0]["amount"] == 1_000_00
        with db.unit_of_work() as s:
            debit = s.get_one(MandateDebit, debit_id)
            assert debit.payment_id == charges[0]["id"] and debit.order_id == charges[0]["order_id"]
        # the gateway's payment.captured reaches the API (credited to the loan like any payment) ...
        # (the loan's own workflow debits its installments through the mandate too: pick this debit's event)
        async def this_debit() -> list[dict]:
            hooks = await _razorpay_hooks(driver, "payment.captured")
            return [h for h in hooks if h["payload"]["payload"]["payment"]["entity"]["id"] == debit.payment_id]

        (captured,) = await eventually(this_debit, timeout=30)
        assert captured["status"] == 200
        # ... and the workflow puts it on the debit: CAPTURED stands, a later failure report changes nothing
        done = await env.run(activities.record_debit_outcome, MandateDebitResult(debit_id, "CAPTURED"))
        assert (done.status, done.reason) == ("CAPTURED", None)
        late = await env.run(activities.record_debit_outcome, MandateDebitResult(debit_id, "FAILED", "timeout"))
        assert late.status == "CAPTURED"
        staff = await driver.staff_headers("LOAN_EXECUTIVE")
        seen = await driver._ok(
            await driver.api.get(f"/api/v1/partner/brand/{driver._brand_id}/loans/{loan_id}/mandate", headers=staff)
        )
        assert seen["status"] == "ACTIVE" and seen["debits"][0]["debitId"] == debit_id

        # --- a charge whose answer is lost: Razorpay takes the debit, the lender never hears back (nor gets its
        # webhook). The charge's activity fails (its retries would find the order by its receipt; here they are
        # taken as spent), and the workflow's look-up asks Razorpay by the receipt although the row has no order:
        # the payment is found
        cut_off = dataclasses.replace(req, installment_no=98)
        cut_off_id = await env.run(activities.notify_mandate_debit, cut_off)
        fault = {"vendor": "razorpay", "mode": "answer_lost", "path": "/razorpay/payments/create/recurring"}
        (await driver.sandbox.post("/_faults", json=fault)).raise_for_status()
        # and its payment.captured never reaches the lender either (else the webhook would settle it first)
        lose = await driver.sandbox.post("/razorpay/_autopay/lose_next", params={"token_id": token_id})
        lose.raise_for_status()
        with pytest.raises(ProviderError):
            await env.run(activities.charge_mandate, cut_off)
        with db.unit_of_work() as s:
            row_now = s.get_one(MandateDebit, cut_off_id)
            assert (row_now.status, row_now.order_id) == ("NOTIFIED", None)  # the lender never heard
        found = await env.run(activities.find_mandate_debit, cut_off_id)
        charges = (await driver.sandbox.get("/razorpay/_autopay/charges", params={"token_id": token_id})).json()
        (taken,) = [c for c in charges if c["notes"]["mandate_debit_id"] == cut_off_id]
        assert found.payment is not None and found.payment.payment_id == taken["id"]
        assert found.payment.mandate_debit_id == cut_off_id and found.payment.amount == req.amount
        # the same payment parked for ops (its webhook's reference was an approved offline payment's: credited
        # already): the look-up does not credit it behind ops' back
        with db.unit_of_work() as s:
            park_payment(s, loan_id, gateway="razorpay", payment_id=taken["id"], amount=req.amount,
                         reason="reference is an offline payment's", payload={})  # fmt: skip
        assert await env.run(activities.find_mandate_debit, cut_off_id) == MandateDebitCheck(cut_off_id)

        # --- cancel: at the gateway and on the row --------------------------------------------------------------
        cancelled = await driver._ok(await driver.api.post(url + "/cancel", headers=headers))
        assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"]
        assert _mandate(db, created["mandateId"]).status == "CANCELLED"
        tokens = (await driver.sandbox.get(f"/razorpay/customers/{row.customer_ref}/tokens")).json()["items"]
        assert [t["recurring_details"]["status"] for t in tokens if t["id"] == token_id] == ["cancelled"]
        assert (await driver.api.post(url + "/cancel", headers=headers)).status_code == 409

        # --- a UPI mandate the borrower rejects -----------------------------------------------------------------
        upi = await driver._ok(await driver.api.post(url, json={"method": "UPI"}, headers=headers))
        await driver._ok(await driver.sandbox.post(upi["registrationUrl"] + "/authorize?outcome=reject"))
        hook = (await eventually(lambda: _razorpay_hooks(driver, "token.rejected", upi["mandateId"]), timeout=30))[0]
        assert hook["status"] == 200
        event = _gateway(app).parse_webhook(hook["payload"], hook["headers"]).arg
        assert await env.run(activities.record_mandate_event, event) == "REJECTED"
        rejected = _mandate(db, upi["mandateId"])
        assert rejected.failure_reason == "Rejected by bank" and rejected.token_id is None
        # a late confirmation of the cancelled mandate changes nothing
        late = MandateEvent(created["mandateId"], "ACTIVE", token_id)
        assert await env.run(activities.record_mandate_event, late) == "CANCELLED"
    finally:
        await driver.close()


def _gateway(app) -> RazorpayGateway:  # noqa: ANN001
    config = ProviderConfig("payments", "razorpay", "http://unused", webhook_secret="")
    return RazorpayGateway(app.http, config)


async def _signing(driver: Driver, headers: dict, loan_id: str) -> str | None:
    loan = await driver.loan(headers, loan_id)
    if loan["status"] == "AGREEMENT_PENDING" and loan.get("agreement"):
        return loan["agreement"]["signingUrl"]
    return None
