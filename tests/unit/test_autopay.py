"""Razorpay autopay (e-mandate, UPI Autopay) against its sandbox twin, in process: the requests as Razorpay documents
them, the registration and its token webhooks (signed, parsed into ``mandate_updated``), a charge made once per
receipt, a refusal, a failed debit, a cancellation, and the parser's refusals."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.payments.mandate_base import (
    DebitLookup,
    DebitStatus,
    MandateAccount,
    MandateCustomer,
    MandateMethod,
    RegistrationRequest,
)
from activities.providers.payments.razorpay import RazorpayGateway
from activities.providers.webhooks import LoanSignal
from domain.errors import ValidationError
from sandbox.app import create_app
from workflows.contracts import MandateEvent
from workflows.options import IST

SECRET = "whsec-autopay-test"
LOAN = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"
MANDATE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CALLBACK = "http://lender.test/api/v1/webhooks/brand/razorpay"


@dataclass
class Gateway:
    adapter: RazorpayGateway
    app: Any
    sent: list[httpx.Request]  # what the adapter sent to the gateway
    hooks: list[httpx.Request]  # what the gateway sent back

    async def hook(self, n: int) -> httpx.Request:
        for _ in range(200):
            if len(self.hooks) >= n:
                return self.hooks[n - 1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.hooks)} webhooks, wanted {n}")

    def parse(self, hook: httpx.Request) -> Any:
        assert self.adapter.verify_webhook(hook.content, hook.headers)
        return self.adapter.parse_webhook(json.loads(hook.content), hook.headers)

    def body(self, path: str) -> dict:
        return json.loads(next(r for r in self.sent if r.url.path == path and r.method == "POST").content)

    async def register(self, method: MandateMethod = MandateMethod.EMANDATE, **kw: Any) -> Any:
        account = MandateAccount("Aarav Sharma", "123456789012", "HDFC0001234") if method != MandateMethod.UPI else None
        return await self.adapter.create_mandate_registration(
            RegistrationRequest(
                method=method,
                customer=MandateCustomer("Aarav Sharma", "9876543210", kw.pop("email", None)),
                max_amount=kw.pop("max_amount", 15_000_00),
                expire_at=int(time.time()) + 86400 * 400,
                receipt=MANDATE,
                description="Autopay for the loan",
                notes={"loan_id": LOAN, "mandate_id": MANDATE},
                account=account,
                callback_url=CALLBACK,
            )
        )

    async def authorise(self, url: str, outcome: str = "approve") -> dict:
        link_id = url.rsplit("/", 1)[1]
        resp = await self.adapter.http.post(
            f"http://sandbox/razorpay/subscription_registration/{link_id}/authorize", params={"outcome": outcome}
        )
        return resp.json()


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    app = create_app(webhook_secret=SECRET, delay_seconds=0.02)
    hooks: list[httpx.Request] = []
    sent: list[httpx.Request] = []

    def capture(req: httpx.Request) -> httpx.Response:
        hooks.append(req)
        return httpx.Response(200, json={"status": "delivered"})

    async def record(req: httpx.Request) -> None:
        await req.aread()
        sent.append(req)

    app.state.outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(capture))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", event_hooks={"request": [record]}
    ) as h:
        config = ProviderConfig("payments", "razorpay", "http://sandbox", "sandbox-razorpay-key", SECRET)
        yield Gateway(RazorpayGateway(h, config), app, sent, hooks)
        await asyncio.gather(*app.state.outbox.tasks, return_exceptions=True)


# --- registration: the requests Razorpay documents -----------------------------------------------------------------
async def test_emandate_registration_sends_the_documented_requests(gateway: Gateway) -> None:
    reg = await gateway.register(MandateMethod.EMANDATE)
    customer = gateway.body("/razorpay/customers")
    assert customer["contact"] == "9876543210" and customer["fail_existing"] == "0"
    link = gateway.body("/razorpay/subscription_registration/auth_links")
    assert (link["type"], link["amount"], link["currency"], link["receipt"]) == ("link", 0, "INR", MANDATE)
    sub = link["subscription_registration"]
    assert (sub["method"], sub["auth_type"], sub["max_amount"]) == ("emandate", "netbanking", 15_000_00)
    assert sub["expire_at"] > time.time()
    assert sub["bank_account"] == {
        "beneficiary_name": "Aarav Sharma",
        "account_number": "123456789012",
        "account_type": "savings",
        "ifsc_code": "HDFC0001234",
    }
    assert link["notes"] == {"loan_id": LOAN, "mandate_id": MANDATE}
    assert reg.customer_ref.startswith("cust_") and reg.order_id.startswith("order_")
    assert reg.url.endswith(f"/razorpay/subscription_registration/{reg.link_id}")
    order = gateway.app.state.sandbox["rzp_orders"][reg.order_id]
    assert order["token"]["max_amount"] == 15_000_00 and order["customer_id"] == reg.customer_ref


async def test_upi_registration_authorises_one_rupee_as_presented(gateway: Gateway) -> None:
    await gateway.register(MandateMethod.UPI)
    sub = gateway.body("/razorpay/subscription_registration/auth_links")
    assert gateway.body("/razorpay/subscription_registration/auth_links")["amount"] == 100
    assert sub["subscription_registration"]["frequency"] == "as_presented"
    assert "bank_account" not in sub["subscription_registration"]


async def test_nach_and_an_emandate_without_account_are_refused(gateway: Gateway) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await gateway.register(MandateMethod.NACH)
    assert refused.value.code == "METHOD_UNSUPPORTED"
    with pytest.raises(BusinessRefusal):  # the sandbox, as Razorpay, refuses a max amount of 0
        await gateway.register(MandateMethod.UPI, max_amount=0)


# --- token webhooks ------------------------------------------------------------------------------------------------
async def test_approval_confirms_the_token_and_signals_mandate_updated(gateway: Gateway) -> None:
    reg = await gateway.register()
    token_id = (await gateway.authorise(reg.url))["token_id"]
    hook = await gateway.hook(1)
    body = json.loads(hook.content)
    assert body["event"] == "token.confirmed" and body["contains"] == ["token"]
    assert body["payload"]["token"]["entity"]["recurring_details"] == {"status": "confirmed", "failure_reason": None}
    event = gateway.parse(hook)
    assert event.event_id == hook.headers["X-Razorpay-Event-Id"]
    assert (event.loan_ref, event.signal) == (LOAN, LoanSignal.MANDATE_UPDATED)
    assert event.arg == MandateEvent(MANDATE, "ACTIVE", token_id, None)
    tokens = await gateway.adapter.fetch_tokens(reg.customer_ref)
    assert [t["id"] for t in tokens] == [token_id]
    again = await gateway.adapter.http.post(
        f"http://sandbox/razorpay/subscription_registration/{reg.link_id}/authorize", params={"outcome": "approve"}
    )
    assert again.status_code == 400  # a link is authorised once


async def test_the_stored_event_keeps_only_the_accounts_last_four_digits(gateway: Gateway) -> None:
    reg = await gateway.register()
    await gateway.authorise(reg.url)
    body = json.loads((await gateway.hook(1)).content)
    assert body["payload"]["token"]["entity"]["bank_details"]["account_number"] == "123456789012"  # as documented
    stored = gateway.adapter.stored_payload(body)
    assert stored["payload"]["token"]["entity"]["bank_details"]["account_number"] == "XXXXXXXX9012"
    assert "123456789012" not in json.dumps(stored)
    assert body["payload"]["token"]["entity"]["bank_details"]["account_number"] == "123456789012"  # not changed
    other = {"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_1"}}}}
    assert gateway.adapter.stored_payload(other) == other


async def test_rejection_carries_the_banks_reason(gateway: Gateway) -> None:
    reg = await gateway.register()
    await gateway.authorise(reg.url, "reject")
    event = gateway.parse(await gateway.hook(1))
    assert event.event_type == "token.rejected"
    assert (event.arg.status, event.arg.reason) == ("REJECTED", "Rejected by bank")


async def test_a_forged_token_webhook_does_not_verify(gateway: Gateway) -> None:
    reg = await gateway.register()
    await gateway.authorise(reg.url)
    hook = await gateway.hook(1)
    forged = hook.content.replace(b"confirmed", b"cancelled")
    assert not gateway.adapter.verify_webhook(forged, hook.headers)


def test_token_events_the_parser_refuses_or_stores_only() -> None:
    adapter = RazorpayGateway(httpx.AsyncClient(), ProviderConfig("payments", "razorpay", "http://x"))
    headers = {"X-Razorpay-Event-Id": "evt_1"}

    def event(entity: Any, name: str = "token.confirmed") -> dict:
        return {"entity": "event", "event": name, "contains": ["token"], "payload": {"token": {"entity": entity}}}

    with pytest.raises(ValidationError) as missing_header:
        adapter.parse_webhook(event({"id": "token_1"}), {})
    assert missing_header.value.field == "header:X-Razorpay-Event-Id"
    with pytest.raises(ValidationError) as bad_entity:
        adapter.parse_webhook(event("token_1"), headers)
    assert bad_entity.value.field == "payload.token.entity"
    with pytest.raises(ValidationError) as bad_id:
        adapter.parse_webhook(event({"id": 7, "notes": {"loan_id": LOAN, "mandate_id": MANDATE}}), headers)
    assert bad_id.value.field == "payload.token.entity.id"
    with pytest.raises(ValidationError) as bad_notes:
        adapter.parse_webhook(event({"id": "token_1", "notes": "loan"}), headers)
    assert bad_notes.value.field == "payload.token.entity.notes"
    stored = adapter.parse_webhook(event({"id": "token_1", "notes": []}), headers)  # not one of ours
    assert (stored.loan_ref, stored.signal) == (None, None)
    other = adapter.parse_webhook(event({"id": "token_1"}, "token.resumed"), headers)
    assert (other.event_type, other.signal) == ("token.resumed", None)
    paused = adapter.parse_webhook(event({"id": "token_1", "notes": {"loan_id": LOAN, "mandate_id": MANDATE}},
                                         "token.paused"), headers)  # fmt: skip
    assert paused.arg == MandateEvent(MANDATE, "PAUSED", "token_1", None)


# --- charges -------------------------------------------------------------------------------------------------------
async def _confirmed(gateway: Gateway, **kw: Any) -> tuple[Any, str]:
    reg = await gateway.register(**kw)
    token_id = (await gateway.authorise(reg.url))["token_id"]
    await gateway.hook(1)
    return reg, token_id


NOTES = {"loan_id": LOAN, "mandate_debit_id": "5b6c7d8e-9f00-4a1b-8c2d-3e4f5a6b7c8d", "purpose": "INSTALLMENT"}


async def test_a_charge_is_made_once_per_receipt(gateway: Gateway) -> None:
    reg, token_id = await _confirmed(gateway)
    args = {"token_id": token_id, "customer_ref": reg.customer_ref, "amount": 5_000_00, "notes": NOTES}
    first = await gateway.adapter.charge_mandate(**args, receipt="debit-1", contact="9876543210")
    order = gateway.body("/razorpay/orders")
    assert order == {"amount": 5_000_00, "currency": "INR", "receipt": "debit-1", "notes": NOTES,
                     "payment_capture": True}  # fmt: skip
    payment = gateway.body("/razorpay/payments/create/recurring")
    assert (payment["recurring"], payment["token"], payment["customer_id"]) == ("1", token_id, reg.customer_ref)
    assert (payment["order_id"], payment["amount"], payment["currency"]) == (first.order_id, 5_000_00, "INR")
    assert first.status == DebitStatus.SENT and first.payment_id.startswith("pay_")
    captured = json.loads((await gateway.hook(2)).content)
    assert captured["event"] == "payment.captured"
    entity = captured["payload"]["payment"]["entity"]
    assert (entity["id"], entity["token_id"], entity["notes"]) == (first.payment_id, token_id, NOTES)
    again = await gateway.adapter.charge_mandate(**args, receipt="debit-1")
    assert (again.order_id, again.payment_id, again.status) == (first.order_id, first.payment_id, DebitStatus.CAPTURED)
    assert len(gateway.app.state.sandbox["rzp_payments"]) == 1


async def test_a_debits_capture_is_value_dated_the_ist_day_it_was_presented(gateway: Gateway) -> None:
    """``payment.captured`` for a mandate debit carries its value date: the IST day of the payment's ``created_at``
    (23:30 IST on 5 May here, 18:00 UTC), however late the bank confirmed it; a payment that is not a mandate
    debit carries none (the loan dates it the day it arrives)."""
    reg, token_id = await _confirmed(gateway)
    args = {"token_id": token_id, "customer_ref": reg.customer_ref, "amount": 5_000_00, "notes": NOTES}
    await gateway.adapter.charge_mandate(**args, receipt="debit-1")
    hook = await gateway.hook(2)
    body = json.loads(hook.content)
    body["payload"]["payment"]["entity"]["created_at"] = int(datetime(2026, 5, 5, 18, 0, tzinfo=UTC).timestamp())
    debit = gateway.adapter.parse_webhook(body, hook.headers).arg
    assert (debit.mandate_debit_id, debit.paid_on) == (NOTES["mandate_debit_id"], date(2026, 5, 5))
    body["payload"]["payment"]["entity"]["notes"] = {"loan_id": LOAN, "purpose": "INSTALLMENT"}
    assert gateway.adapter.parse_webhook(body, hook.headers).arg.paid_on is None
    body["payload"]["payment"]["entity"].update(notes=NOTES, created_at="yesterday")
    assert gateway.adapter.parse_webhook(body, hook.headers).arg.paid_on is None  # never refused for it
    body["payload"]["payment"]["entity"]["created_at"] = int(time.time()) + 86400 * 30  # never in the future
    assert gateway.adapter.parse_webhook(body, hook.headers).arg.paid_on == datetime.now(IST).date()


async def test_a_charge_above_the_mandate_is_refused_and_a_queued_failure_fails(gateway: Gateway) -> None:
    reg, token_id = await _confirmed(gateway, max_amount=1_000_00)
    args = {"token_id": token_id, "customer_ref": reg.customer_ref, "notes": NOTES}
    with pytest.raises(BusinessRefusal) as refused:
        await gateway.adapter.charge_mandate(**args, amount=1_000_01, receipt="debit-big")
    assert refused.value.status == 400 and "maximum amount" in str(refused.value)
    await gateway.adapter.http.post("http://sandbox/razorpay/_autopay/fail_next", params={"token_id": token_id})
    sent = await gateway.adapter.charge_mandate(**args, amount=1_000_00, receipt="debit-2")
    assert sent.status == DebitStatus.SENT
    failed = json.loads((await gateway.hook(2)).content)
    assert failed["event"] == "payment.failed"
    entity = failed["payload"]["payment"]["entity"]
    assert (entity["status"], entity["error_description"]) == ("failed", "Insufficient funds in the account")


async def test_cancel_deletes_the_token_and_no_charge_follows(gateway: Gateway) -> None:
    reg, token_id = await _confirmed(gateway)
    await gateway.adapter.cancel_mandate(token_id=token_id, customer_ref=reg.customer_ref)
    assert any(r.method == "DELETE" and r.url.path.endswith(f"/tokens/{token_id}") for r in gateway.sent)
    event = gateway.parse(await gateway.hook(2))
    assert (event.event_type, event.arg.status) == ("token.cancelled", "CANCELLED")
    await gateway.adapter.cancel_mandate(token_id=token_id, customer_ref=reg.customer_ref)  # twice: still cancelled
    with pytest.raises(BusinessRefusal):
        await gateway.adapter.charge_mandate(
            token_id=token_id, customer_ref=reg.customer_ref, amount=100_00, notes=NOTES, receipt="debit-x"
        )


# --- a debit whose outcome never arrived, looked up by its receipt ----------------------------------------------------
async def test_a_debit_whose_webhook_was_lost_is_found_captured_by_its_receipt(gateway: Gateway) -> None:
    reg, token_id = await _confirmed(gateway)
    await gateway.adapter.http.post("http://sandbox/razorpay/_autopay/lose_next", params={"token_id": token_id})
    args = {"token_id": token_id, "customer_ref": reg.customer_ref, "amount": 5_000_00, "notes": NOTES}
    sent = await gateway.adapter.charge_mandate(**args, receipt="debit-1")
    await asyncio.sleep(0.2)
    assert len(gateway.hooks) == 1  # the token's confirmation only: the payment's webhook was lost
    found = await gateway.adapter.find_debit("debit-1")
    assert found.failure is None and not found.pending and found.payment is not None
    payment = found.payment
    assert (payment.payment_id, payment.amount, payment.gateway) == (sent.payment_id, 5_000_00, "razorpay")
    assert (payment.purpose, payment.mandate_debit_id) == ("INSTALLMENT", NOTES["mandate_debit_id"])
    assert payment.mode == "EMANDATE"  # the token registered by e-mandate
    created = gateway.app.state.sandbox["rzp_payments"][sent.payment_id]["created_at"]
    assert payment.paid_on == datetime.fromtimestamp(created, IST).date()  # the IST day Razorpay took it
    gets = [(r.url.path, dict(r.url.params)) for r in gateway.sent if r.method == "GET"]
    payments_of = f"/razorpay/orders/{sent.order_id}/payments"
    assert gets[-2:] == [("/razorpay/orders", {"receipt": "debit-1"}), (payments_of, {})]
    # a second charge on the same token sends its webhook again (only the next one was lost)
    await gateway.adapter.charge_mandate(**args, receipt="debit-2")
    assert json.loads((await gateway.hook(2)).content)["event"] == "payment.captured"


async def test_a_lost_failure_is_found_failed_a_payment_in_progress_pending_and_no_order_nothing(
    gateway: Gateway,
) -> None:
    reg, token_id = await _confirmed(gateway)
    for control in ("fail_next", "lose_next"):
        await gateway.adapter.http.post(f"http://sandbox/razorpay/_autopay/{control}", params={"token_id": token_id})
    args = {"token_id": token_id, "customer_ref": reg.customer_ref, "amount": 5_000_00, "notes": NOTES}
    await gateway.adapter.charge_mandate(**args, receipt="debit-f")
    failed = await gateway.adapter.find_debit("debit-f")
    assert failed.payment is None and failed.failure is not None and not failed.pending
    assert failed.failure.reason and "Insufficient funds" in failed.failure.reason
    assert failed.failure.mandate_debit_id == NOTES["mandate_debit_id"]

    await gateway.adapter.http.post("http://sandbox/razorpay/_autopay/lose_next", params={"token_id": token_id})
    sent = await gateway.adapter.charge_mandate(**args, receipt="debit-p")
    gateway.app.state.sandbox["rzp_payments"][sent.payment_id]["status"] = "created"  # the bank still processing it
    assert (await gateway.adapter.find_debit("debit-p")) == DebitLookup(pending=True)
    assert (await gateway.adapter.find_debit("debit-never-charged")) == DebitLookup()
