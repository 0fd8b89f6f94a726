"""Sandbox vendors that collect money or check accounts: Razorpay (payment links, fund account validation),
Cashfree (bank validation). Messaging vendors (Gupshup's SMS among them) are in ``sandbox.messaging``, eSign vendors
in ``sandbox.esign``, banks in ``sandbox.banks``."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import HTMLResponse

from sandbox import gateway_events, scenarios
from sandbox.autopay import _error as razorpay_error
from sandbox.context import Sandbox, missing

#: A payment link's ``reference_id``: at most 40 characters
#: (https://razorpay.com/docs/api/payments/payment-links/create-standard).
REFERENCE_ID_MAX = 40


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- Razorpay payment links -----------------------------------------------------------------
    @app.post("/razorpay/payment_links")
    async def create_link(request: Request) -> dict:
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise HTTPException(400, "amount must be a positive integer (paise)")
        if body.get("reference_id") is not None and not isinstance(body["reference_id"], str):
            raise HTTPException(400, "reference_id must be a string")
        if len(body.get("reference_id") or "") > REFERENCE_ID_MAX:  # as Razorpay documents (create-standard)
            return razorpay_error(
                f"The reference id may not be greater than {REFERENCE_ID_MAX} characters.", field="reference_id"
            )
        # reference ids are unique, as at Razorpay ("must be unique for each Payment Link", create-standard): a second
        # create with one is refused, and the client finds its link with fetch-all's reference_id filter (below). The
        # refusal's code and field are what a client can rely on; Razorpay does not document its description.
        known = sbx.state["link_refs"].get(body["reference_id"]) if body.get("reference_id") else None
        if known is not None and known in sbx.state["links"]:
            return razorpay_error("The reference_id has already been taken.", field="reference_id")
        link_id = sbx.new_id("plink")
        if body.get("reference_id"):
            sbx.state["link_refs"][body["reference_id"]] = link_id
        sbx.state["links"][link_id] = {
            "reference_id": body.get("reference_id"),
            "id": link_id,
            "amount": amount,
            "notes": body.get("notes", {}),
            "description": body.get("description"),
            "contact": (body.get("customer") or {}).get("contact"),
            "created_at": int(datetime.now(UTC).timestamp()),
            "callback_url": body["callback_url"],
            "status": "created",
            "payments": [],
        }
        return {"id": link_id, "short_url": f"{sbx.base(request)}/razorpay/pay/{link_id}", "status": "created"}

    @app.get("/razorpay/payment_links")
    def fetch_links(request: Request, reference_id: str | None = None, payment_id: str | None = None) -> dict:
        """Fetch all payment links (``GET /v1/payment_links``, query parameters ``reference_id`` and ``payment_id``:
        https://razorpay.com/docs/api/payments/payment-links/fetch-all-standard): ``{"payment_links": [entity]}``."""
        if reference_id is not None:
            known = sbx.state["link_refs"].get(reference_id)
            links = [sbx.state["links"][known]] if known in sbx.state["links"] else []
        else:
            links = list(sbx.state["links"].values())
        if payment_id is not None:
            links = [link for link in links if payment_id in link["payments"]]
        return {"payment_links": [_link_entity(link, sbx.base(request)) for link in links]}

    @app.get("/razorpay/payment_links/{link_id}")
    def fetch_link(request: Request, link_id: str) -> Any:
        """Fetch a payment link by id (``GET /v1/payment_links/{id}``:
        https://razorpay.com/docs/api/payments/payment-links/fetch-id-standard): the entity, its ``status``
        ``created`` / ``paid`` / ``cancelled``; an unknown id is refused 400 ``BAD_REQUEST_ERROR``."""
        link = sbx.state["links"].get(link_id)
        if link is None:
            return razorpay_error("The id provided does not exist", field="id")
        return _link_entity(link, sbx.base(request))

    @app.post("/razorpay/payment_links/{link_id}/cancel")
    async def cancel_link(link_id: str) -> Any:
        link = sbx.state["links"].get(link_id) or missing("payment link")
        if link["status"] in ("paid", "partially_paid"):  # Razorpay's refusal: a 400 BAD_REQUEST_ERROR
            return razorpay_error("Payment Link cannot be cancelled as it is already paid", field="id")
        link["status"] = "cancelled"
        return {"id": link_id, "status": "cancelled"}

    @app.get("/razorpay/pay/{link_id}", response_class=HTMLResponse)
    def pay_page(link_id: str) -> str:
        link = sbx.state["links"].get(link_id) or missing("payment link")
        return (
            f"<html><body><h1>Pay ₹{link['amount'] / 100:.2f}</h1>"
            f"<form method='post'><button type='submit'>Pay with UPI</button></form></body></html>"
        )

    @app.post("/razorpay/pay/{link_id}")
    async def pay(request: Request, link_id: str, amount: int | None = None, outcome: str = "success") -> dict:
        """Pay the link (the full amount unless ``amount`` paise is given). ``outcome`` ``success``: a captured
        payment, then the ``payment.captured`` and ``payment_link.paid`` (``partially_paid`` for less) webhooks;
        ``failed``: a payment the bank declined, then ``payment.failed`` (the link stays payable);
        ``failed_then_success``: both, in that order, each its own payment id."""
        link = sbx.state["links"].get(link_id) or missing("payment link")
        if link["status"] == "cancelled":
            raise HTTPException(400, "this payment link was cancelled")
        if outcome not in ("success", "failed", "failed_then_success"):
            raise HTTPException(400, "outcome must be success, failed or failed_then_success")
        paid = amount or link["amount"]
        order_id = link.setdefault("order_id", sbx.new_id("order"))
        after = min(sbx.delay, 0.2)
        answer: dict[str, Any] = {"amount": paid}
        if outcome != "success":
            failed_id = sbx.new_id("pay")
            failed = gateway_events.razorpay_payment(failed_id, paid, link.get("contact"), link["notes"], order_id)
            sbx.send_later("razorpay", link["callback_url"], gateway_events.razorpay_payment_failed(failed), after)
            answer.update(failed_payment_id=failed_id, status="failed")
            after += 0.1
            if outcome == "failed":
                return answer
        payment_id = sbx.new_id("pay")
        link["payments"].append(payment_id)
        link["amount_paid"] = link.get("amount_paid", 0) + paid
        link["status"] = "paid" if link["amount_paid"] >= link["amount"] else "partially_paid"
        # Razorpay sends both events for a link payment (one payment id; the receiver applies it once).
        payment = gateway_events.razorpay_payment(payment_id, paid, link.get("contact"), link["notes"], order_id)
        sbx.send_later("razorpay", link["callback_url"], gateway_events.razorpay_payment_captured(payment), after)
        paid_event = gateway_events.razorpay_payment_link_paid(
            link, payment, f"{sbx.base(request)}/razorpay/pay/{link_id}"
        )
        if paid < link["amount"]:
            paid_event["event"] = "payment_link.partially_paid"
            paid_event["payload"]["payment_link"]["entity"]["status"] = "partially_paid"
        sbx.send_later("razorpay", link["callback_url"], paid_event, after + 0.05)
        return {**answer, "payment_id": payment_id, "status": "captured"}

    # --- Penny drop: Razorpay fund account validation, Cashfree bank validation ---------------------
    @app.post("/razorpay/fund_accounts/validations")
    async def razorpay_validation(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """₹1 to the account; the registered name back. Same Idempotency-Key → the same validation."""
        body = await sbx.json_body(request)
        bank = ((body.get("fund_account") or {}).get("bank_account")) or {}
        account, ifsc = str(bank.get("account_number", "")), str(bank.get("ifsc", "")).upper()
        if fault := scenarios.penny_drop_fault(account, "razorpay"):
            return await sbx.misbehave(request, fault)
        if (done := sbx.idempotent(idempotency_key, "razorpay-fav")) is not None:
            return sbx.state["validations"][done]
        answer = scenarios.penny_drop(account, ifsc, bank.get("name") or None)
        fav_id = sbx.new_id("fav")
        sbx.state["validations"][fav_id] = {
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
        sbx.remember(idempotency_key, "razorpay-fav", fav_id)
        return sbx.state["validations"][fav_id]

    @app.get("/razorpay/fund_accounts/validations/{fav_id}")
    def razorpay_validation_get(fav_id: str) -> dict:
        return sbx.state["validations"].get(fav_id) or missing("validation")

    @app.get("/cashfree/payout/v1.2/validation/bankDetails")
    async def cashfree_validation(
        request: Request,
        bankAccount: str = "",
        ifsc: str = "",
        name: str = "",  # noqa: N803 - Cashfree's names
    ) -> Any:
        """₹1 to the account; the name at the bank. Same account and IFSC → the same answer."""
        if fault := scenarios.penny_drop_fault(bankAccount, "cashfree"):
            return await sbx.misbehave(request, fault)
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


def _link_entity(link: dict[str, Any], base: str) -> dict[str, Any]:
    """A sandbox link as Razorpay's Payment Link entity (https://razorpay.com/docs/api/payments/payment-links/)."""
    return {
        "id": link["id"],
        "short_url": f"{base}/razorpay/pay/{link['id']}",
        "reference_id": link.get("reference_id") or "",
        "amount": link["amount"],
        "amount_paid": link.get("amount_paid", 0),
        "currency": "INR",
        "description": link.get("description"),
        "notes": link.get("notes") or [],
        "status": link["status"],
        "created_at": link["created_at"],
        "payments": [{"payment_id": p, "status": "captured"} for p in link["payments"]] or None,
    }
