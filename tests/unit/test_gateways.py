"""The payment gateways' adapters: each signature scheme (good, forged, stale), each webhook parsed into the payment
or the failed attempt it reports, every malformed field named; amounts exact between rupees and paise; links made
at the primary gateway or, when it is down, the next; the sandbox's webhooks in the documented shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.payments import base as pb
from activities.providers.payments.cashfree import CashfreeGateway, link_id_for
from activities.providers.payments.links import cancel_link, create_link, webhook_url
from activities.providers.payments.paytring import PaytringGateway, request_hash
from activities.providers.payments.razorpay import RazorpayGateway
from domain.errors import ValidationError
from sandbox import gateway_events
from sandbox import webhooks as sandbox_hooks
from tests.unit.test_webhook_parsing import fixture, same_shape, shape
from workflows.contracts import PaymentEvent, PaymentFailure

SECRET = "whsec-test"
LOAN = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"
DEBIT = "0b5c2a9e-1b7d-4c6e-9f00-aabbccddeeff"


def gateway(cls: type, vendor: str, http: Any = None, **options: Any) -> Any:
    config = ProviderConfig(
        kind="payments",
        vendor=vendor,
        base_url="http://gw.invalid",
        api_key=f"{vendor}-key",
        webhook_secret=SECRET,
        options=options,
    )
    return cls(http, config)


CASHFREE = gateway(CashfreeGateway, "cashfree", client_id="app-1")
PAYTRING = gateway(PaytringGateway, "paytring")
RAZORPAY = gateway(RazorpayGateway, "razorpay")
RZP_HEADERS = {"X-Razorpay-Event-Id": "evt_F1"}


def field_of(call: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.field


# --- amounts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value,paise",
    [(1, 100), (2, 200), (170.0, 17000), (1234.56, 123456), ("200.12", 20012), (0.1, 10), ("55.00", 5500),
     (99999999999.99, 9999999999999)],
)  # fmt: skip
def test_rupees_become_exact_paise(value: Any, paise: int) -> None:
    assert pb.paise_from_rupees(value, "amount") == paise


@pytest.mark.parametrize("value", [12.345, "1.001", True, None, "12,5", "abc", 0, -1, "NaN", "1e400", [1], 1e13])
def test_amounts_that_are_not_exact_paise_are_refused(value: Any) -> None:
    assert field_of(lambda: pb.paise_from_rupees(value, "data.payment.payment_amount")) == (
        "data.payment.payment_amount"
    )


@pytest.mark.parametrize("paise", [1, 99, 100, 123456, 10**13, 987654321012])
def test_paise_are_sent_as_exact_rupees(paise: int) -> None:
    sent = json.dumps({"a": pb.rupees(paise)})
    assert Decimal(json.loads(sent, parse_float=Decimal)["a"]) * 100 == paise
    assert pb.paise_from_rupees(json.loads(sent)["a"], "a") == paise


def test_payment_modes_are_named_the_same_whatever_the_gateway() -> None:
    assert [pb.payment_mode(m, "m") for m in ("upi", "net_banking", "netbanking", "credit_card", "app", None)] == [
        "UPI", "NETBANKING", "NETBANKING", "CARD", "WALLET", None,
    ]  # fmt: skip
    assert pb.payment_mode("crypto_voucher_of_the_future", "m") == "CRYPTO_VOUCHER_OF_TH"  # kept, 20 characters


# --- Cashfree: signature ------------------------------------------------------------------------------------------
def cashfree_signed(body: dict, secret: str = SECRET, at_ms: int | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).digest()
    return raw, {"x-webhook-timestamp": stamp, "x-webhook-signature": base64.b64encode(digest).decode()}


def test_cashfree_signature_is_base64_hmac_of_timestamp_and_raw_body() -> None:
    raw, headers = cashfree_signed(fixture("cashfree_payment_success.json"))
    assert CASHFREE.verify_webhook(raw, headers)
    assert CASHFREE.verify_webhook(raw, {k.upper(): v for k, v in headers.items()})  # header names: any case


def test_cashfree_forged_or_altered_deliveries_are_refused() -> None:
    raw, headers = cashfree_signed(fixture("cashfree_payment_success.json"))
    assert not CASHFREE.verify_webhook(raw.replace(b'"payment_amount": 1', b'"payment_amount": 9'), headers)
    assert not CASHFREE.verify_webhook(
        raw, {**headers, "x-webhook-timestamp": str(int(headers["x-webhook-timestamp"]) + 1)}
    )
    _, other = cashfree_signed(fixture("cashfree_payment_success.json"), secret="someone-else")
    assert not CASHFREE.verify_webhook(raw, other)
    hex_signature = hmac.new(SECRET.encode(), headers["x-webhook-timestamp"].encode() + raw, hashlib.sha256)
    assert not CASHFREE.verify_webhook(raw, {**headers, "x-webhook-signature": hex_signature.hexdigest()})
    assert not CASHFREE.verify_webhook(raw, {"x-webhook-signature": headers["x-webhook-signature"]})
    assert not CASHFREE.verify_webhook(raw, {"x-webhook-timestamp": headers["x-webhook-timestamp"]})
    assert not CASHFREE.verify_webhook(raw, {**headers, "x-webhook-timestamp": "17464x7759733"})
    no_secret = CashfreeGateway(None, ProviderConfig(kind="payments", vendor="cashfree", base_url="http://x"))
    assert not no_secret.verify_webhook(raw, headers)


def test_cashfree_stale_or_future_timestamps_are_refused() -> None:
    body = fixture("cashfree_payment_success.json")
    now = 1_800_000_000.0
    for offset_s, accepted in ((0, True), (-299, True), (-301, False), (-86_400, False), (59, True), (61, False)):
        raw, headers = cashfree_signed(body, at_ms=int((now + offset_s) * 1000))
        assert CASHFREE.verify_webhook(raw, headers, now=now) is accepted, offset_s


def test_cashfree_secret_defaults_to_the_client_secret() -> None:
    adapter = CashfreeGateway(None, ProviderConfig(kind="payments", vendor="cashfree", base_url="x", api_key="cs"))
    raw, headers = cashfree_signed({"type": "X"}, secret="cs")
    assert adapter.verify_webhook(raw, headers)


# --- Cashfree: parsing ------------------------------------------------------------------------------------------
def cashfree_event(kind: str = "PAYMENT_SUCCESS_WEBHOOK", **payment: Any) -> dict:
    body = fixture("cashfree_payment_success.json")
    body["type"] = kind
    body["data"]["payment"]["payment_status"] = {
        "PAYMENT_SUCCESS_WEBHOOK": "SUCCESS",
        "PAYMENT_FAILED_WEBHOOK": "FAILED",
        "PAYMENT_USER_DROPPED_WEBHOOK": "USER_DROPPED",
    }[kind]
    body["data"]["order"]["order_tags"] = {"loan_id": LOAN, "purpose": "INSTALLMENT"}
    body["data"]["payment"].update(payment)
    return body


def test_cashfree_documented_success_example() -> None:
    event = CASHFREE.parse_webhook(fixture("cashfree_payment_success.json"), {})
    assert (event.event_id, event.event_type, event.signal, event.is_payment, event.loan_ref) == (
        "PAYMENT_SUCCESS_WEBHOOK:1453002795",
        "PAYMENT_SUCCESS_WEBHOOK",
        "payment_received",
        True,
        None,  # the example's order_tags are null: no loan named, stored unmatched
    )
    assert event.arg == PaymentEvent("1453002795", 100, "cashfree", None, mode="UPI", reference="234928698581")


def test_cashfree_tags_name_the_loan_purpose_and_debit() -> None:
    body = cashfree_event()
    body["data"]["order"]["order_tags"] = {"loan_id": LOAN, "purpose": "FORECLOSURE", "mandate_debit_id": DEBIT}
    body["data"]["payment"]["payment_amount"] = 45000.5
    event = CASHFREE.parse_webhook(body, {})
    assert event.loan_ref == LOAN
    assert (event.arg.amount, event.arg.purpose, event.arg.mandate_debit_id) == (4500050, "FORECLOSURE", DEBIT)


def test_cashfree_link_payment_carries_the_link() -> None:
    body = cashfree_event()
    body["data"]["order"].update(order_id="CFPay_abc_1", order_tags={"cf_link_id": "7264529", "link_id": "L_1"})
    event = CASHFREE.parse_webhook(body, {})
    assert (event.loan_ref, event.arg.link_id) == (None, "L_1")  # the intake finds the loan by its link


@pytest.mark.parametrize("kind", ["PAYMENT_FAILED_WEBHOOK", "PAYMENT_USER_DROPPED_WEBHOOK"])
def test_cashfree_failed_attempts_are_payment_failures(kind: str) -> None:
    body = cashfree_event(kind, bank_reference=None)
    body["data"]["error_details"] = {"error_code": "TRANSACTION_DECLINED", "error_description": "issuer declined"}
    event = CASHFREE.parse_webhook(body, {})
    assert (event.event_id, event.signal, event.is_payment, event.loan_ref) == (
        f"{kind}:1453002795",
        "payment_failed",
        False,
        LOAN,
    )
    assert event.arg == PaymentFailure("1453002795", "cashfree", 100, "issuer declined", "order_OFR_2", None)
    body["data"]["order"]["order_tags"] = {"link_id": "L_1"}
    assert CASHFREE.parse_webhook(body, {}).arg.order_id == "L_1"  # a link payment: the link we know it by


def test_cashfree_attempts_of_one_order_are_different_events_and_payments() -> None:
    failed = CASHFREE.parse_webhook(cashfree_event("PAYMENT_FAILED_WEBHOOK", cf_payment_id="101"), {})
    paid = CASHFREE.parse_webhook(cashfree_event(cf_payment_id=102), {})  # Cashfree may send the id as a number
    assert (failed.event_id, paid.event_id) == ("PAYMENT_FAILED_WEBHOOK:101", "PAYMENT_SUCCESS_WEBHOOK:102")
    assert (failed.arg.payment_id, paid.arg.payment_id) == ("101", "102")
    retried = CASHFREE.parse_webhook(cashfree_event(cf_payment_id=102), {})
    assert retried.event_id == paid.event_id  # the same delivery again is the same event


@pytest.mark.parametrize(
    "change,field",
    [
        (lambda b: b["data"]["payment"].pop("cf_payment_id"), "data.payment.cf_payment_id"),
        (lambda b: b["data"]["payment"].update(cf_payment_id="x" * 81), "data.payment.cf_payment_id"),
        (lambda b: b["data"]["payment"].update(payment_status="FAILED"), "data.payment.payment_status"),
        (lambda b: b["data"]["payment"].update(payment_amount=1.005), "data.payment.payment_amount"),
        (lambda b: b["data"]["payment"].update(payment_amount="ten"), "data.payment.payment_amount"),
        (lambda b: b["data"]["payment"].update(payment_amount=0), "data.payment.payment_amount"),
        (lambda b: b["data"]["payment"].update(payment_amount=10**12), "data.payment.payment_amount"),
        (lambda b: b["data"]["payment"].update(payment_currency="USD"), "data.payment.payment_currency"),
        (lambda b: b["data"]["order"].update(order_tags="loan"), "data.order.order_tags"),
        (lambda b: b["data"]["order"]["order_tags"].update(loan_id=7), "data.order.order_tags.loan_id"),
        (lambda b: b["data"]["order"]["order_tags"].update(purpose="BRIBE"), "data.order.order_tags.purpose"),
        (lambda b: b["data"]["order"]["order_tags"].update(mandate_debit_id="d1"),
         "data.order.order_tags.mandate_debit_id"),
        (lambda b: b["data"]["order"].pop("order_id"), "data.order.order_id"),
        (lambda b: b["data"].pop("payment"), "data.payment"),
        (lambda b: b.update(data=[]), "data"),
        (lambda b: b.update(type="T" * 61), "type"),
    ],
)  # fmt: skip
def test_cashfree_malformed_fields_are_named(change: Any, field: str) -> None:
    body = cashfree_event()
    change(body)
    assert field_of(lambda: CASHFREE.parse_webhook(body, {})) == field


def test_cashfree_link_event_and_others_are_stored_without_action() -> None:
    link = {
        "cf_link_id": 1576977, "link_id": "L_1", "link_status": "PAID", "amount": 20012, "amount_paid": 20012,
        "link_created_at": "2021-08-18T07:13:41", "link_url": "https://pay/L_1", "link_notes": {"loan_id": LOAN},
    }  # fmt: skip
    body = gateway_events.cashfree_link_event(
        link, {"order_id": "CFPay_1"}, {"cf_payment_id": "99", "status": "SUCCESS", "amount": 20012}
    )
    event = CASHFREE.parse_webhook(body, {})
    assert (event.event_id, event.signal, event.loan_ref) == ("PAYMENT_LINK_EVENT:L_1:PAID:200.12", None, LOAN)
    other = CASHFREE.parse_webhook({"type": "REFUND_STATUS_WEBHOOK", "data": {"refund": {}}}, {})
    assert other.signal is None and other.event_id.startswith("REFUND_STATUS_WEBHOOK:")
    assert CASHFREE.parse_webhook({"type": "REFUND_STATUS_WEBHOOK", "data": {"refund": {}}}, {}).event_id == (
        other.event_id
    )


def test_cashfree_link_ids_are_safe_stable_and_short() -> None:
    reference = f"{LOAN}:3:1234567"
    assert link_id_for(reference) == f"{LOAN}_3_1234567"
    long = f"{LOAN}:PREPAYMENT:{LOAN}"
    made = link_id_for(long)
    assert len(made) <= 50 and made == link_id_for(long) and made != link_id_for(long + "x")
    assert all(c.isalnum() or c in "_-" for c in made)


# --- Paytring: signature and parsing ------------------------------------------------------------------------------
def paytring_body(**change: str) -> dict:
    order = {
        "order_id": "489651149222183338",
        "receipt_id": f"{LOAN}:1:125000",
        "notes": {"udf1": LOAN, "udf2": "INSTALLMENT", "udf3": "1"},
    }
    body = gateway_events.paytring_callback(order, {"id": "489651179018519803", "status": "success", "amount": 125000})
    body.update(change)
    return body


def paytring_signed(body: dict, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, gateway_events.paytring_headers(raw, secret)


def test_paytring_signature_is_the_sdk_hash_of_the_values() -> None:
    body = paytring_body()
    raw, headers = paytring_signed(body)
    assert headers["X-Paytring-Signature"] == request_hash(body, SECRET)
    values = "|".join(body[k] for k in sorted(body))
    assert headers["X-Paytring-Signature"] == hashlib.sha512(f"{values}|{SECRET}".encode()).hexdigest()
    assert PAYTRING.verify_webhook(raw, headers)
    assert PAYTRING.verify_webhook(raw, {"x-paytring-signature": headers["X-Paytring-Signature"].upper()})


def test_paytring_forged_or_unsigned_callbacks_are_refused() -> None:
    body = paytring_body()
    raw, headers = paytring_signed(body)
    forged = json.dumps({**body, "amount": "99999900"}).encode()
    assert not PAYTRING.verify_webhook(forged, headers)
    assert not PAYTRING.verify_webhook(raw, paytring_signed(body, "other")[1])
    assert not PAYTRING.verify_webhook(raw, {})
    # a value that is not a string would not be covered by the hash: refused
    nested = {**body, "extra": {"amount": "1"}}
    assert not PAYTRING.verify_webhook(
        json.dumps(nested).encode(), {"X-Paytring-Signature": request_hash(nested, SECRET)}
    )
    assert not PAYTRING.verify_webhook(b"[1]", headers)
    assert not PAYTRING.verify_webhook(b"not json", headers)


def test_paytring_success_and_failure() -> None:
    event = PAYTRING.parse_webhook(paytring_body(), {})
    assert (event.event_id, event.event_type, event.signal, event.loan_ref, event.is_payment) == (
        "success:489651179018519803", "order.success", "payment_received", LOAN, True,
    )  # fmt: skip
    assert event.arg == PaymentEvent(
        "489651179018519803", 125000, "paytring", "489651149222183338", mode="UPI", purpose="INSTALLMENT"
    )
    failed = PAYTRING.parse_webhook(paytring_body(order_status="failed", message="declined", pg_transaction_id="7"), {})
    assert (failed.event_id, failed.signal) == ("failed:7", "payment_failed")
    assert failed.arg == PaymentFailure("7", "paytring", 125000, "declined", "489651149222183338", None)
    pending = PAYTRING.parse_webhook(paytring_body(order_status="pending"), {})
    assert pending.signal is None


@pytest.mark.parametrize(
    "change,field",
    [
        ({"order_status": "maybe"}, "order_status"),
        ({"pg_transaction_id": ""}, "pg_transaction_id"),
        ({"order_id": "9" * 81}, "order_id"),
        ({"amount": "12.50"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"udf2": "GIFT"}, "udf2"),
        ({"udf4": "not-a-uuid"}, "udf4"),
        ({"udf1": "x" * 81}, "udf1"),
    ],
)
def test_paytring_malformed_fields_are_named(change: dict, field: str) -> None:
    assert field_of(lambda: PAYTRING.parse_webhook(paytring_body(**change), {})) == field


# --- Razorpay: failed payments, notes, method ------------------------------------------------------------------------
def razorpay_failed(notes: dict) -> dict:
    payment = gateway_events.razorpay_payment("pay_F1", 150_000, "+919876543210", notes, "order_F1")
    return gateway_events.razorpay_payment_failed(payment, "Your bank declined the payment")


def test_razorpay_payment_failed_is_a_payment_failure() -> None:
    event = RAZORPAY.parse_webhook(razorpay_failed({"loan_id": LOAN, "mandate_debit_id": DEBIT}), RZP_HEADERS)
    assert (event.event_type, event.signal, event.loan_ref, event.is_payment) == (
        "payment.failed", "payment_failed", LOAN, False,
    )  # fmt: skip
    assert event.arg == PaymentFailure(
        "pay_F1", "razorpay", 150_000, "Your bank declined the payment", "order_F1", DEBIT
    )


def test_razorpay_notes_and_method_reach_the_payment() -> None:
    payment = gateway_events.razorpay_payment("pay_P1", 10_000, None, {"loan_id": LOAN, "purpose": "PREPAYMENT"}, "o")
    event = RAZORPAY.parse_webhook(gateway_events.razorpay_payment_captured(payment), RZP_HEADERS)
    assert (event.arg.mode, event.arg.purpose, event.arg.reference) == (
        "UPI",
        "PREPAYMENT",
        payment["acquirer_data"]["rrn"],
    )


@pytest.mark.parametrize(
    "change,field",
    [
        ({"status": "captured"}, "payload.payment.entity.status"),
        ({"amount": 10.5}, "payload.payment.entity.amount"),
        ({"id": None}, "payload.payment.entity.id"),
        ({"currency": "EUR"}, "payload.payment.entity.currency"),
        ({"notes": {"loan_id": LOAN, "purpose": "WHATEVER"}}, "payload.payment.entity.notes.purpose"),
        ({"order_id": "o" * 81}, "payload.payment.entity.order_id"),
    ],
)
def test_razorpay_failed_payment_fields_are_named(change: dict, field: str) -> None:
    body = razorpay_failed({"loan_id": LOAN})
    body["payload"]["payment"]["entity"].update(change)
    assert field_of(lambda: RAZORPAY.parse_webhook(body, RZP_HEADERS)) == field


# --- the sandbox's webhooks: documented shape, and the adapters verify them ----------------------------------------
def test_sandbox_cashfree_webhook_has_the_documented_shape_and_verifies() -> None:
    order = {"order_id": "CFPay_x_1", "amount": 123456, "tags": {"cf_link_id": "1", "link_id": "L_1"}}
    ours = gateway_events.cashfree_payment_webhook(
        order, {"cf_payment_id": "555", "status": "SUCCESS", "amount": 123456}, "9876543210"
    )
    documented = fixture("cashfree_payment_success.json")
    assert same_shape(shape(ours), shape(documented)) == []
    raw = json.dumps(ours).encode()
    headers = gateway_events.cashfree_headers(raw, SECRET)
    assert CASHFREE.verify_webhook(raw, headers)
    assert headers["x-idempotency-key"] and headers["x-webhook-version"] == "2025-01-01"
    event = CASHFREE.parse_webhook(json.loads(raw), headers)
    assert (event.arg.amount, event.arg.link_id) == (123456, "L_1")
    failed = gateway_events.cashfree_payment_webhook(
        order, {"cf_payment_id": "554", "status": "FAILED", "amount": 100}, None
    )
    assert CASHFREE.parse_webhook(failed, {}).arg.reason and failed["data"]["error_details"]["error_code"]


def test_sandbox_razorpay_failed_payment_parses() -> None:
    assert RAZORPAY.parse_webhook(razorpay_failed({}), RZP_HEADERS).loan_ref is None


# --- links: made with failover -------------------------------------------------------------------------------------
def brand_config(*vendors: tuple[str, bool]) -> dict:
    return {
        "providers": {
            "payments": [
                {"vendor": v, "primary": primary, "base_url": f"http://{v}.invalid", "api_key": f"{v}-key",
                 "client_id": "app-1", "webhook_secret": "pt-secret"}
                for v, primary in vendors
            ]
        }
    }  # fmt: skip


def answering(down: set[str], refuse: set[str] = frozenset(), seen: list | None = None) -> httpx.AsyncClient:  # type: ignore[assignment]
    def handle(request: httpx.Request) -> httpx.Response:
        host = request.url.host.split(".")[0]
        if seen is not None:
            seen.append((host, request))
        if host in down:
            return httpx.Response(503, json={"detail": "down"})
        if host in refuse:
            return httpx.Response(400, json={"error": {"code": "BAD_REQUEST_ERROR", "description": "no"}})
        body = json.loads(request.content)
        if host == "razorpay":
            return httpx.Response(200, json={"id": "plink_1", "short_url": "https://rzp.io/i/1"})
        if host == "cashfree":
            return httpx.Response(
                200, json={"link_id": body["link_id"], "link_url": "https://cf/L", "link_status": "ACTIVE"}
            )
        url = base64.b64encode(b"https://paytring/pay/1").decode()
        return httpx.Response(200, json={"status": True, "order_id": "1", "url": url})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def _link(config: dict, http: httpx.AsyncClient) -> tuple[str, pb.Link]:
    return await create_link(
        config, http, amount=125_050, reference_id=f"{LOAN}:1:125050", description="Demo loan installment 1",
        phone="+91 98765 43210", notes={"loan_id": LOAN, "installment_no": 1, "purpose": "INSTALLMENT"},
        callback_url=webhook_url("http://los", "b1"),
    )  # fmt: skip


async def test_the_primary_gateway_makes_the_link() -> None:
    seen: list = []
    async with answering(set(), seen=seen) as http:
        vendor, link = await _link(brand_config(("cashfree", False), ("razorpay", True)), http)
    assert (vendor, link) == ("razorpay", pb.Link("plink_1", "https://rzp.io/i/1"))
    body = json.loads(seen[0][1].content)
    assert body["callback_url"] == "http://los/api/v1/webhooks/b1/razorpay" and body["amount"] == 125_050


async def test_a_gateway_that_is_down_gives_way_to_the_next() -> None:
    seen: list = []
    async with answering({"razorpay"}, seen=seen) as http:
        vendor, link = await _link(brand_config(("razorpay", True), ("cashfree", False), ("paytring", False)), http)
    assert vendor == "cashfree" and link.url == "https://cf/L"
    request = seen[-1][1]
    sent = json.loads(request.content)
    assert (request.headers["x-client-id"], request.headers["x-client-secret"], request.headers["x-api-version"]) == (
        "app-1", "cashfree-key", "2025-01-01",
    )  # fmt: skip
    assert (sent["link_amount"], sent["link_id"], sent["customer_details"]["customer_phone"]) == (
        1250.5, f"{LOAN}_1_125050", "9876543210",
    )  # fmt: skip
    assert sent["link_meta"]["notify_url"] == "http://los/api/v1/webhooks/b1/cashfree"
    assert sent["link_notes"] == {"loan_id": LOAN, "installment_no": "1", "purpose": "INSTALLMENT"}

    async with answering({"razorpay", "cashfree"}, seen=seen) as http:
        vendor, link = await _link(brand_config(("razorpay", True), ("cashfree", False), ("paytring", False)), http)
    assert (vendor, link.url) == ("paytring", "https://paytring/pay/1")
    request = seen[-1][1]
    sent = json.loads(request.content)
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"paytring-key:pt-secret").decode()
    assert (sent["amount"], sent["receipt_id"], sent["notes"]) == (
        "125050", f"{LOAN}:1:125050", {"udf1": LOAN, "udf2": "INSTALLMENT", "udf3": "1"},
    )  # fmt: skip
    assert sent["hash"] == request_hash({k: v for k, v in sent.items() if k != "hash"}, "pt-secret")


async def test_a_refusal_is_the_answer_and_every_gateway_down_is_retried() -> None:
    async with answering(set(), refuse={"razorpay"}) as http:
        with pytest.raises(BusinessRefusal) as refused:
            await _link(brand_config(("razorpay", True), ("cashfree", False)), http)
    assert [a["vendor"] for a in refused.value.attempts] == ["razorpay"]
    async with answering({"razorpay", "cashfree"}) as http:
        with pytest.raises(ProviderError) as failed:
            await _link(brand_config(("razorpay", True), ("cashfree", False)), http)
    assert [a["outcome"] for a in failed.value.attempts] == ["error", "error"]


async def test_a_refused_cancel_is_logged_with_the_loan_and_answered_false(caplog: pytest.LogCaptureFixture) -> None:
    """A gateway that refuses (or does not answer) a cancel is not an error for the caller: False, and a warning that
    names the link, the loan and the gateway, so ops can find the loan whose old link may still take money."""
    config = brand_config(("razorpay", True))
    async with answering(set(), refuse={"razorpay"}) as http:
        with caplog.at_level("WARNING", logger="los.payments"):
            assert await cancel_link(config, http, "razorpay", "plink_9", LOAN) is False
    (warning,) = [r.getMessage() for r in caplog.records if "could not cancel" in r.getMessage()]
    assert "plink_9" in warning and LOAN in warning and "razorpay" in warning

    def cancelled(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path.endswith("/payment_links/plink_9/cancel")
        return httpx.Response(200, json={"id": "plink_9", "status": "cancelled"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(cancelled)) as http:
        assert await cancel_link(config, http, "razorpay", "plink_9", LOAN) is True


async def test_cashfree_retried_create_fetches_the_link_it_made() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"message": "link exists", "code": "link_already_exists", "type": "x"})
        return httpx.Response(200, json={"link_id": "L", "link_url": "https://cf/L", "link_amount": 1250.5})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        cf = gateway(CashfreeGateway, "cashfree", http, client_id="app-1")
        made = await cf.create_payment_link(
            amount=125_050, reference_id="r", description="d", customer_phone="9876543210", notes={}, callback_url="u"
        )
        assert made == pb.Link("L", "https://cf/L")
        with pytest.raises(BusinessRefusal):  # the id is taken by a link for another amount
            await cf.create_payment_link(
                amount=1, reference_id="r", description="d", customer_phone="9876543210", notes={}, callback_url="u"
            )


async def test_razorpay_refused_create_of_a_used_reference_finds_the_link_it_made() -> None:
    """Razorpay refuses a second create with a reference_id already used (400 BAD_REQUEST_ERROR, field reference_id);
    the adapter then finds the link by fetch-all's reference_id filter and answers it. Another amount under the
    reference stays refused; a taken reference whose link fetch-all does not show yet, or a lookup that fails, is
    retryable (ProviderError); a refusal about anything else stands without a lookup."""
    seen: list[httpx.Request] = []
    made = [{"id": "plink_1", "short_url": "https://rzp.io/i/1", "reference_id": "r", "amount": 125_050}]
    field = {"value": "reference_id"}
    lookup_down = {"value": False}

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            error = {"code": "BAD_REQUEST_ERROR", "description": "taken", "field": field["value"]}
            return httpx.Response(400, json={"error": error})
        if lookup_down["value"]:
            return httpx.Response(503, json={"error": {"code": "SERVER_ERROR"}})
        wanted = request.url.params.get("reference_id")
        return httpx.Response(200, json={"payment_links": [m for m in made if m["reference_id"] == wanted]})

    def create(amount: int, reference: str = "r") -> Any:
        return rp.create_payment_link(
            amount=amount, reference_id=reference, description="d", customer_phone="9876543210", notes={},
            callback_url="u",
        )  # fmt: skip

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        rp = gateway(RazorpayGateway, "razorpay", http)
        assert await create(125_050) == pb.Link("plink_1", "https://rzp.io/i/1")
        assert (seen[-1].method, seen[-1].url.path, seen[-1].url.params["reference_id"]) == (
            "GET", "/razorpay/payment_links", "r",
        )  # fmt: skip
        with pytest.raises(BusinessRefusal, match="another amount"):
            await create(1)
        with pytest.raises(ProviderError, match="no link has it yet"):
            await create(125_050, reference="other")
        lookup_down["value"] = True
        with pytest.raises(ProviderError):
            await create(125_050)
        field["value"], before = "customer.contact", len(seen)
        with pytest.raises(BusinessRefusal, match="taken"):  # about something else: no lookup, the refusal stands
            await create(125_050)
        assert [r.method for r in seen[before:]] == ["POST"]


async def test_paytring_status_false_is_a_refusal() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": False, "error": {"message": "receipt_id used", "code": 409}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        pt = gateway(PaytringGateway, "paytring", http)
        with pytest.raises(BusinessRefusal) as refused:
            await pt.cancel_payment_link("1")
    assert refused.value.code == "409" and "receipt_id used" in str(refused.value)


def test_webhook_checks_reject_the_same_fields_for_every_gateway() -> None:
    # the shared bounds: an id longer than its column, an amount beyond the largest loan
    assert field_of(lambda: pb.paise_from_digits(str(w.MAX_PAISE + 1), "amount")) == "amount"
    assert field_of(lambda: pb.link_notes({"loan_id": "x" * 81}, "n")) == "n.loan_id"


async def test_the_sandbox_signs_each_cashfree_retry_afresh() -> None:
    """A delivery answered 5xx is retried; each Cashfree attempt carries its own timestamp, signature and number."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if len(seen) == 1 else 200)

    outbox = sandbox_hooks.Outbox(SECRET, 0.0, [], attempts=3, max_backoff=0.01)
    outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    outbox.sign_with("cashfree", gateway_events.cashfree_headers, attempt_header="x-webhook-attempt")
    body = cashfree_event()
    await outbox.deliver("cashfree", "http://los.invalid/hook", body, 0.0)
    await outbox.aclose()
    assert [r.headers["x-webhook-attempt"] for r in seen] == ["1", "2"]
    assert outbox.records[0]["attempts"] == 2 and outbox.records[0]["status"] == 200
    for request in seen:
        assert CASHFREE.verify_webhook(request.content, dict(request.headers))


