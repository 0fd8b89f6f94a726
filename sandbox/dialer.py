"""Sandbox dialers: Acefone click-to-call and Stringee callout, each taking its documented request and auth
(``activities/providers/dialer/`` cites the pages) and then "placing" the call: the agent answers, the customer
answers or not, and the vendor's call events go to the webhook URL registered for the account, over real HTTP,
through the outbox (signed as the vendor does, retried on any non-2xx).

Where events go — as a lender sets it in the vendor's panel: ``PUT /_dialer/webhooks/{vendor}`` ``{"url",
"account"}`` (``account``: Acefone's bearer token, Stringee's API key SID; omitted: every account). ``GET
/_dialer/webhooks`` lists them, ``DELETE /_dialer/webhooks/{vendor}?account=`` stops them; ``GET /_dialer/calls``
lists the calls taken (numbers masked). With no URL registered a call is taken and nothing is reported.

- Acefone ``POST /acefone/v1/click_to_call``: ``Authorization: Bearer <token>`` (else 401; a token starting
  ``expired`` is refused 401 — our credentials, failover), ``agent_number`` and ``destination_number`` (10–15
  digits) required (else 400 ``{"success": false, "message"}``); answers ``{"success": true, "message": "Originate
  successfully queued"}``. Events: the "answered" trigger's body when the customer picks up, then the hangup
  trigger's (docs/dialer.md has both bodies), each with header ``X-Webhook-Token: <sandbox secret>`` — the header
  the lender adds in Acefone's webhook form, Acefone signing nothing. Recordings at ``GET /acefone/recordings/{id}``.
- Stringee ``POST /stringee/v1/call2/callout``: ``X-STRINGEE-AUTH`` a JWT of the documented form (header ``cty``
  ``stringee-api;v=1``, HS256; payload ``iss``, ``exp`` in the future, ``rest_api`` true — the sandbox cannot check
  the signature: it does not know the secret), ``from``, ``to[]`` and ``actions`` (or ``answer_url``); answers
  ``{"r": 0, "message"}`` (refusals ``r`` ≠ 0). Events: ``answered`` and ``ended`` (``answerDuration``,
  ``endCallCause``) with ``clientCustomData`` = the connect action's ``customData``, signed in
  ``X-STRINGEE-SIGNATURE`` (base64 HMAC-SHA1 of the body). Recordings at ``GET /stringee/v1/call/recording/{id}``.

Scenarios, by the customer's number (its last 10 digits; :func:`scenario`):

| number | what happens |
|---|---|
| starts ``99999`` | Acefone answers 503 (Stringee takes the call) |
| starts ``99998`` | both answer 503 |
| starts ``88888`` | Acefone keeps the caller waiting (time-out; Stringee takes the call) |
| ends ``0002`` | the customer does not answer: MISSED (Acefone ``missed`` / ``NO_ANSWER``, Stringee ``480``) |
| ends ``0003`` | the customer is busy: BUSY (Acefone ``USER_BUSY``, Stringee ``486 Busy Here``) |
| ends ``0005`` | answered, but the hangup arrives first, then the answer, then the hangup again |
| ends ``0006`` | the call rings and nothing is ever reported |
| anything else | answered; talk time ``20 + last two digits % 40`` seconds; a recording |
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from activities.providers.dialer.stringee import signature as stringee_signature
from sandbox import scenarios
from sandbox.context import Sandbox, missing

VENDORS = ("acefone", "stringee")
IST = timezone(timedelta(hours=5, minutes=30))
ACEFONE_TOKEN_HEADER = "X-Webhook-Token"
ANSWERED, NO_ANSWER, BUSY, OUT_OF_ORDER, SILENT = "answered", "no_answer", "busy", "out_of_order", "silent"
STEP = 0.1  # seconds between one call's events, so they arrive in the order sent
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64  # a few silent frames


def ten(number: Any) -> str:
    return "".join(ch for ch in str(number or "") if ch.isdigit())[-10:]


def masked(number: Any) -> str:
    return "XXXXXX" + ten(number)[-4:]


def failure(vendor: str, number: str) -> str | None:
    """How ``vendor`` misbehaves for a customer ``number`` (``503`` / ``timeout``), if it does."""
    digits = ten(number)
    if digits.startswith("99998"):
        return scenarios.UNAVAILABLE
    if vendor == "acefone" and digits.startswith("99999"):
        return scenarios.UNAVAILABLE
    if vendor == "acefone" and digits.startswith("88888"):
        return scenarios.TIMEOUT
    return None


def scenario(number: str) -> str:
    """What the customer ``number`` does once the call is placed (module docstring)."""
    digits = ten(number)
    return {"0002": NO_ANSWER, "0003": BUSY, "0005": OUT_OF_ORDER, "0006": SILENT}.get(digits[-4:], ANSWERED)


def talk_seconds(number: str) -> int:
    return 20 + int(ten(number)[-2:] or 0) % 40


def _ist(moment: datetime) -> str:
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")


# --- Acefone's webhook bodies (the variables of docs/dialer.md's templates, as Acefone fills them: strings) ---------
def acefone_answered(call: dict[str, Any]) -> dict[str, str]:
    """The "answered" trigger's body."""
    return {
        "uuid": call["uuid"],
        "call_id": call["call_id"],
        "direction": "clicktocall",
        "call_to_number": call["customer"],
        "caller_id_number": call["caller_id"],
        "start_stamp": _ist(call["started"]),
        "answer_stamp": _ist(call["answered"]),
        "answered_agent_number": call["agent"],
        "call_status": "answered",
        "custom_identifier": call["ref"],
    }


