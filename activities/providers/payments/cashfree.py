"""Cashfree Payment Gateway: payment links, and the payment webhooks that announce a payment captured or an attempt
that failed.

Sources (Cashfree docs):

- Payment Links API, version 2025-01-01: create ``POST /pg/links``, fetch ``GET /pg/links/{link_id}``, cancel
  ``POST /pg/links/{link_id}/cancel`` —
  https://www.cashfree.com/docs/api-reference/payments/latest/payment-links/create (and …/fetch, …/cancel;
  earlier version https://www.cashfree.com/docs/api-reference/payments/previous/v2022-09-01/payment-links/create-payment-link.md).
  Every call carries ``x-client-id``, ``x-client-secret`` and ``x-api-version``. The request names the link
  (``link_id``, at most 50 characters of ``[A-Za-z0-9_-]``; a second create with it is refused 409
  ``link_already_exists``, so a retried create fetches the link instead of making another), ``link_amount`` in
  rupees as a number with up to two decimals, ``link_currency`` INR, ``link_purpose``, ``customer_details``
  (``customer_phone``, 10 digits), ``link_notes`` (at most 5 string pairs), ``link_meta.notify_url`` (where this
  link's webhooks go); the answer is the link entity (``cf_link_id``, ``link_id``, ``link_url``, ``link_status``
  ACTIVE / PAID / PARTIALLY_PAID / EXPIRED / CANCELLED, ``link_amount``...).
- Payment webhooks: https://www.cashfree.com/docs/api-reference/payments/latest/payments/webhooks —
  ``{"data": {"order": {order_id, order_amount, order_currency, order_tags}, "payment": {cf_payment_id,
  payment_status, payment_amount, payment_currency, payment_message, payment_time, bank_reference, auth_id,
  payment_method, payment_group}, "customer_details", "payment_gateway_details", "payment_offers"[,
  "error_details": {error_code, error_description, error_reason, error_source}]}, "event_time", "type"}`` with
  ``type`` ``PAYMENT_SUCCESS_WEBHOOK`` (``payment_status`` SUCCESS), ``PAYMENT_FAILED_WEBHOOK`` (FAILED) or
  ``PAYMENT_USER_DROPPED_WEBHOOK`` (USER_DROPPED). Amounts are rupees (JSON numbers).
- Payment link webhook (``PAYMENT_LINK_EVENT``, the link's status changed, with its ``link_notes``):
  https://www.cashfree.com/docs/api-reference/payments/latest/payment-links/webhooks.
- Signature: https://www.cashfree.com/docs/api-reference/payments/latest/webhooks/signature-verification and
  https://www.cashfree.com/docs/api-reference/webhooks/payloads-and-signatures — ``x-webhook-signature`` =
  base64(HMAC-SHA256(client secret, ``x-webhook-timestamp`` + raw body)); the timestamp is in milliseconds
  (the documented sample header: ``x-webhook-timestamp: 1746427759733``).
- Idempotency and retries: https://www.cashfree.com/docs/api-reference/payments/latest/webhooks/idempotency
  (one order may carry several payment attempts, each its own ``cf_payment_id``; dedupe on ``cf_payment_id``; only
  SUCCESS is final) and https://www.cashfree.com/docs/api-reference/webhooks/reliability-and-operations (any answer
  but 200 is a failed delivery, retried — by default 3 times at 2, 10 and 30 minutes; at-least-once delivery).

**Event id.** Cashfree sends no event id. Version 2025-01-01 adds an ``x-idempotency-key`` header (a hash per
payload), but it is outside the signature and absent in earlier versions, so the event id here is derived from
signed content: ``<type>:<cf_payment_id>`` for the payment webhooks (stable across retries; a failed and a
successful attempt of one order are different payments, so different events), ``PAYMENT_LINK_EVENT:<link_id>:
<link_status>:<link_amount_paid>`` for a link's, and ``<type>:<sha256 of the body>`` for any other.

**Timestamps.** A signature whose ``x-webhook-timestamp`` is more than 5 minutes old, or more than 1 minute ahead
of our clock, is refused like a forged one: a captured delivery cannot be replayed later. (Cashfree's retries are
signed afresh, each with its own timestamp and ``x-webhook-attempt``.)

**Which loan.** ``order_tags`` are ours on an order we create (``loan_id``, ``purpose``, ``mandate_debit_id``).
A payment made on a payment link is made on an order Cashfree creates for the link (``CFPay_…``); integrators
observe that Cashfree then puts the link's ids in the order's tags (``link_id``, ``cf_link_id``) — the sample on
the webhook page shows ``order_tags: null``, so this is not on the page. ``order_tags.link_id`` becomes the
event's link id (``PaymentEvent.link_id``; a failure's ``order_id``), and :mod:`api.webhooks.intake` finds the
loan by the link it recorded (``payment_links``, this vendor, this brand). A payment naming no loan either way is
stored unmatched for ops, never lost. ``PAYMENT_LINK_EVENT`` is stored and not acted on: its payment reference
(``order.transaction_id``) is not documented as the ``cf_payment_id``, and crediting from it could count one
payment under two ids; the payment webhooks credit.

What the system acts on: ``PAYMENT_SUCCESS_WEBHOOK`` → ``payment_received`` (``PaymentEvent``: ``cf_payment_id``,
the amount in paise, ``payment_group`` as the mode, ``bank_reference`` as the reference);
``PAYMENT_FAILED_WEBHOOK`` and ``PAYMENT_USER_DROPPED_WEBHOOK`` → ``payment_failed`` (``PaymentFailure``, the
reason from ``error_details.error_description``); they change no dues.

Config (``ProviderConfig``): ``api_key`` is the client secret (``x-client-secret``), option ``client_id``
(``x-client-id``), option ``api_version`` (default 2025-01-01); ``webhook_secret`` the key the webhooks are signed
with — Cashfree signs with the client secret, so it is that secret (left empty, ``api_key`` is used).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider
from activities.providers.payments.base import (
    Link,
    LinkNotes,
    fitted_reference,
    link_notes,
    optional_text,
    paise_from_rupees,
    payment_mode,
    phone_digits,
    reason,
    rupees,
    string_notes,
)
from workflows.contracts import PaymentEvent, PaymentFailure

GATEWAY = "cashfree"
API_VERSION = "2025-01-01"
LINKS_PATH = "/cashfree/pg/links"
SIGNATURE_HEADER = "x-webhook-signature"
TIMESTAMP_HEADER = "x-webhook-timestamp"
MAX_AGE_SECONDS = 300  # a delivery signed longer ago is refused (replay)
MAX_AHEAD_SECONDS = 60  # clock skew tolerated the other way
LINK_ID_MAX = 50
NOTES_MAX = 5  # link_notes: at most 5 key-value pairs

SUCCESS, FAILED, DROPPED = "PAYMENT_SUCCESS_WEBHOOK", "PAYMENT_FAILED_WEBHOOK", "PAYMENT_USER_DROPPED_WEBHOOK"
LINK_EVENT = "PAYMENT_LINK_EVENT"
PAYMENT_STATUS = {SUCCESS: "SUCCESS", FAILED: "FAILED", DROPPED: "USER_DROPPED"}


def link_id_for(reference_id: str) -> str:
    """Our reference as a Cashfree ``link_id`` (at most 50 of ``[A-Za-z0-9_-]``), the same every time for the same
    reference: other characters become ``_``; a longer one keeps its first 37 characters and a 12-digit hash of the
    whole (``<loan uuid>:<installment>:<amount>`` → ``<loan uuid>_<installment>_<amount>``, or hashed when long)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", reference_id)
    return fitted_reference(safe, LINK_ID_MAX, whole=reference_id, sep="_")


