"""Stringee (the secondary dialer): a REST callout that rings the agent and connects the customer, and Stringee's
signed call events.

**Callout** — ``POST /v1/call2/callout`` on ``https://api.stringee.com``, as documented at
https://developer.stringee.com/docs/rest-api-reference/call-rest-api-make-outbound-call and
https://developer.stringee.com/docs/make-outbound-call: JSON ``{"from": {"type": "external", "number", "alias"},
"to": [{"type": "external", "number", "alias"}], "answer_url" | "actions"}`` where ``actions`` is an SCCO (Stringee
Call Control Object, https://developer.stringee.com/docs/server/stringee-call-control-object) run when the callee
answers. We call the agent (``to``, from the brand's Stringee number) and, on answer, run ``[{"action": "record",
"format": "mp3"[, "eventUrl"]}, {"action": "connect", "from": {...}, "to": {"type": "external", "number": <customer>,
"alias"}, "customData": <our call id>, "timeout": 45}]`` (the record action's shape as Stringee's SCCO helper
shows it: https://developer.stringee.com/docs/simple-scco-helper). Numbers go as digits with the country code and no
``+`` (91 and the 10 digits). The answer is ``{"r": <code>, "message"}`` — ``r`` 0 is success (the sample answer is
``{"r":0}``); any other ``r`` is a refusal. The page documents no call id in the answer; one given (``call_id``) is
taken, else the events bring it.

**Authentication** — header ``X-STRINGEE-AUTH`` with a JWT (same pages): header ``{"typ": "JWT", "alg": "HS256",
"cty": "stringee-api;v=1"}``, payload ``{"jti", "iss": <API key SID>, "exp", "rest_api": true}``, HMAC-SHA256 with the
API key secret. The brand's ``api_key`` is the API key secret; option ``api_key_sid`` the SID.

**Events** — https://developer.stringee.com/docs/server/call-events (the project's ``event_url``,
https://developer.stringee.com/docs/server/event-url-and-answer-url): a POST of JSON ``{"call_status" (created,
started, ringing, answered, ended, agentEnded), "call_id", "timestamp_ms", "from", "to", "project_id",
"account_sid", "request_from_user_id", "type": "stringee_call", "clientCustomData"}``; the ``ended`` event adds
``"endCallCause"`` (e.g. ``"486 Busy Here"``), ``"endedBy"``, ``"callCreatedReason"``, ``"callType"``, ``"duration"``
and ``"answerDuration"`` (seconds talked). Our call id comes back as ``clientCustomData`` (the page ties that field to
the custom data a call was made with; that a REST callout's connect ``customData`` lands there is our reading, not
the page's — the call is also matched by ``call_id`` once known). ``ended`` with ``answerDuration`` > 0 is COMPLETED;
otherwise the SIP cause decides: 486 / 600 / 603 BUSY, 404 / 410 / 484 / 5xx FAILED, anything else (480, 408, 487
— no answer, cancelled) MISSED. The end event carries no recording: a recorded, answered call's recording is at
Stringee's recording download API, ``GET /v1/call/recording/<call_id>`` (the path of Stringee's "download recorded
file" reference, ``call-rest-api-download-recorded-file``; that page was not readable in the stored docs, so the
path is unverified) — that URL, needing the same ``X-STRINGEE-AUTH``, becomes the call's ``recording_url``.

**Authenticity** — https://developer.stringee.com/docs/validating-requests-are-coming-from-stringee: Stringee signs a
POST's body with HMAC-SHA1 keyed by the project's signing secret and sends it base64-encoded in
``X-STRINGEE-SIGNATURE``. The brand's ``webhook_secret`` is that signing secret.

Config: ``api_key`` (API key secret), ``webhook_secret`` (project signing secret); options ``api_key_sid``,
``from_number`` (the Stringee number both legs show), ``record`` (default true), ``record_event_url``, ``timeout``
(seconds the customer rings, default 45) and the agents' ``extension.<staff id | email>`` (a phone number with
country code; the staff member's own phone when none). Path prefix ``/stringee`` like every adapter's (twin in
``sandbox/dialer.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import ProviderError, _truthy
from activities.providers.dialer.base import (
    ANSWERED,
    BUSY,
    CALL_ID_MAX,
    CAUSE_MAX,
    COMPLETED,
    FAILED,
    MISSED,
    RINGING,
    CallEvent,
    DialerAdapter,
    clean,
    header,
    indian_number,
)

PATH = "/stringee/v1/call2/callout"
RECORDING_PATH = "/stringee/v1/call/recording/{call_id}"
SIGNATURE_HEADER = "X-STRINGEE-SIGNATURE"
STATUSES = ("created", "started", "ringing", "answered", "ended", "agentEnded")
TOKEN_SECONDS = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rest_token(sid: str, secret: str, now: float | None = None) -> str:
    """Stringee's REST JWT (``X-STRINGEE-AUTH``): HS256 over the documented header and payload."""
    issued = int(now if now is not None else time.time())
    head = {"typ": "JWT", "alg": "HS256", "cty": "stringee-api;v=1"}
    payload = {
        "jti": f"{sid}-{issued}-{uuid.uuid4().hex[:8]}",
        "iss": sid,
        "exp": issued + TOKEN_SECONDS,
        "rest_api": True,
    }
    signing_input = f"{_b64url(json.dumps(head).encode())}.{_b64url(json.dumps(payload).encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


