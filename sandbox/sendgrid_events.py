"""Sandbox SendGrid Event Webhook: after the sandbox's SendGrid accepts a message (``POST /sendgrid/v3/mail/send``
answers 202, ``sandbox.mail``), its events (``processed``, then ``delivered``, or ``bounce`` for an address
containing ``bounce``) go to the URL the lender registered (``PUT /_messaging/webhooks/sendgrid``), batched with the
events of other messages and signed as SendGrid signs them.

As documented (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook and
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
a JSON array of events ``{"email", "timestamp", "event", "sg_event_id", "sg_message_id", <custom_args>}``, posted in
batches (every 30 s or at 768 KB; here after the sandbox's webhook delay); the Signed Event Webhook's ECDSA (P-256,
SHA-256) signature of ``timestamp + raw body`` in ``X-Twilio-Email-Event-Webhook-Signature`` (base64 DER) and the
timestamp in ``X-Twilio-Email-Event-Webhook-Timestamp``. The key pair is derived from the sandbox's webhook secret, so
the lender's verification key is :func:`sendgrid_public_key` of it.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.context import Sandbox


def _sendgrid_key(secret: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256
    value = int.from_bytes(hashlib.sha256(b"sendgrid-event-webhook:" + secret.encode()).digest()) % (order - 1) + 1
    return ec.derive_private_key(value, ec.SECP256R1())


def sendgrid_public_key(secret: str) -> str:
    """The Event Webhook verification key (base64 DER) of the sandbox SendGrid signing with ``secret``'s key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der = _sendgrid_key(secret).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sendgrid_headers(body: bytes, secret: str, _event_id: str | None) -> dict[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    ts = str(int(time.time()))
    signature = _sendgrid_key(secret).sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": ts,
    }


class _AfterSendGrid:
    """Pure ASGI: after ``POST /sendgrid/v3/mail/send`` answers 202, the message's events follow."""

    def __init__(self, app: ASGIApp, hook: Any):
        self.app, self.hook = app, hook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sendgrid/v3/mail/send":
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {}

        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["id"] = dict(message.get("headers") or []).get(b"x-message-id", b"").decode()
            await send(message)

        await self.app(scope, receive, spy)
        if seen.get("status") == 202 and seen.get("id"):
            self.hook(seen["id"])


def events_of(message_id: str, sent: dict) -> list[dict]:
    """The Event Webhook events of the accepted message ``sent`` (``sandbox.mail``'s record: ``to``,
    ``custom_args``) whose ``X-Message-Id`` is ``message_id``."""
    ts = int(time.time())
    events = []
    for address in sent["to"]:
        for name in ("processed", "bounce" if "bounce" in address else "delivered"):
            events.append(
                {
                    "email": address,
                    "timestamp": ts,
                    "event": name,
                    "sg_event_id": base64.urlsafe_b64encode(
                        hashlib.sha256(f"{message_id}{address}{name}".encode()).digest()[:16]
                    )
                    .decode()
                    .rstrip("="),
                    "sg_message_id": f"{message_id}.filterdrecv-sandbox-1-{ts}-0",
                    **sent.get("custom_args", {}),
                    **({"reason": "550 5.1.1 mailbox unavailable", "type": "bounce"} if name == "bounce" else {}),
                }
            )
    return events


def register(app: FastAPI, sbx: Sandbox, report: Callable[[list[dict]], None]) -> None:
    """Sign SendGrid's deliveries as SendGrid does, and hand each accepted message's events to ``report`` (the
    messaging family's: it batches them to the registered URL)."""
    sbx.outbox.sign_with("sendgrid", sendgrid_headers)

    def after_send(message_id: str) -> None:
        sent = next((m for m in reversed(sbx.state.get("emails", [])) if m.get("message_id") == message_id), None)
        if sent is not None:
            report(events_of(message_id, sent))

    app.add_middleware(_AfterSendGrid, hook=after_send)
