"""Provider sandbox: imitates the vendors' HTTP APIs — Digitap (PAN, Aadhaar OTP, mobile look-ups, CKYC,
EPFO), DigiLocker, CIBIL, Equifax, CART (BSA and AA), Finbox, ScoreMe, FINDUIT (AA), Razorpay (payment
links and fund account validation), Cashfree (bank validation), Signzy, IDFC, Gupshup — and sends their
signed webhooks back, in each vendor's documented shape, after a short configurable delay, to the
callback URL given (``sandbox/webhooks.py``: bodies, headers, delivery and retry).

One module per vendor family: ``identity`` (Digitap, DigiLocker), ``bureaus`` (CIBIL, Equifax), ``money``
(Signzy, IDFC, Razorpay, Cashfree, Gupshup), ``statements`` (CART, Finbox, ScoreMe, FINDUIT and CART AA);
``context`` holds what they share. Which input takes which branch is in ``sandbox/scenarios.py`` (and
docs/sandbox.md). Besides those, ``POST /_faults`` makes any vendor misbehave on demand (503/500/429,
time-out, malformed or non-JSON answers) for the next N calls, optionally only for one API key — failover
drills for every kind.

State is in memory: the sandbox is a development and test fixture, never run in production.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import autopay, banks, bureaus, esign, gateways, identity, mail, messaging, money, scenarios, statements
from sandbox import partners as partner_lenders
from sandbox.context import Sandbox
from sandbox.dialer import register as register_dialers
from sandbox.webhooks import Outbox

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
        "paytring",
        "signzy",
        "signdesk",
        "idfc",
        "icici",
        "sendgrid",
        "gupshup",
        "msg91",
        "nimbusit",
        "brevo",
        "zepto",
        "aisensy",
        "crif",  # bureaus
        "karza",  # employment
        "perfios",  # bank statements
        "acefone",  # dialers
        "stringee",
        "lendbox",  # partner lenders
        "kavach",
        "navodaya",
    }
)  # every vendor the sandbox imitates (tests/unit/test_sandbox_index.py checks it against the routes)
FAULT_MODES = frozenset({"503", "500", "502", "429", "401", "403", "timeout", "answer_lost", "malformed", "non_json"})
ANSWER_LOST = "answer_lost"  # the vendor does the work, and its answer never reaches the caller (who times out)


def flush_wait(last_write_seconds: float) -> float:
    """Seconds to wait before writing the state file again: half a second, or 20 times the last write when that
    is longer (the write then takes at most ~5 % of the sandbox's time; what changed meanwhile is written next)."""
    return max(0.5, 20 * last_write_seconds)


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
    state: dict[str, Any] = {
        "sms": [],  # Gupshup's SMS (sandbox.messaging)
        "messages": {},  # the other messaging vendors' sent messages, by vendor
        "dlr_urls": {},  # where each messaging vendor sends delivery reports
        "dockets": {},
        "transfers": {},
        "links": {},
        "link_refs": {},  # a Razorpay link's reference_id → its id
        "webhooks": [],
        "idempotency": {},
        "aadhaar": {},  # reference id → OTP session
        "ckyc": {},  # CKYC number → PAN (searched)
        "statements": {},  # statement id → vendor, analysis, polls still "processing"
        "consents": {},  # AA consent handle → consent
        "validations": {},  # penny drop id → answer
        "digilocker": {},  # request id → session; "code:<code>" → request id
        # Razorpay recurring payments (sandbox/autopay.py): customers, orders, registration links, tokens, recurring
        # payments by id; failures queued by token id ("*": any)
        **{key: {} for key in autopay.STATE_KEYS},
        # Cashfree PG links and their orders, Paytring orders (sandbox/gateways.py), by id
        **{key: {} for key in gateways.STATE_KEYS},
    }
    faults: list[dict[str, Any]] = []  # not persisted: a drill lasts as long as the process
    app.state.sandbox = state
    app.state.faults = faults
    # With a state file (as under `los up`), dockets, links and messages survive a restart.
    if state_file is not None and state_file.exists():
        state.update(json.loads(state_file.read_text()))
        for link in state["links"].values():  # a state file written before the index kept it
            if link.get("reference_id"):
                state["link_refs"].setdefault(link["reference_id"], link["id"])
    sbx = Sandbox(state, Outbox(secret, delay, state["webhooks"]), hang_for)
    app.state.outbox = sbx.outbox

    # Pure ASGI middlewares (``@app.middleware("http")`` would hide a caller's disconnect from the
    # endpoints, and a "time-out" must stop when the caller gives up).
    flush_task: dict[str, asyncio.Task | None] = {"pending": None}
    took = {"seconds": 0.0}  # the last write's time

    def flush() -> None:
        if state_file is not None:
            began = time.perf_counter()
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(state_file)
            took["seconds"] = time.perf_counter() - began

    async def flush_soon() -> None:
        # Many calls in a burst are written once, and the whole state is written at most ~5 % of the time: the
        # write blocks every vendor's answers while it runs, and a big book's messages make it seconds long.
        await asyncio.sleep(flush_wait(took["seconds"]))
        flush_task["pending"] = None
        flush()

    async def persist(scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        await inner(scope, receive, send)
        if state_file is not None and scope["method"] == "POST" and flush_task["pending"] is None:
            flush_task["pending"] = asyncio.get_running_loop().create_task(flush_soon())

    app.router.on_shutdown.append(flush)
    app.router.on_shutdown.append(sbx.outbox.aclose)

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
                if fault.get("method") and scope["method"] != fault["method"]:
                    continue
                fault["hits"] += 1
                if fault["times"] and fault["hits"] >= fault["times"]:
                    faults.remove(fault)
                if fault["mode"] == ANSWER_LOST:  # the route runs (the vendor acts); what it answers is dropped

                    async def dropped(message: Any) -> None:
                        return None

                    await inner(scope, receive, dropped)
                    response = await sbx.misbehave(request, scenarios.TIMEOUT)
                else:
                    response = await sbx.misbehave(request, fault["mode"])
                await response(scope, receive, send)
                return
        await inner(scope, receive, send)

    app.add_middleware(_Asgi, handler=persist)
    app.add_middleware(_Asgi, handler=inject_faults)

    @app.exception_handler(scenarios.Refusal)
    async def refused(request: Request, exc: scenarios.Refusal) -> JSONResponse:
        return JSONResponse({"detail": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def index() -> dict:
        """Where to start: the vendors imitated (by the path prefix their routes sit under, with how many routes
        each has), the read-only pages a person or a test inspects (sent SMS, webhooks sent, transfers, faults…) and
        the API docs. Read from the app's own routes, so it lists what is there."""
        routes = [r for r in app.routes if isinstance(r, APIRoute)]
        vendors: dict[str, int] = {}
        for route in routes:
            head = route.path.strip("/").split("/")[0]
            if head and not head.startswith("_") and head != "health":
                vendors[f"/{head}"] = vendors.get(f"/{head}", 0) + 1
        inspect = sorted(
            r.path for r in routes if "GET" in r.methods and (r.path.startswith("/_") or r.path.endswith("/messages"))
        )
        return {
            "name": app.title,
            "about": app.description,
            "docs": "/docs",
            "openapi": "/openapi.json",
            "vendors": dict(sorted(vendors.items())),
            "inspect": inspect,
        }

    identity.register(app, sbx)
    bureaus.register(app, sbx)
    money.register(app, sbx)
    gateways.register(app, sbx)
    esign.register(app, sbx)
    banks.register(app, sbx)
    statements.register(app, sbx)
    mail.register(app, sbx)
    messaging.register(app, sbx)
    autopay.register(app, sbx)
    register_dialers(app, sbx)
    partner_lenders.register(app, sbx)
    __import__("sandbox.partners.lendbox_colending").partners.lendbox_colending.register(app, sbx)  # co-lending
    __import__("sandbox.sme").sme.register(app, sbx)  # SME business data vendors (sandbox/sme)
    __import__("sandbox.chaos").chaos.register(app, sbx, VENDOR_PREFIXES)  # slow vendors (docs/chaos.md)

    # --- failure drills -------------------------------------------------------------------------------
    @app.post("/_faults")
    async def add_fault(request: Request) -> dict:
        """Make ``vendor`` misbehave (``mode``: 503/500/502/429, 401/403 (its keys refused), timeout, answer_lost
        (it acts, then hangs as a time-out: the caller never hears), malformed, non_json) for its next ``times``
        calls (default 1; 0 = until DELETE /_faults), optionally only for requests carrying ``api_key`` as their
        bearer token, whose path starts with ``path`` and/or whose HTTP ``method`` (GET, POST…) it is."""
        body = await sbx.json_body(request)
        vendor, mode = str(body.get("vendor", "")), str(body.get("mode", ""))
        if vendor not in VENDOR_PREFIXES:
            raise HTTPException(400, f"vendor must be one of {sorted(VENDOR_PREFIXES)}")
        if mode not in FAULT_MODES:
            raise HTTPException(400, f"mode must be one of {sorted(FAULT_MODES)}")
        times = body.get("times", 1)
        if not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        fault = {
            "id": sbx.new_id("flt"),
            "vendor": vendor,
            "mode": mode,
            "times": times,
            "hits": 0,
            "api_key": body.get("api_key"),
            "path": body.get("path"),
            "method": str(body["method"]).upper() if body.get("method") else None,
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

    @app.get("/_transfers")
    def transfers(loan_id: str | None = None) -> list[dict]:
        """Every transfer the sandbox banks took (``loan_id``: one loan's), account numbers masked: how many
        times the money really left, whatever the lender's side recorded."""
        return [
            {**t, "account": "XXXX" + str(t.get("account", ""))[-4:]}
            for t in state["transfers"].values()
            if loan_id is None or t.get("loan_id") == loan_id
        ]

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
