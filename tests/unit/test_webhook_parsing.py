"""Vendors' documented webhook examples parse; the sandbox sends the same shape; bad fields are refused at
the door with the field named (tests/fixtures/vendors/README.md cites each example's page)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from activities.providers import webhooks as w
from activities.providers.aa.cart import CartAa
from activities.providers.aa.finduit import FinduitAa
from activities.providers.base import ProviderConfig
from activities.providers.disbursal.idfc import IdfcDisbursal
from activities.providers.esign.signzy import SignzyEsign, callback_password
from activities.providers.payments.razorpay import RazorpayGateway
from activities.providers.signing import sign
from domain.errors import ValidationError
from sandbox import banks as sandbox_banks
from sandbox import esign as sandbox_esign
from sandbox import gateway_events
from sandbox import webhooks as sandbox_hooks
from workflows.contracts import DisbursalEvent, EsignEvent, PaymentEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vendors"
SECRET = "whsec-test"
LOAN = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def adapter(cls: type, kind: str, vendor: str) -> Any:
    return cls(None, ProviderConfig(kind=kind, vendor=vendor, base_url="http://vendor.invalid", webhook_secret=SECRET))


RAZORPAY = adapter(RazorpayGateway, "payments", "razorpay")
IDFC = adapter(IdfcDisbursal, "disbursal", "idfc")
SIGNZY = adapter(SignzyEsign, "esign", "signzy")
HEADERS = {"X-Razorpay-Event-Id": "evt_Lxyz12345AbCd"}


def shape(value: Any) -> Any:
    """The JSON types of ``value``, recursively (null matches any type; an empty object and an empty array
    are the same — Razorpay writes an empty ``notes`` map as ``[]``)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()} if value else "empty"
    if isinstance(value, list):
        return [shape(value[0])] if value else "empty"
    if value is None:
        return "null"
    return {bool: "bool", int: "number", float: "number", str: "string"}[type(value)]


def same_shape(ours: Any, documented: Any, path: str = "") -> list[str]:
    """Where ``ours`` differs from ``documented`` in keys or types (empty when the same)."""
    if "null" in (ours, documented) or "empty" in (ours, documented):
        return []
    if path.endswith(".notes"):  # the merchant's own key-value pairs: any keys, an object either way
        return [] if isinstance(ours, dict) == isinstance(documented, dict) else [f"{path}: not an object"]
    if isinstance(ours, dict) and isinstance(documented, dict):
        problems = [f"{path}.{k}: missing" for k in documented.keys() - ours.keys()]
        problems += [f"{path}.{k}: not documented" for k in ours.keys() - documented.keys()]
        for k in ours.keys() & documented.keys():
            problems += same_shape(ours[k], documented[k], f"{path}.{k}")
        return problems
    if isinstance(ours, list) and isinstance(documented, list):
        return same_shape(ours[0], documented[0], f"{path}[]")
    return [] if ours == documented else [f"{path}: {ours} where the docs have {documented}"]


# --- documented examples parse ---------------------------------------------------------------------
def test_razorpay_payment_captured_documented_example() -> None:
    body = fixture("razorpay_payment_captured.json")
    assert "id" not in body  # the event id travels in the header
    event = RAZORPAY.parse_webhook(body, HEADERS)
    assert (event.event_id, event.event_type, event.signal, event.is_payment) == (
        "evt_Lxyz12345AbCd",
        "payment.captured",
        "payment_received",
        True,
    )
    assert event.arg == PaymentEvent("pay_DESyzxuld02Zul", 100, "razorpay", None, mode="UPI", reference="0125836177")
    assert event.loan_ref is None  # the example's notes are [] — no loan named: stored as unmatched


def test_razorpay_payment_link_paid_documented_example() -> None:
    body = fixture("razorpay_payment_link_paid.json")
    event = RAZORPAY.parse_webhook(body, HEADERS)
    assert event.event_type == "payment_link.paid" and event.signal == "payment_received"
    assert event.arg == PaymentEvent(
        "pay_Qfldmt5StKZFCB", 1000, "razorpay", "plink_QflcnnZqCekuvL", mode="UPI", reference="103608848276"
    )
    body["payload"]["payment_link"]["entity"]["notes"] = {"loan_id": LOAN}
    assert RAZORPAY.parse_webhook(body, HEADERS).loan_ref == LOAN


def test_razorpay_signature_is_hmac_of_raw_body() -> None:
    raw = (FIXTURES / "razorpay_payment_captured.json").read_bytes()
    assert RAZORPAY.verify_webhook(raw, {"x-razorpay-signature": sign(raw, SECRET)})
    assert not RAZORPAY.verify_webhook(raw + b"\n", {"X-Razorpay-Signature": sign(raw, SECRET)})
    assert not RAZORPAY.verify_webhook(raw, {"X-Razorpay-Signature": sign(raw, "other")})
    assert not RAZORPAY.verify_webhook(raw, {})


