"""ZeptoMail (Zoho) transactional email: ``POST /v1.1/email``, and its webhooks.

As documented (https://zoho.com/zeptomail/help/code-examples.html; the API family at
https://zoho.com/zeptomail/email-api.html, errors at https://www.zoho.com/zeptomail/help/api/error-codes.html):

- ``POST /v1.1/email`` (``https://api.zeptomail.com``), header ``Authorization: Zoho-enczapikey <send mail
  token>``, JSON ``{"from": {"address", "name"?}, "to": [{"email_address": {"address", "name"?}}], "subject",
  "textbody" (or "htmlbody"), "attachments": [{"content" (base64), "mime_type", "name"}]?,
  "client_reference"?}``;
- an accepted message: ``201 {"data": [{"code": "EM_104", "message": "Email request received"}], "message": "OK",
  "request_id": <id>, "object": "email"}`` — ``request_id`` is the id webhooks carry back; a refusal: a 4xx with
  ``{"error": {"code", "message", "details": [{"code", "message", "target"}], "request_id"}}``.

Webhooks (https://zoho.com/zeptomail/webhooks-instant-notification.html): a POST ``{"event_name": [<event>],
"event_message": [{"email_info": {..., "client_reference"}, "event_data": [{"object": <event>, "details": [{
"reason", "time", ...}]}], "request_id"}], "webhook_request_id", "mailagent_key"}`` for ``hardbounce``,
``softbounce``, ``email_open`` and ``email_link_click`` (ZeptoMail sends no "delivered" event). The page states that
requests are secured with a key; its exact scheme is not among the stored pages. The adapter checks the
``producer-signature`` header as ZeptoMail's webhook settings describe it — ``ts=<ms>;s=<base64 HMAC-SHA256 of the
raw body with the webhook's secret key>;s-algorithm=HmacSHA256`` — with the brand's ``webhook_secret``.

Config: ``api_key`` is the send mail token; options ``from_email``, ``from_name``. Path prefix ``/zepto``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import (
    READ,
    SENT,
    UNDELIVERED,
    DeliveryUpdate,
    MessagingProvider,
)
from activities.providers.messaging.email_base import Attachment

PATH = "/zepto/v1.1/email"
STATUSES = {"hardbounce": UNDELIVERED, "softbounce": SENT, "email_open": READ}


def producer_signature(raw: bytes, secret: str, ts: str) -> str:
    """The ``producer-signature`` header value for ``raw`` (the sandbox signs with it too)."""
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return f"ts={ts};s={digest};s-algorithm=HmacSHA256"


class ZeptoEmail(MessagingProvider):
    """ZeptoMail transactional email (see the module docstring)."""

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
        sender = {"address": self.option("from_email")}
        if self.config.options.get("from_name"):
            sender["name"] = str(self.config.options["from_name"])
        body: dict[str, Any] = {
            "from": sender,
            "to": [{"email_address": {"address": to, "name": to_name} if to_name else {"address": to}}],
            "subject": subject,
            "textbody": text,
        }
        if attachments:
            body["attachments"] = [
                {"content": base64.b64encode(data).decode("ascii"), "mime_type": mime, "name": name}
                for name, mime, data in attachments
            ]
        if reference:
            body["client_reference"] = str(reference)
        headers = {"Authorization": f"Zoho-enczapikey {self.config.api_key}"}
        resp = await self.send("POST", PATH, json=body, headers=headers)
        answer = self.json_of(resp)
        if resp.status_code >= 400:
            err = answer.get("error") if isinstance(answer, Mapping) else None
            details = "; ".join(
                f"{d.get('message')} ({d.get('target')})"
                for d in (err or {}).get("details") or []
                if isinstance(d, Mapping)
            )
            why = f"{(err or {}).get('code')}: {(err or {}).get('message')} {details}".strip()
            raise BusinessRefusal(f"zepto: HTTP {resp.status_code}: {why[:200]}", vendor=self.vendor, details=answer)
        if not isinstance(answer, Mapping) or not answer.get("request_id"):
            raise ProviderError(f"{self.vendor}: answer without request_id", vendor=self.vendor)
        return str(answer["request_id"])

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> bool:
        """``producer-signature``'s HMAC of the raw body against the brand's webhook secret (constant time)."""
        given = next((v for k, v in headers.items() if k.lower() == "producer-signature"), "")
        parts = dict(p.split("=", 1) for p in given.split(";") if "=" in p)
        if not self.config.webhook_secret or "s" not in parts:
            return False
        wanted = producer_signature(raw, self.config.webhook_secret, parts.get("ts", ""))
        return hmac.compare_digest(wanted, given.strip())

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str] | None = None) -> list[DeliveryUpdate]:
        """Each ``event_message`` → an update for its ``request_id`` (none for link clicks)."""
        body = json.loads(raw)
        if not isinstance(body, Mapping) or not isinstance(body.get("event_message"), list):
            raise ValueError("a JSON object with event_message")
        names = body.get("event_name") or []
        updates = []
        for n, message in enumerate(body["event_message"]):
            if not isinstance(message, Mapping) or not message.get("request_id"):
                raise ValueError("each event_message needs request_id")
            data = (message.get("event_data") or [{}])[0]
            name = str(data.get("object") or (names[n] if n < len(names) else names[0] if names else ""))
            if name not in STATUSES:
                continue
            detail = (data.get("details") or [{}])[0] if isinstance(data, Mapping) else {}
            reason = str(detail.get("reason") or name) if STATUSES[name] == UNDELIVERED else None
            event_id = f"{body.get('webhook_request_id') or message['request_id']}:{n}"
            updates.append(DeliveryUpdate(str(message["request_id"]), STATUSES[name], name, None, reason, event_id))
        return updates
