"""The sandbox gateways' webhook bodies and signatures: Razorpay ``payment.captured``, ``payment_link.paid`` and
``payment.failed``; Cashfree PG's payment webhooks and ``PAYMENT_LINK_EVENT`` with :func:`cashfree_headers`; Paytring's
order callback with :func:`paytring_headers`. Delivery and retries are ``sandbox.webhooks.Outbox``'s; the adapters'
docstrings (``activities.providers.payments``) cite each vendor's page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.webhooks import ACCOUNT_ID, IST, _digits, _now


def razorpay_payment(payment_id: str, amount: int, contact: str | None, notes: dict, order_id: str) -> dict:
    """A captured UPI payment entity as Razorpay documents it in ``payment.captured`` (amounts in paise;
    ``notes`` ``[]`` when empty, as Razorpay serialises an empty map)."""
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "base_amount": amount,
        "status": "captured",
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "amount_transferred": 0,
        "refund_status": None,
        "captured": True,
        "description": None,
        "card_id": None,
        "bank": None,
        "wallet": None,
        "vpa": "borrower@upi",
        "email": None,
        "contact": contact,
        "notes": notes or [],
        "fee": 0,
        "tax": 0,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {"rrn": _digits(payment_id, 12)},
        "created_at": _now(),
        "upi": {"payer_account_type": "bank_account", "vpa": "borrower@upi", "flow": "intent"},
    }


def razorpay_payment_captured(payment: dict) -> dict:
    """The ``payment.captured`` event around a payment entity."""
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": "payment.captured",
        "contains": ["payment"],
        "payload": {"payment": {"entity": payment}},
        "created_at": _now(),
    }


def razorpay_payment_link_paid(link: dict, payment: dict, short_url: str) -> dict:
    """The ``payment_link.paid`` event: the order, the payment (as a link payment: ``card``,
    ``fee_bearer``, no UPI ``flow``) and the payment link entities."""
    now = _now()
    amount = payment["amount"]
    order = {
        "account_number": None,
        "amount": amount,
        "amount_due": 0,
        "amount_paid": amount,
        "app_offer": False,
        "attempts": 1,
        "authorized": True,
        "bank": None,
        "bank_account": None,
        "checkout_config_id": None,
        "created_at": now,
        "currency": "INR",
        "customer_id": None,
        "discount": False,
        "first_payment_min_amount": None,
        "force_offer": None,
        "id": payment["order_id"].removeprefix("order_"),
        "late_auth_config_id": None,
        "merchant_id": ACCOUNT_ID.removeprefix("acc_"),
        "method": None,
        "notes": [],
        "offers": {},
        "order_metas": [],
        "order_relationships": [],
        "partial_payment": False,
        "payer_name": None,
        "payment_capture": True,
        "product_id": link["id"].removeprefix("plink_"),
        "product_type": "payment_link_v2",
        "provider_context": None,
        "public_key": "rzp_test_sandbox",
        "public_response": None,
        "receipt": link.get("reference_id"),
        **{f"reference{n}": None for n in range(2, 9)},
        "source": None,
        "status": "paid",
        "transfers": None,
        "updated_at": now,
    }
    paid = {k: v for k, v in payment.items() if k != "upi"}
    paid.update(
        card=None,
        fee_bearer="platform",
        description=f"#{link['id'].removeprefix('plink_')}",
        upi={"payer_account_type": "bank_account", "vpa": payment["vpa"]},
    )
    entity = {
        "accept_partial": False,
        "amount": link["amount"],
        "amount_paid": amount,
        "cancelled_at": 0,
        "created_at": link.get("created_at", now),
        "currency": "INR",
        "customer": {"contact": link.get("contact"), "email": None},
        "description": link.get("description"),
        "expire_by": 0,
        "expired_at": 0,
        "first_min_partial_amount": 0,
        "id": link["id"],
        "notes": link.get("notes") or None,
        "notify": {"email": False, "sms": False, "whatsapp": False},
        "order_id": payment["order_id"],
        "reference_id": link.get("reference_id"),
        "reminder_enable": False,
        "reminders": {"status": "failed"},
        "short_url": short_url,
        "status": "paid",
        "updated_at": now,
        "upi_link": False,
        "user_id": "",
        "whatsapp_link": False,
    }
    return {
        "account_id": ACCOUNT_ID,
        "contains": ["payment_link", "order", "payment"],
        "created_at": now,
        "entity": "event",
        "event": "payment_link.paid",
        "payload": {"order": {"entity": order}, "payment": {"entity": paid}, "payment_link": {"entity": entity}},
    }


def razorpay_payment_failed(payment: dict, description: str = "Payment failed due to insufficient funds") -> dict:
    """The ``payment.failed`` event around a payment entity that failed: ``status`` failed, not captured, with
    Razorpay's error fields (https://razorpay.com/docs/errors/: code, description, source, step, reason)."""
    failed = {
        **payment,
        "status": "failed",
        "captured": False,
        "error_code": "BAD_REQUEST_ERROR",
        "error_description": description,
        "error_source": "customer",
        "error_step": "payment_authorization",
        "error_reason": "insufficient_funds",
        "acquirer_data": {"rrn": None},
    }
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": "payment.failed",
        "contains": ["payment"],
        "payload": {"payment": {"entity": failed}},
        "created_at": _now(),
    }