def acefone_hangup(call: dict[str, Any], base: str) -> dict[str, str]:
    """The hangup trigger's body ("Call hangup (Missed or Answered)")."""
    picked_up = call["outcome"] in (ANSWERED, OUT_OF_ORDER)
    talk = call["talk"] if picked_up else 0
    cause = {NO_ANSWER: "NO_ANSWER", BUSY: "USER_BUSY"}.get(call["outcome"], "NORMAL_CLEARING")
    ring = 6
    return {
        "uuid": call["uuid"],
        "call_id": call["call_id"],
        "direction": "clicktocall",
        "call_to_number": call["customer"],
        "caller_id_number": call["caller_id"],
        "start_stamp": _ist(call["started"]),
        "answer_stamp": _ist(call["answered"]) if picked_up else "",
        "end_stamp": _ist(
            call["answered"] + timedelta(seconds=talk) if picked_up else call["started"] + timedelta(seconds=30)
        ),
        "hangup_cause": cause,
        "billsec": str(talk),
        "duration": str(talk + ring),
        "answered_agent_number": call["agent"],
        "call_status": "answered" if picked_up else "missed",
        "recording_url": f"{base}/acefone/recordings/{call['call_id']}.mp3" if picked_up else "",
        "custom_identifier": call["ref"],
    }


# --- Stringee's call events (https://developer.stringee.com/docs/server/call-events) --------------------------------
def _party(number: str) -> dict[str, Any]:
    return {"number": number, "alias": number, "is_online": False, "type": "external"}


def stringee_answered(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "call_status": "answered",
        "project_id": 25,
        "request_from_user_id": "",
        "account_sid": call["account_sid"],
        "timestamp_ms": int(call["answered"].timestamp() * 1000),
        "from": _party(call["from"]),
        "to": _party(call["customer"]),
        "clientCustomData": call["ref"],
        "type": "stringee_call",
        "call_id": call["call_id"],
    }


