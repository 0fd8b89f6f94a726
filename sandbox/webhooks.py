"""The sandbox's outgoing webhooks: each vendor's documented body and headers, signed, delivered after a
delay and retried the way the vendor retries — bounded so tests end.

Bodies (builders below; the adapters' docstrings cite each vendor's page):

- Razorpay ``payment.captured`` and ``payment_link.paid`` — the documented event envelope (``entity``,
  ``account_id``, ``event``, ``contains``, ``payload``, ``created_at``), no id in the body; the event id in
  ``X-Razorpay-Event-Id``.
- FINDUIT and CART — a ReBIT ``ConsentNotification``.
- The banks' callbacks (IDFC's RazorpayX-shaped payout events, ICICI's encrypted Composite Pay packets) are built in
  ``sandbox.banks``, the eSign vendors' (Signzy, SignDesk) in ``sandbox.esign``.

Every delivery is signed with hex HMAC-SHA256 of the raw body in the vendor's header, unless its family registered
the vendor's own scheme (``Outbox.sign_with``: Signzy's Basic credentials, ICICI's RSA signature). Retries: Razorpay
(and RazorpayX) treat any non-2xx answer as a failure and retry with exponential backoff for 24 hours; the
sandbox does the same for every vendor, with ``attempts`` tries (default 8, env
``LOS_SANDBOX_WEBHOOK_ATTEMPTS``) and backoff 0.5 s doubling up to ``max_backoff`` (10 s).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx

from activities.providers import signing

EVENT_ID_HEADERS = {"razorpay": "X-Razorpay-Event-Id", "idfc": "X-IDFC-Event-Id"}
ACCOUNT_ID = "acc_SandboxLender01"  # the merchant account the sandbox's Razorpay events come from
NOTIFIER_IDS = {"finduit": "finduit-aa", "cart": "cart-aa"}


#: A vendor's own way to sign a delivery: (raw body, the webhook secret, event id or None) → the headers to send
#: besides ``Content-Type``. Vendors not listed here sign with hex HMAC-SHA256 of the raw body in their
#: ``SIGNATURE_HEADERS`` header. A vendor family registers its scheme with :meth:`Outbox.sign_with`.
Signer = Callable[[bytes, str, str | None], dict[str, str]]


class Outbox:
    """Sends webhooks in the background and records each (``records``: vendor, url, payload, headers,
    attempts, last status) for ``GET /_webhooks``."""

    signers: dict[str, Signer]

    def __init__(
        self,
        secret: str,
        delay: float,
        records: list[dict],
        attempts: int | None = None,
        max_backoff: float = 10.0,
    ):
        self.secret = secret
        self.delay = delay
        self.records = records
        self.attempts = attempts or int(os.environ.get("LOS_SANDBOX_WEBHOOK_ATTEMPTS", "8"))
        self.max_backoff = max_backoff
        self.tasks: set[asyncio.Task] = set()
        # One HTTP client for every delivery, made on first use in the serving loop: a client per webhook
        # loaded the CA store each time (two thirds of the sandbox's CPU under the lifecycle benchmark).
        self._client: httpx.AsyncClient | None = None
        self.signers = {}

    def sign_with(self, vendor: str, signer: Signer) -> None:
        """Sign ``vendor``'s deliveries with ``signer`` (its documented scheme) instead of the default."""
        self.signers[vendor] = signer

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        return self._client

    async def aclose(self) -> None:
        """Close the delivery client (on the sandbox's shutdown)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def send(
        self, vendor: str, url: str, payload: dict, after: float | None = None, event_id: str | None = None
    ) -> None:
        """Deliver ``payload`` to ``url`` after ``after`` seconds (default: the sandbox's delay)."""
        self.spawn(self.deliver(vendor, url, payload, self.delay if after is None else after, event_id))

    def headers(self, vendor: str, body: bytes, event_id: str | None) -> dict[str, str]:
        if vendor in self.signers:
            return {"Content-Type": "application/json", **self.signers[vendor](body, self.secret, event_id)}
        headers = {
            "Content-Type": "application/json",
            signing.SIGNATURE_HEADERS[vendor]: signing.sign(body, self.secret),
        }
        if vendor in EVENT_ID_HEADERS:
            headers[EVENT_ID_HEADERS[vendor]] = event_id or new_event_id()
        return headers

    async def deliver(self, vendor: str, url: str, payload: dict, after: float, event_id: str | None = None) -> None:
        await asyncio.sleep(after)
        body = json.dumps(payload).encode()
        headers = self.headers(vendor, body, event_id)  # the same event id on every retry, as documented
        record = {"vendor": vendor, "url": url, "payload": payload, "headers": headers, "attempts": 0, "status": None}
        self.records.append(record)
        client = self.client()
        for attempt in range(1, self.attempts + 1):
            record["attempts"] = attempt
            try:
                resp = await client.post(url, content=body, headers=headers)
                record["status"] = resp.status_code
                if 200 <= resp.status_code < 300:
                    return
            except httpx.HTTPError as exc:
                record["status"] = f"error: {exc}"
            if attempt < self.attempts:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), self.max_backoff))