# --- Cashfree PG ------------------------------------------------------------------------------------------------
CASHFREE_WEBHOOK_VERSION = "2025-01-01"
CASHFREE_STATUS = {"SUCCESS": "PAYMENT_SUCCESS_WEBHOOK", "FAILED": "PAYMENT_FAILED_WEBHOOK",
                   "USER_DROPPED": "PAYMENT_USER_DROPPED_WEBHOOK"}  # fmt: skip


def _ist_now() -> str:
    return datetime.now(UTC).astimezone(IST).isoformat(timespec="seconds")


def cashfree_rupees(paise: int) -> float | int:
    """Paise as Cashfree writes an amount: a JSON number of rupees (``2`` or ``1234.5``)."""
    return paise // 100 if paise % 100 == 0 else float(Decimal(paise).scaleb(-2))


def cashfree_payment_webhook(order: dict, attempt: dict, customer_phone: str | None) -> dict:
    """A payment webhook (success, failed or user dropped, by ``attempt["status"]``) for one payment attempt of an
    order, as documented for version 2025-01-01 (https://www.cashfree.com/docs/api-reference/payments/latest/
    payments/webhooks): the order (its ``order_tags``: for a link's order the link's ids), the payment, the
    customer, the gateway's details, the offers; a failure adds ``error_details``."""
    status = attempt["status"]
    success = status == "SUCCESS"
    payment = {
        "cf_payment_id": attempt["cf_payment_id"],
        "payment_status": status,
        "payment_amount": cashfree_rupees(attempt["amount"]),
        "payment_currency": "INR",
        "payment_message": "00::Transaction success" if success else attempt.get("message", "Transaction failed"),
        "payment_time": _ist_now(),
        "bank_reference": _digits(attempt["cf_payment_id"], 12) if success else None,
        "auth_id": None,
        "payment_method": {
            "upi": {
                "channel": "collect",
                "upi_id": "borrower@upi",
                "upi_instrument": "UPI_ACCOUNT",
                "upi_payer_ifsc": "HDFC0000001",
                "upi_payer_account_number": "XXXXXX1234",
            }
        },
        "payment_group": "upi",
        "international_payment": {"international": False},
        "payment_surcharge": None,
    }
    data: dict[str, Any] = {
        "order": {
            "order_id": order["order_id"],
            "order_amount": cashfree_rupees(order["amount"]),
            "order_currency": "INR",
            "order_tags": order.get("tags") or None,
        },
        "payment": payment,
        "customer_details": {
            "customer_name": None,
            "customer_id": f"cust_{_digits(order['order_id'], 8)}",
            "customer_email": None,
            "customer_phone": customer_phone,
        },
        "payment_gateway_details": {
            "gateway_name": "CASHFREE",
            "gateway_order_id": _digits(order["order_id"], 10),
            "gateway_payment_id": _digits(attempt["cf_payment_id"], 10),
            "gateway_settlement": "CASHFREE",
            "gateway_status_code": None,
        },
        "payment_offers": None,
    }
    if not success:
        data["error_details"] = {
            "error_code": "TRANSACTION_DECLINED" if status == "FAILED" else "USER_DROPPED",
            "error_description": attempt.get("message", "Transaction failed"),
            "error_reason": "auth_declined" if status == "FAILED" else "user_dropped",
            "error_source": "customer",
        }
    return {"data": data, "event_time": _ist_now(), "type": CASHFREE_STATUS[status]}


