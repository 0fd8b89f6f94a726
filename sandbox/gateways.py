"""Sandbox payment gateways besides Razorpay (``sandbox.money``): Cashfree PG (payment links) and Paytring (orders
with a hosted checkout). Each has a pay page the borrower (or a test, or `los demo`) opens at the link's URL —
``GET`` shows it, ``POST`` pays — and sends the gateway's own webhooks, signed by its scheme and retried on any
non-2xx answer (``sandbox.webhooks``).

The pay page's ``outcome`` query parameter picks what the attempt does (docs/sandbox.md, "Gateways"):

- ``success`` (the default): one attempt, captured;
- ``failed``: one attempt, declined by the bank (Cashfree ``PAYMENT_FAILED_WEBHOOK``, Paytring ``failed``);
- ``dropped`` (Cashfree): the customer left the page (``PAYMENT_USER_DROPPED_WEBHOOK``);
- ``failed_then_success``: a declined attempt, then a captured one, on the same order — each its own payment id.

``amount`` (paise) pays less than the link's amount (Cashfree: the link is then PARTIALLY_PAID).
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from sandbox import gateway_events, webhooks
from sandbox.context import Sandbox, missing

#: state keys this family keeps (registered in ``sandbox.app``)
STATE_KEYS = ("cashfree_links", "cashfree_orders", "paytring_orders")
OUTCOMES = {
    "success": ["SUCCESS"],
    "failed": ["FAILED"],
    "dropped": ["USER_DROPPED"],
    "failed_then_success": ["FAILED", "SUCCESS"],
}
DECLINED = "Payment declined by the issuer bank (sandbox)"
STEP = 0.1  # seconds between the webhooks of one pay action, so they arrive in order


def _cashfree_error(status: int, code: str, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    """Cashfree's error body: ``{"message", "code", "type"}``."""
    return JSONResponse({"message": message, "code": code, "type": kind}, status_code=status)


def _paytring_error(message: str, code: int = 400) -> dict:
    """Paytring answers a refusal with ``status: false`` and the error (its SDKs read it from the body)."""
    return {"status": False, "error": {"message": message, "code": code}}


