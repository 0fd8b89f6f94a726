"""Brevo transactional email: ``POST /v3/smtp/email``, and its transactional webhooks.

As documented (https://developers.brevo.com/reference/transactional-emails, authentication at
https://developers.brevo.com/docs):

- ``POST /v3/smtp/email`` (``https://api.brevo.com``), header ``api-key: <key>``, JSON ``{"sender": {"email",
  "name"?}, "to": [{"email", "name"?}], "subject", "textContent" (or "htmlContent"), "attachment": [{"content"
  (base64), "name"}]?, "headers": {...}?, "tags": [...]?}``;
- the answer to an accepted message is ``201 {"messageId": "<...@smtp-relay.mailin.fr>"}``; a refusal a 4xx with
  ``{"code", "message"}`` (e.g. ``missing_parameter``, ``unauthorized``).

Webhooks (https://developers.brevo.com/docs/how-to-use-webhooks, transactional events): a POST of one JSON object
per event ``{"event" (request, delivered, hard_bounce, soft_bounce, blocked, invalid_email, deferred, error,
opened, unique_opened, click, spam, unsubscribed), "email", "id", "date", "ts_event", "message-id", "subject",
"tag"?, "reason"?}``, ``message-id`` being the id the send answered. Brevo signs nothing; a webhook is secured with
an authentication token it sends as ``Authorization: Bearer <token>`` — the brand's ``webhook_secret``.

Config: ``api_key``; options ``from_email`` (a verified sender), ``from_name``. Path prefix ``/brevo``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import (
    DELIVERED,
    FAILED,
    READ,
    SENT,
    UNDELIVERED,
    DeliveryUpdate,
    MessagingProvider,
    token_matches,
)
from activities.providers.messaging.email_base import Attachment

PATH = "/brevo/v3/smtp/email"
STATUSES = {
    "request": SENT,
    "delivered": DELIVERED,
    "soft_bounce": SENT,
    "deferred": SENT,
    "hard_bounce": UNDELIVERED,
    "invalid_email": UNDELIVERED,
    "blocked": FAILED,
    "error": FAILED,
    "opened": READ,
    "unique_opened": READ,
}


class BrevoEmail(MessagingProvider):
    """Brevo transactional email (see the module docstring)."""

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
        sender = {"email": self.option("from_email")}
        if self.config.options.get("from_name"):
            sender["name"] = str(self.config.options["from_name"])
        body: dict[str, Any] = {
            "sender": sender,
            "to": [{"email": to, "name": to_name} if to_name else {"email": to}],
            "subject": subject,
            "textContent": text,
        }
        if attachments:
            body["attachment"] = [
                {"content": base64.b64encode(data).decode("ascii"), "name": name} for name, _mime, data in attachments
            ]
        if reference:
            body["headers"] = {"X-Reference": str(reference)}
        resp = await self.send("POST", PATH, json=body, headers={"api-key": self.config.api_key})
        answer = self.json_of(resp)
        if resp.status_code >= 400:
            why = f"{answer.get('code')}: {answer.get('message')}" if isinstance(answer, Mapping) else str(answer)
            raise BusinessRefusal(f"brevo: HTTP {resp.status_code}: {why[:200]}", vendor=self.vendor, details=answer)
        if not isinstance(answer, Mapping) or not answer.get("messageId"):
            raise ProviderError(f"{self.vendor}: answer without messageId", vendor=self.vendor)
        return str(answer["messageId"])

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> bool:
        """Brevo signs nothing: its ``Authorization: Bearer`` token must be the brand's webhook secret."""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        return given.startswith("Bearer ") and token_matches(self.config.webhook_secret, given[7:])

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str] | None = None) -> list[DeliveryUpdate]:
        """One event → one update (none for click, spam, unsubscribed: they change no delivery status)."""
        event = json.loads(raw)
        if not isinstance(event, Mapping) or not event.get("message-id") or not event.get("event"):
            raise ValueError("a JSON object with event and message-id")
        name = str(event["event"])
        if name not in STATUSES:
            return []
        at = datetime.fromtimestamp(int(event["ts_event"]), UTC) if isinstance(event.get("ts_event"), int) else None
        status = STATUSES[name]
        reason = str(event.get("reason") or name) if status in (FAILED, UNDELIVERED) else None
        event_id = f"{event['message-id']}:{name}:{event.get('ts_event')}"
        return [DeliveryUpdate(str(event["message-id"]), status, name, at, reason, event_id)]
