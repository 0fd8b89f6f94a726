"""Razorpay Smart Collect's twin: virtual accounts a financed invoice's buyer pays into, and the
``virtual_account.credited`` webhook each credit sends (docs/invoice-financing.md, "Collection"; sources in
``activities/sme/collect.py``).

- ``POST /razorpay/virtual_accounts`` → the virtual account entity (``va_...``, ``status`` active, one
  ``bank_account`` receiver at RBL Bank, IFSC ``RATN0VAAPIS``, a 16-digit number starting 2223330);
- ``GET /razorpay/virtual_accounts/{id}``; ``POST /razorpay/virtual_accounts/{id}/close`` → ``status`` closed;
- ``GET /razorpay/virtual_accounts?from=&to=&count=&skip=`` — fetch all (newest first, ``count`` at most 100), as
  https://razorpay.com/docs/sg/api/payments/smart-collect/fetch-all documents it: ``{"entity": "collection",
  "count", "items"}``;
- ``POST /razorpay/_test/virtual_accounts/drop-answers`` ``{"times": n}`` — a scenario switch: the next ``n``
  creates open their account but their answer is lost (504), as when the network drops it; ``GET
  /razorpay/_test/virtual_accounts/by-note?request_id=`` lists the accounts whose notes carry that request id;
- ``GET /razorpay/_test/virtual_accounts?number=`` — the dashboard's search by account number;
- ``POST /razorpay/_test/virtual_accounts/{id}/payments`` — the dashboard's *Make Test Payment* (test mode only at
  Razorpay): ``{"amount": <paise>, "method": "NEFT"|"RTGS"|"IMPS", "webhook_url": <where the merchant's
  dashboard sends webhooks>, "utr"?}``; a closed account refuses it (400: the bank returns the money). It sends
  ``virtual_account.credited`` (``contains`` payment, virtual_account, bank_transfer), signed like every Razorpay
  event (hex HMAC-SHA256 of the body in ``X-Razorpay-Signature``, the event id in ``X-Razorpay-Event-Id``) and
  answers the payment id, the bank transfer id, the UTR and the event id.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from sandbox.context import Sandbox, missing
from sandbox.webhooks import ACCOUNT_ID, new_event_id

STATE_KEY = "sme_virtual_accounts"
MODES = ("NEFT", "RTGS", "IMPS")
PAYER = {"id": "ba_SandboxPayer01", "entity": "bank_account", "ifsc": "HDFC0000128", "bank_name": "HDFC Bank",
         "name": "Buyer Industries", "account_number": "50200012345678"}  # fmt: skip


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def utr_for(mode: str) -> str:
    """A fresh bank reference shaped as ``mode``'s: NEFT 16 and RTGS 22 characters after the sender's bank code,
    IMPS a 12-digit RRN."""
    digits = "".join(str(secrets.randbelow(10)) for _ in range(20))
    return {"NEFT": f"HDFCN{digits[:11]}", "RTGS": f"HDFCR{digits[:17]}"}.get(mode, digits[:12])


def credited_event(
    account: dict[str, Any], payment_id: str, transfer_id: str, amount: int, mode: str, utr: str
) -> dict:
    """``virtual_account.credited`` as Razorpay documents it (the event envelope; payment, virtual account and
    bank transfer entities)."""
    payment = {
        "id": payment_id, "entity": "payment", "amount": amount, "currency": "INR", "status": "captured",
        "order_id": None, "invoice_id": None, "international": False, "method": "bank_transfer",
        "amount_refunded": 0, "amount_transferred": 0, "refund_status": None, "captured": True,
        "description": "NA", "card_id": None, "bank": None, "wallet": None, "vpa": None, "email": None,
        "contact": None, "customer_id": account.get("customer_id"), "notes": [], "fee": 0, "tax": 0,
        "error_code": None, "error_description": None, "created_at": _now(),
    }  # fmt: skip
    transfer = {
        "id": transfer_id, "entity": "bank_transfer", "payment_id": payment_id, "mode": mode,
        "bank_reference": utr, "amount": amount, "payer_bank_account": PAYER, "virtual_account_id": account["id"],
    }  # fmt: skip
    account = {**account, "receivers": [{k: v for k, v in r.items() if k != "notes"} for r in account["receivers"]]}
    return {
        "entity": "event", "account_id": ACCOUNT_ID, "event": "virtual_account.credited",
        "contains": ["payment", "virtual_account", "bank_transfer"],
        "payload": {"payment": {"entity": payment}, "virtual_account": {"entity": account},
                    "bank_transfer": {"entity": transfer}},
        "created_at": _now(),
    }  # fmt: skip


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add Smart Collect to the sandbox ``app``."""
    accounts: dict[str, dict[str, Any]] = sbx.state.setdefault(STATE_KEY, {})
    drops = {"left": 0}

    @app.post("/razorpay/_test/virtual_accounts/drop-answers")
    async def drop_answers(request: Request) -> dict:
        """The next ``times`` creates open their account and lose their answer (504)."""
        times = (await sbx.json_body(request)).get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        drops["left"] = times
        return {"times": times}

    @app.get("/razorpay/_test/virtual_accounts/by-note")
    def accounts_by_note(request_id: str) -> list[dict]:
        noted = (a for a in accounts.values() if isinstance(a["notes"], dict))
        return [a for a in noted if a["notes"].get("request_id") == request_id]

    @app.get("/razorpay/virtual_accounts")
    def list_virtual_accounts(
        count: int = Query(10, ge=1, le=100),
        skip: int = Query(0, ge=0),
        since: int | None = Query(None, alias="from"),
        until: int | None = Query(None, alias="to"),
    ) -> dict:
        """Fetch all: newest first, ``count`` (1 to 100) from ``skip``; ``from`` / ``to`` (unix times) narrow it."""
        chosen = [
            a for a in reversed(accounts.values())
            if (since is None or a["created_at"] >= since) and (until is None or a["created_at"] <= until)
        ][skip : skip + count]  # fmt: skip
        return {"entity": "collection", "count": len(chosen), "items": chosen}

    @app.post("/razorpay/virtual_accounts")
    async def create_virtual_account(request: Request) -> Any:
        body = await sbx.json_body(request)
        receivers = body.get("receivers")
        if not isinstance(receivers, dict) or "bank_account" not in (receivers.get("types") or []):
            raise HTTPException(400, "receivers.types must include bank_account")
        account_id = sbx.new_id("va")
        account = {
            "id": account_id, "name": "Sandbox Lender", "entity": "virtual_account", "status": "active",
            "description": body.get("description"), "amount_expected": None, "notes": body.get("notes") or [],
            "amount_paid": 0, "customer_id": body.get("customer_id"),
            "receivers": [{
                "id": sbx.new_id("ba"), "entity": "bank_account", "ifsc": "RATN0VAAPIS", "bank_name": "RBL Bank",
                "name": "Sandbox Lender", "notes": [], "account_number": "2223330" + f"{secrets.randbelow(10**9):09d}",
            }],
            "close_by": body.get("close_by"), "closed_at": None, "created_at": _now(),
        }  # fmt: skip
        accounts[account_id] = account
        if drops["left"] > 0:  # opened, but the answer never reaches the caller
            drops["left"] -= 1
            return JSONResponse({"error": {"code": "GATEWAY_TIMEOUT", "description": "upstream timed out"}}, 504)
        return account

    @app.get("/razorpay/virtual_accounts/{account_id}")
    def get_virtual_account(account_id: str) -> dict:
        return accounts.get(account_id) or missing("virtual account")

    @app.post("/razorpay/virtual_accounts/{account_id}/close")
    def close_virtual_account(account_id: str) -> dict:
        account = accounts.get(account_id) or missing("virtual account")
        if account["status"] != "closed":
            account["status"], account["closed_at"] = "closed", _now()
        return account

    @app.get("/razorpay/_test/virtual_accounts")
    def find_virtual_account(number: str) -> dict:
        """The dashboard's search of Customer Identifiers by account number."""
        found = (a for a in accounts.values() if any(r.get("account_number") == number for r in a["receivers"]))
        return next(found, None) or missing("virtual account")

    @app.post("/razorpay/_test/virtual_accounts/{account_id}/payments")
    async def test_payment(account_id: str, request: Request) -> dict:
        """The dashboard's *Make Test Payment*: a credit into the account, announced by the signed webhook."""
        account = accounts.get(account_id) or missing("virtual account")
        body = await sbx.json_body(request)
        amount, mode, url = body.get("amount"), str(body.get("method") or "NEFT").upper(), body.get("webhook_url")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise HTTPException(400, "amount must be a positive integer (paise)")
        if mode not in MODES or not str(url or "").startswith("http"):
            raise HTTPException(400, f"method must be one of {MODES} and webhook_url an http(s) url")
        if account["status"] != "active":
            raise HTTPException(400, "the virtual account is closed: the bank returns the transfer")
        utr = str(body.get("utr") or utr_for(mode))
        payment_id, transfer_id, event_id = sbx.new_id("pay"), sbx.new_id("bt"), new_event_id()
        account["amount_paid"] += amount
        event = credited_event(dict(account), payment_id, transfer_id, amount, mode, utr)
        sbx.send_later("razorpay", str(url), event, event_id=event_id)
        return {"payment_id": payment_id, "bank_transfer_id": transfer_id, "utr": utr, "event_id": event_id}
