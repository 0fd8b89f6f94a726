"""Provider sandbox: imitates the vendors' HTTP APIs (Digitap, CIBIL, Signzy, IDFC, Razorpay, Gupshup)
and sends their signed webhooks back, after a short configurable delay, to the callback URL given.

State is in memory: the sandbox is a development and test fixture, never run in production.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import HTMLResponse

from activities.providers import signing
from sandbox import scenarios

log = logging.getLogger("los.sandbox")
DEFAULT_SECRET = "sandbox-webhook-secret"  # noqa: S105 - the sandbox's published test secret


def create_app(
    webhook_secret: str | None = None, delay_seconds: float | None = None, state_file: Path | None = None
) -> FastAPI:
    app = FastAPI(
        title="LOS provider sandbox",
        version="0.1.0",
        description="Imitates KYC, bureau, eSign, bank and payment-gateway vendors. See docs/sandbox.md.",
    )
    secret = webhook_secret or os.environ.get("LOS_SANDBOX_WEBHOOK_SECRET", DEFAULT_SECRET)
    delay = float(delay_seconds if delay_seconds is not None else os.environ.get("LOS_SANDBOX_DELAY_SECONDS", "1.0"))
    counter = itertools.count(1)
    state: dict[str, Any] = {"sms": [], "dockets": {}, "transfers": {}, "links": {}, "webhooks": [], "idempotency": {}}
    tasks: set[asyncio.Task] = set()
    app.state.sandbox = state
    # With a state file (as under `los up`), dockets, links and messages survive a restart.
    if state_file is not None and state_file.exists():
        state.update(json.loads(state_file.read_text()))

    @app.middleware("http")
    async def persist(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        if state_file is not None and request.method == "POST":
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(state_file)
        return response

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

    # --- CIBIL bureau ---------------------------------------------------------------------------
    @app.post("/cibil/report")
    async def cibil_report(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        body = await request.json()
        pan = str(body.get("pan", "")).upper()
        score = scenarios.bureau_score(pan)
        return {
            "report_id": new_id("cir"),
            "pan": pan,
            "score": score,
            "accounts": [{"type": "CREDIT_CARD", "status": "ACTIVE", "dpd_max_12m": 0}],
            "enquiries_30d": 1,
            "generated_at": datetime.now(UTC).isoformat(),
        }

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

    @app.get("/_webhooks")
    def webhooks() -> list[dict]:
        return state["webhooks"]

    return app


def _missing(what: str) -> Any:
    raise HTTPException(404, f"{what} not found")