def cashfree_link_event(link: dict, order: dict, attempt: dict) -> dict:
    """``PAYMENT_LINK_EVENT`` (the link's status changed), as documented
    (https://www.cashfree.com/docs/api-reference/payments/latest/payment-links/webhooks). ``link``: the link entity
    as the sandbox keeps it (Cashfree's ``link_*`` fields, and ``amount`` / ``amount_paid`` in paise)."""
    return {
        "data": {
            "cf_link_id": link["cf_link_id"],
            "link_id": link["link_id"],
            "link_status": link["link_status"],
            "link_currency": "INR",
            "link_amount": f"{Decimal(link['amount']).scaleb(-2):.2f}",
            "link_amount_paid": f"{Decimal(link['amount_paid']).scaleb(-2):.2f}",
            "link_partial_payments": link.get("link_partial_payments", False),
            "link_minimum_partial_amount": None,
            "link_purpose": link.get("link_purpose"),
            "link_created_at": link.get("link_created_at"),
            "customer_details": link.get("customer_details") or {},
            "link_meta": link.get("link_meta") or {},
            "link_url": link["link_url"],
            "link_expiry_time": link.get("link_expiry_time"),
            "link_notes": link.get("link_notes") or {},
            "link_auto_reminders": False,
            "link_notify": link.get("link_notify") or {"send_sms": False, "send_email": False},
            "order": {
                "order_amount": f"{Decimal(attempt['amount']).scaleb(-2):.2f}",
                "order_id": order["order_id"],
                "order_expiry_time": link.get("link_expiry_time"),
                "order_hash": hashlib.sha256(order["order_id"].encode()).hexdigest()[:20],
                "transaction_id": int(attempt["cf_payment_id"]),
                "transaction_status": attempt["status"],
            },
        },
        "type": "PAYMENT_LINK_EVENT",
        "version": 1,
        "event_time": _ist_now(),
    }


def cashfree_headers(body: bytes, secret: str, event_id: str | None = None) -> dict[str, str]:
    """Cashfree's webhook headers: ``x-webhook-timestamp`` (ms) and ``x-webhook-signature`` = base64(HMAC-SHA256
    of timestamp + raw body with the secret), ``x-webhook-version``, and ``x-idempotency-key`` (a hash of the
    payload). Written here independently of the adapter, so a slip in either shows in the tests."""
    stamp = str(int(datetime.now(UTC).timestamp() * 1000))
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "x-webhook-timestamp": stamp,
        "x-webhook-signature": base64.b64encode(digest).decode(),
        "x-webhook-version": CASHFREE_WEBHOOK_VERSION,
        "x-idempotency-key": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }


# --- Paytring -----------------------------------------------------------------------------------------------
def paytring_callback(order: dict, attempt: dict) -> dict:
    """Paytring's order callback for one payment attempt: a flat object of strings (see the adapter's docstring
    for what is documented and what is chosen)."""
    notes = order.get("notes") or {}
    success = attempt["status"] == "success"
    return {
        "order_id": order["order_id"],
        "receipt_id": order["receipt_id"],
        "pg_transaction_id": attempt["id"],
        "amount": str(attempt["amount"]),
        "currency": "INR",
        "order_status": attempt["status"],
        "unmapped_status": "captured" if success else "failed",
        "method": "UPI",
        "pg": "RazorPay",
        **{f"udf{n}": str(notes.get(f"udf{n}", "")) for n in range(1, 6)},
        "message": "" if success else attempt.get("message", "Payment failed"),
    }


def paytring_headers(body: bytes, secret: str, event_id: str | None = None) -> dict[str, str]:
    """``X-Paytring-Signature``: SHA-512 hex of the callback's values in key order, each followed by ``|``, then the
    secret (Paytring's SDK hash; written here independently of the adapter)."""
    fields = json.loads(body)
    text = "".join(f"{fields[key]}|" for key in sorted(fields))
    return {"X-Paytring-Signature": hashlib.sha512((text + secret).encode()).hexdigest()}


#: the sandbox's consent statuses → ReBIT ConsentStatus
