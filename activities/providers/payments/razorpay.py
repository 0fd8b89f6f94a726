"""Razorpay payment links, and the payment webhooks that announce money received.

Sources (Razorpay docs): payment links API https://razorpay.com/docs/api/payments/payment-links/;
webhook payloads https://razorpay.com/docs/webhooks/payments/ (``payment.captured``) and
https://razorpay.com/docs/webhooks/payloads/payment-links/ (``payment_link.paid``); validation, headers and
idempotency https://razorpay.com/docs/webhooks/validate-test/; retries
https://razorpay.com/docs/webhooks/best-practices/.

Webhooks, as documented:

- body ``{"entity": "event", "account_id", "event", "contains": [...], "payload": {<entity name>:
  {"entity": {...}}}, "created_at": <unix s>}`` — no event id in the body;
- ``X-Razorpay-Event-Id``: the event's id, unique per event (the same on every retry of it);
- ``X-Razorpay-Signature``: hex HMAC-SHA256 of the raw body keyed with the webhook secret;
- any non-2xx answer is a failed delivery, retried with exponential backoff for 24 hours;
- amounts are integer paise, ``currency`` "INR"; ``notes`` is an object, or ``[]`` when empty.

What the system acts on: ``payment.captured`` (any captured payment whose ``notes.loan_id`` names the
loan — a UPI/QR payment made with our notes, or a link payment) and ``payment_link.paid`` (the link's
``notes.loan_id``; the payment inside it). Both carry the same payment id for a link payment: one payment
id is applied once (the workflow keeps the ids it processed; ``payment_transactions`` is unique on
(gateway, gateway_payment_id)), so subscribing to both never counts a payment twice. Every other event is
stored and needs no action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import HttpProvider
from activities.providers.payments.base import Link
from activities.providers.payments.razorpay_autopay import RazorpayAutopay
from activities.providers.signing import SIGNATURE_HEADERS
from workflows.contracts import PaymentEvent

EVENT_ID_HEADER = "X-Razorpay-Event-Id"
PAYMENT_EVENTS = frozenset({"payment.captured", "payment_link.paid", "payment_link.partially_paid"})


class RazorpayGateway(RazorpayAutopay, HttpProvider):
    signature_header = SIGNATURE_HEADERS["razorpay"]

    async def create_payment_link(
        self, *, amount: int, reference_id: str, description: str, customer_phone: str, notes: dict, callback_url: str
    ) -> Link:
        body = await self.call(
            "POST",
            "/razorpay/payment_links",
            json={
                "amount": amount,
                "currency": "INR",
                "reference_id": reference_id,
                "description": description,
                "customer": {"contact": customer_phone},
                "notes": notes,
                "callback_url": callback_url,
            },
        )
        return Link(body["id"], body["short_url"])

    async def cancel_payment_link(self, link_id: str) -> None:
        await self.call("POST", f"/razorpay/payment_links/{link_id}/cancel")

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified Razorpay webhook → :class:`InboundEvent`; for the payment events a ``PaymentEvent``
        (payment id, amount in paise, gateway "razorpay", link id when known) for the
        ``payment_received`` signal. ``ValidationError`` (field named) when anything is missing or out of
        range: the event id header, the event name, the payment's id/amount/currency/status, the notes."""
        event_id = w.header(headers, EVENT_ID_HEADER)
        event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
        if event.startswith("token."):  # autopay: token.confirmed / rejected / cancelled / paused (razorpay_autopay)
            return self.parse_token_event(body, headers)
        if event not in PAYMENT_EVENTS:
            return w.InboundEvent(event_id, event, None, None, None)
        payment = w.at(body, "payload.payment.entity")
        if not isinstance(payment, Mapping):
            raise w.invalid("payload.payment.entity", "must be an object")
        payment_id = w.text(payment.get("id"), "payload.payment.entity.id") or ""
        amount = w.paise(payment.get("amount"), "payload.payment.entity.amount")
        w.inr(payment.get("currency"), "payload.payment.entity.currency")
        if payment.get("status") != "captured":
            raise w.invalid("payload.payment.entity.status", "must be captured")
        loan_ref = _loan_ref(payment.get("notes"), "payload.payment.entity.notes")
        link_id = None
        if event == "payment_link.paid":
            link = w.at(body, "payload.payment_link.entity")
            if not isinstance(link, Mapping):
                raise w.invalid("payload.payment_link.entity", "must be an object")
            link_id = w.text(link.get("id"), "payload.payment_link.entity.id")
            loan_ref = _loan_ref(link.get("notes"), "payload.payment_link.entity.notes") or loan_ref
        return w.InboundEvent(
            event_id,
            event,
            loan_ref,
            w.LoanSignal.PAYMENT_RECEIVED,
            PaymentEvent(payment_id, amount, "razorpay", link_id),
            is_payment=True,
        )


def _loan_ref(value: Any, field: str) -> str | None:
    found = w.notes(value, field).get("loan_id")
    return w.text(found, f"{field}.loan_id", required=False) if found is not None else None