def test_razorpayx_payout_processed_documented_example() -> None:
    body = fixture("razorpayx_payout_processed.json")
    body["payload"]["payout"]["entity"]["reference_id"] = LOAN  # the example sent none
    event = IDFC.parse_webhook(body, {"X-IDFC-Event-Id": "evt_payout_1"})
    assert (event.event_type, event.loan_ref, event.signal) == ("payout.processed", LOAN, "disbursal_settled")
    assert event.arg == DisbursalEvent("pout_R7ambiUdUvg6AD", "SUCCESS", "523223155921", "evt_payout_1")
    body["event"] = "payout.updated"
    assert IDFC.parse_webhook(body, {"X-IDFC-Event-Id": "evt_payout_2"}).signal is None  # stored, no action


@pytest.mark.parametrize("cls,vendor", [(FinduitAa, "finduit"), (CartAa, "cart")])
def test_rebit_consent_notification(cls: type, vendor: str) -> None:
    event = adapter(cls, "aa", vendor).parse_webhook(fixture("rebit_consent_notification.json"))
    assert (event.event_id, event.consent_handle, event.status) == (
        "0b811819-9044-4856-b0ee-8c88035f8858",
        "39e108fe-9243-11e8-b9f2-0256d88baae8",
        "APPROVED",
    )


def test_signzy_callback() -> None:
    docket = {
        "docket_id": "dkt_1", "customer_id": "c1", "reference": "key-1", "status": "SIGNED", "pdf": "JVBERi0=",
        "signer": {"name": "ASHA VERMA"}, "signed_at": "2026-11-30T10:00:00+05:30",
    }  # fmt: skip
    body = sandbox_esign.signzy_customer_callback(docket)
    creds = base64.b64encode(f"{LOAN}:{callback_password(SECRET, LOAN)}".encode()).decode()
    headers = {"Authorization": f"Basic {creds}"}
    assert SIGNZY.verify_webhook(json.dumps(body).encode(), headers)
    assert not SIGNZY.verify_webhook(json.dumps(body).encode(), {"Authorization": "Basic " + creds[:-4] + "AAAA"})
    event = SIGNZY.parse_webhook(body, headers)
    assert (event.event_type, event.loan_ref, event.arg) == (
        "contract.completed",
        LOAN,
        EsignEvent("dkt_1", "SIGNED", "dkt_1.completed"),
    )


# --- the sandbox sends what the vendors document ------------------------------------------------------
def _sandbox_payment(notes: dict) -> dict:
    return gateway_events.razorpay_payment("pay_S1", 150_000, "+919876543210", notes, "order_S1")


def test_sandbox_payloads_have_the_documented_shape() -> None:
    link = {"id": "plink_S1", "amount": 150_000, "notes": {"loan_id": LOAN}, "reference_id": "r", "contact": "+91"}
    ours = {
        "razorpay_payment_captured.json": gateway_events.razorpay_payment_captured(_sandbox_payment({"loan_id": LOAN})),
        "razorpay_payment_link_paid.json": gateway_events.razorpay_payment_link_paid(
            link, _sandbox_payment({"loan_id": LOAN}), "http://sbx/razorpay/pay/plink_S1"
        ),
        "razorpayx_payout_processed.json": sandbox_banks.idfc_event(
            {
                "transfer_id": "trf_1",
                "account": "31234567890",
                "amount": 100,
                "loan_id": LOAN,
                "mode": "IMPS",
                "reference": "ref1",
                "created_at": 1,
                "utr": "U1",
                "reason": None,
                "settle_at": 0,
                "outcome": "SUCCESS",
            }
        ),
        "rebit_consent_notification.json": sandbox_hooks.rebit_consent_notification(
            {"vendor": "cart", "handle": "cac_1", "status": "APPROVED"}
        ),
    }
    documented = {name: fixture(name) for name in ours}
    # RazorpayX's payout.failed example has no expanded fund_account: it is optional, and we leave it out
    del documented["razorpayx_payout_processed.json"]["payload"]["payout"]["entity"]["fund_account"]
    for name, body in ours.items():
        assert same_shape(shape(body), shape(documented[name])) == [], name
    # and they parse
    assert RAZORPAY.parse_webhook(ours["razorpay_payment_link_paid.json"], HEADERS).loan_ref == LOAN
    assert IDFC.parse_webhook(ours["razorpayx_payout_processed.json"], {"X-IDFC-Event-Id": "e"}).loan_ref == LOAN


