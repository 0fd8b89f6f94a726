"""Sandbox email vendor: SendGrid's v3 Mail Send (``POST /sendgrid/v3/mail/send``) and a list of what was
sent (``GET /sendgrid/messages?to=``), the way ``sandbox.money`` keeps Gupshup's SMS.

As documented (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors): a Bearer API key; ``personalizations``
(each with a ``to`` list of ``{email, name?}``), ``from.email``, ``subject`` and ``content`` (each value at
least one character) unless a ``template_id`` supplies them; attachments need base64 ``content`` and a
``filename``. An accepted message is ``202`` with an empty body and ``X-Message-Id``; a refused one is
``{"errors": [{"message", "field", "help"}]}`` naming the field. Attachments are kept as name, type, size and
SHA-256 — never the bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.context import Sandbox

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
BAD_GRANT = "The provided authorization grant is invalid, expired, or revoked"


class _Invalid(Exception):
    def __init__(self, message: str, field: str | None, anchor: str):
        super().__init__(message)
        self.message, self.field, self.anchor = message, field, anchor


def errors(message: str, field: str | None, help_url: str | None, status: int) -> JSONResponse:
    """SendGrid's error answer."""
    return JSONResponse({"errors": [{"message": message, "field": field, "help": help_url}]}, status_code=status)


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 0


def _address_ok(value: Any) -> bool:
    return isinstance(value, dict) and _text(value.get("email")) and "@" in value["email"]


def _recipients(body: dict) -> list[dict]:
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        raise _Invalid(
            "The personalizations field is required and must have at least one personalization.",
            "personalizations",
            "#-Personalizations-Errors",
        )
    found = []
    for i, p in enumerate(personalizations):
        to = p.get("to") if isinstance(p, dict) else None
        if not isinstance(to, list) or not to:
            raise _Invalid(
                "The to parameter is required for all personalization objects.",
                f"personalizations.{i}.to",
                "#message.personalizations.to",
            )
        for j, address in enumerate(to):
            if not _address_ok(address):
                raise _Invalid(
                    "Each to object must at least have an email address and may also contain a name. "
                    'e.g. {"email": "example@example.com"} or '
                    '{"email": "example@example.com", "name": "Example Recipient"}',
                    f"personalizations.{i}.to.{j}.email",
                    "#message.personalizations.to",
                )
            found.append({"email": address["email"], "name": address.get("name")})
    return found


def _validate(body: dict) -> tuple[list[dict], list[dict]]:
    """The recipients and the attachments' records, or :class:`_Invalid` naming the first bad field."""
    recipients = _recipients(body)
    if not _address_ok(body.get("from")):
        raise _Invalid(
            "The from object must be provided for every email send. It is an object that requires the email "
            'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
            '{"email" : "example@example.com", "name" : "Example Recipient"}.',
            "from.email",
            "#message.from",
        )
    templated = _text(body.get("template_id"))
    personal_subjects = all(isinstance(p, dict) and _text(p.get("subject")) for p in body["personalizations"])
    if not templated and not personal_subjects and not _text(body.get("subject")):
        raise _Invalid(
            "The subject is required. You can get around this requirement if you use a template with a subject "
            "defined or if every personalization has a subject defined.",
            "subject",
            "#message.subject",
        )
    content = body.get("content")
    if not templated and (not isinstance(content, list) or not content):
        raise _Invalid(
            "Unless a valid template_id is provided, the content parameter is required. There must be at least "
            "one defined content block. We typically suggest both text/plain and text/html blocks are included, "
            "but only one block is required.",
            "content",
            "#message.content",
        )
    for i, block in enumerate(content or []):
        if not isinstance(block, dict) or not _text(block.get("type")):
            raise _Invalid(
                "The content type must be a string at least one character in length.",
                f"content.{i}.type",
                "#message.content.type",
            )
        if not _text(block.get("value")):
            raise _Invalid(
                "The content value must be a string at least one character in length.",
                f"content.{i}.value",
                "#message.content.value",
            )
    kept = []
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise _Invalid("The attachments parameter must be an array.", "attachments", "#message.attachments")
    for i, att in enumerate(attachments):
        if not isinstance(att, dict) or not _text(att.get("content")):
            raise _Invalid(
                "The attachment content is required.", f"attachments.{i}.content", "#message.attachments.content"
            )
        try:
            data = base64.b64decode(att["content"], validate=True)
        except (binascii.Error, ValueError):
            raise _Invalid(
                "The attachment content must be base64 encoded.",
                f"attachments.{i}.content",
                "#message.attachments.content",
            ) from None
        if not _text(att.get("filename")):
            raise _Invalid(
                "The attachment filename parameter is required.",
                f"attachments.{i}.filename",
                "#message.attachments.filename",
            )
        kept.append(
            {
                "filename": att["filename"],
                "type": att.get("type") or "application/octet-stream",
                "disposition": att.get("disposition") or "attachment",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return recipients, kept


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""
    sbx.state.setdefault("emails", [])  # a state file from before this family existed has none

    @app.post("/sendgrid/v3/mail/send")
    async def send(request: Request) -> Response:
        token = request.headers.get("authorization", "")
        if not token.startswith("Bearer ") or not token.removeprefix("Bearer ").strip():
            return errors(BAD_GRANT, None, None, 401)
        try:
            body = await request.json()
        except ValueError:
            return errors("Bad Request", None, None, 400)
        if not isinstance(body, dict):
            return errors("Bad Request", None, None, 400)
        try:
            recipients, attachments = _validate(body)
        except _Invalid as exc:
            return errors(exc.message, exc.field, HELP + exc.anchor, 400)
        message_id = sbx.new_id("sg")
        sbx.state.setdefault("emails", []).append(
            {
                "message_id": message_id,
                "to": [r["email"] for r in recipients],
                "to_names": [r["name"] for r in recipients],
                "from": body["from"]["email"],
                "from_name": body["from"].get("name"),
                "subject": body.get("subject"),
                "content": [{"type": b["type"], "value": b["value"]} for b in body.get("content") or []],
                "attachments": attachments,
                "custom_args": body.get("custom_args") or {},
                "sent_at": datetime.now(UTC).isoformat(),
            }
        )
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    @app.get("/sendgrid/messages")
    def messages(to: str | None = None) -> list[dict]:
        """Every email sent, newest last (``to``: only those addressed to it)."""
        return [m for m in sbx.state.setdefault("emails", []) if to is None or to in m["to"]]