def test_event_ids_fit_their_column() -> None:
    long_link = {"type": "PAYMENT_LINK_EVENT", "data": {"link_id": "L" * 80, "link_status": "PARTIALLY_PAID",
                                                          "link_amount_paid": "12345678.90"}}  # fmt: skip
    event = CASHFREE.parse_webhook(long_link, {})
    assert len(event.event_id) <= w.EVENT_ID_MAX and event.event_id == CASHFREE.parse_webhook(long_link, {}).event_id
    body = cashfree_event("PAYMENT_USER_DROPPED_WEBHOOK", cf_payment_id="9" * 80)
    assert len(CASHFREE.parse_webhook(body, {}).event_id) <= w.EVENT_ID_MAX
    assert (
        len(PAYTRING.parse_webhook(paytring_body(order_status="pending", pg_transaction_id="9" * 80), {}).event_id)
        <= 120
    )


async def test_each_gateway_says_what_was_paid_on_a_link() -> None:
    """``payment_link_amount_paid`` asks each gateway's own endpoint (Razorpay's fetch by id, Cashfree's link fetch,
    Paytring's order fetch) and reads its own fields (Razorpay's ``amount_paid`` in paise, Cashfree's
    ``link_amount_paid`` in rupees, Paytring's order ``amount`` when ``order_status`` is ``success``): paid in part
    counts; an answer without the fields is a malformed answer (transient), never "nothing paid"."""
    answers: dict[str, Any] = {}
    seen: list[tuple[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(200, json=answers["next"])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        rp = gateway(RazorpayGateway, "razorpay", http)
        cf = gateway(CashfreeGateway, "cashfree", http, client_id="app-1")
        pt = gateway(PaytringGateway, "paytring", http)
        cases = [
            (rp, {"status": "paid", "amount": 110_00, "amount_paid": 110_00}, 110_00),
            (rp, {"status": "partially_paid", "amount": 110_00, "amount_paid": 50_00}, 50_00),
            (rp, {"status": "paid", "amount": 110_00}, 110_00),
            (rp, {"status": "created", "amount": 110_00, "amount_paid": 0}, 0),
            (rp, {"status": "cancelled", "amount": 110_00}, 0),
            (cf, {"link_status": "PAID", "link_amount": 110.0, "link_amount_paid": 110.0}, 110_00),
            (cf, {"link_status": "PARTIALLY_PAID", "link_amount": 110, "link_amount_paid": "50.25"}, 50_25),
            (cf, {"link_status": "ACTIVE", "link_amount": 110, "link_amount_paid": 0}, 0),
            (pt, {"status": True, "order": {"order_status": "success", "amount": 11000}}, 110_00),
            (pt, {"status": True, "order": {"order_status": "pending", "amount": 11000}}, 0),
        ]
        for adapter, answer, paid in cases:
            answers["next"] = answer
            assert await adapter.payment_link_amount_paid("link_1") == paid, answer
        assert set(seen) == {
            ("GET", "/razorpay/payment_links/link_1"),
            ("GET", "/cashfree/pg/links/link_1"),
            ("POST", "/paytring/api/v2/order/fetch"),
        }, seen
        for adapter, answer in [
            (rp, {"id": "plink_1"}),
            (rp, {"status": "partially_paid", "amount": 110_00}),
            (cf, {"link_id": "link_1"}),
            (cf, {"link_status": "PARTIALLY_PAID", "link_amount": 110}),
            (pt, {"status": True}),
        ]:
            answers["next"] = answer
            with pytest.raises(ProviderError, match="malformed"):
                await adapter.payment_link_amount_paid("link_1")
