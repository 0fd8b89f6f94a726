"""The sandbox's outgoing webhooks: each vendor's documented body and headers, signed, delivered after a
delay and retried the way the vendor retries — bounded so tests end.

Bodies (the gateways' in ``sandbox.gateway_events``; the adapters' docstrings cite each vendor's page):

- Razorpay ``payment.captured``, ``payment_link.paid`` and ``payment.failed`` — the documented event envelope
  (``entity``, ``account_id``, ``event``, ``contains``, ``payload``, ``created_at``), no id in the body; the event
  id in ``X-Razorpay-Event-Id``.
- Cashfree PG ``PAYMENT_SUCCESS_WEBHOOK`` / ``PAYMENT_FAILED_WEBHOOK`` / ``PAYMENT_USER_DROPPED_WEBHOOK`` and
  ``PAYMENT_LINK_EVENT`` (``{"data", "event_time", "type"}``), signed with :func:`cashfree_headers`.
- Paytring's order callback (a flat object of strings; ``activities.providers.payments.paytring`` says what is
  documented and what is chosen), signed with :func:`paytring_headers`.
- FINDUIT and CART — a ReBIT ``ConsentNotification``.
- The banks' callbacks (IDFC's RazorpayX-shaped payout events, ICICI's encrypted Composite Pay packets) are built in
  ``sandbox.banks``, the eSign vendors' (Signzy, SignDesk) in ``sandbox.esign``.

Every delivery is signed with hex HMAC-SHA256 of the raw body in the vendor's header, unless its family registered
the vendor's own scheme (``Outbox.sign_with``: Signzy's Basic credentials, ICICI's RSA signature, Cashfree's
base64 HMAC of timestamp and body — signed afresh for each attempt, with its number, as Cashfree does).
Retries: Razorpay (and RazorpayX) treat any non-2xx answer as a failure and retry with exponential backoff for 24
hours, Cashfree any answer but 200 (by default at 2, 10 and 30 minutes); the sandbox retries every vendor on a
non-2xx, with ``attempts`` tries (default 8, env ``LOS_SANDBOX_WEBHOOK_ATTEMPTS``) and backoff 0.5 s doubling up to
``max_backoff`` (10 s).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from activities.providers import signing
from los.outbound import outbound_transport

EVENT_ID_HEADERS = {"razorpay": "X-Razorpay-Event-Id", "idfc": "X-IDFC-Event-Id"}
ACCOUNT_ID = "acc_SandboxLender01"  # the merchant account the sandbox's Razorpay events come from
NOTIFIER_IDS = {"finduit": "finduit-aa", "cart": "cart-aa"}
IST = timezone(timedelta(hours=5, minutes=30))


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
        self.attempt_headers: dict[str, str] = {}
        # (vendor, url) → the open batch: its events, their JSON size, the timer that delivers it (send_batched)
        self._batches: dict[tuple[str, str], _Batch] = {}

    def sign_with(self, vendor: str, signer: Signer, attempt_header: str | None = None) -> None:
        """Sign ``vendor``'s deliveries with ``signer`` (its documented scheme) instead of the default. With
        ``attempt_header``, every attempt is signed afresh (a signature over a timestamp stays fresh on a retry)
        and carries its number (1, 2, ...) in that header."""
        self.signers[vendor] = signer
        if attempt_header:
            self.attempt_headers[vendor] = attempt_header

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10, transport=outbound_transport())
        return self._client

    async def aclose(self) -> None:
        """Close the delivery client (on the sandbox's shutdown); batches still open are dropped, as deliveries still
        waiting are."""
        for batch in self._batches.values():
            batch.timer.cancel()
        self._batches.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def send(
        self, vendor: str, url: str, payload: dict | list, after: float | None = None, event_id: str | None = None
    ) -> None:
        """Deliver ``payload`` to ``url`` after ``after`` seconds (default: the sandbox's delay)."""
        self.spawn(self.deliver(vendor, url, payload, self.delay if after is None else after, event_id))

    def send_batched(self, vendor: str, url: str, events: list, max_events: int, max_bytes: int | None = None) -> None:
        """Add ``events`` to ``vendor``'s open batch for ``url``; the batch (one JSON array) goes when the sandbox's
        delay has passed since its first event, or at once when another event would take it past ``max_events``
        events or ``max_bytes`` of JSON (an event larger than that alone goes alone). Delivery reports batched as the
        vendors batch them (Gupshup at most 20 events a POST, SendGrid's Event Webhook up to 768 KB; their waits
        shortened to the sandbox's delay). Called from the serving loop (RuntimeError otherwise, nothing changed)."""
        loop = asyncio.get_running_loop()
        key = (vendor, url)
        for event in events:
            size = len(json.dumps(event)) + 2 if max_bytes else 0  # its text and its share of "[", ", " and "]"
            batch = self._batches.get(key)
            if batch is not None and (len(batch.events) >= max_events or (max_bytes and batch.size + size > max_bytes)):
                self._flush(key)
                batch = None
            if batch is None:
                batch = self._batches[key] = _Batch(loop.call_later(self.delay, self._flush, key))
            batch.events.append(event)
            batch.size += size

    def _flush(self, key: tuple[str, str]) -> None:
        batch = self._batches.pop(key, None)
        if batch is not None:
            batch.timer.cancel()
            self.send(key[0], key[1], batch.events, after=0.0)

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

    async def deliver(
        self, vendor: str, url: str, payload: dict | list, after: float, event_id: str | None = None
    ) -> None:
        await asyncio.sleep(after)
        body = json.dumps(payload).encode()
        headers = self.headers(vendor, body, event_id)  # the same event id on every retry, as documented
        record = {"vendor": vendor, "url": url, "payload": payload, "headers": headers, "attempts": 0, "status": None}
        self.records.append(record)
        client = self.client()
        for attempt in range(1, self.attempts + 1):
            record["attempts"] = attempt
            if vendor in self.attempt_headers:  # signed afresh for each attempt, numbered
                headers = {**self.headers(vendor, body, event_id), self.attempt_headers[vendor]: str(attempt)}
                record["headers"] = headers
            try:
                resp = await client.post(url, content=body, headers=headers)
                record["status"] = resp.status_code
                record["answer"] = _answer(resp)
                if 200 <= resp.status_code < 300:
                    return
            except httpx.HTTPError as exc:
                record["status"] = f"error: {exc}"
            if attempt < self.attempts:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), self.max_backoff))


@dataclass
class _Batch:
    """A vendor's open batch of events for one URL (``Outbox.send_batched``): the events, their JSON size in bytes as
    ``json.dumps`` writes the array (counted only where the vendor caps bytes), and the timer that sends it."""

    timer: asyncio.TimerHandle
    events: list = field(default_factory=list)
    size: int = 0


def _answer(resp: httpx.Response) -> Any:
    """What the receiver answered (its JSON, else its text), kept with the delivery for ``GET /_webhooks``."""
    try:
        return resp.json()
    except ValueError:
        return resp.text[:500]


def new_event_id() -> str:
    """A Razorpay-style event id (``evt_`` + 14 characters)."""
    return "evt_" + uuid.uuid4().hex[:14]


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _digits(seed: str, n: int) -> str:
    return f"{int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) % 10**n:0{n}d}"


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