def new_event_id() -> str:
    """A Razorpay-style event id (``evt_`` + 14 characters)."""
    return "evt_" + uuid.uuid4().hex[:14]


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _digits(seed: str, n: int) -> str:
    return f"{int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) % 10**n:0{n}d}"


def razorpay_payment(payment_id: str, amount: int, contact: str | None, notes: dict, order_id: str) -> dict:
    """A captured UPI payment entity as Razorpay documents it in ``payment.captured`` (amounts in paise;
    ``notes`` ``[]`` when empty, as Razorpay serialises an empty map)."""
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "base_amount": amount,
        "status": "captured",
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "amount_transferred": 0,
        "refund_status": None,
        "captured": True,
        "description": None,
        "card_id": None,
        "bank": None,
        "wallet": None,
        "vpa": "borrower@upi",
        "email": None,
        "contact": contact,
        "notes": notes or [],
        "fee": 0,
        "tax": 0,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {"rrn": _digits(payment_id, 12)},
        "created_at": _now(),
        "upi": {"payer_account_type": "bank_account", "vpa": "borrower@upi", "flow": "intent"},
    }


def razorpay_payment_captured(payment: dict) -> dict:
    """The ``payment.captured`` event around a payment entity."""
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": "payment.captured",
        "contains": ["payment"],
        "payload": {"payment": {"entity": payment}},
        "created_at": _now(),
    }


def razorpay_payment_link_paid(link: dict, payment: dict, short_url: str) -> dict:
    """The ``payment_link.paid`` event: the order, the payment (as a link payment: ``card``,
    ``fee_bearer``, no UPI ``flow``) and the payment link entities."""
    now = _now()
    amount = payment["amount"]
    order = {
        "account_number": None,
        "amount": amount,
        "amount_due": 0,
        "amount_paid": amount,
        "app_offer": False,
        "attempts": 1,
        "authorized": True,
        "bank": None,
        "bank_account": None,
        "checkout_config_id": None,
        "created_at": now,
        "currency": "INR",
        "customer_id": None,
        "discount": False,
        "first_payment_min_amount": None,
        "force_offer": None,
        "id": payment["order_id"].removeprefix("order_"),
        "late_auth_config_id": None,
        "merchant_id": ACCOUNT_ID.removeprefix("acc_"),
        "method": None,
        "notes": [],
        "offers": {},
        "order_metas": [],
        "order_relationships": [],
        "partial_payment": False,
        "payer_name": None,
        "payment_capture": True,
        "product_id": link["id"].removeprefix("plink_"),
        "product_type": "payment_link_v2",
        "provider_context": None,
        "public_key": "rzp_test_sandbox",
        "public_response": None,
        "receipt": link.get("reference_id"),
        **{f"reference{n}": None for n in range(2, 9)},
        "source": None,
        "status": "paid",
        "transfers": None,
        "updated_at": now,
    }
    paid = {k: v for k, v in payment.items() if k != "upi"}
    paid.update(
        card=None,
        fee_bearer="platform",
        description=f"#{link['id'].removeprefix('plink_')}",
        upi={"payer_account_type": "bank_account", "vpa": payment["vpa"]},
    )
    entity = {
        "accept_partial": False,
        "amount": link["amount"],
        "amount_paid": amount,
        "cancelled_at": 0,
        "created_at": link.get("created_at", now),
        "currency": "INR",
        "customer": {"contact": link.get("contact"), "email": None},
        "description": link.get("description"),
        "expire_by": 0,
        "expired_at": 0,
        "first_min_partial_amount": 0,
        "id": link["id"],
        "notes": link.get("notes") or None,
        "notify": {"email": False, "sms": False, "whatsapp": False},
        "order_id": payment["order_id"],
        "reference_id": link.get("reference_id"),
        "reminder_enable": False,
        "reminders": {"status": "failed"},
        "short_url": short_url,
        "status": "paid",
        "updated_at": now,
        "upi_link": False,
        "user_id": "",
        "whatsapp_link": False,
    }
    return {
        "account_id": ACCOUNT_ID,
        "contains": ["payment_link", "order", "payment"],
        "created_at": now,
        "entity": "event",
        "event": "payment_link.paid",
        "payload": {"order": {"entity": order}, "payment": {"entity": paid}, "payment_link": {"entity": entity}},
    }


#: the sandbox's consent statuses → ReBIT ConsentStatus
REBIT_STATUS = {"PENDING": "PENDING", "APPROVED": "ACTIVE", "REJECTED": "REJECTED", "REVOKED": "REVOKED"}


def rebit_consent_notification(consent: dict) -> dict:
    """A ReBIT ``ConsentNotification`` for a consent (``txnid`` new for every notification)."""
    return {
        "ver": "2.0.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "txnid": str(uuid.uuid4()),
        "Notifier": {"type": "AA", "id": NOTIFIER_IDS[consent["vendor"]]},
        "ConsentStatusNotification": {
            "consentId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"consent:{consent['handle']}")),
            "consentHandle": consent["handle"],
            "consentStatus": REBIT_STATUS[consent["status"]],
        },
    }
