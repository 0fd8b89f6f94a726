"""Sandbox Razorpay Recurring Payments: customers, registration links (e-mandate, UPI Autopay) with an authorise page,
tokens and their webhooks, orders, recurring charges and their payment webhooks (adapter:
``activities.providers.payments.razorpay_autopay``, which cites Razorpay's pages).

- ``POST /razorpay/subscription_registration/auth_links`` makes the customer (or finds them by contact and email),
  the registration order (its ``token`` block: method, max amount, expiry, frequency, bank account, the link's
  notes) and the invoice; ``short_url`` opens ``GET /razorpay/subscription_registration/{id}``.
- ``POST /razorpay/subscription_registration/{id}/authorize?outcome=approve|reject`` is the borrower at their bank or
  UPI app: a token, confirmed or rejected ("Rejected by bank", or ``reason=``), and ``token.confirmed`` /
  ``token.rejected`` to the link's ``callback_url``. No payment event for the authorisation itself.
- ``POST /razorpay/payments/create/recurring`` on a confirmed token answers ``razorpay_payment_id``,
  ``razorpay_order_id``, ``razorpay_signature`` and then sends ``payment.captured`` — or ``payment.failed`` when a
  failure was queued for the token (``POST /razorpay/_autopay/fail_next``); neither when its loss was queued
  (``POST /razorpay/_autopay/lose_next``: the lender's endpoint down for all of Razorpay's retries). Refused at
  once (400 ``BAD_REQUEST_ERROR``): a token not confirmed, an amount above its ``max_amount``, an order already paid
  or of another amount, a customer that is not the token's.
- ``DELETE /razorpay/customers/{id}/tokens/{token}`` cancels (``token.cancelled``);
  ``POST /razorpay/_autopay/tokens/{token}/pause`` is the borrower pausing it in their UPI app (``token.paused``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from sandbox.context import Sandbox, missing
from sandbox.gateway_events import razorpay_payment
from sandbox.webhooks import ACCOUNT_ID

STATE_KEYS = (
    "rzp_customers",
    "rzp_orders",
    "rzp_auth_links",
    "rzp_tokens",
    "rzp_payments",
    "rzp_fail_next",
    "rzp_lose_next",
)
METHODS = ("emandate", "upi")


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _error(description: str, field: str | None = None, status: int = 400) -> JSONResponse:
    """Razorpay's error body."""
    return JSONResponse(
        {
            "error": {
                "code": "BAD_REQUEST_ERROR",
                "description": description,
                "source": "business",
                "step": "payment_initiation",
                "reason": "input_validation_failed",
                "metadata": {},
                "field": field,
            }
        },
        status_code=status,
    )


def token_entity(token: dict, status: str, reason: str | None = None) -> dict:
    """A recurring token as Razorpay's token webhooks document it, per method, with the notes given at registration."""
    entity: dict[str, Any] = {
        "id": token["id"],
        "entity": "token",
        "token": token["token"],
        "bank": token.get("bank"),
        "wallet": None,
        "method": token["method"],
        "recurring": status != "rejected" or token["method"] == "upi",
        "recurring_details": {"status": status, "failure_reason": reason},
        "auth_type": token.get("auth_type"),
        "mrn": None,
        "used_at": token["created_at"],
        "created_at": token["created_at"],
        "max_amount": token["max_amount"],
        "expired_at": token["expire_at"],
        "dcc_enabled": False,
        "notes": token.get("notes") or [],
    }
    if token["method"] == "upi":
        entity["vpa"] = {"username": "borrower", "handle": "upi", "name": None}
        entity["start_time"] = token["created_at"]
    else:
        account = token.get("bank_account") or {}
        entity["bank_details"] = {
            "beneficiary_name": account.get("beneficiary_name"),
            "account_number": account.get("account_number"),
            "ifsc": account.get("ifsc_code"),
            "account_type": account.get("account_type", "savings"),
        }
    return entity


def token_event(event: str, token: dict, status: str, reason: str | None = None) -> dict:
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": event,
        "contains": ["token"],
        "payload": {"token": {"entity": token_entity(token, status, reason)}},
        "created_at": _now(),
    }