def signature(raw: bytes, timestamp: str, secret: str) -> str:
    """Cashfree's webhook signature: base64(HMAC-SHA256(secret, timestamp + raw body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CashfreeGateway(HttpProvider):
    #: seconds since the epoch; tests replace it to check the timestamp window
    clock = staticmethod(time.time)

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "x-client-id": str(self.config.options.get("client_id", "")),
            "x-client-secret": self.config.api_key,
            "x-api-version": str(self.config.options.get("api_version", API_VERSION)),
        }

    async def create_payment_link(
        self,
        *,
        amount: int,
        reference_id: str,
        description: str,
        customer_phone: str,
        notes: dict,
        callback_url: str,
        customer_name: str | None = None,
        customer_email: str | None = None,
    ) -> Link:
        """A payment link for ``amount`` paise. The link id is derived from ``reference_id``; if Cashfree already
        has it (a retried call), the existing link is fetched and returned when its amount is the same."""
        link_id = link_id_for(reference_id)
        customer: dict[str, str] = {"customer_phone": phone_digits(customer_phone)}
        if customer_name:
            customer["customer_name"] = customer_name
        if customer_email:
            customer["customer_email"] = customer_email
        body = {
            "link_id": link_id,
            "link_amount": rupees(amount),
            "link_currency": "INR",
            "link_purpose": description[:500],
            "customer_details": customer,
            "link_partial_payments": False,
            "link_notify": {"send_sms": False, "send_email": False},  # the lender's own SMS carries the link
            "link_meta": {"notify_url": callback_url},
            "link_notes": dict(list(string_notes(notes).items())[:NOTES_MAX]),
        }
        try:
            answer = await self.call("POST", LINKS_PATH, json=body, headers=self._headers)
        except BusinessRefusal as exc:
            if exc.status != 409:
                raise
            answer = await self.call("GET", f"{LINKS_PATH}/{link_id}", headers=self._headers)
            with self.reading("Cashfree payment link"):
                same = paise_from_rupees(answer["link_amount"], "link_amount") == amount
            if not same:
                raise BusinessRefusal(
                    f"cashfree: link {link_id} exists for another amount", code="link_already_exists", vendor=GATEWAY
                ) from exc
        with self.reading("Cashfree payment link"):
            return Link(str(answer["link_id"]), str(answer["link_url"]))

    async def cancel_payment_link(self, link_id: str) -> None:
        await self.call("POST", f"{LINKS_PATH}/{link_id}/cancel", headers=self._headers)

    async def payment_link_amount_paid(self, link_id: str) -> int:
        """Fetch the link (``GET /pg/links/{link_id}``:
        https://www.cashfree.com/docs/api-reference/payments/latest/payment-links/fetch-payment-link-details): its
        ``link_amount_paid`` (rupees) in paise; a link whose ``link_status`` is ``PAID`` without one counts its
        ``link_amount``; ``PARTIALLY_PAID`` without one is a malformed answer."""
        answer = await self.call("GET", f"{LINKS_PATH}/{link_id}", headers=self._headers)
        with self.reading("Cashfree payment link"):
            paid = int(Decimal(str(answer.get("link_amount_paid") or 0)).scaleb(2))
            if paid <= 0 and answer["link_status"] == "PAID":
                paid = paise_from_rupees(answer["link_amount"], "link_amount")
            if paid <= 0 and answer["link_status"] == "PARTIALLY_PAID":
                raise ValueError("PARTIALLY_PAID with no link_amount_paid")
            return max(paid, 0)

    # --- webhooks ----------------------------------------------------------------------------------------------
    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], now: float | None = None) -> bool:
        """Whether ``raw`` carries Cashfree's signature for its ``x-webhook-timestamp`` (constant-time compare), and
        that timestamp is no more than 5 minutes old and no more than 1 minute ahead of ``now`` (default: the
        clock)."""
        secret = self.config.webhook_secret or self.config.api_key
        given = _header(headers, SIGNATURE_HEADER)
        stamp = _header(headers, TIMESTAMP_HEADER)
        if not secret or not given or not stamp or not re.fullmatch(r"\d{10,16}", stamp):
            return False
        age = (self.clock() if now is None else now) - int(stamp) / 1000
        if age > MAX_AGE_SECONDS or age < -MAX_AHEAD_SECONDS:
            return False
        return hmac.compare_digest(signature(raw, stamp, secret), given.strip())

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified Cashfree webhook → :class:`InboundEvent` (see the module docstring for what each type
        becomes). ``ValidationError`` naming the field when the type, the payment's id, status, amount or currency,
        or our tags are missing or out of range."""
        kind = w.text(w.at(body, "type"), "type", w.EVENT_TYPE_MAX) or ""
        if kind in PAYMENT_STATUS:
            return self._payment(kind, body)
        if kind == LINK_EVENT:
            return self._link_event(body)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        return w.InboundEvent(f"{kind}:{digest[:40]}", kind, None, None, None)

    def _payment(self, kind: str, body: Mapping[str, Any]) -> w.InboundEvent:
        data = _object(body, "data")
        order = _object(body, "data.order")
        payment = _object(body, "data.payment")
        payment_id = optional_text(payment.get("cf_payment_id"), "data.payment.cf_payment_id", w.ID_MAX)
        if payment_id is None:
            raise w.invalid("data.payment.cf_payment_id", "must be a non-empty string")
        w.one_of(payment.get("payment_status"), "data.payment.payment_status", frozenset({PAYMENT_STATUS[kind]}))
        amount = paise_from_rupees(payment.get("payment_amount"), "data.payment.payment_amount")
        w.inr(payment.get("payment_currency"), "data.payment.payment_currency")
        order_id = w.text(order.get("order_id"), "data.order.order_id") or ""
        tags = order.get("order_tags")
        if tags is not None and not isinstance(tags, Mapping):
            raise w.invalid("data.order.order_tags", "must be an object")
        tags = tags or {}
        notes = link_notes(tags, "data.order.order_tags")
        link_id = optional_text(tags.get("link_id"), "data.order.order_tags.link_id", w.ID_MAX)
        event_id = f"{kind}:{payment_id}"
        if kind == SUCCESS:
            event = PaymentEvent(
                payment_id,
                amount,
                GATEWAY,
                link_id,
                mode=payment_mode(payment.get("payment_group"), "data.payment.payment_group"),
                reference=_reference(payment.get("bank_reference")),
                purpose=notes.purpose,
                mandate_debit_id=notes.mandate_debit_id,
            )
            return w.InboundEvent(event_id, kind, notes.loan_id, w.LoanSignal.PAYMENT_RECEIVED, event, is_payment=True)
        details = data.get("error_details")
        details = details if isinstance(details, Mapping) else {}
        failure = PaymentFailure(
            payment_id,
            GATEWAY,
            amount,
            reason=reason(
                details.get("error_description"),
                details.get("error_reason"),
                payment.get("payment_message"),
                "the customer left the payment page" if kind == DROPPED else None,
            ),
            order_id=link_id or order_id,  # a link payment: the link we know it by; else Cashfree's order
            mandate_debit_id=notes.mandate_debit_id,
        )
        return w.InboundEvent(event_id, kind, notes.loan_id, w.LoanSignal.PAYMENT_FAILED, failure)

    def _link_event(self, body: Mapping[str, Any]) -> w.InboundEvent:
        data = _object(body, "data")
        link_id = optional_text(data.get("link_id"), "data.link_id", w.ID_MAX)
        if link_id is None:
            raise w.invalid("data.link_id", "must be a non-empty string")
        status = w.text(data.get("link_status"), "data.link_status", 20)
        paid_value = data.get("link_amount_paid")
        paid = optional_text(None if paid_value is None else str(paid_value), "data.link_amount_paid", 20) or "0"
        notes_value = data.get("link_notes")
        notes = link_notes(notes_value, "data.link_notes") if isinstance(notes_value, Mapping) else LinkNotes()
        event_id = f"{LINK_EVENT}:{link_id}:{status}:{paid}"
        if len(event_id) > w.EVENT_ID_MAX:  # webhook_events.event_id: a long link id is hashed, the id stays stable
            event_id = f"{LINK_EVENT}:{hashlib.sha256(event_id.encode()).hexdigest()[:40]}"
        return w.InboundEvent(event_id, LINK_EVENT, notes.loan_id, None, None)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in (headers or {}).items() if k.lower() == name), None)


def _object(body: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = w.at(body, path)
    if not isinstance(value, Mapping):
        raise w.invalid(path, "must be an object")
    return value


def _reference(value: Any) -> str | None:
    """``bank_reference`` (the UTR / RRN) for the receipt; one that is not a plausible reference is left out
    rather than refusing the money."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip() and len(value.strip()) <= 80:
        return value.strip()
    return None