def _rupees_to_paise(value: Any) -> int | None:
    """A Cashfree rupee amount (a JSON number, at most two decimals) in paise, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        amount = Decimal(str(value)).scaleb(2)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.to_integral_value() or amount <= 0:
        return None
    return int(amount)


def _page(title: str, amount: int) -> str:
    return (
        f"<html><body><h1>{title}: pay ₹{amount / 100:.2f}</h1>"
        "<form method='post'><button type='submit'>Pay with UPI</button></form></body></html>"
    )


def _outcomes(outcome: str) -> list[str]:
    if outcome not in OUTCOMES:
        raise HTTPException(400, f"outcome must be one of {sorted(OUTCOMES)}")
    return OUTCOMES[outcome]


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add Cashfree PG and Paytring to the sandbox ``app``."""
    state = sbx.state
    sbx.outbox.sign_with("cashfree", gateway_events.cashfree_headers, attempt_header="x-webhook-attempt")
    sbx.outbox.sign_with("paytring", gateway_events.paytring_headers)

    def after() -> float:
        return min(sbx.delay, 0.2)

    # --- Cashfree PG: payment links ------------------------------------------------------------------------------
    def cashfree_entity(link: dict) -> dict:
        return {
            key: link[key]
            for key in (
                "cf_link_id", "link_id", "link_url", "link_status", "link_currency", "link_amount",
                "link_amount_paid", "link_partial_payments", "link_purpose", "link_created_at",
                "link_expiry_time", "customer_details", "link_meta", "link_notes", "link_notify",
            )
        }  # fmt: skip

    def cashfree_auth(request: Request) -> JSONResponse | None:
        if not request.headers.get("x-client-id") or not request.headers.get("x-client-secret"):
            return _cashfree_error(401, "request_failed", "authentication Failed", "authentication_error")
        if not request.headers.get("x-api-version"):
            return _cashfree_error(400, "x-api-version_missing", "x-api-version header is missing")
        return None

    @app.post("/cashfree/pg/links")
    async def cashfree_create_link(request: Request) -> Any:
        """Create a link (Cashfree PG ``POST /pg/links``): ``link_id`` unique (409 ``link_already_exists``),
        ``link_amount`` rupees with at most two decimals, INR, a purpose, the customer's 10-digit phone."""
        if (refused := cashfree_auth(request)) is not None:
            return refused
        body = await sbx.json_body(request)
        link_id = body.get("link_id")
        if not isinstance(link_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,50}", link_id):
            return _cashfree_error(400, "link_id_invalid", "link_id : must be 1-50 characters of [A-Za-z0-9_-]")
        amount = _rupees_to_paise(body.get("link_amount"))
        if amount is None:
            return _cashfree_error(400, "link_amount_invalid", "link_amount : must be a positive amount in rupees")
        if body.get("link_currency") != "INR":
            return _cashfree_error(400, "link_currency_invalid", "link_currency : must be INR")
        if not body.get("link_purpose"):
            return _cashfree_error(400, "link_purpose_missing", "link_purpose : is missing in the request")
        customer = body.get("customer_details") or {}
        if not re.fullmatch(r"\d{10}", str(customer.get("customer_phone", ""))):
            return _cashfree_error(400, "customer_phone_missing", "customer_details.customer_phone : 10 digits")
        notes = body.get("link_notes") or {}
        if not isinstance(notes, dict) or len(notes) > 5 or not all(isinstance(v, str) for v in notes.values()):
            return _cashfree_error(400, "link_notes_invalid", "link_notes : at most 5 string pairs")
        if link_id in state["cashfree_links"]:
            return _cashfree_error(409, "link_already_exists", "link_id already exists")
        now = datetime.now(UTC).astimezone(webhooks.IST)
        link = {
            "cf_link_id": int(secrets.randbelow(9 * 10**8)) + 10**8,
            "link_id": link_id,
            "link_url": f"{sbx.base(request)}/cashfree/pay/{link_id}",
            "link_status": "ACTIVE",
            "link_currency": "INR",
            "link_amount": body["link_amount"],
            "link_amount_paid": 0,
            "link_partial_payments": bool(body.get("link_partial_payments")),
            "link_purpose": body["link_purpose"],
            "link_created_at": now.isoformat(timespec="seconds"),
            "link_expiry_time": (now + timedelta(days=30)).isoformat(timespec="seconds"),
            "customer_details": customer,
            "link_meta": body.get("link_meta") or {},
            "link_notes": notes,
            "link_notify": body.get("link_notify") or {"send_sms": False, "send_email": False},
            # the sandbox's own book-keeping
            "amount": amount,
            "amount_paid": 0,
            "order_id": None,
        }
        state["cashfree_links"][link_id] = link
        return cashfree_entity(link)

    @app.get("/cashfree/pg/links/{link_id}")
    def cashfree_fetch_link(request: Request, link_id: str) -> Any:
        if (refused := cashfree_auth(request)) is not None:
            return refused
        link = state["cashfree_links"].get(link_id)
        if link is None:
            return _cashfree_error(404, "link_not_found", "link does not exist")
        return cashfree_entity(link)

    @app.post("/cashfree/pg/links/{link_id}/cancel")
    def cashfree_cancel_link(request: Request, link_id: str) -> Any:
        if (refused := cashfree_auth(request)) is not None:
            return refused
        link = state["cashfree_links"].get(link_id)
        if link is None:
            return _cashfree_error(404, "link_not_found", "link does not exist")
        if link["link_status"] != "ACTIVE":
            return _cashfree_error(409, "link_cannot_be_cancelled", f"link is {link['link_status']}")
        link["link_status"] = "CANCELLED"
        return cashfree_entity(link)

    @app.get("/cashfree/pay/{link_id}", response_class=HTMLResponse)
    def cashfree_pay_page(link_id: str) -> str:
        link = state["cashfree_links"].get(link_id) or missing("payment link")
        return _page("Cashfree", link["amount"] - link["amount_paid"])

    @app.post("/cashfree/pay/{link_id}")
    async def cashfree_pay(link_id: str, outcome: str = "success", amount: int | None = None) -> dict:
        """Pay the link: each attempt is a payment (its own ``cf_payment_id``) on the link's one order
        (``CFPay_…``, tagged with the link's ids); its webhook goes to the link's ``notify_url``. A capture also
        sends ``PAYMENT_LINK_EVENT``."""
        link = state["cashfree_links"].get(link_id) or missing("payment link")
        if link["link_status"] not in ("ACTIVE", "PARTIALLY_PAID"):
            raise HTTPException(400, f"this payment link is {link['link_status']}")
        due = link["amount"] - link["amount_paid"]
        paid = amount or due
        if paid <= 0 or paid > due:
            raise HTTPException(400, "amount must be positive and at most what the link still asks for")
        if link["order_id"] is None:
            order_id = f"CFPay_{secrets.token_hex(6)}_{secrets.token_hex(4)}"
            state["cashfree_orders"][order_id] = {
                "order_id": order_id,
                "amount": due,
                "tags": {"cf_link_id": str(link["cf_link_id"]), "link_id": link_id},
                "attempts": [],
            }
            link["order_id"] = order_id
        order = state["cashfree_orders"][link["order_id"]]
        notify_url = (link.get("link_meta") or {}).get("notify_url")
        phone = (link.get("customer_details") or {}).get("customer_phone")
        attempts = []
        for n, status in enumerate(_outcomes(outcome)):
            attempt = {
                "cf_payment_id": str(secrets.randbelow(9 * 10**9) + 10**9),
                "status": status,
                "amount": paid,
                "message": DECLINED if status == "FAILED" else "customer closed the payment page",
            }
            order["attempts"].append(attempt)
            attempts.append({"cf_payment_id": attempt["cf_payment_id"], "payment_status": status})
            if notify_url:
                sbx.send_later(
                    "cashfree",
                    notify_url,
                    gateway_events.cashfree_payment_webhook(order, attempt, phone),
                    after() + n * STEP,
                )
            if status == "SUCCESS":
                link["amount_paid"] += paid
                link["link_amount_paid"] = gateway_events.cashfree_rupees(link["amount_paid"])
                link["link_status"] = "PAID" if link["amount_paid"] >= link["amount"] else "PARTIALLY_PAID"
                if notify_url:
                    event = gateway_events.cashfree_link_event(link, order, attempt)
                    sbx.send_later("cashfree", notify_url, event, after() + n * STEP + STEP / 2)
        return {"order_id": order["order_id"], "payments": attempts}

    # --- Paytring: orders with a hosted checkout ----------------------------------------------------------------
    def paytring_key(request: Request) -> str | None:
        """The key of the ``Authorization: Basic base64(key:secret)`` header (the secret is the merchant's; the
        sandbox takes any)."""
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            key, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            return None
        return key if key and secret else None

    async def paytring_body(request: Request) -> tuple[dict, dict | None]:
        body = await sbx.json_body(request)
        key = paytring_key(request)
        if key is None or body.get("key") != key:
            return body, _paytring_error("Invalid API key or secret", 401)
        if not body.get("hash"):
            return body, _paytring_error("hash is required")
        return body, None

    @app.post("/paytring/api/v2/order/create")
    async def paytring_create(request: Request) -> dict:
        """Create an order: ``receipt_id`` (the same receipt and amount give the same order back), ``amount``
        paise, INR, ``callback_url``, ``cname``, ``phone``, ``notes`` udf1…udf5; the checkout URL base64-encoded."""
        body, refused = await paytring_body(request)
        if refused:
            return refused
        amount = str(body.get("amount", ""))
        if not re.fullmatch(r"[1-9]\d{0,14}", amount):
            return _paytring_error("amount must be a positive number of paise")
        if body.get("currency", "INR") != "INR":
            return _paytring_error("currency must be INR")
        for field in ("receipt_id", "callback_url", "cname", "phone"):
            if not body.get(field):
                return _paytring_error(f"{field} is required")
        base = sbx.base(request)
        for order in state["paytring_orders"].values():
            if order["receipt_id"] == body["receipt_id"]:
                if order["amount"] != int(amount):
                    return _paytring_error("receipt_id already used for another order", 409)
                url = f"{base}/paytring/pay/{order['order_id']}"
                return {"status": True, "order_id": order["order_id"], "url": base64.b64encode(url.encode()).decode()}
        order_id = str(secrets.randbelow(9 * 10**17) + 10**17)
        state["paytring_orders"][order_id] = {
            "order_id": order_id,
            "receipt_id": body["receipt_id"],
            "amount": int(amount),
            "callback_url": body["callback_url"],
            "notes": body.get("notes") or {},
            "customer": {"name": body["cname"], "email": body.get("email", ""), "phone": body["phone"]},
            "order_status": "created",
            "attempts": [],
        }
        url = f"{base}/paytring/pay/{order_id}"
        return {"status": True, "order_id": order_id, "url": base64.b64encode(url.encode()).decode()}

    @app.post("/paytring/api/v2/order/fetch")
    async def paytring_fetch(request: Request) -> dict:
        body, refused = await paytring_body(request)
        if refused:
            return refused
        order = state["paytring_orders"].get(str(body.get("id")))
        if order is None:
            return _paytring_error("order not found", 404)
        last = order["attempts"][-1] if order["attempts"] else {}
        return {
            "status": True,
            "order": {
                "order_id": order["order_id"],
                "receipt_id": order["receipt_id"],
                "pg_transaction_id": last.get("id", ""),
                "amount": order["amount"],
                "currency": "INR",
                "pg": "RazorPay",
                "method": "UPI",
                "order_status": order["order_status"],
                "unmapped_status": "captured" if order["order_status"] == "success" else order["order_status"],
                "customer": order["customer"],
                "notes": order["notes"],
            },
        }

    @app.post("/paytring/api/v2/order/cancel")
    async def paytring_cancel(request: Request) -> dict:
        body, refused = await paytring_body(request)
        if refused:
            return refused
        order = state["paytring_orders"].get(str(body.get("id")))
        if order is None:
            return _paytring_error("order not found", 404)
        if order["order_status"] == "success":
            return _paytring_error("a paid order cannot be cancelled")
        order["order_status"] = "cancelled"
        return {"status": True, "message": "Order cancelled"}

    @app.get("/paytring/pay/{order_id}", response_class=HTMLResponse)
    def paytring_pay_page(order_id: str) -> str:
        order = state["paytring_orders"].get(order_id) or missing("order")
        return _page("Paytring", order["amount"])

    @app.post("/paytring/pay/{order_id}")
    async def paytring_pay(order_id: str, outcome: str = "success", amount: int | None = None) -> dict:
        """Pay the order: each attempt its own ``pg_transaction_id``; the callback goes to the order's
        ``callback_url``."""
        order = state["paytring_orders"].get(order_id) or missing("order")
        if order["order_status"] in ("success", "cancelled"):
            raise HTTPException(400, f"this order is {order['order_status']}")
        statuses = ["success" if s == "SUCCESS" else "failed" for s in _outcomes(outcome) if s != "USER_DROPPED"]
        if not statuses:
            raise HTTPException(400, "Paytring has no user-dropped callback; use failed")
        attempts = []
        for n, status in enumerate(statuses):
            attempt = {
                "id": str(secrets.randbelow(9 * 10**17) + 10**17),
                "status": status,
                "amount": amount or order["amount"],
                "message": DECLINED,
            }
            order["attempts"].append(attempt)
            order["order_status"] = status
            attempts.append({"pg_transaction_id": attempt["id"], "order_status": status})
            sbx.send_later(
                "paytring", order["callback_url"], gateway_events.paytring_callback(order, attempt), after() + n * STEP
            )
        return {"order_id": order_id, "payments": attempts}