def recurring_payment(
    payment_id: str, order: dict, token: dict, customer: dict, notes: dict, failure: str | None
) -> dict:
    """The recurring payment entity of ``payment.captured`` / ``payment.failed`` (e-mandate or UPI)."""
    payment = razorpay_payment(payment_id, order["amount"], customer.get("contact"), notes, order["id"])
    payment |= {
        "method": token["method"],
        "customer_id": customer["id"],
        "token_id": token["id"],
        "email": customer.get("email"),
        "recurring": True,
        "description": f"Recurring payment for {order['receipt']}",
    }
    if token["method"] != "upi":
        payment |= {"vpa": None, "bank": token.get("bank")}
        payment.pop("upi", None)
    if failure is not None:
        payment |= {
            "status": "failed",
            "captured": False,
            "fee": None,
            "tax": None,
            "error_code": "BAD_REQUEST_ERROR",
            "error_description": failure,
            "error_source": "customer",
            "error_step": "payment_debit_request",
            "error_reason": "payment_failed",
            "acquirer_data": {},
        }
    return payment


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add Razorpay's recurring payment endpoints to the sandbox ``app``."""
    for key in STATE_KEYS:
        sbx.state.setdefault(key, {})
    customers, orders, links = sbx.state["rzp_customers"], sbx.state["rzp_orders"], sbx.state["rzp_auth_links"]
    tokens, payments, fail_next = sbx.state["rzp_tokens"], sbx.state["rzp_payments"], sbx.state["rzp_fail_next"]
    lose_next = sbx.state["rzp_lose_next"]

    def customer_for(details: dict, notes: Any) -> dict:
        for existing in customers.values():
            if existing["contact"] == details.get("contact") and existing.get("email") == details.get("email"):
                return existing
        cust_id = sbx.new_id("cust")
        customers[cust_id] = {
            "id": cust_id,
            "entity": "customer",
            "name": details.get("name"),
            "email": details.get("email"),
            "contact": details.get("contact"),
            "gstin": None,
            "notes": notes or [],
            "created_at": _now(),
        }
        return customers[cust_id]

    def new_order(amount: int, receipt: Any, notes: Any, **extra: Any) -> dict:
        order_id = sbx.new_id("order")
        orders[order_id] = {
            "id": order_id,
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": "INR",
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes or [],
            "created_at": _now(),
            **extra,
        }
        return orders[order_id]

    @app.post("/razorpay/customers")
    async def create_customer(request: Request) -> Any:
        body = await sbx.json_body(request)
        if not body.get("name") or not body.get("contact"):
            return _error("The name and contact fields are required.", "contact")
        same = (body["contact"], body.get("email"))
        exists = any((c["contact"], c.get("email")) == same for c in customers.values())
        if exists and str(body.get("fail_existing", "1")) != "0":
            return _error("Customer already exists for the merchant.")
        return customer_for(body, body.get("notes"))

    @app.post("/razorpay/subscription_registration/auth_links")
    async def create_auth_link(request: Request) -> Any:
        body = await sbx.json_body(request)
        reg = body.get("subscription_registration")
        customer = body.get("customer")
        if not isinstance(customer, dict) or not customer.get("contact"):
            return _error("The customer contact field is required.", "customer")
        if body.get("type") != "link" or body.get("currency") != "INR" or not isinstance(reg, dict):
            return _error("type link, currency INR and subscription_registration are required.")
        method, max_amount, expire_at = reg.get("method"), reg.get("max_amount"), reg.get("expire_at")
        if method not in METHODS:
            return _error("The subscription_registration.method is invalid.", "method")
        if not isinstance(max_amount, int) or max_amount <= 0 or not isinstance(expire_at, int) or expire_at <= _now():
            return _error("max_amount must be a positive integer and expire_at a future timestamp.", "max_amount")
        account = reg.get("bank_account")
        wanted = 0 if method == "emandate" else 100
        if body.get("amount") != wanted:
            return _error(f"The amount must be {wanted} for {method}.", "amount")
        needed = ("account_number", "ifsc_code", "beneficiary_name")
        if method == "emandate" and not (isinstance(account, dict) and all(account.get(k) for k in needed)):
            return _error("bank_account needs account_number, ifsc_code and beneficiary_name.", "bank_account")
        cust = customer_for(customer, None)
        token = {k: reg.get(k) for k in ("method", "max_amount", "expire_at", "frequency", "auth_type", "bank_account")}
        order = new_order(wanted, body.get("receipt"), body.get("notes"), method=method, customer_id=cust["id"])
        order["token"] = token | {"notes": body.get("notes") or []}
        link_id = sbx.new_id("inv")
        links[link_id] = {
            "id": link_id,
            "entity": "invoice",
            "receipt": body.get("receipt"),
            "customer_id": cust["id"],
            "customer_details": {k: cust.get(k) for k in ("id", "name", "email", "contact")},
            "order_id": order["id"],
            "payment_id": None,
            "status": "issued",
            "type": "link",
            "amount": wanted,
            "currency": "INR",
            "description": body.get("description"),
            "notes": body.get("notes") or [],
            "sms_status": "sent" if body.get("sms_notify") else None,
            "email_status": "sent" if body.get("email_notify") else None,
            "expire_by": body.get("expire_by"),
            "issued_at": _now(),
            "created_at": _now(),
            "short_url": f"{sbx.base(request)}/razorpay/subscription_registration/{link_id}",
            "callback_url": body.get("callback_url"),
            "callback_method": body.get("callback_method"),
        }
        return links[link_id]

    @app.get("/razorpay/subscription_registration/{link_id}", response_class=HTMLResponse)
    def authorise_page(link_id: str) -> str:
        link = links.get(link_id) or missing("registration link")
        order = orders[link["order_id"]]
        ceiling = order["token"]["max_amount"] / 100
        return (
            f"<html><body><h1>Authorise autopay ({order['method']}) up to ₹{ceiling:.2f}</h1>"
            f"<form method='post' action='{link_id}/authorize?outcome=approve'><button>Approve</button></form>"
            f"<form method='post' action='{link_id}/authorize?outcome=reject'><button>Reject</button></form>"
            "</body></html>"
        )

    @app.post("/razorpay/subscription_registration/{link_id}/authorize")
    async def authorise(link_id: str, outcome: str = "approve", reason: str = "Rejected by bank") -> Any:
        """The borrower approves or rejects the mandate; the token webhook follows."""
        link = links.get(link_id) or missing("registration link")
        if outcome not in ("approve", "reject"):
            return _error("outcome must be approve or reject", "outcome")
        if link["status"] != "issued":
            return _error(f"This registration link is {link['status']}.")
        order = orders[link["order_id"]]
        spec = order["token"]
        token_id = sbx.new_id("token")
        tokens[token_id] = spec | {
            "id": token_id,
            "token": secrets.token_hex(7),
            "customer_id": link["customer_id"],
            "bank": str((spec.get("bank_account") or {}).get("ifsc_code") or "")[:4] or None,
            "created_at": _now(),
            "status": "confirmed" if outcome == "approve" else "rejected",
            "callback_url": link.get("callback_url"),
        }
        token = tokens[token_id]
        link["status"] = "paid" if outcome == "approve" else "expired"
        if outcome == "approve":
            order |= {"status": "paid", "amount_paid": order["amount"], "amount_due": 0, "attempts": 1}
        why = None if outcome == "approve" else reason
        event = token_event(f"token.{token['status']}", token, token["status"], why)
        if token.get("callback_url"):
            sbx.send_later("razorpay", token["callback_url"], event, min(sbx.delay, 0.2))
        return {"token_id": token_id, "status": token["status"], "order_id": order["id"]}

    @app.get("/razorpay/customers/{cust_id}/tokens")
    def list_tokens(cust_id: str) -> dict:
        items = [token_entity(t, t["status"]) for t in tokens.values() if t["customer_id"] == cust_id]
        return {"entity": "collection", "count": len(items), "items": items}

    def change(token_id: str, status: str) -> dict:
        token = tokens[token_id]
        token["status"] = status
        if token.get("callback_url"):
            sbx.send_later("razorpay", token["callback_url"], token_event(f"token.{status}", token, status), 0.05)
        return token

    @app.delete("/razorpay/customers/{cust_id}/tokens/{token_id}")
    async def delete_token(cust_id: str, token_id: str) -> Any:
        token = tokens.get(token_id)
        if token is None or token["customer_id"] != cust_id:
            return _error("The id provided does not exist", "token_id", 404)
        if token["status"] != "cancelled":
            change(token_id, "cancelled")
        return {"deleted": True}

    @app.post("/razorpay/_autopay/tokens/{token_id}/pause")
    async def pause_token(token_id: str) -> dict:
        """Sandbox control: the borrower pauses the mandate in their UPI app (``token.paused``)."""
        if token_id not in tokens:
            missing("token")
        return {"id": token_id, "status": change(token_id, "paused")["status"]}

    @app.post("/razorpay/_autopay/fail_next")
    def queue_failure(token_id: str = "*", reason: str = "Insufficient funds in the account") -> dict:
        """Sandbox control: the next recurring charge on ``token_id`` (any token: ``*``) fails with ``reason``."""
        fail_next[token_id] = reason
        return {"token_id": token_id, "reason": reason}

    @app.post("/razorpay/_autopay/lose_next")
    def queue_loss(token_id: str = "*") -> dict:
        """Sandbox control: the next recurring charge on ``token_id`` (any token: ``*``) is made as usual, but its
        ``payment.captured`` / ``payment.failed`` never reaches the lender (its endpoint was down for all of
        Razorpay's retries). The payment is on its order all the same (``GET /razorpay/orders/{id}/payments``)."""
        lose_next[token_id] = True
        return {"token_id": token_id, "lose_next": True}

    @app.post("/razorpay/orders")
    async def create_order(request: Request) -> Any:
        body = await sbx.json_body(request)
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 100:
            return _error("The amount must be atleast INR 1.00.", "amount")
        if body.get("currency") != "INR":
            return _error("The currency must be INR.", "currency")
        return new_order(amount, body.get("receipt"), body.get("notes"))

    @app.get("/razorpay/orders")
    def list_orders(receipt: str | None = None) -> dict:
        items = [o for o in orders.values() if receipt is None or o.get("receipt") == receipt]
        return {"entity": "collection", "count": len(items), "items": items}

    @app.get("/razorpay/orders/{order_id}/payments")
    def order_payments(order_id: str) -> dict:
        if order_id not in orders:
            missing("order")
        items = [p for p in payments.values() if p["order_id"] == order_id]
        return {"entity": "collection", "count": len(items), "items": items}

    @app.post("/razorpay/payments/create/recurring")
    async def charge(request: Request) -> Any:
        body = await sbx.json_body(request)
        order, token = orders.get(str(body.get("order_id"))), tokens.get(str(body.get("token")))
        if order is None:
            return _error("The id provided does not exist", "order_id")
        if token is None:
            return _error("The token provided does not exist", "token")
        if str(body.get("recurring")) != "1" or body.get("currency") != "INR":
            return _error("recurring must be 1 and currency INR.", "recurring")
        if body.get("customer_id") != token["customer_id"]:
            return _error("The token does not belong to the customer.", "customer_id")
        if token["status"] != "confirmed":
            return _error(f"The token is {token['status']}; only a confirmed token can be charged.", "token")
        if body.get("amount") != order["amount"]:
            return _error("The amount must be equal to the order amount.", "amount")
        if order["amount"] > token["max_amount"]:
            return _error("The amount exceeds the maximum amount allowed for the mandate.", "amount")
        if order["status"] == "paid" or any(p["order_id"] == order["id"] for p in payments.values()):
            return _error("Order has already been paid or has a payment in progress.", "order_id")
        failure = fail_next.pop(token["id"], None) or fail_next.pop("*", None)
        payment_id = sbx.new_id("pay")
        notes = body.get("notes") or order.get("notes") or {}
        customer = customers[token["customer_id"]]
        payment = recurring_payment(payment_id, order, token, customer, notes, failure)
        payments[payment_id] = payment
        order["attempts"] += 1
        if failure is None:
            order |= {"status": "paid", "amount_paid": order["amount"], "amount_due": 0}
        lost = lose_next.pop(token["id"], None) or lose_next.pop("*", None)
        if token.get("callback_url") and not lost:
            event = "payment.failed" if failure else "payment.captured"
            envelope = {
                "entity": "event",
                "account_id": ACCOUNT_ID,
                "event": event,
                "contains": ["payment"],
                "payload": {"payment": {"entity": payment}},
                "created_at": _now(),
            }
            sbx.send_later("razorpay", token["callback_url"], envelope, min(sbx.delay, 0.2))
        signature = hmac.new(b"sandbox-key-secret", f"{order['id']}|{payment_id}".encode(), hashlib.sha256)
        return {
            "razorpay_payment_id": payment_id,
            "razorpay_order_id": order["id"],
            "razorpay_signature": signature.hexdigest(),
        }

    @app.get("/razorpay/_autopay/charges")
    def charges(token_id: str | None = None) -> list[dict]:
        """Sandbox view: every recurring payment taken (``token_id``: one token's) — how often money really left."""
        return [p for p in payments.values() if token_id is None or p["token_id"] == token_id]
