"""Sandbox banks that disburse: IDFC FIRST Bank (RazorpayX Payouts' documented shape, as
``activities/providers/disbursal/idfc.py`` describes) and ICICI Bank (the CIB Composite Pay API, hybrid-encrypted,
as ``activities/providers/disbursal/icici.py`` describes).

Each takes exactly its vendor's request, refuses a bad one with 400, holds one transfer per reference (ours: the
idempotency key / UNIQUEID) in ``state["transfers"]``, answers its status API in its own words and calls back
after the sandbox's delay, signed its own way. Which account number takes which branch:
``sandbox/bank_scenarios.py``.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from activities.providers.disbursal import icici
from sandbox import bank_scenarios as bs
from sandbox import scenarios
from sandbox.context import Sandbox
from sandbox.webhooks import ACCOUNT_ID, new_event_id

ICICI_BANK_KEY = icici.private_key(bs.ICICI_BANK_PRIVATE_PEM)
ICICI_CLIENT_KEY = icici.public_key(bs.public_pem(bs.ICICI_CLIENT_PRIVATE_PEM))
ICICI_PRIORITY = {"IFS": "0100", "RGS": "0010", "RTG": "0001", "TPA": "1000"}
ICICI_MODES = {"IFS": "IMPS", "RGS": "NEFT", "RTG": "RTGS", "TPA": "NEFT"}
IDFC_WORDS = {"SUCCESS": "processed", "FAILED": "failed", "PENDING": "processing"}
ICICI_WORDS = {"SUCCESS": "SUCCESS", "FAILED": "FAILURE", "PENDING": "PENDING"}


def state_of(transfer: dict) -> str:
    """PENDING until the bank settles it (the sandbox's delay after it was taken), then SUCCESS or FAILED."""
    return transfer["outcome"] if time.time() >= transfer["settle_at"] else "PENDING"


def idfc_payout(transfer: dict) -> dict:
    """The RazorpayX payout entity for a transfer, in its current state (a closed account's payout is reversed)."""
    state = state_of(transfer)
    status = IDFC_WORDS[state]
    if state == "FAILED" and transfer["reason"] == bs.ACCOUNT_CLOSED:
        status = "reversed"
    description = {
        "processing": "Payout is being processed by the bank.",
        "processed": "Payout is processed and the money has been credited into the beneficiary account.",
    }
    return {
        "id": transfer["transfer_id"],
        "entity": "payout",
        "fund_account_id": "fa_" + hashlib.sha256(transfer["account"].encode()).hexdigest()[:14],
        "amount": transfer["amount"],
        "currency": "INR",
        "notes": {"loan_id": transfer["loan_id"]} if transfer["loan_id"] else [],
        "fees": 0,
        "tax": 0,
        "status": status,
        "purpose": "payout",
        "utr": transfer["utr"] if state == "SUCCESS" else None,
        "mode": transfer["mode"],
        "reference_id": transfer["reference"],
        "narration": "Loan disbursal",
        "batch_id": None,
        "failure_reason": transfer["reason"] if state == "FAILED" else None,
        "created_at": transfer["created_at"],
        "status_details": {
            "reason": f"payout_{status}" if state != "FAILED" else transfer["reason"].lower().replace(" ", "_"),
            "description": transfer["reason"] if state == "FAILED" else description[status],
            "source": "beneficiary_bank",
        },
        "error": {  # RazorpayX's documented error object: NA fields unless the payout failed
            "source": "beneficiary_bank" if state == "FAILED" else None,
            "reason": transfer["reason"].lower().replace(" ", "_") if state == "FAILED" else None,
            "description": transfer["reason"] if state == "FAILED" else None,
            "code": "BAD_REQUEST_ERROR" if state == "FAILED" else "NA",
            "step": "payout_processing" if state == "FAILED" else "NA",
            "metadata": {},
        },
    }


def idfc_event(transfer: dict) -> dict:
    payout = idfc_payout(transfer)
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": f"payout.{payout['status']}",  # processed / failed / reversed
        "contains": ["payout"],
        "payload": {"payout": {"entity": payout}},
        "created_at": int(time.time()),
    }


