"""Razorpay payment links, and the payment webhooks that announce money received or an attempt that failed.

Sources (Razorpay docs): payment links API https://razorpay.com/docs/api/payments/payment-links/;
webhook payloads https://razorpay.com/docs/webhooks/payments/ (``payment.captured``, ``payment.failed``) and
https://razorpay.com/docs/webhooks/payloads/payment-links/ (``payment_link.paid``); validation, headers and
idempotency https://razorpay.com/docs/webhooks/validate-test/; retries
https://razorpay.com/docs/webhooks/best-practices/; the error fields of a failed payment
https://razorpay.com/docs/errors/.

Links, as documented (https://razorpay.com/docs/api/payments/payment-links/create-standard): ``reference_id`` is
unique per link and at most 40 characters. Ours (``<loan uuid>:<installment>:<amount>``, 41 or more) goes as
:func:`reference_id_for`: itself when it fits, else its first 27 characters and a 12-digit hash of the whole, the
same every time for the same reference. A second create with a ``reference_id`` already used is refused (400
``BAD_REQUEST_ERROR``), so a refused create looks the reference up (``GET /v1/payment_links?reference_id=…``, the
fetch-all query parameter: https://razorpay.com/docs/api/payments/payment-links/fetch-all-standard) and answers the
link it names: a retried call (after a crash between Razorpay's answer and our write, or an activity retried after a
timeout) gets its own link back instead of a refusal. Only a refusal that names ``reference_id`` (its ``field``, or its
description) is looked up; any other refusal stands. The link found is answered whatever its status: the caller's
records say whether it is still the one to offer.

Webhooks, as documented:

- body ``{"entity": "event", "account_id", "event", "contains": [...], "payload": {<entity name>:
  {"entity": {...}}}, "created_at": <unix s>}`` — no event id in the body;
- ``X-Razorpay-Event-Id``: the event's id, unique per event (the same on every retry of it);
- ``X-Razorpay-Signature``: hex HMAC-SHA256 of the raw body keyed with the webhook secret;
- any non-2xx answer is a failed delivery, retried with exponential backoff for 24 hours;
- amounts are integer paise, ``currency`` "INR"; ``notes`` is an object, or ``[]`` when empty.

What the system acts on:

- ``payment.captured`` (any captured payment whose ``notes.loan_id`` names the loan — a UPI/QR payment made with our
  notes, or a link payment) and ``payment_link.paid`` (the link's ``notes.loan_id``; the payment inside it) →
  ``payment_received`` with a ``PaymentEvent``. Both carry the same payment id for a link payment: one payment id
  is applied once (the workflow keeps the ids it processed; ``payment_transactions`` is unique on
  (gateway, gateway_payment_id)), so subscribing to both never counts a payment twice.
- ``payment.failed`` (the payment entity with ``status`` "failed" and ``error_code`` / ``error_description`` /
  ``error_reason``) → ``payment_failed`` with a ``PaymentFailure`` (reason: ``error_description``); it changes no
  dues, and a failure reported for a payment id already captured changes nothing (``api.webhooks.intake``).

The payment's ``notes`` (ours: ``loan_id``, ``purpose``, ``mandate_debit_id``) travel into the event; ``method``
becomes its ``mode`` (UPI, CARD, NETBANKING...), the UPI RRN or the bank's transaction id its ``reference``; a
mandate debit's value date (``paid_on``) is the IST day of the payment's ``created_at``, when it was presented.
Every other event is stored and needs no action; autopay's ``token.*`` events are dispatched at the end of
:meth:`RazorpayGateway.parse_webhook` (see the comment there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider, ProviderError
from activities.providers.payments.base import (
    Link,
    LinkNotes,
    fitted_reference,
    link_notes,
    optional_text,
    payment_mode,
    reason,
)
from activities.providers.payments.razorpay_autopay import RazorpayAutopay, created_day
from activities.providers.signing import SIGNATURE_HEADERS
from workflows.contracts import PaymentEvent, PaymentFailure

GATEWAY = "razorpay"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
PAYMENT_EVENTS = frozenset({"payment.captured", "payment_link.paid", "payment_link.partially_paid"})
FAILURE_EVENTS = frozenset({"payment.failed"})
ENTITY = "payload.payment.entity"
#: A payment link's ``reference_id``: at most this many characters (Razorpay's create-standard page).
REFERENCE_ID_MAX = 40


def reference_id_for(reference_id: str) -> str:
    """Our link reference as a Razorpay ``reference_id`` (at most :data:`REFERENCE_ID_MAX` characters), the same
    every time for the same reference: a reference that fits is sent as it is; a longer one keeps its first 27
    characters, then ``-`` and the first 12 hex digits of the SHA-256 of the whole (two references differing only
    after the 27th character still get two links)."""
    return fitted_reference(reference_id, REFERENCE_ID_MAX)


def _names_reference(error_body: Any) -> bool:
    """Whether Razorpay's error body (``{"error": {"code", "description", "field", ...}}``) is about the
    ``reference_id`` (a refusal of a reference already used names that field)."""
    error = error_body.get("error") if isinstance(error_body, Mapping) else None
    if not isinstance(error, Mapping):
        return False
    return error.get("field") == "reference_id" or "reference_id" in str(error.get("description") or "")


class RazorpayGateway(RazorpayAutopay, HttpProvider):
    signature_header = SIGNATURE_HEADERS["razorpay"]

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
        customer: dict[str, str] = {"contact": customer_phone}
        if customer_name:
            customer["name"] = customer_name
        if customer_email:
            customer["email"] = customer_email
        reference = reference_id_for(reference_id)
        try:
            body = await self.call(
                "POST",
                "/razorpay/payment_links",
                json={
                    "amount": amount,
                    "currency": "INR",
                    "reference_id": reference,
                    "description": description,
                    "customer": customer,
                    "notes": notes,
                    "callback_url": callback_url,
                },
            )
        except BusinessRefusal as refused:
            if not _names_reference(refused.details):
                raise  # refused for another reason (an amount, a contact): the refusal stands
            try:
                made = await self._link_with_reference(reference)
            except BusinessRefusal:
                raise refused from None
            if made is None:  # the reference is taken but fetch-all does not show its link (yet): ask again later
                raise ProviderError(
                    f"razorpay: reference {reference} is taken and no link has it yet", vendor=GATEWAY
                ) from refused
            if made.get("amount") != amount:
                raise BusinessRefusal(
                    f"razorpay: link {made.get('id')} has reference {reference} for another amount",
                    code="BAD_REQUEST_ERROR",
                    vendor=GATEWAY,
                    status=refused.status,
                ) from refused
            body = made
        with self.reading("Razorpay payment link"):
            return Link(body["id"], body["short_url"])

    async def _link_with_reference(self, reference: str) -> dict[str, Any] | None:
        """The link made with our ``reference_id`` (fetch-all, filtered by ``reference_id``), or None."""
        answer = await self.call("GET", "/razorpay/payment_links", params={"reference_id": reference})
        with self.reading("Razorpay payment links"):
            links = answer["payment_links"]
            return next((link for link in links if link.get("reference_id") == reference), None)

    async def cancel_payment_link(self, link_id: str) -> None:
        await self.call("POST", f"/razorpay/payment_links/{link_id}/cancel")

    async def payment_link_amount_paid(self, link_id: str) -> int:
        """Fetch the link by id (``GET /v1/payment_links/{id}``:
        https://razorpay.com/docs/api/payments/payment-links/fetch-id-standard): its ``amount_paid`` (paise); a
        link whose ``status`` is ``paid`` without one counts its ``amount``; ``partially_paid`` without one is a
        malformed answer."""
        answer = await self.call("GET", f"/razorpay/payment_links/{link_id}")
        with self.reading("Razorpay payment link"):
            paid = int(answer.get("amount_paid") or 0)
            if paid <= 0 and answer["status"] == "paid":
                paid = int(answer["amount"])
            if paid <= 0 and answer["status"] == "partially_paid":
                raise ValueError("partially_paid with no amount_paid")
            return max(paid, 0)

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified Razorpay webhook → :class:`InboundEvent`: for the payment events a ``PaymentEvent``
        (payment id, amount in paise, gateway "razorpay", link id when known, mode, reference, purpose, mandate
        debit) for ``payment_received``; for ``payment.failed`` a ``PaymentFailure`` for ``payment_failed``.
        ``ValidationError`` (field named) when anything is missing or out of range: the event id header, the event
        name, the payment's id/amount/currency/status, the notes."""
        event_id = w.header(headers, EVENT_ID_HEADER)
        event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
        if event in PAYMENT_EVENTS:
            return self._received(event_id, event, body)
        if event in FAILURE_EVENTS:
            return self._failed(event_id, event, body)
        # Autopay (Razorpay recurring payments: ``token.confirmed`` / ``token.rejected`` / ``token.cancelled`` /
        # ``token.paused`` → ``mandate_updated``) lives in ``razorpay_autopay.py``, a mixin of this class.
        if event.startswith("token."):
            return self.parse_token_event(body, headers)
        return w.InboundEvent(event_id, event, None, None, None)

    def _received(self, event_id: str, event: str, body: Mapping[str, Any]) -> w.InboundEvent:
        payment = _payment(body)
        payment_id = w.text(payment.get("id"), f"{ENTITY}.id") or ""
        amount = w.paise(payment.get("amount"), f"{ENTITY}.amount")
        w.inr(payment.get("currency"), f"{ENTITY}.currency")
        if payment.get("status") != "captured":
            raise w.invalid(f"{ENTITY}.status", "must be captured")
        notes = _notes(payment.get("notes"), f"{ENTITY}.notes")
        link_id = None
        if event != "payment.captured":  # payment_link.paid / partially_paid: the link's notes are ours
            link = w.at(body, "payload.payment_link.entity")
            if not isinstance(link, Mapping):
                raise w.invalid("payload.payment_link.entity", "must be an object")
            link_id = w.text(link.get("id"), "payload.payment_link.entity.id")
            on_link = _notes(link.get("notes"), "payload.payment_link.entity.notes")
            notes = LinkNotes(
                on_link.loan_id or notes.loan_id,
                on_link.purpose or notes.purpose,
                on_link.mandate_debit_id or notes.mandate_debit_id,
            )
        return w.InboundEvent(
            event_id,
            event,
            notes.loan_id,
            w.LoanSignal.PAYMENT_RECEIVED,
            PaymentEvent(
                payment_id,
                amount,
                GATEWAY,
                link_id,
                mode=payment_mode(payment.get("method"), f"{ENTITY}.method"),
                reference=_reference(payment),
                purpose=notes.purpose,
                mandate_debit_id=notes.mandate_debit_id,
                # a mandate debit is value-dated the day it was presented to the bank, not the day the bank
                # confirmed it (an e-mandate debit can take days): the loan reverses penal charges levied between
                paid_on=created_day(payment) if notes.mandate_debit_id else None,
            ),
            is_payment=True,
        )

    def _failed(self, event_id: str, event: str, body: Mapping[str, Any]) -> w.InboundEvent:
        payment = _payment(body)
        payment_id = w.text(payment.get("id"), f"{ENTITY}.id") or ""
        amount = w.paise(payment.get("amount"), f"{ENTITY}.amount")
        w.inr(payment.get("currency"), f"{ENTITY}.currency")
        if payment.get("status") != "failed":
            raise w.invalid(f"{ENTITY}.status", "must be failed")
        notes = _notes(payment.get("notes"), f"{ENTITY}.notes")
        failure = PaymentFailure(
            payment_id,
            GATEWAY,
            amount,
            reason=reason(payment.get("error_description"), payment.get("error_reason"), payment.get("error_code")),
            order_id=optional_text(payment.get("order_id"), f"{ENTITY}.order_id", w.ID_MAX),
            mandate_debit_id=notes.mandate_debit_id,
        )
        return w.InboundEvent(event_id, event, notes.loan_id, w.LoanSignal.PAYMENT_FAILED, failure)


def _payment(body: Mapping[str, Any]) -> Mapping[str, Any]:
    payment = w.at(body, ENTITY)
    if not isinstance(payment, Mapping):
        raise w.invalid(ENTITY, "must be an object")
    return payment


def _notes(value: Any, field: str) -> LinkNotes:
    return link_notes(w.notes(value, field), field)


def _reference(payment: Mapping[str, Any]) -> str | None:
    """The bank's reference for the receipt: the UPI RRN, else the netbanking transaction id (when Razorpay gives
    one); a malformed one is left out rather than refusing the money."""
    acquirer = payment.get("acquirer_data")
    if not isinstance(acquirer, Mapping):
        return None
    for key in ("rrn", "bank_transaction_id", "upi_transaction_id"):
        value = acquirer.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()
            if len(text) <= 80 and "\x00" not in text:
                return text
    return None