def test_shape_comparison_can_fail() -> None:
    documented = shape(fixture("razorpay_payment_captured.json"))
    wrong = fixture("razorpay_payment_captured.json")
    wrong["payload"]["payment"]["entity"]["amount"] = "100"
    wrong["id"] = "evt_in_body"
    assert sorted(same_shape(shape(wrong), documented)) == [
        ".id: not documented",
        ".payload.payment.entity.amount: string where the docs have number",
    ]


# --- validated at the door --------------------------------------------------------------------------
def _captured(**payment: Any) -> dict:
    body = fixture("razorpay_payment_captured.json")
    body["payload"]["payment"]["entity"].update(payment)
    return body


@pytest.mark.parametrize(
    "change,field",
    [
        ({"amount": 10_000_000_000_000_000_000}, "payload.payment.entity.amount"),
        ({"amount": 2**63}, "payload.payment.entity.amount"),
        ({"amount": w.MAX_PAISE + 1}, "payload.payment.entity.amount"),
        ({"amount": 0}, "payload.payment.entity.amount"),
        ({"amount": -100}, "payload.payment.entity.amount"),
        ({"amount": 100.5}, "payload.payment.entity.amount"),
        ({"amount": "100"}, "payload.payment.entity.amount"),
        ({"amount": True}, "payload.payment.entity.amount"),
        ({"currency": "USD"}, "payload.payment.entity.currency"),
        ({"id": ""}, "payload.payment.entity.id"),
        ({"id": "p" * 81}, "payload.payment.entity.id"),  # payment_transactions.gateway_payment_id is 80
        ({"id": "pay_\x00"}, "payload.payment.entity.id"),
        ({"status": "failed"}, "payload.payment.entity.status"),
        ({"notes": "loan"}, "payload.payment.entity.notes"),
        ({"notes": {"loan_id": 7}}, "payload.payment.entity.notes.loan_id"),
    ],
)
def test_razorpay_bad_fields_are_refused(change: dict, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RAZORPAY.parse_webhook(_captured(**change), HEADERS)
    assert refused.value.field == field


def test_event_id_header_and_event_name_are_checked() -> None:
    body = fixture("razorpay_payment_captured.json")
    for headers, field in (({}, "header:X-Razorpay-Event-Id"), ({"X-Razorpay-Event-Id": "e" * 121}, None)):
        with pytest.raises(ValidationError) as refused:
            RAZORPAY.parse_webhook(body, headers)
        assert refused.value.field == (field or "header:X-Razorpay-Event-Id")
    with pytest.raises(ValidationError) as refused:
        RAZORPAY.parse_webhook({**body, "event": "x" * 61}, HEADERS)
    assert refused.value.field == "event"


def test_missing_or_misplaced_parts_are_named() -> None:
    body = fixture("razorpay_payment_captured.json")
    del body["payload"]["payment"]
    with pytest.raises(ValidationError) as refused:
        RAZORPAY.parse_webhook(body, HEADERS)
    assert refused.value.field == "payload.payment" and refused.value.message == "payload.payment: is required"
    with pytest.raises(ValidationError) as refused:
        RAZORPAY.parse_webhook({**body, "payload": []}, HEADERS)
    assert refused.value.field == "payload"
    with pytest.raises(ValidationError) as refused:
        IDFC.parse_webhook({"event": "payout.processed", "payload": {"payout": "x"}}, {"X-IDFC-Event-Id": "e"})
    assert refused.value.field == "payload.payout"


def test_raw_body_checks() -> None:
    assert w.check_body(b'{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
    for raw, field in (
        (b"[1]", "body"),
        (b"not json", "body"),
        (b'{"a": {"b": "x\\u0000y"}}', "body.a.b"),
        (b'{"a\\u0000": 1}', "body"),
        (b"{" + b" " * w.MAX_BODY_BYTES + b"}", "body"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, None),
    ):
        with pytest.raises(ValidationError) as refused:
            w.check_body(raw)
        if field:
            assert refused.value.field == field


def test_signzy_callbacks_may_carry_the_signed_contract_but_the_stored_event_does_not() -> None:
    body = {"contractId": "dkt_1", "finalSignedContract": "A" * 400_000, "contractName": "key-1"}
    raw = json.dumps(body).encode()
    with pytest.raises(ValidationError):
        w.check_body(raw)  # over the default limit
    assert w.check_body(raw, SIGNZY.max_body_bytes) == body
    assert SIGNZY.stored_payload(body) == {
        "contractId": "dkt_1",
        "finalSignedContract": "<400000 base64 characters>",
        "contractName": "key-1",
    }