def signature(raw_body: bytes, secret: str) -> str:
    """``X-STRINGEE-SIGNATURE``: base64 of HMAC-SHA1 of the raw body with the project's signing secret."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha1).digest()).decode()


def _sip_code(cause: str | None) -> int | None:
    match = re.match(r"\s*(\d{3})\b", cause or "")
    return int(match.group(1)) if match else None


def _ended_status(cause: str | None) -> str:
    code = _sip_code(cause)
    words = (cause or "").lower()
    if code in (486, 600, 603) or "busy" in words or "decline" in words:
        return BUSY
    if code in (404, 410, 484) or (code is not None and code >= 500) or "not found" in words:
        return FAILED
    return MISSED


class StringeeDialer(DialerAdapter):
    """Stringee callout and call events (see the module docstring)."""

    phone_fallback = True

    def _party(self, number: str) -> dict[str, str]:
        return {"type": "external", "number": number, "alias": number}

    async def initiate(self, agent_number: str, customer_number: str, ref: str) -> str | None:
        sid = self.option("api_key_sid")
        source = indian_number(self.option("from_number"))
        options = self.config.options
        actions: list[dict[str, Any]] = []
        if _truthy(options.get("record"), True):
            record: dict[str, Any] = {"action": "record", "format": "mp3"}
            if options.get("record_event_url"):
                record["eventUrl"] = str(options["record_event_url"])
            actions.append(record)
        customer = indian_number(customer_number)
        actions.append(
            {
                "action": "connect",
                "from": self._party(source),
                "to": self._party(customer),
                "customData": ref,
                "timeout": int(options.get("timeout") or 45),
            }
        )
        body = {"from": self._party(source), "to": [self._party(indian_number(agent_number))], "actions": actions}
        headers = {
            "X-STRINGEE-AUTH": rest_token(sid, self.config.api_key),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        status, answer = await self.send("POST", PATH, json=body, headers=headers)
        if not isinstance(answer, Mapping) or "r" not in answer:
            raise ProviderError(f"{self.vendor}: answer without r", vendor=self.vendor, status=status)
        if status >= 400 or answer.get("r") != 0:
            why = answer.get("message") or answer.get("msg") or ""
            raise self.refused(status, f"r={answer.get('r')}: {why}", answer)
        return clean(answer.get("call_id"), CALL_ID_MAX)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        given = header(headers, SIGNATURE_HEADER)
        return bool(secret) and given is not None and hmac.compare_digest(signature(raw_body, secret), given.strip())

    def recording_url(self, call_id: str) -> str:
        return f"{self.config.base_url}{RECORDING_PATH.format(call_id=call_id)}"

    def parse_webhook(self, body: Mapping[str, Any]) -> CallEvent:
        call_id = w.text(clean(body.get("call_id")), "call_id", CALL_ID_MAX) or ""
        name = w.one_of(body.get("call_status"), "call_status", STATUSES)
        stamp = body.get("timestamp_ms")
        if isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 < stamp < 10**14:
            raise w.invalid("timestamp_ms", "must be milliseconds since the epoch (an integer)")
        at = datetime.fromtimestamp(stamp / 1000, UTC)
        ref = clean(body.get("clientCustomData"), 80)
        key = f"stringee:{call_id}:{name}:{stamp}"
        if name in ("created", "started", "ringing"):
            return CallEvent("stringee", name, key, call_id, ref, RINGING, started_at=at)
        if name == "answered":
            return CallEvent("stringee", name, key, call_id, ref, ANSWERED, answered_at=at)
        if name == "agentEnded":
            return CallEvent("stringee", name, key, call_id, ref, None)
        talk = body.get("answerDuration") or 0
        if isinstance(talk, bool) or not isinstance(talk, int) or talk < 0:
            raise w.invalid("answerDuration", "must be a whole number of seconds")
        cause = clean(body.get("endCallCause"), CAUSE_MAX)
        answered = talk > 0
        recorded = answered and _truthy(self.config.options.get("record"), True)
        return CallEvent(
            provider="stringee",
            event=name,
            event_key=key,
            provider_call_id=call_id,
            ref=ref,
            status=COMPLETED if answered else _ended_status(cause),
            answered_at=at - timedelta(seconds=talk) if answered else None,
            ended_at=at,
            duration_seconds=talk,
            recording_url=self.recording_url(call_id) if recorded else None,
            hangup_cause=cause,
        )
