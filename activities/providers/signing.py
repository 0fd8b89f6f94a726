"""Webhook signatures: HMAC-SHA256 of the raw body, hex-encoded, compared in constant time
(the scheme Razorpay, Cashfree, the eSign vendors and the AA gateways use, each under its own header).

Rotation (docs/security.md, "Webhook secret rotation"): a vendor's config may keep its previous secret,
``previous_secret``, with the instant it stops being accepted, ``previous_secret_until``; :func:`previous_secret`
says whether it is still in its overlap window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADERS = {
    "razorpay": "X-Razorpay-Signature",
    "signzy": "X-Signzy-Signature",
    "signdesk": "X-SignDesk-Signature",  # eSign callbacks (SignDesk's scheme is not public)
    "idfc": "X-IDFC-Signature",
    "finduit": "X-Finduit-Signature",  # Account Aggregator consent status
    "cart": "X-Cart-Signature",  # CART Account Aggregator consent status
}


# The webhook secret the demo brand and the sandbox share (los.seed.SANDBOX_SECRET), published in this repository:
# outside development (LOS_ENV) a webhook is never verified with it.
PUBLISHED_WEBHOOK_SECRETS = frozenset({"sandbox-webhook-secret"})


def refused(secret: str | None) -> bool:
    """Whether ``secret`` is a published sandbox secret and the process runs outside development."""
    if secret not in PUBLISHED_WEBHOOK_SECRETS:
        return False
    from los.settings import get_settings  # read once per process (cached)

    return get_settings().env != "development"


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    if not secret or not signature or refused(secret):
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip())


def previous_secret(config: Any, now: datetime | None = None) -> str | None:
    """The vendor's previous webhook secret while its overlap window lasts: ``previous_secret`` before
    ``previous_secret_until`` (an ISO 8601 instant; UTC when it names no offset), read from the config's fields or,
    until it has them, its options. None without both, with an unreadable instant, or once it has passed: a
    previous secret without an end is never accepted."""
    options = getattr(config, "options", None) or {}
    secret = getattr(config, "previous_secret", None) or options.get("previous_secret")
    until = getattr(config, "previous_secret_until", None) or options.get("previous_secret_until")
    if not secret or not until or secret == getattr(config, "webhook_secret", None):
        return None
    try:
        end = until if isinstance(until, datetime) else datetime.fromisoformat(str(until).replace("Z", "+00:00"))
    except ValueError:
        return None
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return str(secret) if (now or datetime.now(UTC)) < end else None
