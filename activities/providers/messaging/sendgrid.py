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
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx

from activities.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    TRANSIENT_STATUSES,
    BusinessRefusal,
    HttpProvider,
    ProviderError,
)
from activities.providers.messaging.email_base import Attachment

PATH = "/sendgrid/v3/mail/send"


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
