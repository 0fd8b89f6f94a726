"""Sandbox twins of the partner lenders (``activities/providers/partners/``): Lendbox, Kavach Finvest and Navodaya
Credit, each taking its own payload and auth, applying its own credit policy after its own latency, and answering
in its own shape.

| partner | auth | latency | its policy (declines) |
|---|---|---|---|
| Lendbox | ``X-Api-Key`` + ``X-Partner-Id`` | 0.3 s | bureau score below 700, amount above ₹5,00,000 |
| Kavach | ``Authorization: Bearer`` | 0.1 s | PAN starting ``FAIL``, age below 23 |
| Navodaya | HMAC-SHA256 of ``timestamp.body`` (key ``X-Navodaya-Key``) | 0.6 s | tenure above 24 months |

Scenario switches (what a test or ``los demo`` sets; docs/partner-lenders.md):

- ``POST /_partners/behaviour`` ``{"partner", "mode", "times"?, "reference"?}``: the partner's next ``times``
  answers (default 1, 0 = until cleared), optionally only for loans whose reference contains ``reference`` (our
  loan id), are ``timeout`` (it keeps the caller waiting until it gives up), ``decline``, ``approve`` (whatever its
  policy says) or ``error`` (503). ``DELETE /_partners/behaviour`` clears them.
- ``GET /_partners/applications?partner=`` lists the requests each partner received (as sent), with its answer.

Each partner's disbursal of a loan it booked (``sandbox.partners.disbursals``): its status API answers PENDING for
:data:`~sandbox.partners.disbursals.DISBURSE_AFTER` seconds after the booking, then DISBURSED with a UTR, unless
``POST /_partners/disbursals`` ``{"partner", "reference", "status"}`` holds it at PENDING or FAILED (or DISBURSED
at once, or LOST: its status API answers 404), ``"afterResend": true`` holding only the disbursal a re-send started;
each partner's re-send call (Kavach ``.../disbursement/retry`` keyed by ``retryRef``, Navodaya ``.../redisburse``
keyed by ``redisbursal_id``) starts one new disbursal of a failed or lost booking, however often it is asked;
``POST /_partners/disbursal-callback`` ``{"partner", "reference", "url"}`` has the partner send its signed
disbursal callback to ``url`` (``/api/v1/webhooks/{brandId}/partner/{code}``).

Kavach Finvest and Navodaya Credit are fictional lenders and publish no documentation: their twins follow the
contracts written in their adapters' docstrings (``activities/providers/partners/kavach.py``, ``navodaya.py``).

Signature secrets: Navodaya's is ``sandbox-partner-secret`` unless ``LOS_SANDBOX_PARTNER_SECRET`` says otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from activities.providers.partners.navodaya import SIGNATURE_WINDOW_SECONDS, signature
from sandbox.context import Sandbox
from sandbox.partners import disbursals

PARTNERS = ("lendbox", "kavach", "navodaya")
MODES = frozenset({"timeout", "decline", "approve", "error"})
LATENCY = {"lendbox": 0.3, "kavach": 0.1, "navodaya": 0.6}
DEFAULT_SECRET = "sandbox-partner-secret"  # noqa: S105 - the sandbox's published test secret


def _num(reference: str, digits: int) -> str:
    """A stable number for a reference (the same loan gets the same partner id on a retry)."""
    return str(int(hashlib.sha256(reference.encode()).hexdigest(), 16) % 10**digits).zfill(digits)


def _age(dob: str | None) -> int | None:
    try:
        born = date.fromisoformat(str(dob))
    except ValueError:
        return None
    today = datetime.now(UTC).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def register(app: FastAPI, sbx: Sandbox) -> None:
    """The three partners' endpoints and the scenario switches on ``app``."""
    behaviours: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = sbx.state.setdefault("partner_applications", [])
    secret = os.environ.get("LOS_SANDBOX_PARTNER_SECRET", DEFAULT_SECRET)
    book = disbursals.register(app, sbx, secret)

    def forced(partner: str, reference: str) -> str | None:
        for b in behaviours:
            if b["partner"] != partner or (b.get("reference") and b["reference"] not in reference):
                continue
            b["hits"] += 1
            if b["times"] and b["hits"] >= b["times"]:
                behaviours.remove(b)
            return str(b["mode"])
        return None

    async def answer(
        request: Request,
        partner: str,
        reference: str,
        body: dict,
        policy_no: str | None,
        yes: dict,
        no: dict,
        status_no: int = 200,
        booking: tuple[str, int] | None = None,
    ) -> Response:
        mode = forced(partner, reference)
        if mode == "timeout":
            return await sbx.misbehave(request, "timeout")
        if mode == "error":
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        await asyncio.sleep(LATENCY[partner])
        declined = mode == "decline" or (mode != "approve" and policy_no is not None)
        if declined:
            no = {k: (v if v != "<reason>" else (policy_no or "declined on request")) for k, v in no.items()}
        out = no if declined else yes
        received.append({"partner": partner, "reference": reference, "request": body, "answer": out})
        if not declined and booking is not None:  # booked: its disbursal follows (sandbox.partners.disbursals)
            book.booked(partner, reference, *booking)
        return JSONResponse(out, status_code=status_no if declined else 200)

    @app.post("/lendbox/v1/partner/loans")
    async def lendbox_book(request: Request) -> Response:
        if not request.headers.get("x-api-key") or not request.headers.get("x-partner-id"):
            return JSONResponse({"status": "ERROR", "reason": "X-Api-Key and X-Partner-Id are required"}, 401)
        body = await sbx.json_body(request)
        borrower, loan = body.get("borrower"), body.get("loan")
        ref = body.get("partner_loan_id")
        if not isinstance(borrower, dict) or not isinstance(loan, dict) or not ref:
            raise HTTPException(400, "partner_loan_id, borrower and loan are required")
        score = borrower.get("bureau_score")
        no = None
        if not isinstance(score, int) or score < 700:
            no = f"bureau score {score} below Lendbox's 700"
        elif float(loan.get("amount", "0")) > 500000:
            no = "amount above Lendbox's ₹5,00,000 limit"
        yes = {"status": "APPROVED", "lendbox_loan_id": f"LBX{_num(str(ref), 10)}"}
        declined = {"status": "DECLINED", "reason_code": "POLICY", "reason": "<reason>"}
        net = disbursals.paise_of(loan.get("net_disbursal"))
        return await answer(request, "lendbox", str(ref), body, no, yes, declined,
                            booking=(yes["lendbox_loan_id"], net))  # fmt: skip

    @app.post("/kavach/api/v2/loan-applications")
    async def kavach_apply(request: Request) -> Response:
        token = request.headers.get("authorization", "")
        if not token.startswith("Bearer ") or len(token) <= len("Bearer "):
            return JSONResponse({"error": {"code": "UNAUTHORIZED", "message": "bearer token required"}}, 401)
        body = await sbx.json_body(request)
        applicant, ref = body.get("applicant"), body.get("externalRef")
        if not isinstance(applicant, dict) or not ref or not isinstance(body.get("loanAmount"), int | float):
            raise HTTPException(400, "externalRef, applicant and loanAmount are required")
        age = _age(applicant.get("dateOfBirth"))
        no = None
        if str(applicant.get("panNumber", "")).startswith("FAIL"):
            no = "PAN on Kavach's negative list"
        elif age is None or age < 23:
            no = "applicant younger than 23"
        yes = {"applicationId": f"KVF-{_num(str(ref), 8)}", "decision": "APPROVE", "declineReasons": []}
        declined = {"applicationId": f"KVF-{_num(str(ref), 8)}", "decision": "DECLINE", "declineReasons": "<reason>"}
        net = disbursals.paise_of(body.get("loanAmount")) - disbursals.paise_of(body.get("processingFee"))
        response = await answer(request, "kavach", str(ref), body, no, yes, declined,
                                booking=(yes["applicationId"], net))  # fmt: skip
        if isinstance(response, JSONResponse):  # Kavach lists its reasons as objects
            data = json.loads(bytes(response.body))
            if isinstance(data.get("declineReasons"), str):
                data["declineReasons"] = [{"code": "POLICY", "description": data["declineReasons"]}]
                received[-1]["answer"] = data
                return JSONResponse(data)
        return response

    @app.post("/navodaya/v1/disbursal_requests")
    async def navodaya_request(request: Request) -> Response:
        raw = await request.body()
        stamp = request.headers.get("x-navodaya-timestamp", "")
        given = request.headers.get("x-navodaya-signature", "")
        if not request.headers.get("x-navodaya-key") or not stamp.isdigit():
            return JSONResponse({"result": "error", "decline_code": "AUTH", "decline_text": "key and timestamp"}, 401)
        if abs(time.time() - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
            return JSONResponse({"result": "error", "decline_code": "STALE", "decline_text": "timestamp too old"}, 401)
        if not hmac.compare_digest(signature(secret, stamp, raw), given):
            return JSONResponse({"result": "error", "decline_code": "SIGNATURE", "decline_text": "bad signature"}, 401)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HTTPException(400, "body must be JSON") from exc
        ref = body.get("request_id") if isinstance(body, dict) else None
        if not ref or not isinstance(body.get("principal_paise"), int):
            raise HTTPException(400, "request_id and principal_paise are required")
        no = "tenor above Navodaya's 24 months" if int(body.get("tenor_months", 0)) > 24 else None
        yes = {"result": "accepted", "loan_account_number": f"NAV{_num(str(ref), 9)}"}
        declined = {"result": "declined", "decline_code": "POLICY", "decline_text": "<reason>"}
        net = int(body["principal_paise"]) - int(body.get("fee_paise") or 0) - int(body.get("gst_paise") or 0)
        return await answer(request, "navodaya", str(ref), body, no, yes, declined,
                            booking=(yes["loan_account_number"], net))  # fmt: skip

    @app.post("/_partners/behaviour")
    async def set_behaviour(request: Request) -> dict:
        """Make a partner answer ``mode`` for its next ``times`` requests (optionally for one ``reference``)."""
        body = await sbx.json_body(request)
        partner, mode, times = body.get("partner"), body.get("mode"), body.get("times", 1)
        if partner not in PARTNERS:
            raise HTTPException(400, f"partner must be one of {', '.join(PARTNERS)}")
        if mode not in MODES:
            raise HTTPException(400, f"mode must be one of {', '.join(sorted(MODES))}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        item = {"partner": partner, "mode": mode, "times": times, "hits": 0, "reference": body.get("reference")}
        behaviours.append(item)
        return item

    @app.delete("/_partners/behaviour")
    def clear_behaviour() -> dict:
        cleared = len(behaviours)
        behaviours.clear()
        return {"cleared": cleared}

    @app.get("/_partners/applications")
    def applications(partner: str | None = None, reference: str | None = None) -> list[dict]:
        return [
            a
            for a in received
            if (partner is None or a["partner"] == partner) and (reference is None or reference in a["reference"])
        ]