def icici_packet(transfer: dict) -> dict:
    """What ICICI says of a transfer (composite-status and the callback)."""
    state = state_of(transfer)
    return {
        **transfer["ids"],
        "UNIQUEID": transfer["reference"],
        "REQID": transfer["transfer_id"],
        "STATUS": ICICI_WORDS[state],
        "RESPONSE": "SUCCESS",
        "UTRNUMBER": transfer["utr"] if state == "SUCCESS" else "",
        "AMOUNT": icici.rupees(transfer["amount"]),
        "REMARKS": transfer["loan_id"] or "",
        "MESSAGE": transfer["reason"] if state == "FAILED" else f"Transaction {state.title()}",
    }


def _idfc_error(field: str, description: str) -> JSONResponse:
    error = {"code": "BAD_REQUEST_ERROR", "description": description, "source": "business", "step": "payout_initiation",
             "reason": "input_validation_failed", "metadata": {}, "field": field}  # fmt: skip
    return JSONResponse({"error": error}, status_code=400)


def _icici_error(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"RESPONSE": "FAILURE", "STATUS": "FAILURE", "ERRORCODE": code, "MESSAGE": message}, status)


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    def icici_signer(body: bytes, _secret: str, _event_id: str | None) -> dict[str, str]:
        return {icici.SIGNATURE_HEADER: icici.sign(body, ICICI_BANK_KEY)}

    sbx.outbox.sign_with("icici", icici_signer)
    transfers: dict[str, dict] = sbx.state["transfers"]

    def held(vendor: str, reference: str) -> dict | None:
        return next((t for t in transfers.values() if t.get("vendor") == vendor and t["reference"] == reference), None)

    async def take(request: Request, vendor: str, reference: str, fields: dict, event: Any) -> Response | dict:
        """Record a new transfer, schedule its callback; the transfer, or the hang of a "time-out" branch."""
        account = fields["account"]
        earlier = sum(1 for t in transfers.values() if t.get("vendor") == vendor and t.get("account") == account)
        outcome = bs.outcome(fields["account"], earlier)
        transfer_id = sbx.new_id("pout" if vendor == "idfc" else "REQ")
        transfer = transfers[transfer_id] = {
            **fields,
            "transfer_id": transfer_id,
            "vendor": vendor,
            "reference": reference,
            "outcome": "SUCCESS" if outcome.settles else "FAILED",
            "reason": outcome.reason,
            "utr": bs.utr("IDFB" if vendor == "idfc" else "ICIC", fields["mode"], reference, sbx.today()),
            "created_at": int(time.time()),
            "settle_at": time.time() + sbx.delay,
        }
        url = request.headers.get("x-callback-url")
        if url and outcome.callback:  # the callback tells the settled state; it goes out once the bank settles
            sbx.send_later(vendor, url, event({**transfer, "settle_at": 0.0}))
        if outcome.hang_first:
            return await sbx.misbehave(request, scenarios.TIMEOUT)
        return transfer

    # --- IDFC FIRST Bank (RazorpayX Payouts' shape) -----------------------------------------------------------
    @app.post("/idfc/v1/payouts", response_model=None)
    async def idfc_payout_create(request: Request) -> Response | dict:
        key = request.headers.get("x-payout-idempotency") or ""
        if not 4 <= len(key) <= 36:
            return _idfc_error("X-Payout-Idempotency", "The idempotency key (4-36 characters) is required")
        body = await sbx.json_body(request)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if (done := held("idfc", key)) is not None:
            if done["request"] != digest:
                return _idfc_error("X-Payout-Idempotency", "Different request body sent for the same idempotency key")
            return idfc_payout(done)
        fund = body.get("fund_account") if isinstance(body.get("fund_account"), dict) else {}
        bank = fund.get("bank_account") if isinstance(fund.get("bank_account"), dict) else {}
        if not body.get("account_number"):
            return _idfc_error("account_number", "The account number field is required")
        if body.get("currency") != "INR" or fund.get("account_type") != "bank_account":
            return _idfc_error("fund_account", "Only INR payouts to a bank_account fund account are supported")
        if len(str(body.get("reference_id") or "")) > 40:
            return _idfc_error("reference_id", "The reference id may not be greater than 40 characters")
        amount, mode = body.get("amount"), str(body.get("mode") or "")
        account, ifsc, name = str(bank.get("account_number") or ""), str(bank.get("ifsc") or ""), bank.get("name")
        if (refused := bs.refusal(account, ifsc, str(name or ""), amount, mode)) is not None:
            field, _code, message = refused
            return _idfc_error(f"fund_account.bank_account.{field}" if field != "amount" else field, message)
        notes = body.get("notes") if isinstance(body.get("notes"), dict) else {}
        fields = {"amount": amount, "mode": mode, "account": account, "ifsc": ifsc, "name": name, "request": digest,
                  "loan_id": notes.get("loan_id"), "reference_id": body.get("reference_id")}  # fmt: skip
        taken = await take(request, "idfc", key, fields, idfc_event)
        return idfc_payout(taken) if isinstance(taken, dict) else taken

    @app.get("/idfc/v1/payouts")
    def idfc_payouts(account_number: str, reference_id: str | None = None) -> dict:
        items = [idfc_payout(t) for t in transfers.values() if t.get("vendor") == "idfc"
                 and (reference_id is None or t.get("reference_id") == reference_id)]  # fmt: skip
        items.reverse()  # newest first, as RazorpayX lists
        return {"entity": "collection", "count": len(items), "items": items}

    # --- ICICI Bank (CIB Composite Pay, hybrid-encrypted) -----------------------------------------------------
    async def icici_packet_in(request: Request) -> dict | JSONResponse:
        if not request.headers.get("apikey"):
            return _icici_error("401", "apikey header is required", 401)
        try:
            return icici.unseal(await sbx.json_body(request), ICICI_BANK_KEY)
        except ValueError:
            return JSONResponse({"errorCode": "997", "description": "Request decryption failed"}, status_code=400)

    def sealed(packet: dict) -> dict:
        return icici.seal(packet, ICICI_CLIENT_KEY)

    def icici_event(transfer: dict) -> dict:
        return icici.seal(icici_packet(transfer), ICICI_CLIENT_KEY, request_id=new_event_id())

    @app.post("/icici/api/v1/composite-payment", response_model=None)
    async def icici_pay(request: Request) -> Response | dict:
        packet = await icici_packet_in(request)
        if isinstance(packet, JSONResponse):
            return packet
        required = ("AGGRID", "AGGRNAME", "CORPID", "USERID", "URN", "UNIQUEID", "DEBITACC")
        missing = [f for f in required if not packet.get(f)]
        if missing:
            return _icici_error("MISSING_FIELD", f"{', '.join(missing)} required")
        txntype = str(packet.get("TXNTYPE") or "")
        if txntype not in ICICI_PRIORITY or request.headers.get("x-priority") != ICICI_PRIORITY[txntype]:
            return _icici_error("INVALID_TXNTYPE", "TXNTYPE must be RGS, RTG, IFS or TPA with its x-priority")
        if packet.get("CURRENCY") != "INR":
            return _icici_error("INVALID_CURRENCY", "CURRENCY must be INR")
        reference = str(packet["UNIQUEID"])
        if held("icici", reference) is not None:
            return sealed({"UNIQUEID": reference, "STATUS": "DUPLICATE", "RESPONSE": "FAILURE",
                           "MESSAGE": "Duplicate UNIQUEID"})  # fmt: skip
        amount, mode = bs.rupees(packet.get("AMOUNT")), ICICI_MODES[txntype]
        account, ifsc = str(packet.get("CREDITACC") or ""), str(packet.get("IFSC") or "")
        if (refused := bs.refusal(account, ifsc, str(packet.get("PAYEENAME") or ""), amount, mode)) is not None:
            return _icici_error(refused[1], refused[2])
        ids = {f: packet[f] for f in ("AGGRID", "CORPID", "USERID", "URN")}
        fields = {"amount": amount, "mode": mode, "account": account, "ifsc": ifsc, "name": packet["PAYEENAME"],
                  "loan_id": packet.get("REMARKS"), "ids": ids}  # fmt: skip
        taken = await take(request, "icici", reference, fields, icici_event)
        if not isinstance(taken, dict):
            return taken
        answer = {**icici_packet(taken), "STATUS": "PENDING", "UTRNUMBER": "", "MESSAGE": "Transaction Pending"}
        return sealed(answer)

    @app.post("/icici/api/v1/composite-status", response_model=None)
    async def icici_status(request: Request) -> Response | dict:
        packet = await icici_packet_in(request)
        if isinstance(packet, JSONResponse):
            return packet
        transfer = held("icici", str(packet.get("UNIQUEID") or ""))
        if transfer is None:
            return sealed({"UNIQUEID": packet.get("UNIQUEID"), "STATUS": "UNKNOWN", "RESPONSE": "FAILURE",
                           "MESSAGE": "No transaction found for the UNIQUEID"})  # fmt: skip
        return sealed(icici_packet(transfer))
