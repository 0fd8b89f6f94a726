"""Acefone click-to-call (the primary dialer) and its call webhooks.

**Click to call** — ``POST /v1/click_to_call`` on ``https://api.acefone.in`` (Acefone India; the UK platform serves the
same API at ``api.acefone.co.uk``), as documented at https://docs.acefone.co.uk/reference/initiate-click-to-call and
https://api-docs.acefone.co.uk/reference/v1click_to_call: a JSON body with ``agent_number`` (required: "the agent's
EID, intercom number, extension username, or DID"), ``destination_number`` (required: the customer, 10 to 15 digits),
``caller_id`` (the DID shown to the customer), ``async`` (``"1"``: answer at once, don't wait for the agent),
``call_timeout`` (seconds before the call is cut) and ``custom_identifier`` ("returned in webhook" — we send our call
id). Acefone rings the agent first and dials the customer when the agent answers. The answer is ``{"success": true,
"message": "Originate successfully queued"}`` (``success`` false: refused, with the reason in ``message``); the
lifecycle comes by webhook. The answer documents no call id: the call is matched by ``custom_identifier`` and
Acefone's ``call_id`` is learned from the first event (one given in the answer is taken).

**Authentication** — a JWT as ``Authorization: Bearer <token>`` (https://api-docs.acefone.co.uk/reference/
getting-started: tokens from ``POST /v1/auth/login`` last an hour, Acefone support issues tokens of unlimited
lifetime; the bearer header as on https://docs.acefone.in/reference/click-to-interaction). The brand's ``api_key`` is
that long-lived token.

**Webhooks** — https://docs.acefone.in/docs/web-hooks and https://api-docs.acefone.co.uk/docs/webhook: a webhook is
configured in Acefone's panel (API Connect → Webhook): a trigger (e.g. "Call hangup (Missed or Answered)", or the
call being answered), the URL, POST, Content-Type JSON, and the body, built from Acefone's call variables — ``$uuid``,
``$call_id``, ``$direction``, ``$call_to_number``, ``$caller_id_number``, ``$start_stamp``, ``$answer_stamp``,
``$end_stamp`` (``YYYY-MM-DD HH:MM:SS`` in the webhook's time zone), ``$hangup_cause``, ``$billsec`` (talk seconds),
``$duration``, ``$answered_agent_number``, ``$call_status`` (answered / missed), ``$recording_url`` and the click to
call's ``$custom_identifier``. (The stored copy of the webhook page shows its overview, triggers and form; the
variable table itself was not readable there, so the names above are the variables as Acefone's panel offers them
and integrators reproduce them. docs/dialer.md gives the body to paste, keyed by the variable names.) A body with an
``end_stamp`` or a ``hangup_cause`` is the hangup; one without is the "answered" trigger.

**Authenticity** — Acefone documents no signature on webhooks; its webhook form lets the lender "Add header" (a key
and a value sent with every delivery). The brand's ``webhook_secret`` is sent that way, in the header named by option
``webhook_header`` (default ``X-Webhook-Token``), and compared in constant time; a delivery without it is refused.

Config: ``api_key`` (the bearer token), ``webhook_secret``; options ``caller_id`` (DID), ``call_timeout`` (seconds),
``timezone_offset`` of the webhook's time stamps (default ``+05:30``), ``webhook_header``, and the agents'
``extension.<staff id | email>``. The path carries the vendor prefix like every adapter's (``/acefone/v1/
click_to_call``; twin in ``sandbox/dialer.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import ProviderError
from activities.providers.dialer.base import (
    AGENT_MAX,
    ANSWERED,
    BUSY,
    CALL_ID_MAX,
    CAUSE_MAX,
    COMPLETED,
    FAILED,
    MISSED,
    CallEvent,
    DialerAdapter,
    clean,
    digits,
    header,
    http_url,
    same_secret,
)

PATH = "/acefone/v1/click_to_call"
DEFAULT_HEADER = "X-Webhook-Token"
IST = "+05:30"
# Hangup causes (FreeSWITCH's, as Acefone's CDRs carry them, and the words integrators see) by what they mean here.
BUSY_WORDS = ("busy", "reject", "decline")
FAILED_WORDS = ("unallocated", "invalid", "failure", "outoforder", "notset", "unavailable", "congestion", "barred")


def _offset(text: str) -> timezone:
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text.strip())
    if not match:
        return timezone(timedelta(hours=5, minutes=30))
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def _seconds(value: Any, field: str) -> int | None:
    text = clean(value)
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]{1,7}(\.0+)?", text):
        raise w.invalid(field, "must be a whole number of seconds")
    return int(float(text))


def _cause_status(cause: str | None) -> str:
    word = re.sub(r"[^a-z]", "", (cause or "").lower())
    if any(b in word for b in BUSY_WORDS):
        return BUSY
    if any(f in word for f in FAILED_WORDS):
        return FAILED
    return MISSED


class AcefoneDialer(DialerAdapter):
    """Acefone click-to-call (see the module docstring)."""

    @property
    def tz(self) -> timezone:
        return _offset(str(self.config.options.get("timezone_offset") or IST))

    async def initiate(self, agent_number: str, customer_number: str, ref: str) -> str | None:
        body: dict[str, Any] = {
            "agent_number": agent_number,
            "destination_number": digits(customer_number),
            "async": "1",
            "custom_identifier": ref,
        }
        if self.config.options.get("caller_id"):
            body["caller_id"] = str(self.config.options["caller_id"])
        if self.config.options.get("call_timeout"):
            body["call_timeout"] = int(self.config.options["call_timeout"])
        headers = {
            "Authorization": f"Bearer {self.config.api_key}",
            "accept": "application/json",
            "content-type": "application/json",
        }
        status, answer = await self.send("POST", PATH, json=body, headers=headers)
        if not isinstance(answer, Mapping):
            raise ProviderError(f"{self.vendor}: answer is not a JSON object", vendor=self.vendor, status=status)
        if status >= 400 or answer.get("success") is not True:
            raise self.refused(status, answer.get("message") or answer.get("error"), answer)
        return clean(answer.get("call_id"), CALL_ID_MAX)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        """Acefone signs nothing: the header the lender added in Acefone's webhook form must carry the secret."""
        name = str(self.config.options.get("webhook_header") or DEFAULT_HEADER)
        return same_secret(secret, header(headers, name))

    def _stamp(self, value: Any, field: str) -> datetime | None:
        text = clean(value)
        if text is None or text.startswith("0000"):
            return None
        try:
            moment = datetime.fromisoformat(text.replace("/", "-"))
        except ValueError as exc:
            raise w.invalid(field, "must be a time stamp YYYY-MM-DD HH:MM:SS") from exc
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)

    def parse_webhook(self, body: Mapping[str, Any]) -> CallEvent:
        call_id = w.text(clean(body.get("call_id")) or clean(body.get("uuid")), "call_id", CALL_ID_MAX) or ""
        leg = clean(body.get("uuid"), 80) or ""
        ref = clean(body.get("custom_identifier"), 80)
        started = self._stamp(body.get("start_stamp"), "start_stamp")
        answered = self._stamp(body.get("answer_stamp"), "answer_stamp")
        ended = self._stamp(body.get("end_stamp"), "end_stamp")
        cause = clean(body.get("hangup_cause"), CAUSE_MAX)
        call_status = (clean(body.get("call_status")) or "").lower()
        billsec = _seconds(body.get("billsec"), "billsec")
        agent = clean(body.get("answered_agent_number"), AGENT_MAX)
        hangup = ended is not None or cause is not None
        if not hangup:
            return CallEvent(
                "acefone", "answered", f"acefone:{call_id}:{leg}:answered", call_id, ref, ANSWERED,
                started_at=started, answered_at=answered, agent_number=agent,
            )  # fmt: skip
        # call_status says whether the customer answered (answered / missed); without it, billsec > 0 does
        picked_up = call_status == "answered" or (call_status != "missed" and (billsec or 0) > 0)
        talk = billsec or 0
        if picked_up and not talk and answered and ended:
            talk = max(int((ended - answered).total_seconds()), 0)
        status = COMPLETED if picked_up else _cause_status(cause)
        return CallEvent(
            provider="acefone",
            event=f"hangup:{call_status or 'unknown'}"[:40],
            event_key=f"acefone:{call_id}:{leg}:hangup",
            provider_call_id=call_id,
            ref=ref,
            status=status,
            started_at=started,
            answered_at=answered if picked_up else None,
            ended_at=ended,
            duration_seconds=talk if picked_up else 0,
            recording_url=http_url(body.get("recording_url")),
            hangup_cause=cause,
            agent_number=agent,
        )
