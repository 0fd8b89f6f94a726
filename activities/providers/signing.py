"""Webhook signatures: HMAC-SHA256 of the raw body, hex-encoded, compared in constant time
(the scheme Razorpay, Cashfree, the eSign vendors and the AA gateways use, each under its own header)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADERS = {
    "razorpay": "X-Razorpay-Signature",
    "signzy": "X-Signzy-Signature",
    "signdesk": "X-SignDesk-Signature",  # eSign callbacks (SignDesk's scheme is not public)
    "idfc": "X-IDFC-Signature",
    "finduit": "X-Finduit-Signature",  # Account Aggregator consent status
    "cart": "X-Cart-Signature",  # CART Account Aggregator consent status
}


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip())
