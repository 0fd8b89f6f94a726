"""Provider sandbox: imitates the vendors' HTTP APIs — Digitap (PAN, Aadhaar OTP, mobile look-ups, CKYC,
EPFO), DigiLocker, CIBIL, Equifax, CART (BSA and AA), Finbox, ScoreMe, FINDUIT (AA), Razorpay (payment
links and fund account validation), Cashfree (bank validation), Signzy, IDFC, Gupshup — and sends their
signed webhooks back, after a short configurable delay, to the callback URL given.

Which input takes which branch is in ``sandbox/scenarios.py`` (and docs/sandbox.md). Besides those,
``POST /_faults`` makes any vendor misbehave on demand (503/500/429, time-out, malformed or non-JSON
answers) for the next N calls, optionally only for one API key — failover drills for every kind.

State is in memory: the sandbox is a development and test fixture, never run in production.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import logging
import os
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from activities.providers import signing
from sandbox import scenarios

log = logging.getLogger("los.sandbox")
DEFAULT_SECRET = "sandbox-webhook-secret"  # noqa: S105 - the sandbox's published test secret
VENDOR_PREFIXES = frozenset(
    {
        "digitap",
        "digilocker",
        "cibil",
        "equifax",
        "cart",
        "finbox",
        "scoreme",
        "finduit",
        "razorpay",
        "cashfree",
        "signzy",
        "idfc",
        "gupshup",
    }
)
FAULT_MODES = frozenset({"503", "500", "502", "429", "timeout", "malformed", "non_json"})


def create_app(
    webhook_secret: str | None = None,
    delay_seconds: float | None = None,
    state_file: Path | None = None,
    hang_seconds: float | None = None,
) -> FastAPI:
    """The sandbox app. ``delay_seconds``: before a webhook goes out (env LOS_SANDBOX_DELAY_SECONDS, 1 s);
    ``hang_seconds``: how long a "time-out" scenario keeps the caller waiting before answering 504 — it
    stops as soon as the caller gives up (env LOS_SANDBOX_HANG_SECONDS, 30 s, more than the adapters'
    default 20 s timeout)."""
    app = FastAPI(
        title="LOS provider sandbox",
        version="0.2.0",
        description="Imitates KYC, CKYC, bureau, BSA, AA, penny-drop, EPFO, eSign, bank, payment-gateway and SMS "
        "vendors. See docs/sandbox.md.",
    )
    secret = webhook_secret or os.environ.get("LOS_SANDBOX_WEBHOOK_SECRET", DEFAULT_SECRET)
    delay = float(delay_seconds if delay_seconds is not None else os.environ.get("LOS_SANDBOX_DELAY_SECONDS", "1.0"))
    hang_for = float(hang_seconds if hang_seconds is not None else os.environ.get("LOS_SANDBOX_HANG_SECONDS", "30"))
    counter = itertools.count(1)
    state: dict[str, Any] = {
        "sms": [],
        "dockets": {},
        "transfers": {},
        "links": {},
        "webhooks": [],
        "idempotency": {},
        "aadhaar": {},  # reference id → OTP session
        "ckyc": {},  # CKYC number → PAN (searched)
        "statements": {},  # statement id → vendor, analysis, polls still "processing"
        "consents": {},  # AA consent handle → consent
        "validations": {},  # penny drop id → answer
        "digilocker": {},  # request id → session; "code:<code>" → request id
    }
    faults: list[dict[str, Any]] = []  # not persisted: a drill lasts as long as the process
    tasks: set[asyncio.Task] = set()
    app.state.sandbox = state
    app.state.faults = faults
    # With a state file (as under `los up`), dockets, links and messages survive a restart.
    if state_file is not None and state_file.exists():
        state.update(json.loads(state_file.read_text()))

    # Pure ASGI middlewares (``@app.middleware("http")`` would hide a caller's disconnect from the
    # endpoints, and a "time-out" must stop when the caller gives up).
    flush_task: dict[str, asyncio.Task | None] = {"pending": None}

    def flush() -> None:
        if state_file is not None:
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(state_file)

    async def flush_soon() -> None:
        await asyncio.sleep(0.5)  # many calls in a burst are written once
        flush_task["pending"] = None
        flush()

    async def persist(scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        await inner(scope, receive, send)
        if state_file is not None and scope["method"] == "POST" and flush_task["pending"] is None:
            flush_task["pending"] = asyncio.get_running_loop().create_task(flush_soon())

    app.router.on_shutdown.append(flush)

    async def inject_faults(scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        path = scope["path"]
        vendor = path.strip("/").split("/", 1)[0]
        if vendor in VENDOR_PREFIXES and faults:
            request = Request(scope, receive)
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            for fault in faults:
                if fault["vendor"] != vendor or (fault.get("api_key") and fault["api_key"] != token):
                    continue
                if fault.get("path") and not path.startswith(fault["path"]):
                    continue
                fault["hits"] += 1
                if fault["times"] and fault["hits"] >= fault["times"]:
                    faults.remove(fault)
                response = await misbehave(request, fault["mode"])
                await response(scope, receive, send)
                return
        await inner(scope, receive, send)

    app.add_middleware(_Asgi, handler=persist)
    app.add_middleware(_Asgi, handler=inject_faults)

    @app.exception_handler(scenarios.Refusal)
    async def refused(request: Request, exc: scenarios.Refusal) -> JSONResponse:
        return JSONResponse({"detail": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    async def misbehave(request: Request, mode: str) -> Response:
        """Answer like a vendor having a bad day: an error status, a time-out (hang until the caller gives
        up, then 504), or a 200 whose body is not what the API promises."""
        if mode == scenarios.TIMEOUT:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + hang_for
            while loop.time() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
            return JSONResponse({"detail": "upstream timed out"}, status_code=504)
        if mode == "malformed":
            return JSONResponse({"unexpected": "shape", "sandbox_fault": "malformed"})
        if mode == "non_json":
            return PlainTextResponse("<html><body>Bad gateway (sandbox)</body></html>", media_type="text/html")
        return JSONResponse({"detail": f"sandbox fault {mode}"}, status_code=int(mode))

    async def json_body(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "body must be JSON") from exc
        if not isinstance(body, dict):
            raise HTTPException(400, "body must be a JSON object")
        return body

    def refuse(status: int, code: str, message: str) -> Any:
        raise scenarios.Refusal(status, code, message)

    def today() -> date:
        return datetime.now(UTC).date()

    def new_id(prefix: str) -> str:
        return f"{prefix}_{next(counter):06d}{secrets.token_hex(4)}"

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def deliver(vendor: str, url: str, payload: dict, after: float) -> None:
        await asyncio.sleep(after)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", signing.SIGNATURE_HEADERS[vendor]: signing.sign(body, secret)}
        record = {"vendor": vendor, "url": url, "payload": payload, "attempts": 0, "status": None}
        state["webhooks"].append(record)
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(1, 9):
                record["attempts"] = attempt
                try:
                    resp = await client.post(url, content=body, headers=headers)
                    record["status"] = resp.status_code
                    if resp.status_code < 500:
                        return
                except httpx.HTTPError as exc:
                    record["status"] = f"error: {exc}"
                await asyncio.sleep(min(0.5 * 2**attempt, 10))

    def send_later(vendor: str, url: str, payload: dict, after: float | None = None) -> None:
        task = asyncio.get_running_loop().create_task(deliver(vendor, url, payload, delay if after is None else after))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def idempotent(key: str | None, scope: str) -> Any:
        return state["idempotency"].get(f"{scope}:{key}") if key else None

    def remember(key: str | None, scope: str, value: Any) -> Any:
        if key:
            state["idempotency"][f"{scope}:{key}"] = value
        return value

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    # --- Digitap KYC ---------------------------------------------------------------------------
    @app.post("/digitap/pan/verify")
    async def pan_verify(request: Request) -> dict:
        body = await request.json()
        pan = str(body.get("pan", "")).upper()
        if len(pan) != 10:
            raise HTTPException(400, "pan must be 10 characters")
        return scenarios.pan_check(pan)

    @app.post("/digitap/aadhaar/otp/initiate")
    async def aadhaar_otp_initiate(request: Request) -> dict:
        """Send an OTP to the Aadhaar-linked mobile (the sandbox's OTP is always AADHAAR_OTP, 123456).
        A new reference per call. Malformed or checksum-failing numbers: 422 AADHAAR_INVALID."""
        body = await json_body(request)
        aadhaar = str(body.get("aadhaar", "")).replace(" ", "")
        if not scenarios.aadhaar_valid(aadhaar):
            refuse(422, "AADHAAR_INVALID", "not a valid Aadhaar number (12 digits, Verhoeff checksum)")
        reference_id = new_id("aotp")
        state["aadhaar"][reference_id] = {
            "aadhaar": aadhaar,
            "status": "OTP_SENT",
            "attempts_left": scenarios.AADHAAR_OTP_ATTEMPTS,
        }
        masked = scenarios.mask_aadhaar(aadhaar)
        return {"reference_id": reference_id, "masked_aadhaar": masked, "status": "OTP_SENT"}

    @app.post("/digitap/aadhaar/otp/submit")
    async def aadhaar_otp_submit(request: Request) -> dict:
        """OTP 123456 verifies (and re-submitting it returns the same e-KYC); any other OTP is a mismatch,
        three of them before success lock the reference (ATTEMPTS_EXCEEDED). Unknown reference: 404."""
        body = await json_body(request)
        session = state["aadhaar"].get(str(body.get("reference_id", "")))
        if session is None:
            refuse(404, "REFERENCE_NOT_FOUND", "no OTP was sent under this reference")
        reference_id = str(body["reference_id"])
        if session["status"] == "ATTEMPTS_EXCEEDED":
            return {"reference_id": reference_id, "status": "ATTEMPTS_EXCEEDED", "attempts_left": 0}
        if str(body.get("otp", "")) != scenarios.AADHAAR_OTP:
            if session["status"] == "OTP_SENT":
                session["attempts_left"] -= 1
                if session["attempts_left"] <= 0:
                    session["status"] = "ATTEMPTS_EXCEEDED"
                    return {"reference_id": reference_id, "status": "ATTEMPTS_EXCEEDED", "attempts_left": 0}
            return {"reference_id": reference_id, "status": "OTP_MISMATCH", "attempts_left": session["attempts_left"]}
        session["status"] = "VERIFIED"
        return {
            "reference_id": reference_id,
            "status": "VERIFIED",
            "attempts_left": session["attempts_left"],
            "aadhaar": scenarios.aadhaar_person(session["aadhaar"]),
        }

    @app.post("/digitap/mobile/pan")
    async def mobile_to_pan(request: Request) -> dict:
        body = await json_body(request)
        found = scenarios.mobile_pan(str(body.get("mobile", "")))
        if found is None:
            return {"result_code": 102, "message": "No PAN found for this mobile number"}
        return {"result_code": 101, "result": found}

    @app.post("/digitap/mobile/address")
    async def mobile_to_address(request: Request) -> dict:
        body = await json_body(request)
        found = scenarios.mobile_address(str(body.get("mobile", "")))
        if found is None:
            return {"result_code": 102, "message": "No address found for this mobile number"}
        return {"result_code": 101, "result": {"address": found}}

    @app.post("/digitap/ckyc/search")
    async def ckyc_search(request: Request) -> dict:
        body = await json_body(request)
        pan = str(body.get("pan", "")).upper()
        record = scenarios.ckyc_record(pan)
        if record is None:
            return {"found": False, "message": "No CKYC record for this PAN"}
        state["ckyc"][record["ckyc_number"]] = pan
        return {
            "found": True,
            "ckyc_number": record["ckyc_number"],
            "name": record["name"],
            "kyc_date": record["kyc_date"],
        }

    @app.post("/digitap/ckyc/download")
    async def ckyc_download(request: Request) -> dict:
        """The record of a CKYC number found by search; the DOB must match (422 CKYC_AUTH_MISMATCH)."""
        body = await json_body(request)
        pan = state["ckyc"].get(str(body.get("ckyc_number", "")))
        record = scenarios.ckyc_record(pan) if pan else None
        if record is None:
            refuse(404, "CKYC_NOT_FOUND", "unknown CKYC number")
        if str(body.get("dob", "")) != record["dob"]:
            refuse(422, "CKYC_AUTH_MISMATCH", "the date of birth does not match the record")
        return {"record": record}

    # --- EPFO via Digitap -----------------------------------------------------------------------
    @app.post("/digitap/epfo/mobile-to-uan")
    async def mobile_to_uan(request: Request) -> Any:
        body = await json_body(request)
        phone = str(body.get("mobile", ""))
        if fault := scenarios.epfo_fault(phone):
            return await misbehave(request, fault)
        uans = scenarios.phone_uans(phone)
        if not uans:
            return {"result_code": 102, "message": "No UAN linked to this mobile number"}
        return {"result_code": 101, "result": {"uan": uans, "name": scenarios.uan_name(uans[-1])}}

    @app.post("/digitap/epfo/uan-employment")
    async def uan_employment(request: Request) -> Any:
        body = await json_body(request)
        uan = str(body.get("uan", ""))
        if not (uan.isdigit() and len(uan) == 12):
            refuse(422, "UAN_INVALID", "a UAN is 12 digits")
        if fault := scenarios.epfo_fault(uan):
            return await misbehave(request, fault)
        history = scenarios.employment_history(uan, today())
        if history is None:
            return {"result_code": 102, "message": "UAN not found in EPFO records"}
        return {
            "result_code": 101,
            "result": {
                **history,
                "employment_history": [
                    {**e, "last_wage": e["last_wage"] // 100} for e in history["employment_history"]
                ],
            },
        }

    # --- Credit bureaus -----------------------------------------------------------------------------
    @app.post("/cibil/report")
    async def cibil_report(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """CIBIL consumer report (amounts in whole rupees). Same Idempotency-Key → the same report."""
        body = await json_body(request)
        pan = str(body.get("pan", "")).upper()
        if fault := scenarios.bureau_fault(pan, "cibil"):
            return await misbehave(request, fault)
        if (done := idempotent(idempotency_key, "cibil")) is not None:
            return done
        profile = scenarios.bureau_profile(pan, today())
        accounts = [
            {
                "type": a["type"],
                "member": a["lender"],
                "account_number": a["account_number"],
                "status": a["status"],
                "sanctioned_amount": a["sanctioned_amount"] // 100,
                "current_balance": a["current_balance"] // 100,
                "overdue_amount": a["overdue_amount"] // 100,
                "opened_on": a["opened_on"],
                "dpd_history": a["dpd_history"],
                "dpd_max_12m": max(a["dpd_history"]),
            }
            for a in profile["accounts"]
        ]
        report = {
            "report_id": new_id("cir"),
            "pan": pan,
            "score": profile["score"],
            "accounts": accounts,
            "active_loans": profile["active_loans"],
            "enquiries_30d": profile["enquiries_30d"],
            "generated_at": datetime.now(UTC).isoformat(),
        }
        return remember(idempotency_key, "cibil", report)

    @app.post("/equifax/v2/credit-report")
    async def equifax_report(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """Equifax CCR (strings, rupees, "MM-YY"-keyed payment history). Same Idempotency-Key → same report."""
        body = await json_body(request)
        pan = str((body.get("RequestBody") or {}).get("PANId", "")).upper()
        if len(pan) != 10:
            refuse(400, "INVALID_PAN", "RequestBody.PANId must be a 10-character PAN")
        if fault := scenarios.bureau_fault(pan, "equifax"):
            return await misbehave(request, fault)
        if (done := idempotent(idempotency_key, "equifax")) is not None:
            return done
        now = today()
        profile = scenarios.bureau_profile(pan, now)
        names = {"PERSONAL_LOAN": "Personal Loan", "CREDIT_CARD": "Credit Card", "CONSUMER_LOAN": "Consumer Loan"}
        months = [scenarios._months_back(now, n + 1).strftime("%m-%y") for n in range(12)]
        report = {
            "InquiryResponseHeader": {"ReportOrderNO": new_id("eqx"), "Date": now.isoformat(), "ProductCode": ["PCS"]},
            "CCRResponse": {
                "Status": "1",
                "CIRReportDataLst": [
                    {
                        "CIRReportData": {
                            "IDAndContactInfo": {"IdentityInfo": {"PANId": [{"IdNumber": pan}]}},
                            "ScoreDetails": [{"Type": "ERS", "Version": "4.0", "Value": str(profile["score"])}],
                            "RetailAccountDetails": [
                                {
                                    "AccountNumber": a["account_number"],
                                    "Institution": a["lender"],
                                    "AccountType": names.get(a["type"], a["type"].title()),
                                    "Open": "Yes" if a["status"] == "ACTIVE" else "No",
                                    "SanctionAmount": str(a["sanctioned_amount"] // 100),
                                    "Balance": str(a["current_balance"] // 100),
                                    "AmountPastDue": str(a["overdue_amount"] // 100),
                                    "DateOpened": a["opened_on"],
                                    "History48Months": [
                                        {"key": key, "PaymentStatus": f"{dpd:03d}"}
                                        for key, dpd in zip(months, a["dpd_history"], strict=True)
                                    ],
                                }
                                for a in profile["accounts"]
                            ],
                            "RetailAccountsSummary": {
                                "NoOfAccounts": str(len(profile["accounts"])),
                                "NoOfActiveAccounts": str(sum(a["status"] == "ACTIVE" for a in profile["accounts"])),
                                "NoOfActiveLoans": str(profile["active_loans"]),
                            },
                            "EnquirySummary": {"Past30Days": str(profile["enquiries_30d"])},
                        }
                    }
                ],
            },
        }
        return remember(idempotency_key, "equifax", report)

    # --- Signzy eSign ---------------------------------------------------------------------------
    @app.post("/signzy/dockets")
    async def create_docket(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        if (done := idempotent(idempotency_key, "docket")) is not None:
            return done
        body = await request.json()
        for field in ("reference_id", "document_base64", "callback_url"):
            if not body.get(field):
                raise HTTPException(400, f"{field} is required")
        docket_id = new_id("dkt")
        state["dockets"][docket_id] = {
            "docket_id": docket_id,
            "reference_id": body["reference_id"],
            "callback_url": body["callback_url"],
            "status": "PENDING",
            "signer": body.get("signer", {}),
            "pdf_bytes": len(body["document_base64"]),
        }
        return remember(
            idempotency_key,
            "docket",
            {"docket_id": docket_id, "signing_url": f"{base(request)}/signzy/sign/{docket_id}"},
        )

    @app.get("/signzy/sign/{docket_id}", response_class=HTMLResponse)
    def signing_page(docket_id: str) -> str:
        docket = state["dockets"].get(docket_id) or _missing("docket")
        return (
            f"<html><body><h1>Sign your loan agreement</h1><p>Docket {docket_id}: {docket['status']}</p>"
            f"<form method='post'><button type='submit'>Sign with Aadhaar OTP</button></form></body></html>"
        )

    @app.post("/signzy/sign/{docket_id}")
    async def sign_docket(docket_id: str, outcome: str = "SIGNED") -> dict:
        """The signer completes (or declines with ?outcome=DECLINED); the webhook follows after the delay."""
        docket = state["dockets"].get(docket_id) or _missing("docket")
        if docket["status"] != "PENDING":
            return {"docket_id": docket_id, "status": docket["status"]}
        docket["status"] = outcome
        send_later(
            "signzy",
            docket["callback_url"],
            {
                "event_id": new_id("evt"),
                "docket_id": docket_id,
                "reference_id": docket["reference_id"],
                "status": outcome,
                "signed_at": datetime.now(UTC).isoformat(),
            },
        )
        return {"docket_id": docket_id, "status": outcome}

    # --- IDFC bank transfers --------------------------------------------------------------------
    @app.post("/idfc/transfers")
    async def transfer(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        if not idempotency_key:
            raise HTTPException(400, "Idempotency-Key header is required")
        if (done := idempotent(idempotency_key, "transfer")) is not None:
            return done
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise HTTPException(400, "amount must be a positive integer (paise)")
        transfer_id = new_id("trf")
        utr = f"IDFC{secrets.randbelow(10**12):012d}"
        state["transfers"][transfer_id] = {
            "transfer_id": transfer_id,
            "amount": amount,
            "utr": utr,
            "reference_id": body.get("reference_id"),
        }
        send_later(
            "idfc",
            body["callback_url"],
            {
                "event_id": new_id("evt"),
                "transfer_id": transfer_id,
                "reference_id": body.get("reference_id"),
                "status": "SUCCESS",
                "utr": utr,
                "amount": amount,
            },
        )
        return remember(idempotency_key, "transfer", {"transfer_id": transfer_id, "status": "PENDING"})

    # --- Razorpay payment links -----------------------------------------------------------------
    @app.post("/razorpay/payment_links")
    async def create_link(request: Request) -> dict:
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise HTTPException(400, "amount must be a positive integer (paise)")
        for existing in state["links"].values():  # reference ids are unique, as at Razorpay
            if body.get("reference_id") and existing.get("reference_id") == body["reference_id"]:
                return {
                    "id": existing["id"],
                    "short_url": f"{base(request)}/razorpay/pay/{existing['id']}",
                    "status": existing["status"],
                }
        link_id = new_id("plink")
        state["links"][link_id] = {
            "reference_id": body.get("reference_id"),
            "id": link_id,
            "amount": amount,
            "notes": body.get("notes", {}),
            "callback_url": body["callback_url"],
            "status": "created",
            "payments": [],
        }
        return {"id": link_id, "short_url": f"{base(request)}/razorpay/pay/{link_id}", "status": "created"}

    @app.post("/razorpay/payment_links/{link_id}/cancel")
    async def cancel_link(link_id: str) -> dict:
        link = state["links"].get(link_id) or _missing("payment link")
        if link["status"] == "paid":
            raise HTTPException(400, "a paid link cannot be cancelled")
        link["status"] = "cancelled"
        return {"id": link_id, "status": "cancelled"}

    @app.get("/razorpay/pay/{link_id}", response_class=HTMLResponse)
    def pay_page(link_id: str) -> str:
        link = state["links"].get(link_id) or _missing("payment link")
        return (
            f"<html><body><h1>Pay ₹{link['amount'] / 100:.2f}</h1>"
            f"<form method='post'><button type='submit'>Pay with UPI</button></form></body></html>"
        )

    @app.post("/razorpay/pay/{link_id}")
    async def pay(link_id: str, amount: int | None = None) -> dict:
        """Capture a payment on the link (the full amount unless ``amount`` paise is given)."""
        link = state["links"].get(link_id) or _missing("payment link")
        if link["status"] == "cancelled":
            raise HTTPException(400, "this payment link was cancelled")
        paid = amount or link["amount"]
        payment_id = new_id("pay")
        link["payments"].append(payment_id)
        link["status"] = "paid"
        send_later(
            "razorpay",
            link["callback_url"],
            {
                "id": new_id("evt"),
                "entity": "event",
                "event": "payment.captured",
                "payload": {
                    "payment": {
                        "entity": {
                            "id": payment_id,
                            "amount": paid,
                            "currency": "INR",
                            "status": "captured",
                            "payment_link_id": link_id,
                            "notes": link["notes"],
                        }
                    }
                },
                "created_at": int(datetime.now(UTC).timestamp()),
            },
            after=min(delay, 0.2),
        )
        return {"payment_id": payment_id, "amount": paid, "status": "captured"}

    # --- Gupshup SMS ----------------------------------------------------------------------------
    @app.post("/gupshup/sms")
    async def sms(request: Request) -> dict:
        body = await request.json()
        if not body.get("to") or not body.get("text"):
            raise HTTPException(400, "to and text are required")
        message = {
            "message_id": new_id("msg"),
            "to": body["to"],
            "text": body["text"],
            "template": body.get("template"),
            "sent_at": datetime.now(UTC).isoformat(),
        }
        state["sms"].append(message)
        return message

    @app.get("/gupshup/messages")
    def messages(to: str | None = None) -> list[dict]:
        """Every SMS sent, newest last (tests and `los demo` read OTPs and links here)."""
        return [m for m in state["sms"] if to is None or m["to"] == to]

    # --- Bank statement analysis: CART, Finbox, ScoreMe -----------------------------------------
    def upload_statement(vendor: str, pdf: bytes, password: str | None, reference_id: str, key: str | None) -> dict:
        """Store an uploaded statement and its analysis (refusals raised here, at upload, as vendors do).
        Same Idempotency-Key → the same statement."""
        scope = f"{vendor}-statement"
        if (done := idempotent(key, scope)) is not None:
            return state["statements"][done]
        analysis = scenarios.statement_analysis(pdf, password, today())
        statement_id = new_id({"cart": "cst", "finbox": "fbx", "scoreme": "SM"}[vendor])
        state["statements"][statement_id] = {
            "id": statement_id,
            "vendor": vendor,
            "reference_id": reference_id,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "pending_polls": scenarios.statement_pending_polls(pdf),
            "analysis": analysis,
        }
        remember(key, scope, statement_id)
        return state["statements"][statement_id]

    def poll_statement(vendor: str, statement_id: str) -> tuple[dict, bool]:
        record = state["statements"].get(statement_id)
        if record is None or record["vendor"] != vendor:
            refuse(404, "STATEMENT_NOT_FOUND", "unknown statement")
        if record["pending_polls"] > 0:
            record["pending_polls"] -= 1
            return record, False
        return record, True

    def decode_file(data: Any) -> bytes:
        try:
            return base64.b64decode(str(data or ""), validate=True)
        except (binascii.Error, ValueError):
            return refuse(400, "INVALID_FILE", "file must be base64")

    @app.post("/cart/v1/statements")
    async def cart_upload(
        request: Request,
        file: UploadFile = File(...),
        reference_id: str = Form(...),
        password: str | None = Form(None),
        idempotency_key: str | None = Header(None),
    ) -> Any:
        pdf = await file.read()
        if fault := scenarios.statement_fault(pdf, "cart"):
            return await misbehave(request, fault)
        record = upload_statement("cart", pdf, password, reference_id, idempotency_key)
        return {"statementId": record["id"], "status": "PROCESSING"}

    @app.get("/cart/v1/statements/{statement_id}/analysis")
    def cart_analysis(statement_id: str) -> dict:
        record, ready = poll_statement("cart", statement_id)
        if not ready:
            return {"statementId": statement_id, "status": "PROCESSING"}
        return {"statementId": statement_id, "status": "COMPLETED", "analysis": _cart_format(record["analysis"])}

    @app.post("/finbox/bankconnect/v1/statement/upload")
    async def finbox_upload(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        body = await json_body(request)
        pdf = decode_file(body.get("file"))
        if fault := scenarios.statement_fault(pdf, "finbox"):
            return await misbehave(request, fault)
        record = upload_statement(
            "finbox", pdf, body.get("pdf_password"), str(body.get("link_id", "")), idempotency_key
        )
        return {"entity_id": record["id"], "statement_id": f"st_{record['id']}", "status": "in_progress"}

    @app.get("/finbox/bankconnect/v1/entity/{entity_id}/insights")
    def finbox_insights(entity_id: str) -> dict:
        record, ready = poll_statement("finbox", entity_id)
        if not ready:
            return {"entity_id": entity_id, "progress": "processing"}
        return {"entity_id": entity_id, "progress": "completed", **_finbox_format(record["analysis"])}

    @app.post("/scoreme/bsa/v1/upload")
    async def scoreme_upload(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        body = await json_body(request)
        pdf = decode_file(body.get("fileData"))
        if fault := scenarios.statement_fault(pdf, "scoreme"):
            return await misbehave(request, fault)
        record = upload_statement(
            "scoreme", pdf, body.get("filePassword"), str(body.get("referenceId", "")), idempotency_key
        )
        return {"responseCode": "SRC001", "responseMessage": "File uploaded", "data": {"referenceId": record["id"]}}

    @app.get("/scoreme/bsa/v1/report/{reference_id}")
    def scoreme_report(reference_id: str) -> dict:
        record, ready = poll_statement("scoreme", reference_id)
        if not ready:
            return {"responseCode": "SRC002", "responseMessage": "Analysis in progress"}
        return {"responseCode": "SRC001", "responseMessage": "Success", "data": _scoreme_format(record["analysis"])}

    # --- Account Aggregator: FINDUIT and CART -------------------------------------------------------
    def create_consent(vendor: str, phone: str, reference_id: str, callback_url: str, key: str | None) -> dict:
        if not phone or not callback_url:
            refuse(400, "INVALID_REQUEST", "mobile and callback URL are required")
        scope = f"{vendor}-consent"
        if (done := idempotent(key, scope)) is not None:
            return state["consents"][done]
        handle = new_id({"finduit": "fdc", "cart": "cac"}[vendor])
        state["consents"][handle] = {
            "vendor": vendor,
            "handle": handle,
            "phone": phone,
            "reference_id": reference_id,
            "callback_url": callback_url,
            "status": "PENDING",
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "session_id": None,
        }
        remember(key, scope, handle)
        return state["consents"][handle]

    def consent_of(vendor: str, handle: str) -> dict:
        consent = state["consents"].get(handle)
        if consent is None or consent["vendor"] != vendor:
            refuse(404, "CONSENT_NOT_FOUND", "unknown consent handle")
        return consent

    def aa_event(consent: dict) -> dict:
        now = datetime.now(UTC).isoformat()
        if consent["vendor"] == "finduit":
            return {
                "event_id": new_id("evt"),
                "type": "CONSENT_STATUS_UPDATE",
                "consent_handle": consent["handle"],
                "consent_status": consent["status"],
                "reference_id": consent["reference_id"],
                "timestamp": now,
            }
        return {
            "eventId": new_id("evt"),
            "eventType": "CONSENT_STATUS",
            "consentHandle": consent["handle"],
            "consentStatus": CART_STATUS[consent["status"]],
            "clientRefId": consent["reference_id"],
            "timestamp": now,
        }

    def set_consent_status(consent: dict, status: str, after: float | None = None) -> None:
        consent["status"] = status
        send_later(consent["vendor"], consent["callback_url"], aa_event(consent), after)

    async def revoke_later(consent: dict) -> None:
        await asyncio.sleep(delay * 2 + 0.1)
        if consent["status"] == "APPROVED":
            set_consent_status(consent, "REVOKED", after=0)

    def decide(vendor: str, handle: str, outcome: str | None) -> dict:
        """The customer acts on the consent page: ``outcome`` APPROVED/REJECTED, or (none given) what
        ``scenarios.aa_decision`` says for their phone. Acting twice changes nothing."""
        consent = consent_of(vendor, handle)
        if consent["status"] != "PENDING":
            return consent
        if outcome is not None and outcome.upper() not in {"APPROVED", "REJECTED"}:
            raise HTTPException(400, "outcome must be APPROVED or REJECTED")
        plan = [outcome.upper()] if outcome else scenarios.aa_decision(consent["phone"])
        set_consent_status(consent, plan[0])
        if plan[1:] == ["REVOKED"]:
            task = asyncio.get_running_loop().create_task(revoke_later(consent))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return consent

    def revoke(vendor: str, handle: str) -> dict:
        consent = consent_of(vendor, handle)
        if consent["status"] != "APPROVED":
            refuse(409, "CONSENT_NOT_ACTIVE", f"consent is {consent['status']}")
        set_consent_status(consent, "REVOKED")
        return consent

    def consent_data(vendor: str, handle: str) -> tuple[str, dict]:
        consent = consent_of(vendor, handle)
        if consent["status"] != "APPROVED":
            refuse(409, "CONSENT_NOT_ACTIVE", f"consent is {consent['status']}, data can be fetched only when approved")
        if consent["session_id"] is None:
            consent["session_id"] = new_id("ses")
            consent["analysis"] = scenarios.aa_analysis(consent["phone"], today())
        return consent["session_id"], consent["analysis"]

    def consent_page(vendor: str, handle: str) -> str:
        consent = consent_of(vendor, handle)
        return (
            f"<html><body><h1>Share your bank statements</h1><p>{vendor.upper()} consent {handle}: "
            f"{consent['status']}</p><form method='post' action='?outcome=APPROVED'><button>Approve</button></form>"
            f"<form method='post' action='?outcome=REJECTED'><button>Reject</button></form></body></html>"
        )

    @app.post("/finduit/v1/consents")
    async def finduit_consent(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        body = await json_body(request)
        consent = create_consent(
            "finduit",
            str((body.get("customer") or {}).get("mobile", "")),
            str(body.get("reference_id", "")),
            str(body.get("callback_url", "")),
            idempotency_key,
        )
        return {
            "consent_handle": consent["handle"],
            "consent_url": f"{base(request)}/finduit/consent/{consent['handle']}",
            "status": consent["status"],
            "expires_at": consent["expires_at"],
        }

    @app.get("/finduit/v1/consents/{handle}")
    def finduit_consent_status(handle: str) -> dict:
        consent = consent_of("finduit", handle)
        return {"consent_handle": handle, "status": consent["status"]}

    @app.get("/finduit/consent/{handle}", response_class=HTMLResponse)
    def finduit_consent_page(handle: str) -> str:
        return consent_page("finduit", handle)

    @app.post("/finduit/consent/{handle}")
    async def finduit_decide(handle: str, outcome: str | None = None) -> dict:
        consent = decide("finduit", handle, outcome)
        return {"consent_handle": handle, "status": consent["status"]}

    @app.post("/finduit/v1/consents/{handle}/revoke")
    async def finduit_revoke(handle: str) -> dict:
        return {"consent_handle": handle, "status": revoke("finduit", handle)["status"]}

    @app.post("/finduit/v1/consents/{handle}/fetch")
    async def finduit_fetch(handle: str) -> dict:
        session_id, analysis = consent_data("finduit", handle)
        return {
            "consent_handle": handle,
            "session_id": session_id,
            "status": "READY",
            "analysis": _finduit_format(analysis),
        }

    @app.post("/cart/aa/consent-requests")
    async def cart_consent(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        body = await json_body(request)
        consent = create_consent(
            "cart",
            str(body.get("mobileNumber", "")),
            str(body.get("clientRefId", "")),
            str(body.get("webhookUrl", "")),
            idempotency_key,
        )
        return {
            "consentHandle": consent["handle"],
            "redirectUrl": f"{base(request)}/cart/aa/consent/{consent['handle']}",
            "consentStatus": CART_STATUS[consent["status"]],
            "consentExpiry": consent["expires_at"],
        }

    @app.get("/cart/aa/consent-requests/{handle}")
    def cart_consent_status(handle: str) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[consent_of("cart", handle)["status"]]}

    @app.get("/cart/aa/consent/{handle}", response_class=HTMLResponse)
    def cart_consent_page(handle: str) -> str:
        return consent_page("cart", handle)

    @app.post("/cart/aa/consent/{handle}")
    async def cart_decide(handle: str, outcome: str | None = None) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[decide("cart", handle, outcome)["status"]]}

    @app.post("/cart/aa/consent-requests/{handle}/revoke")
    async def cart_revoke(handle: str) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[revoke("cart", handle)["status"]]}

    @app.post("/cart/aa/consent-requests/{handle}/data")
    async def cart_fetch(handle: str) -> dict:
        session_id, analysis = consent_data("cart", handle)
        return {"consentHandle": handle, "dataSessionId": session_id, "analysis": _cart_format(analysis)}

    # --- Penny drop: Razorpay fund account validation, Cashfree bank validation ---------------------
    @app.post("/razorpay/fund_accounts/validations")
    async def razorpay_validation(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """₹1 to the account; the registered name back. Same Idempotency-Key → the same validation."""
        body = await json_body(request)
        bank = ((body.get("fund_account") or {}).get("bank_account")) or {}
        account, ifsc = str(bank.get("account_number", "")), str(bank.get("ifsc", "")).upper()
        if fault := scenarios.penny_drop_fault(account, "razorpay"):
            return await misbehave(request, fault)
        if (done := idempotent(idempotency_key, "razorpay-fav")) is not None:
            return state["validations"][done]
        answer = scenarios.penny_drop(account, ifsc, bank.get("name") or None)
        fav_id = new_id("fav")
        state["validations"][fav_id] = {
            "id": fav_id,
            "entity": "fund_account.validation",
            "status": "completed",
            "amount": 100,
            "currency": "INR",
            "utr": f"RZPX{int(hashlib.sha256(fav_id.encode()).hexdigest()[:10], 16) % 10**12:012d}"
            if answer["exists"]
            else None,
            "results": {
                "account_status": "active" if answer["exists"] else "invalid",
                "registered_name": answer["registered_name"],
                "bank_name": scenarios.bank_name(ifsc),
                **({"reason": answer["reason"]} if answer["reason"] else {}),
            },
            "notes": body.get("notes") or {},
            "created_at": int(datetime.now(UTC).timestamp()),
        }
        remember(idempotency_key, "razorpay-fav", fav_id)
        return state["validations"][fav_id]

    @app.get("/razorpay/fund_accounts/validations/{fav_id}")
    def razorpay_validation_get(fav_id: str) -> dict:
        return state["validations"].get(fav_id) or _missing("validation")

    @app.get("/cashfree/payout/v1.2/validation/bankDetails")
    async def cashfree_validation(
        request: Request,
        bankAccount: str = "",
        ifsc: str = "",
        name: str = "",  # noqa: N803 - Cashfree's names
    ) -> Any:
        """₹1 to the account; the name at the bank. Same account and IFSC → the same answer."""
        if fault := scenarios.penny_drop_fault(bankAccount, "cashfree"):
            return await misbehave(request, fault)
        answer = scenarios.penny_drop(bankAccount, ifsc.upper(), name or None)
        ref = int(hashlib.sha256(f"{bankAccount}:{ifsc.upper()}".encode()).hexdigest()[:12], 16)
        return {
            "status": "SUCCESS",
            "subCode": "200",
            "message": "Bank Account details verified successfully" if answer["exists"] else answer["reason"],
            "data": {
                "nameAtBank": answer["registered_name"] or "",
                "accountExists": "YES" if answer["exists"] else "NO",
                "amountDeposited": "1" if answer["exists"] else "0",
                "refId": str(ref % 10**9),
                "bankName": scenarios.bank_name(ifsc.upper()),
                "utr": f"CF{ref % 10**12:012d}" if answer["exists"] else None,
            },
        }

    # --- DigiLocker -----------------------------------------------------------------------------
    @app.post("/digilocker/v2/sessions")
    async def digilocker_session(request: Request) -> dict:
        body = await json_body(request)
        if not body.get("redirect_url"):
            refuse(400, "INVALID_REQUEST", "redirect_url is required")
        request_id = new_id("dlr")
        state["digilocker"][request_id] = {
            "redirect_url": body["redirect_url"],
            "state": body.get("state", ""),
            "code": None,
            "aadhaar": None,
        }
        return {"request_id": request_id, "authorization_url": f"{base(request)}/digilocker/authorize/{request_id}"}

    @app.get("/digilocker/authorize/{request_id}", response_class=HTMLResponse)
    def digilocker_page(request_id: str) -> str:
        state["digilocker"].get(request_id) or _missing("DigiLocker request")
        return (
            "<html><body><h1>DigiLocker</h1><form method='post'>Aadhaar <input name='aadhaar'>"
            "<button name='outcome' value='ALLOW'>Allow</button><button name='outcome' value='DENY'>Deny</button>"
            "</form></body></html>"
        )

    @app.post("/digilocker/authorize/{request_id}")
    async def digilocker_authorize(request: Request, request_id: str) -> dict:
        """The customer signs in (``aadhaar``, default ``DIGILOCKER_DEFAULT_AADHAAR``) and allows or denies
        (``outcome``, query or form). Answers where DigiLocker would redirect the browser."""
        session = state["digilocker"].get(request_id) or _missing("DigiLocker request")
        params = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update({k: str(v) for k, v in (await request.form()).items()})
        aadhaar = params.get("aadhaar") or scenarios.make_aadhaar(DIGILOCKER_DEFAULT_AADHAAR11)
        if not scenarios.aadhaar_valid(aadhaar):
            refuse(422, "AADHAAR_INVALID", "not a valid Aadhaar number")
        separator = "&" if "?" in session["redirect_url"] else "?"
        if params.get("outcome", "ALLOW").upper() == "DENY":
            query = urlencode({"error": "access_denied", "state": session["state"]})
            return {"redirect_url": f"{session['redirect_url']}{separator}{query}", "code": None}
        if session["code"] is None:
            session["code"] = secrets.token_hex(12)
            session["aadhaar"] = aadhaar
            session["pan"] = (params.get("pan") or "").upper() or None  # the holder's PAN, when given
            state["digilocker"][f"code:{session['code']}"] = request_id
        query = urlencode({"code": session["code"], "state": session["state"]})
        return {"redirect_url": f"{session['redirect_url']}{separator}{query}", "code": session["code"]}

    @app.post("/digilocker/v2/documents")
    async def digilocker_documents(request: Request) -> dict:
        """The issued documents for a consent code (the same ones every time for that code)."""
        body = await json_body(request)
        request_id = state["digilocker"].get(f"code:{body.get('code', '')}")
        if request_id is None:
            refuse(400, "INVALID_CODE", "the code is unknown or expired")
        session = state["digilocker"][request_id]
        return {
            "request_id": request_id,
            "documents": scenarios.digilocker_documents(session["aadhaar"], session.get("pan")),
        }

    # --- failure drills -------------------------------------------------------------------------------
    @app.post("/_faults")
    async def add_fault(request: Request) -> dict:
        """Make ``vendor`` misbehave (``mode``: 503/500/502/429, timeout, malformed, non_json) for its next
        ``times`` calls (default 1; 0 = until DELETE /_faults), optionally only for requests carrying
        ``api_key`` as their bearer token and/or whose path starts with ``path``."""
        body = await json_body(request)
        vendor, mode = str(body.get("vendor", "")), str(body.get("mode", ""))
        if vendor not in VENDOR_PREFIXES:
            raise HTTPException(400, f"vendor must be one of {sorted(VENDOR_PREFIXES)}")
        if mode not in FAULT_MODES:
            raise HTTPException(400, f"mode must be one of {sorted(FAULT_MODES)}")
        times = body.get("times", 1)
        if not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        fault = {
            "id": new_id("flt"),
            "vendor": vendor,
            "mode": mode,
            "times": times,
            "hits": 0,
            "api_key": body.get("api_key"),
            "path": body.get("path"),
        }
        faults.append(fault)
        return fault

    @app.get("/_faults")
    def list_faults() -> list[dict]:
        return faults

    @app.delete("/_faults")
    def clear_faults(vendor: str | None = None) -> dict:
        before = len(faults)
        faults[:] = [f for f in faults if vendor is not None and f["vendor"] != vendor]
        return {"cleared": before - len(faults)}

    @app.get("/_webhooks")
    def webhooks() -> list[dict]:
        return state["webhooks"]

    return app


class _Asgi:
    """A pure ASGI middleware around ``handler(scope, receive, send, inner_app)`` for HTTP requests."""

    def __init__(self, app: ASGIApp, handler: Any):
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handler(scope, receive, send, self.app)


def _missing(what: str) -> Any:
    raise HTTPException(404, f"{what} not found")


DIGILOCKER_DEFAULT_AADHAAR11 = "52341234123"  # + Verhoeff digit: the DigiLocker user when none is given
CART_STATUS = {"PENDING": "PENDING", "APPROVED": "ACTIVE", "REJECTED": "REJECTED", "REVOKED": "REVOKED"}


def _rupees(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"


def _rupee_number(paise: int) -> float:
    """Finbox sends JSON numbers; 2-decimal values survive the float round trip through ``str``."""
    return float(Decimal(paise) / 100)


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d-%m-%Y")


def _cart_format(a: dict) -> dict:
    """A vendor-neutral analysis (``scenarios._analysis``) as CART writes it: rupee strings, camelCase."""
    return {
        "accountDetails": {"holderName": a["holder"], "bankName": a["bank"], "accountNumber": a["account_masked"]},
        "period": {"from": a["from"], "to": a["to"]},
        "salaryCredits": [
            {"date": c["date"], "amount": _rupees(c["amount"]), "narration": c["narration"]}
            for c in a["salary_credits"]
        ],
        "emiDebits": [
            {"date": d["date"], "amount": _rupees(d["amount"]), "lender": d["lender"]} for d in a["emi_debits"]
        ],
        "bounces": [{"date": b["date"], "amount": _rupees(b["amount"]), "reason": b["reason"]} for b in a["bounces"]],
        "averageBalance": _rupees(a["average_balance"]),
    }


def _finbox_format(a: dict) -> dict:
    """As Finbox writes it: snake_case, amounts as JSON numbers in rupees."""
    return {
        "account": {"account_holder": a["holder"], "bank": a["bank"], "account_number": a["account_masked"]},
        "period": {"start": a["from"], "end": a["to"]},
        "salary": {
            "transactions": [
                {"transaction_date": c["date"], "amount": _rupee_number(c["amount"]), "description": c["narration"]}
                for c in a["salary_credits"]
            ]
        },
        "recurring_debits": {
            "emi": [
                {"transaction_date": d["date"], "amount": _rupee_number(d["amount"]), "merchant": d["lender"]}
                for d in a["emi_debits"]
            ]
        },
        "bounces": [
            {"transaction_date": b["date"], "amount": _rupee_number(b["amount"]), "description": b["reason"]}
            for b in a["bounces"]
        ],
        "average_balance": _rupee_number(a["average_balance"]),
    }


def _scoreme_format(a: dict) -> dict:
    """As ScoreMe writes it: DD-MM-YYYY dates, rupee strings."""
    return {
        "accountHolderName": a["holder"],
        "bankName": a["bank"],
        "accountNumber": a["account_masked"],
        "statementPeriod": {"fromDate": _dmy(a["from"]), "toDate": _dmy(a["to"])},
        "salaryDetails": [
            {"creditDate": _dmy(c["date"]), "amount": _rupees(c["amount"]), "narration": c["narration"]}
            for c in a["salary_credits"]
        ],
        "emiDetails": [
            {"debitDate": _dmy(d["date"]), "amount": _rupees(d["amount"]), "lenderName": d["lender"]}
            for d in a["emi_debits"]
        ],
        "bounceDetails": [
            {"date": _dmy(b["date"]), "amount": _rupees(b["amount"]), "reason": b["reason"]} for b in a["bounces"]
        ],
        "averageMonthlyBalance": _rupees(a["average_balance"]),
    }


def _finduit_format(a: dict) -> dict:
    """As FINDUIT writes it: integer paise."""
    return {
        "holder": a["holder"],
        "fip_name": a["bank"],
        "masked_account": a["account_masked"],
        "from": a["from"],
        "to": a["to"],
        "salary_credits": [
            {"date": c["date"], "amount_paise": c["amount"], "narration": c["narration"]} for c in a["salary_credits"]
        ],
        "emi_debits": [
            {"date": d["date"], "amount_paise": d["amount"], "lender": d["lender"]} for d in a["emi_debits"]
        ],
        "bounces": [{"date": b["date"], "amount_paise": b["amount"], "reason": b["reason"]} for b in a["bounces"]],
        "average_balance_paise": a["average_balance"],
    }
