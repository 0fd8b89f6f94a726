"""SendGrid email: the v3 Mail Send API.

As documented (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send, and its error list at
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors):

- ``POST /v3/mail/send`` (``https://api.sendgrid.com``), ``Authorization: Bearer <API key>``;
- the body ``{"personalizations": [{"to": [{"email", "name"?}]}], "from": {"email", "name"?}, "subject",
  "content": [{"type": "text/plain", "value"}], "attachments": [{"content" (base64), "filename", "type",
  "disposition": "attachment"}], "custom_args": {string: string}}`` — ``personalizations`` and ``from`` are
  required, ``subject`` and ``content`` too unless a template supplies them (we send no template);
- the answer to an accepted message is ``202 Accepted`` with an empty body and the message's id in the
  ``X-Message-Id`` header (the id the Event Webhook's events carry);
- a refused one is a 4xx with ``{"errors": [{"message", "field", "help"}]}`` (the field that caused it,
  e.g. ``personalizations.0.to``); 429 is the rate limit, 5xx SendGrid's own trouble.

The path carries the vendor prefix like every adapter's (``/sendgrid/v3/mail/send``; the sandbox twin is
``sandbox/mail.py``). Our ``reference`` goes in ``custom_args`` as ``{"reference": ...}``.

Delivery reports: the Event Webhook
(https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features)
POSTs, in batches (every 30 seconds or at 768 KB, whichever comes first:
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook), a JSON array of
events ``{"email", "timestamp", "event" (processed, delivered, deferred, bounce, dropped,
open, click...), "sg_event_id", "sg_message_id" (the ``X-Message-Id`` followed by ``.`` and a filter suffix),
"reason"?, <custom_args>}``. The Signed Event Webhook signs ``timestamp + raw body`` with ECDSA (P-256, SHA-256):
the base64 DER signature in ``X-Twilio-Email-Event-Webhook-Signature``, the timestamp in
``X-Twilio-Email-Event-Webhook-Timestamp``; it is checked with the verification key SendGrid shows (base64 DER
public key) — option ``event_webhook_public_key``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from activities.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    TRANSIENT_STATUSES,
    BusinessRefusal,
    HttpProvider,
    ProviderError,
)
from activities.providers.heartbeat import keep_alive
from activities.providers.messaging.base import (
    DELIVERED,
    FAILED,
    READ,
    SENT,
    UNDELIVERED,
    DeliveryUpdate,
)
from activities.providers.messaging.email_base import Attachment

PATH = "/sendgrid/v3/mail/send"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
STATUSES = {
    "processed": SENT,
    "deferred": SENT,
    "delivered": DELIVERED,
    "bounce": UNDELIVERED,
    "dropped": FAILED,
    "open": READ,
}


def verify_event_signature(public_key_b64: str, raw: bytes, signature_b64: str, timestamp: str) -> bool:
    """SendGrid's Signed Event Webhook check: ECDSA/SHA-256 of ``timestamp + raw`` under the base64 DER key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(public_key_b64))
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error):
        return False
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _address(email: str, name: str | None) -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _errors(resp: httpx.Response) -> tuple[str, Any]:
    """SendGrid's error messages (each with its field) as one line, and the parsed body."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or f"HTTP {resp.status_code}", resp.text
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list) or not errors:
        return str(body), body
    parts = []
    for err in errors:
        if not isinstance(err, Mapping):
            parts.append(str(err))
            continue
        message, where = err.get("message") or "error", err.get("field")
        parts.append(f"{message} (field {where})" if where else str(message))
    return "; ".join(parts), body


class SendGridEmail(HttpProvider):
    """Config: ``api_key`` (the SendGrid API key, ``mail.send`` scope), ``base_url``; options ``from_email``
    (required: a verified sender or an address of an authenticated domain) and ``from_name``."""

    #: The largest Event Webhook POST taken (bytes): SendGrid posts its batches at up to 768 KB (the module's doc);
    #: the API's request limit (``Settings.max_body_bytes``, 1 MiB by default) must be at least as large.
    max_body_bytes = 1024 * 1024

    async def send_email(
        self,
        *,
        to: str,
        to_name: str | None,
        subject: str,
        text: str,
        attachments: list[Attachment] = [],  # noqa: B006 - never mutated
        reference: str | None,
    ) -> str:
        vendor = self.vendor
        from_email = self.config.options.get("from_email")
        if not from_email:
            raise BusinessRefusal(f"{vendor}: option 'from_email' is not configured", code="NO_PROVIDER", vendor=vendor)
        body: dict[str, Any] = {
            "personalizations": [{"to": [_address(to, to_name)]}],
            "from": _address(str(from_email), self.config.options.get("from_name")),
            "subject": subject,
            "content": [{"type": "text/plain", "value": text}],
        }
        if attachments:
            body["attachments"] = [
                {
                    "content": base64.b64encode(data).decode("ascii"),
                    "filename": filename,
                    "type": mime,
                    "disposition": "attachment",
                }
                for filename, mime, data in attachments
            ]
        if reference:
            body["custom_args"] = {"reference": str(reference)}

        # Not ``self.call``: an accepted message is a 202 with an empty body, the id in a header.
        limit = self.config.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        headers = {"Authorization": f"Bearer {self.config.api_key}"}
        try:
            async with keep_alive(f"waiting for {vendor}"):
                resp = await self.http.post(f"{self.config.base_url}{PATH}", json=body, headers=headers, timeout=limit)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{vendor}: {type(exc).__name__}: {exc}", vendor=vendor) from exc
        status = resp.status_code
        if status >= 500 or status in TRANSIENT_STATUSES:
            raise ProviderError(f"{vendor}: HTTP {status}", vendor=vendor, status=status)
        if status >= 400:
            message, details = _errors(resp)
            raise BusinessRefusal(f"{vendor}: HTTP {status}: {message}", vendor=vendor, status=status, details=details)
        message_id = resp.headers.get("X-Message-Id")
        if not message_id:
            raise ProviderError(f"{vendor}: 202 without X-Message-Id", vendor=vendor, status=status)
        return message_id

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> bool:
        """The Signed Event Webhook's ECDSA signature under option ``event_webhook_public_key``."""
        lower = {k.lower(): v for k, v in headers.items()}
        key = self.config.options.get("event_webhook_public_key")
        signature, timestamp = lower.get(SIGNATURE_HEADER.lower()), lower.get(TIMESTAMP_HEADER.lower())
        if not key or not signature or not timestamp:
            return False
        return verify_event_signature(str(key), raw, signature, timestamp)

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str] | None = None) -> list[DeliveryUpdate]:
        """The array of events → updates keyed by the ``X-Message-Id`` part of ``sg_message_id`` (click, spam
        report, unsubscribe change no delivery status and give none)."""
        events = json.loads(raw)
        if not isinstance(events, list):
            raise ValueError("a JSON array of events")
        updates = []
        for event in events:
            if not isinstance(event, Mapping) or not event.get("sg_message_id") or not event.get("event"):
                raise ValueError("each event needs event and sg_message_id")
            name = str(event["event"])
            if name not in STATUSES:
                continue
            ts = event.get("timestamp")
            at = datetime.fromtimestamp(ts, UTC) if isinstance(ts, int) else None
            status = STATUSES[name]
            reason = str(event.get("reason") or name) if status in (FAILED, UNDELIVERED) else None
            message_id = str(event["sg_message_id"]).split(".", 1)[0]
            updates.append(DeliveryUpdate(message_id, status, name, at, reason, event.get("sg_event_id")))
        return updates
