"""Razorpay Recurring Payments: e-mandate and UPI Autopay registration by link, charges on a confirmed token, token
cancellation, and the token webhooks. Mixed into :class:`activities.providers.payments.razorpay.RazorpayGateway`.

Sources (Razorpay docs):

- customers: https://razorpay.com/docs/api/customers/ (``POST /v1/customers``, ``fail_existing: "0"`` answers the
  existing customer with the same contact and email instead of an error);
- registration links: https://razorpay.com/docs/api/payments/recurring-payments/emandate/create-authorization-transaction/
  and .../upi/create-authorization-transaction/ (``POST /v1/subscription_registration/auth_links``: ``customer``,
  ``type: "link"``, ``amount`` (0 for e-mandate; UPI authorises ₹1, 100 paise), ``currency``,
  ``subscription_registration`` {``method`` emandate|upi, ``auth_type``, ``max_amount``, ``expire_at``,
  ``frequency`` (UPI: ``as_presented``), ``bank_account`` {``beneficiary_name``, ``account_number``,
  ``account_type``, ``ifsc_code``} for e-mandate}, ``receipt``, ``notes``, ``sms_notify``/``email_notify``,
  ``callback_url``/``callback_method`` as for invoices, https://razorpay.com/docs/api/invoices/create/). The
  answer is an invoice entity with ``customer_id``, ``order_id`` and ``short_url``; Razorpay makes the order itself;
- subsequent payments: https://razorpay.com/docs/api/payments/recurring-payments/emandate/create-subsequent-payments/
  and .../upi/create-subsequent-payments/ (a new ``POST /v1/orders`` per debit with ``amount``, ``currency``,
  ``receipt``, ``notes``, ``payment_capture``; then ``POST /v1/payments/create/recurring`` with ``email``,
  ``contact``, ``amount``, ``currency``, ``order_id``, ``customer_id``, ``token``, ``recurring: "1"``, ``notes``,
  answered ``{razorpay_payment_id, razorpay_order_id, razorpay_signature}``; the outcome arrives as
  ``payment.captured`` or ``payment.failed``). UPI Autopay: NPCI requires the pre-debit notification at least
  24 hours before the debit (https://razorpay.com/docs/payments/recurring-payments/upi/faqs/); Razorpay sends it
  when the order is created and debits after it;
- orders by receipt: https://razorpay.com/docs/api/orders/fetch-all/ (``GET /v1/orders?receipt=``) and an order's
  payments https://razorpay.com/docs/api/orders/fetch-payments/ (``GET /v1/orders/{id}/payments``: payment entities
  as in the webhooks, ``status`` created, authorized, captured, refunded or failed): how a retried charge finds the
  order and payment it already made, and how a debit whose webhook never came is looked up (``find_debit``);
- tokens: https://razorpay.com/docs/api/payments/recurring-payments/emandate/tokens/ (``GET
  /v1/customers/{id}/tokens``; ``DELETE /v1/customers/{id}/tokens/{token_id}`` cancels the mandate at the bank);
- webhooks: https://razorpay.com/docs/payments/recurring-payments/subscribe-to-webhooks/ (``token.confirmed``,
  ``token.rejected``, ``token.cancelled``, ``token.paused``: the token entity at ``payload.token.entity`` with
  ``recurring_details.status`` and ``failure_reason``). The token entity carries the ``notes`` given to the token at
  registration (``loan_id``, ``mandate_id``), by which the event finds its loan; a token event without them is
  stored and acts on nothing.

Paths are relative to the adapter's ``base_url`` under ``/razorpay`` (the sandbox's prefix for ``/v1``), as the
payment links are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider
from activities.providers.payments.mandate_base import (
    DebitLookup,
    DebitStatus,
    MandateCharge,
    MandateMethod,
    MandateRegistration,
    RegistrationRequest,
)
from workflows.contracts import MandateEvent, PaymentEvent, PaymentFailure
from workflows.options import IST

EVENT_ID_HEADER = "X-Razorpay-Event-Id"
#: token webhook → our mandate status
TOKEN_EVENTS = {
    "token.confirmed": "ACTIVE",
    "token.rejected": "REJECTED",
    "token.cancelled": "CANCELLED",
    "token.paused": "PAUSED",
}
METHODS = {MandateMethod.EMANDATE: "emandate", MandateMethod.UPI: "upi"}
UPI_AUTH_AMOUNT = 100  # paise: a UPI Autopay registration authorises ₹1
REASON_MAX = 500


class RazorpayAutopay(HttpProvider):
    """Razorpay's mandate operations (:class:`activities.providers.payments.mandate_base.MandateProvider`)."""

    async def create_mandate_registration(self, req: RegistrationRequest) -> MandateRegistration:
        """A customer (or the existing one) and a registration link for ``req.method``; the borrower authorises at
        the link's URL. ``BusinessRefusal`` for NACH (Razorpay's paper NACH is not offered here) and when Razorpay
        refuses the request (400: e.g. a bank without e-mandate)."""
        method = METHODS.get(req.method)
        if method is None:
            raise BusinessRefusal(f"razorpay: mandate method {req.method} is not offered", code="METHOD_UNSUPPORTED")
        customer: dict[str, Any] = {"name": req.customer.name, "contact": req.customer.contact}
        if req.customer.email:
            customer["email"] = req.customer.email
        created = await self.call(
            "POST", "/razorpay/customers", json={**customer, "fail_existing": "0", "notes": dict(req.notes)}
        )
        registration: dict[str, Any] = {"method": method, "max_amount": req.max_amount, "expire_at": req.expire_at}
        if req.method == MandateMethod.EMANDATE:
            if req.account is None:
                raise BusinessRefusal("razorpay: an e-mandate needs the bank account", code="ACCOUNT_REQUIRED")
            registration["auth_type"] = "netbanking"
            registration["bank_account"] = {
                "beneficiary_name": req.account.beneficiary_name,
                "account_number": req.account.account_number,
                "account_type": req.account.account_type,
                "ifsc_code": req.account.ifsc,
            }
        else:
            registration["frequency"] = "as_presented"  # loan installments: debited when presented
        link = await self.call(
            "POST",
            "/razorpay/subscription_registration/auth_links",
            json={
                "customer": customer,
                "type": "link",
                "amount": UPI_AUTH_AMOUNT if req.method == MandateMethod.UPI else 0,
                "currency": "INR",
                "description": req.description,
                "subscription_registration": registration,
                "receipt": req.receipt,
                "sms_notify": False,  # the lender sends the link in its own words
                "email_notify": False,
                "notes": dict(req.notes),
                **({"callback_url": req.callback_url, "callback_method": "get"} if req.callback_url else {}),
            },
        )
        with self.reading("registration link"):
            return MandateRegistration(
                str(link.get("customer_id") or created["id"]), str(link["order_id"]), str(link["short_url"]), link["id"]
            )

    async def charge_mandate(
        self,
        *,
        token_id: str,
        customer_ref: str,
        amount: int,
        notes: Mapping[str, str],
        receipt: str,
        contact: str | None = None,
        email: str | None = None,
    ) -> MandateCharge:
        """One debit of ``amount`` paise on the confirmed token, once per ``receipt`` (our debit id): an order with
        that receipt found at Razorpay is reused, and a payment already on it is answered instead of a new one (a
        retry after a lost answer never charges twice). SENT: the outcome comes by webhook."""
        order_id, payments = await self._order_payments(receipt)
        if order_id is not None:
            if payments:
                return _known(order_id, payments[0])
        else:
            order = await self.call(
                "POST",
                "/razorpay/orders",
                json={
                    "amount": amount,
                    "currency": "INR",
                    "receipt": receipt,
                    "notes": dict(notes),
                    "payment_capture": True,
                },
            )
            with self.reading("order"):
                order_id = str(order["id"])
        body: dict[str, Any] = {
            "amount": amount,
            "currency": "INR",
            "order_id": order_id,
            "customer_id": customer_ref,
            "token": token_id,
            "recurring": "1",
            "description": f"Installment debit {receipt}",
            "notes": dict(notes),
        }
        if contact:
            body["contact"] = contact
        if email:
            body["email"] = email
        answer = await self.call("POST", "/razorpay/payments/create/recurring", json=body)
        with self.reading("recurring payment"):
            return MandateCharge(order_id, str(answer["razorpay_payment_id"]), DebitStatus.SENT)

    async def find_debit(self, receipt: str) -> DebitLookup:
        """What Razorpay has for the debit whose order has ``receipt`` (our debit id), asked when its outcome never
        arrived: the order by its receipt (``GET /v1/orders?receipt=``), then its payments (``GET
        /v1/orders/{id}/payments``). A captured payment → ``payment``, exactly as its ``payment.captured`` webhook
        would have been parsed (``parse_webhook``), dated the IST day Razorpay created it; else a failed one →
        ``failure`` as ``payment.failed`` would have given it; a payment still ``created`` or ``authorized`` (an
        e-mandate debit the bank is processing) → ``pending``; no order, or no payment on it → nothing.
        ``ProviderError`` (retried) when Razorpay does not answer or answers malformed."""
        _, payments = await self._order_payments(receipt)
        by_status = {str(p.get("status")): p for p in payments if isinstance(p, Mapping)}
        for status, event in (("captured", "payment.captured"), ("failed", "payment.failed")):
            payment = by_status.get(status)
            if payment is None:
                continue
            envelope = {"event": event, "payload": {"payment": {"entity": payment}}}
            with self.reading(f"{status} payment"):
                parsed = self.parse_webhook(envelope, {EVENT_ID_HEADER: f"lookup:{payment.get('id')}"}).arg
            if isinstance(parsed, PaymentEvent):
                return DebitLookup(payment=replace(parsed, paid_on=created_day(payment)))
            if isinstance(parsed, PaymentFailure):
                return DebitLookup(failure=parsed)
        return DebitLookup(pending=any(p in by_status for p in ("created", "authorized")))

    async def _order_payments(self, receipt: str) -> tuple[str | None, list[Any]]:
        """The order whose receipt is ``receipt`` (``GET /v1/orders?receipt=``) and its payments (``GET
        /v1/orders/{id}/payments``): (None, []) when Razorpay has no such order."""
        found = await self.call("GET", "/razorpay/orders", params={"receipt": receipt})
        with self.reading("orders"):
            orders = [o for o in found.get("items") or [] if o.get("receipt") == receipt]
        if not orders:
            return None, []
        order_id = str(orders[0]["id"])
        paid = await self.call("GET", f"/razorpay/orders/{order_id}/payments")
        with self.reading("order payments"):
            return order_id, list(paid.get("items") or [])

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """The gateway's parser (``RazorpayGateway.parse_webhook``, which this mixin's class is part of)."""
        raise NotImplementedError

    async def cancel_mandate(self, *, token_id: str, customer_ref: str) -> None:
        """Cancel the mandate at the bank by deleting its token (Razorpay then sends ``token.cancelled``). A token
        Razorpay no longer has counts as cancelled."""
        try:
            await self.call("DELETE", f"/razorpay/customers/{customer_ref}/tokens/{token_id}")
        except BusinessRefusal as exc:
            if exc.status != 404:
                raise

    async def fetch_tokens(self, customer_ref: str) -> list[dict[str, Any]]:
        """The customer's tokens as Razorpay keeps them (``GET /v1/customers/{id}/tokens``: ``items``)."""
        body = await self.call("GET", f"/razorpay/customers/{customer_ref}/tokens")
        with self.reading("tokens"):
            return list(body.get("items") or [])

    @staticmethod
    def stored_payload(body: Mapping[str, Any]) -> dict[str, Any]:
        """A Razorpay event as kept in ``webhook_events``: an e-mandate token's ``bank_details.account_number``
        masked to its last 4 digits (Razorpay sends it in full); every other event as it came."""
        token = (
            body.get("payload", {}).get("token", {}).get("entity") if isinstance(body.get("payload"), dict) else None
        )
        details = token.get("bank_details") if isinstance(token, dict) else None
        number = details.get("account_number") if isinstance(details, dict) else None
        if not isinstance(number, str) or not isinstance(details, dict) or not isinstance(token, dict):
            return dict(body)
        if not str(body.get("event", "")).startswith("token."):
            return dict(body)
        masked = {**details, "account_number": "X" * max(len(number) - 4, 0) + number[-4:]}
        entity = {**token, "bank_details": masked}
        return {**body, "payload": {**body["payload"], "token": {**body["payload"]["token"], "entity": entity}}}

    def parse_token_event(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified ``token.*`` webhook → :class:`InboundEvent` with the ``mandate_updated`` signal and a
        ``MandateEvent`` (ours: ``notes.mandate_id``; ACTIVE, REJECTED, CANCELLED or PAUSED; the token id; the
        bank's failure reason). Another ``token.*`` event, or one whose token has no ``loan_id`` and ``mandate_id``
        in its notes, is stored and acts on nothing. ``ValidationError`` naming the field when the event id header,
        the token entity, its id or its notes are malformed."""
        event_id = w.header(headers, EVENT_ID_HEADER)
        event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
        status = TOKEN_EVENTS.get(event)
        if status is None:
            return w.InboundEvent(event_id, event, None, None, None)
        token = w.at(body, "payload.token.entity")
        if not isinstance(token, Mapping):
            raise w.invalid("payload.token.entity", "must be an object")
        token_id = w.text(token.get("id"), "payload.token.entity.id") or ""
        notes = w.notes(token.get("notes"), "payload.token.entity.notes")
        loan_ref = w.text(notes.get("loan_id"), "payload.token.entity.notes.loan_id", required=False)
        mandate_id = w.text(notes.get("mandate_id"), "payload.token.entity.notes.mandate_id", required=False)
        if loan_ref is None or mandate_id is None:
            return w.InboundEvent(event_id, event, None, None, None)
        details = token.get("recurring_details")
        reason = details.get("failure_reason") if isinstance(details, Mapping) else None
        reason = w.text(reason, "payload.token.entity.recurring_details.failure_reason", REASON_MAX, required=False)
        return w.InboundEvent(
            event_id,
            event,
            loan_ref,
            w.LoanSignal.MANDATE_UPDATED,
            MandateEvent(mandate_id, status, token_id, reason),
        )


def _known(order_id: str, payment: Mapping[str, Any]) -> MandateCharge:
    """A payment Razorpay already has on the debit's order, by its status."""
    status = payment.get("status")
    reason = payment.get("error_description") if status == "failed" else None
    mapped = {"captured": DebitStatus.CAPTURED, "failed": DebitStatus.FAILED}.get(str(status), DebitStatus.SENT)
    return MandateCharge(order_id, str(payment["id"]), mapped, reason)


def created_day(payment: Mapping[str, Any]) -> date | None:
    """The IST day Razorpay created ``payment`` (its ``created_at``, unix seconds): a mandate debit's value date,
    the day the charge was presented to the bank, however many days the bank took to confirm it; never later than
    today. None when the field is missing or not a plausible timestamp (the money is never refused for it)."""
    created = payment.get("created_at")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 < created < 2**33:
        return None
    return min(datetime.fromtimestamp(created, IST).date(), datetime.now(IST).date())
