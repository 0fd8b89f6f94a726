"""Paytring (payment orchestration: one integration routed to several acquirers): an order with a hosted checkout
as the payment link, and its server callback announcing each payment attempt of the order.

**What is documented, and where.** Paytring's API reference (docs.paytring.com) is not among the stored
documentation this was written from; what follows is Paytring's own SDKs and what they print:

- Python SDK (github.com/paytring/python-sdk, PyPI ``paytring``, README and ``paytring/client.py``): create an
  order with ``key``, ``receipt_id`` (ours, unique), ``amount`` (paise), ``currency``, ``callback_url`` ("the URL
  where PAYTRING will send success/failed etc. response"), ``cname``, ``email``, ``phone``, optional ``notes``
  (``udf1``…``udf5``) and ``hash``; the answer ``{"status": true, "url": <base64 of the checkout URL>,
  "order_id"}``; an error ``{"status": false, "error": {"message", "code"}}``. The fetched order:
  ``{order_id, receipt_id, pg_transaction_id, amount (paise), currency, pg, method, order_status ("success"...),
  unmapped_status ("captured"...), customer, notes: {udf1...}}``.
- Go SDK (github.com/paytring/go-sdk, ``order.go``, ``paytring.go``): the v2 endpoints ``POST /api/v2/order/create``,
  ``/api/v2/order/fetch``, ``/api/v2/order/fetch/receipt``, ``/api/v2/order/cancel`` with ``Authorization: Basic
  base64(key:secret)``; ``MakeHash``: SHA-512 (hex) of the string values of the request, keys sorted, each
  followed by ``|``, then the secret.
- Node SDK (github.com/paytring/node-commonjs, README and ``src/utils/utils.js``): a webhook carries its hash in
  ``x-paytring-signature``, verified with the same hash over the webhook's fields and the API secret.

**What is chosen here** (and imitated by the sandbox, docs/sandbox.md "Gateways"): the callback is a flat JSON
object of strings — ``order_id``, ``receipt_id``, ``pg_transaction_id`` (the attempt: one order can carry several,
each its own), ``amount`` (paise), ``currency``, ``order_status`` (``success`` / ``failed``), ``unmapped_status``,
``method``, ``pg``, ``udf1``…``udf5`` (our notes: ``udf1`` the loan id, ``udf2`` the purpose, ``udf3`` the
installment, ``udf4`` the autopay debit), ``message`` (why it failed) — signed in ``X-Paytring-Signature`` with the
SDKs' hash: SHA-512 hex of the values in key order joined by ``|``, then ``|`` and the API secret. A body with a
value that is not a string is refused (the Go SDK's hash leaves such values out, so they would not be signed).
Paytring's retry policy is not published; the sandbox retries on any non-2xx like the other gateways.

**Event id.** No event id is sent: ``<order_status>:<pg_transaction_id>`` (signed fields; stable across retries).

What the system acts on: ``order_status`` ``success`` → ``payment_received`` (``PaymentEvent``: the attempt's
``pg_transaction_id``, the amount, ``method`` as the mode, the order id as the link id), ``failed`` →
``payment_failed`` (``PaymentFailure``, the reason from ``message``); any other status is stored with no action.

Config: ``api_key`` the Paytring key; ``webhook_secret`` Paytring's API secret — the one secret Paytring gives, used
for the Basic auth, the request hash and the callbacks' hash (kept in the masked secret field, never in the
options, which the settings API shows as they are).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider
from activities.providers.payments.base import (
    PURPOSES,
    Link,
    LinkNotes,
    optional_text,
    paise_from_digits,
    payment_mode,
    phone_digits,
    reason,
    uuid_text,
)
from workflows.contracts import PaymentEvent, PaymentFailure

GATEWAY = "paytring"
CREATE_PATH = "/paytring/api/v2/order/create"
CANCEL_PATH = "/paytring/api/v2/order/cancel"
FETCH_PATH = "/paytring/api/v2/order/fetch"
SIGNATURE_HEADER = "x-paytring-signature"
#: our notes → Paytring's user-defined fields (it keeps udf1…udf5 only)
UDF = {"loan_id": "udf1", "purpose": "udf2", "installment_no": "udf3", "mandate_debit_id": "udf4"}
STATUSES = frozenset({"success", "failed", "pending"})


def request_hash(params: Mapping[str, Any], secret: str) -> str:
    """Paytring's hash (its SDKs' ``MakeHash``/``createHash``): SHA-512 hex of the string values in key order, each
    followed by ``|``, then the secret. Non-string values are left out, as the Go SDK does."""
    text = "".join(f"{params[k]}|" for k in sorted(params) if isinstance(params[k], str))
    return hashlib.sha512((text + secret).encode()).hexdigest()


class PaytringGateway(HttpProvider):
    @property
    def _secret(self) -> str:
        return self.config.webhook_secret

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A v2 call: Basic auth, the request hash, and Paytring's ``status: false`` answer (sent with HTTP 200)
        turned into a refusal with its code."""
        signed = {**body, "hash": request_hash(body, self._secret)}
        auth = base64.b64encode(f"{self.config.api_key}:{self._secret}".encode()).decode()
        answer = await self.call("POST", path, json=signed, headers={"Authorization": f"Basic {auth}"})
        if answer.get("status") is not True:
            found = answer.get("error")
            error: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            raise BusinessRefusal(
                f"paytring: {str(error.get('message') or 'refused')[:200]}",
                code=str(error["code"]) if error.get("code") is not None else None,
                vendor=GATEWAY,
                details=answer,
            )
        return answer

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
        """An order for ``amount`` paise with ``reference_id`` as its receipt id (one order per receipt: the same
        receipt id gives the same order back); its checkout URL is the link."""
        body: dict[str, Any] = {
            "key": self.config.api_key,
            "receipt_id": reference_id,
            "amount": str(amount),
            "currency": "INR",
            "callback_url": callback_url,
            "cname": customer_name or description[:100],
            "phone": phone_digits(customer_phone),
            "notes": {UDF[k]: str(v) for k, v in notes.items() if k in UDF and v is not None},
        }
        if customer_email:
            body["email"] = customer_email
        answer = await self._post(CREATE_PATH, body)
        with self.reading("Paytring order"):
            return Link(str(answer["order_id"]), _checkout_url(answer["url"]))

    async def cancel_payment_link(self, link_id: str) -> None:
        await self._post(CANCEL_PATH, {"key": self.config.api_key, "id": link_id})

    async def payment_link_amount_paid(self, link_id: str) -> int:
        """Fetch the order (``/api/v2/order/fetch``, the Go SDK's ``FetchOrder``: ``{"status": true, "order":
        {..., "amount" (paise), "order_status"}}``): its ``amount`` when ``order_status`` is ``success``, else 0."""
        answer = await self._post(FETCH_PATH, {"key": self.config.api_key, "id": link_id})
        with self.reading("Paytring order"):
            order = answer["order"]
            return int(order["amount"]) if order["order_status"] == "success" else 0

    # --- the callback ------------------------------------------------------------------------------------------
    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the flat JSON body's hash in ``X-Paytring-Signature`` is the one its values give with our secret
        (constant-time compare); False for a body that is not a flat object of strings."""
        secret = self._secret
        given = next((v for k, v in (headers or {}).items() if k.lower() == SIGNATURE_HEADER), None)
        if not secret or not given:
            return False
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return False
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return False
        return hmac.compare_digest(request_hash(body, secret), given.strip().lower())

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified Paytring callback → :class:`InboundEvent` (see the module docstring). ``ValidationError``
        naming the field when the status, the attempt's id, the amount, the currency or our udf fields are wrong."""
        status = w.one_of(body.get("order_status"), "order_status", STATUSES)
        event_type = f"order.{status}"
        order_id = w.text(body.get("order_id"), "order_id") or ""
        attempt = w.text(body.get("pg_transaction_id"), "pg_transaction_id") or ""
        event_id = f"{status}:{attempt}"
        if status == "pending":
            return w.InboundEvent(event_id, event_type, None, None, None)
        amount = paise_from_digits(body.get("amount"), "amount")
        w.inr(body.get("currency"), "currency")
        notes = _notes(body)
        if status == "success":
            event = PaymentEvent(
                attempt,
                amount,
                GATEWAY,
                order_id,
                mode=payment_mode(body.get("method"), "method"),
                reference=optional_text(body.get("bank_reference"), "bank_reference", 80),
                purpose=notes.purpose,
                mandate_debit_id=notes.mandate_debit_id,
            )
            return w.InboundEvent(
                event_id, event_type, notes.loan_id, w.LoanSignal.PAYMENT_RECEIVED, event, is_payment=True
            )
        failure = PaymentFailure(
            attempt,
            GATEWAY,
            amount,
            reason=reason(body.get("message"), body.get("unmapped_status")),
            order_id=order_id,
            mandate_debit_id=notes.mandate_debit_id,
        )
        return w.InboundEvent(event_id, event_type, notes.loan_id, w.LoanSignal.PAYMENT_FAILED, failure)


def _notes(body: Mapping[str, Any]) -> LinkNotes:
    """Our notes from the udf fields (empty ones are absent), each wrong one named by its udf field."""
    loan, purpose, debit = (body.get(UDF[k]) or None for k in ("loan_id", "purpose", "mandate_debit_id"))
    return LinkNotes(
        w.text(loan, UDF["loan_id"], required=False),
        w.one_of(purpose, UDF["purpose"], PURPOSES) if purpose is not None else None,
        uuid_text(debit, UDF["mandate_debit_id"]) if debit is not None else None,
    )


def _checkout_url(value: Any) -> str:
    """The order's checkout URL: Paytring sends it base64-encoded (its Python SDK decodes it); a plain URL is taken
    as it is."""
    text = str(value)
    if text.startswith(("http://", "https://")):
        return text
    try:
        decoded = base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"not a checkout URL: {text[:40]!r}") from exc
    if not decoded.startswith(("http://", "https://")):
        raise ValueError(f"not a checkout URL: {decoded[:40]!r}")
    return decoded
