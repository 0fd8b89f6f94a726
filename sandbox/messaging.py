"""Sandbox messaging vendors: Gupshup Enterprise SMS, MSG91 (Flow), NimbusIT (SMS), Brevo and ZeptoMail (email),
AiSensy (WhatsApp) — each taking exactly its documented request and auth and answering in its documented shape (the
adapters in ``activities/providers/messaging/`` cite the pages) — and the delivery reports of those that send them,
SendGrid's Event Webhook included (its send is ``sandbox.mail``).

What was sent: ``GET /gupshup/messages?to=`` (``{message_id, to, text, template, sent_at}``, ``to`` the 10-digit
number and ``template`` the DLT template id: tests and ``los demo`` read OTPs and links there), and the same list for
``/msg91/messages``, ``/nimbusit/messages``, ``/brevo/messages``, ``/zepto/messages``, ``/aisensy/messages``.

Delivery reports go to the URL registered for the vendor, as a lender registers it in the vendor's panel:
``PUT /_messaging/webhooks/{vendor}`` ``{"url"}`` (Gupshup and MSG91 take the token in that URL). They leave after the
sandbox's delay, through the Outbox (retried on any non-2xx): Gupshup's POST array, MSG91's version 3 object, Brevo's
event with ``Authorization: Bearer <secret>``, ZeptoMail's with ``producer-signature``, SendGrid's array signed with
ECDSA (the key pair derived from the sandbox's webhook secret: ``sandbox.sendgrid_events.sendgrid_public_key``).
Gupshup and SendGrid batch, as they document (:data:`BATCHES`): a batch opens with a report and goes after the delay,
with every report of the vendor that came meanwhile (up to the vendor's size).

Scenarios: a number whose 10 digits start with ``99999`` makes Gupshup answer 503 (the next SMS vendor takes over);
one ending in ``0000`` is reported FAILED / an address containing ``bounce`` hard-bounces. ``POST /_faults`` works for
every vendor here too.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from activities.providers.messaging.zepto import producer_signature
from sandbox import sendgrid_events
from sandbox.context import Sandbox

VENDORS = ("gupshup", "msg91", "nimbusit", "brevo", "zepto", "aisensy", "sendgrid")
FAILING_PREFIX = "99999"  # Gupshup answers 503 for these numbers
#: The vendors that batch their delivery reports: (most events, most bytes) in one POST. Gupshup: "a maximum of 20
#: events can be sent in a batch" (https://docs.gupshup.io/docs/real-time-delivery-reports); SendGrid's Event
#: Webhook posts its batches every 30 s or at 768 KB, whichever comes first
#: (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook). The sandbox
#: sends a batch after its webhook delay instead of the vendors' own waits.
BATCHES = {"gupshup": (20, None), "sendgrid": (10_000, 768 * 1024)}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ten(number: str) -> str:
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    return digits[2:] if len(digits) == 12 and digits.startswith("91") else digits


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add the messaging vendors' endpoints to the sandbox ``app``."""
    state = sbx.state
    state.setdefault("sms", [])
    state.setdefault("messages", {})
    state.setdefault("dlr_urls", {})
    for vendor in VENDORS:
        state["messages"].setdefault(vendor, [])
    sbx.outbox.sign_with("gupshup", lambda body, secret, eid: {})
    sbx.outbox.sign_with("msg91", lambda body, secret, eid: {})
    sbx.outbox.sign_with("brevo", lambda body, secret, eid: {"Authorization": f"Bearer {secret}"})
    sbx.outbox.sign_with(
        "zepto",
        lambda body, secret, eid: {
            "producer-signature": producer_signature(body, secret, str(int(time.time() * 1000)))
        },
    )

    def report(vendor: str, payload: Any) -> None:
        url = state["dlr_urls"].get(vendor)
        if url and vendor in BATCHES:  # the events of several messages in one POST, as the vendor sends them
            sbx.outbox.send_batched(vendor, url, payload, *BATCHES[vendor])
        elif url:
            sbx.send_later(vendor, url, payload)

    def keep(vendor: str, **message: Any) -> dict:
        record = {**message, "sent_at": _now()}
        state["messages"][vendor].append(record)
        return record

    @app.put("/_messaging/webhooks/{vendor}")
    async def set_dlr_url(vendor: str, request: Request) -> dict:
        """Register where ``vendor`` sends delivery reports (the vendor's panel setting)."""
        body = await sbx.json_body(request)
        if vendor not in ("gupshup", "msg91", "brevo", "zepto", "sendgrid") or not str(body.get("url", "")).startswith(
            "http"
        ):
            raise HTTPException(400, "vendor sending reports and an http(s) url are required")
        state["dlr_urls"][vendor] = body["url"]
        return {"vendor": vendor, "url": body["url"]}

    @app.get("/_messaging/webhooks")
    def dlr_urls() -> dict:
        return state["dlr_urls"]

    @app.delete("/_messaging/webhooks/{vendor}")
    def clear_dlr_url(vendor: str) -> dict:
        """Stop ``vendor``'s delivery reports."""
        return {"vendor": vendor, "url": state["dlr_urls"].pop(vendor, None)}

    # --- Gupshup Enterprise SMS -------------------------------------------------------------------
    @app.api_route("/gupshup/GatewayAPI/rest", methods=["GET", "POST"])
    async def gupshup_rest(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        if str(params.get("method", "")).lower() != "sendmessage":
            return PlainTextResponse("error | 101 | Method not supported")
        if not str(params.get("userid", "")).isdigit() or not params.get("password"):
            return PlainTextResponse("error | 105 | Authentication failed")
        to = str(params.get("send_to", ""))
        if not to.isdigit() or len(_ten(to)) != 10:
            return PlainTextResponse("error | 102 | Invalid send_to")
        if not params.get("msg"):
            return PlainTextResponse("error | 103 | Message is empty")
        if not params.get("principalEntityId") or not params.get("dltTemplateId"):
            return PlainTextResponse("error | 175 | DLT principalEntityId and dltTemplateId are required")
        if _ten(to).startswith(FAILING_PREFIX):
            return PlainTextResponse("<html><body>503 Service Unavailable</body></html>", status_code=503)
        message_id = f"{int(time.time() * 1000)}{sbx.new_id('')[1:8]}-{hashlib.sha256(to.encode()).hexdigest()[:12]}"
        record = {
            "message_id": message_id,
            "to": _ten(to),
            "text": params["msg"],
            "template": params["dltTemplateId"],
            "sent_at": _now(),
        }
        state["sms"].append(record)
        failed = _ten(to).endswith("0000")
        report(
            "gupshup",
            [
                {
                    "externalId": message_id,
                    "eventType": "FAILED" if failed else "DELIVERED",
                    "eventTs": int(time.time() * 1000),
                    "destAddr": int(to if len(to) == 12 else "91" + to),
                    "srcAddr": params.get("mask") or "SANDBX",
                    "cause": "ABSENT_SUBSCRIBER" if failed else "SUCCESS",
                    "errCode": "001" if failed else "000",
                    "channel": "SMS",
                    "noOfFrags": 1,
                }
            ],
        )
        return PlainTextResponse(f"success | {to} | {message_id}")

    @app.get("/gupshup/messages")
    def gupshup_messages(to: str | None = None) -> list[dict]:
        """Every SMS sent, newest last (tests and `los demo` read OTPs and links here)."""
        return [m for m in state["sms"] if to is None or m["to"] == _ten(to)]

    # --- MSG91 Flow ---------------------------------------------------------------------------------
    @app.post("/msg91/api/v5/flow")
    async def msg91_flow(request: Request) -> Response:
        if not request.headers.get("authkey"):
            return JSONResponse({"type": "error", "message": "Authentication failure"}, status_code=401)
        body = await sbx.json_body(request)
        recipients = body.get("recipients")
        if not body.get("template_id") or not isinstance(recipients, list) or not recipients:
            return JSONResponse(
                {"type": "error", "message": "template_id and recipients are required"}, status_code=400
            )
        if any(not isinstance(r, dict) or not str(r.get("mobiles", "")).isdigit() for r in recipients):
            return JSONResponse({"type": "error", "message": "Mobile number not found"}, status_code=400)
        request_id = hashlib.sha256(f"{time.time_ns()}{sbx.new_id('m')}".encode()).hexdigest()[:24]
        for r in recipients:
            variables = {k: v for k, v in r.items() if k != "mobiles"}
            keep(
                "msg91", message_id=request_id, to=_ten(r["mobiles"]), template=body["template_id"], variables=variables
            )
            failed = _ten(r["mobiles"]).endswith("0000")
            report(
                "msg91",
                {
                    "date": datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                    "number": r["mobiles"],
                    "senderId": body.get("sender") or "SANDBX",
                    "requestId": request_id,
                    "status": "2" if failed else "1",
                    "desc": "FAILED" if failed else "DELIVERED",
                    "credit": "1",
                    "campaignName": "API",
                },
            )
        return JSONResponse({"type": "success", "message": request_id})

    # --- NimbusIT ------------------------------------------------------------------------------------
    @app.get("/nimbusit/api/SmsApi/SendSingleApi")
    def nimbusit_send(request: Request) -> dict:
        q = request.query_params
        if not q.get("UserID") or not q.get("Password"):
            return {"Status": "ERROR", "Response": {"Message": "Invalid UserID or Password"}}
        missing = [k for k in ("SenderID", "Phno", "Msg", "EntityID", "TemplateID") if not q.get(k)]
        if missing:
            return {"Status": "ERROR", "Response": {"Message": f"{missing[0]} is required"}}
        message_id = sbx.new_id("nim")
        keep("nimbusit", message_id=message_id, to=_ten(q["Phno"]), text=q["Msg"], template=q["TemplateID"])
        return {"Status": "OK", "Response": {"Message": "Message Sent Successfully", "MessageId": message_id}}

    # --- Brevo ---------------------------------------------------------------------------------------
    @app.post("/brevo/v3/smtp/email")
    async def brevo_send(request: Request) -> Response:
        if not request.headers.get("api-key"):
            return JSONResponse({"code": "unauthorized", "message": "Key not found"}, status_code=401)
        body = await sbx.json_body(request)
        to = body.get("to")
        if not isinstance(body.get("sender"), dict) or not body["sender"].get("email"):
            return JSONResponse({"code": "missing_parameter", "message": "sender is missing"}, status_code=400)
        if (
            not isinstance(to, list)
            or not to
            or any(not isinstance(t, dict) or "@" not in str(t.get("email")) for t in to)
        ):
            return JSONResponse({"code": "missing_parameter", "message": "to is missing"}, status_code=400)
        if not body.get("subject") or not (body.get("textContent") or body.get("htmlContent")):
            return JSONResponse(
                {"code": "missing_parameter", "message": "subject and content are required"}, status_code=400
            )
        message_id = f"<{sbx.new_id('brv')}@smtp-relay.mailin.fr>"
        for t in to:
            keep("brevo", message_id=message_id, to=t["email"], subject=body["subject"], text=body.get("textContent"))
            ts = int(time.time())
            bounce = "bounce" in t["email"]
            report(
                "brevo",
                {
                    "event": "hard_bounce" if bounce else "delivered",
                    "email": t["email"],
                    "id": 1,
                    "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    "ts": ts,
                    "message-id": message_id,
                    "ts_event": ts,
                    "subject": body["subject"],
                    **({"reason": "mailbox does not exist"} if bounce else {}),
                },
            )
        return JSONResponse({"messageId": message_id}, status_code=201)

    # --- ZeptoMail -----------------------------------------------------------------------------------
    @app.post("/zepto/v1.1/email")
    async def zepto_send(request: Request) -> Response:
        request_id = sbx.new_id("zm")
        if not request.headers.get("authorization", "").startswith("Zoho-enczapikey "):
            detail = {"code": "SERR_157", "message": "Invalid API Token found", "target": "Authorization"}
            error = {"code": "TM_3201", "details": [detail], "message": "Conditions not met", "request_id": request_id}
            return JSONResponse({"error": error}, status_code=401)
        body = await sbx.json_body(request)
        to = body.get("to")
        bad = None
        if not isinstance(body.get("from"), dict) or not body["from"].get("address"):
            bad = "from"
        elif (
            not isinstance(to, list)
            or not to
            or any(not isinstance(t, dict) or "@" not in str((t.get("email_address") or {}).get("address")) for t in to)
        ):
            bad = "to"
        elif not body.get("subject"):
            bad = "subject"
        elif not (body.get("textbody") or body.get("htmlbody")):
            bad = "htmlbody"
        if bad:
            detail = {"code": "SERR_101", "message": "Mandatory field missing", "target": bad}
            error = {"code": "TM_4001", "details": [detail], "message": "Invalid data", "request_id": request_id}
            return JSONResponse({"error": error}, status_code=400)
        for t in to:
            address = t["email_address"]["address"]
            keep("zepto", message_id=request_id, to=address, subject=body["subject"], text=body.get("textbody"))
            name = "hardbounce" if "bounce" in address else "email_open"
            info = {"client_reference": body.get("client_reference"), "subject": body["subject"], "to": [t]}
            report(
                "zepto",
                {
                    "event_name": [name],
                    "event_message": [
                        {
                            "email_info": info,
                            "event_data": [
                                {"object": name, "details": [{"reason": "mailbox not found", "time": _now()}]}
                            ],
                            "request_id": request_id,
                        }
                    ],
                    "webhook_request_id": sbx.new_id("wh"),
                    "mailagent_key": "sandbox-agent",
                },
            )
        data = [{"code": "EM_104", "additional_info": [], "message": "Email request received"}]
        return JSONResponse(
            {"data": data, "message": "OK", "request_id": request_id, "object": "email"}, status_code=201
        )

    # --- AiSensy -------------------------------------------------------------------------------------
    @app.post("/aisensy/campaign/t1/api/v2")
    async def aisensy_send(request: Request) -> Response:
        body = await sbx.json_body(request)
        if not body.get("apiKey"):
            return JSONResponse({"success": False, "message": "Invalid API Key"}, status_code=401)
        missing = [k for k in ("campaignName", "destination", "userName") if not body.get(k)]
        params = body.get("templateParams", [])
        if missing or not isinstance(params, list) or any(not isinstance(p, str) for p in params):
            why = f"{missing[0]} is required" if missing else "templateParams must be an array of strings"
            return JSONResponse({"success": False, "message": why}, status_code=400)
        message_id = sbx.new_id("ais")
        keep(
            "aisensy", message_id=message_id, to=_ten(body["destination"]), campaign=body["campaignName"], params=params
        )
        return JSONResponse({"success": "true", "submitted_message_id": message_id})

    for vendor in ("msg91", "nimbusit", "brevo", "zepto", "aisensy"):
        app.add_api_route(f"/{vendor}/messages", _reader(state, vendor), methods=["GET"])

    sendgrid_events.register(app, sbx, lambda events: report("sendgrid", events))


def _reader(state: dict, vendor: str) -> Any:
    def messages(to: str | None = None) -> list[dict]:
        """Every message sent through this vendor, newest last (``to``: only those to it)."""
        wanted = (_ten(to) if to and "@" not in to else to) if to else None
        return [m for m in state["messages"][vendor] if wanted is None or m["to"] == wanted]

    return messages