def stringee_ended(call: dict[str, Any]) -> dict[str, Any]:
    picked_up = call["outcome"] in (ANSWERED, OUT_OF_ORDER)
    talk = call["talk"] if picked_up else 0
    ended = call["answered"] + timedelta(seconds=talk) if picked_up else call["started"] + timedelta(seconds=30)
    cause = {NO_ANSWER: "480 Temporarily Unavailable", BUSY: "486 Busy Here"}.get(call["outcome"], "200 OK")
    return {
        "call_status": "ended",
        "project_id": 25,
        "request_from_user_id": "",
        "account_sid": call["account_sid"],
        "timestamp_ms": int(ended.timestamp() * 1000),
        "type": "stringee_call",
        "call_id": call["call_id"],
        "clientCustomData": call["ref"],
        "callCreatedReason": "REST_CALLOUT",
        "endCallCause": cause,
        "endedBy": "EXTERNAL" if not picked_up else "INTERNAL",
        "callType": "CALL",
        "duration": talk + 6,
        "answerDuration": talk,
        "from": _party(call["from"]),
        "to": _party(call["customer"]),
    }


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a Stringee REST JWT of the documented form, or None (signature not checkable here)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        head, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(head, dict) or head.get("alg") != "HS256" or head.get("cty") != "stringee-api;v=1":
        return None
    if not isinstance(payload, dict) or not payload.get("iss") or payload.get("rest_api") is not True:
        return None
    if not isinstance(payload.get("exp"), int) or payload["exp"] < time.time():
        return None
    return payload


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add the dialers' endpoints to the sandbox ``app``."""
    state = sbx.state.setdefault("dialer", {"calls": {}, "hooks": {}})
    sbx.outbox.sign_with("acefone", lambda body, secret, eid: {ACEFONE_TOKEN_HEADER: secret})
    sbx.outbox.sign_with(
        "stringee", lambda body, secret, eid: {"X-STRINGEE-SIGNATURE": stringee_signature(body, secret)}
    )

    def hook(vendor: str, account: str) -> str | None:
        return state["hooks"].get(f"{vendor}:{account}") or state["hooks"].get(f"{vendor}:*")

    def report(call: dict[str, Any], bodies: list[dict[str, Any]]) -> None:
        url = hook(call["vendor"], call["account"])
        if not url:
            return
        for n, body in enumerate(bodies):
            sbx.send_later(call["vendor"], url, body, after=sbx.delay + n * STEP)

    def keep(call: dict[str, Any]) -> None:
        state["calls"][call["call_id"]] = {
            "vendor": call["vendor"],
            "call_id": call["call_id"],
            "ref": call["ref"],
            "agent": call["agent"],
            "customer": masked(call["customer"]),
            "outcome": call["outcome"],
            "at": call["started"].isoformat(),
        }

    def new_call(vendor: str, account: str, agent: str, customer: str, ref: str, call_id: str) -> dict[str, Any]:
        started = datetime.now(UTC) - timedelta(seconds=60)
        return {
            "vendor": vendor,
            "account": account,
            "call_id": call_id,
            "uuid": str(uuid.uuid4()),
            "ref": ref,
            "agent": agent,
            "customer": customer,
            "started": started,
            "answered": started + timedelta(seconds=8),
            "outcome": scenario(customer),
            "talk": talk_seconds(customer),
        }

    def events(call: dict[str, Any], answered: dict, hangup: dict) -> list[dict]:
        outcome = call["outcome"]
        if outcome == SILENT:
            return []
        if outcome in (NO_ANSWER, BUSY):
            return [hangup]
        if outcome == OUT_OF_ORDER:
            return [hangup, answered, hangup]
        return [answered, hangup]

    @app.put("/_dialer/webhooks/{vendor}")
    async def set_hook(vendor: str, request: Request) -> dict:
        """Register where ``vendor`` sends an account's call events (the vendor's panel setting)."""
        body = await sbx.json_body(request)
        url, account = str(body.get("url", "")), str(body.get("account") or "*")
        if vendor not in VENDORS or not url.startswith("http"):
            raise HTTPException(400, f"vendor one of {list(VENDORS)} and an http(s) url are required")
        state["hooks"][f"{vendor}:{account}"] = url
        return {"vendor": vendor, "account": account, "url": url}

    @app.get("/_dialer/webhooks")
    def hooks() -> dict:
        return state["hooks"]

    @app.delete("/_dialer/webhooks/{vendor}")
    def clear_hook(vendor: str, account: str = "*") -> dict:
        return {"vendor": vendor, "account": account, "url": state["hooks"].pop(f"{vendor}:{account}", None)}

    @app.get("/_dialer/calls")
    def calls(vendor: str | None = None) -> list[dict]:
        """Every call the sandbox dialers took (customer numbers masked), oldest first."""
        return [c for c in state["calls"].values() if vendor is None or c["vendor"] == vendor]

    # --- Acefone -------------------------------------------------------------------------------------------------
    @app.post("/acefone/v1/click_to_call")
    async def acefone_click_to_call(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token or token.startswith("expired"):
            return JSONResponse({"success": False, "message": "Unauthenticated: invalid or expired token"}, 401)
        body = await sbx.json_body(request)
        agent, destination = str(body.get("agent_number") or ""), str(body.get("destination_number") or "")
        if not agent:
            return JSONResponse({"success": False, "message": "agent_number is required"}, 400)
        if not destination.isdigit() or not 10 <= len(destination) <= 15:
            return JSONResponse({"success": False, "message": "destination_number must be 10 to 15 digits"}, 400)
        fault = failure("acefone", destination)
        if fault:
            return await sbx.misbehave(request, fault)
        call = new_call(
            "acefone", token, agent, destination, str(body.get("custom_identifier") or ""),
            f"{int(time.time())}.{secrets.randbelow(9000) + 1000}",
        )  # fmt: skip
        call["caller_id"] = str(body.get("caller_id") or "8062450000")
        keep(call)
        report(call, events(call, acefone_answered(call), acefone_hangup(call, sbx.base(request))))
        return JSONResponse({"success": True, "message": "Originate successfully queued"})

    @app.get("/acefone/recordings/{name}")
    def acefone_recording(name: str) -> Response:
        if name.removesuffix(".mp3") not in state["calls"]:
            missing("recording")
        return Response(MP3, media_type="audio/mpeg")

    # --- Stringee ------------------------------------------------------------------------------------------------
    @app.post("/stringee/v1/call2/callout")
    async def stringee_callout(request: Request) -> Response:
        claims = _jwt_claims(request.headers.get("x-stringee-auth", ""))
        if claims is None:
            return JSONResponse({"r": 1, "message": "X-STRINGEE-AUTH is missing, malformed or expired"}, 401)
        body = await sbx.json_body(request)
        source, targets, actions = body.get("from"), body.get("to"), body.get("actions")
        if not isinstance(source, dict) or not source.get("number"):
            return JSONResponse({"r": 2, "message": "from.number is required"})
        if (
            not isinstance(targets, list)
            or not targets
            or not isinstance(targets[0], dict)
            or not targets[0].get("number")
        ):
            return JSONResponse({"r": 2, "message": "to[].number is required"})
        if not isinstance(actions, list) and not body.get("answer_url"):
            return JSONResponse({"r": 2, "message": "actions or answer_url is required"})
        connect = next((a for a in actions or [] if isinstance(a, dict) and a.get("action") == "connect"), None)
        customer = str(((connect or {}).get("to") or {}).get("number") or targets[0]["number"])
        fault = failure("stringee", customer)
        if fault:
            return await sbx.misbehave(request, fault)
        call_id = f"call-vn-1-{secrets.token_hex(5).upper()}-{int(time.time() * 1000)}"
        call = new_call(
            "stringee", str(claims["iss"]), str(targets[0]["number"]), customer,
            str((connect or {}).get("customData") or ""), call_id,
        )  # fmt: skip
        call["from"], call["account_sid"] = str(source["number"]), f"AC{str(claims['iss'])[-30:]}"
        keep(call)
        report(call, events(call, stringee_answered(call), stringee_ended(call)))
        return JSONResponse({"r": 0, "message": "Create call success"})

    @app.get("/stringee/v1/call/recording/{call_id}")
    def stringee_recording(call_id: str, request: Request) -> Response:
        if _jwt_claims(request.headers.get("x-stringee-auth", "")) is None:
            return JSONResponse({"r": 1, "message": "X-STRINGEE-AUTH is missing, malformed or expired"}, 401)
        if call_id not in state["calls"]:
            missing("recording")
        return Response(MP3, media_type="audio/mpeg")
