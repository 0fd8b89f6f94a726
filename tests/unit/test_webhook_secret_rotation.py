"""Webhook secret rotation per brand and vendor: a vendor's config keeps its previous secret with the end of the
overlap window (``previous_secret``, ``previous_secret_until``). A webhook signed with the previous secret verifies
until then, and not after; one signed with the new secret always does; a forged one never. Checked through each
vendor's own scheme: Razorpay (hex HMAC of the body in a header), Cashfree (base64 HMAC of timestamp and body,
with its replay window) and IDFC (the shared header scheme)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from activities.providers.base import ProviderConfig
from activities.providers.failover import adapter_for
from activities.providers.payments import cashfree
from activities.providers.signing import SIGNATURE_HEADERS, previous_secret, sign
from activities.providers.webhooks import verified

BODY = b'{"event": "payment.captured", "payload": {}}'
UNTIL = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BEFORE, AFTER = UNTIL - timedelta(minutes=1), UNTIL + timedelta(seconds=1)


def adapter(kind: str, vendor: str, **rotation: Any) -> Any:
    entry = {"vendor": vendor, "base_url": "http://vendor.invalid", "api_key": "key", "webhook_secret": "new-secret"}
    (config,) = ProviderConfig.configured({"providers": {kind: {**entry, **rotation}}}, kind)
    return adapter_for(config, httpx.AsyncClient())


ROTATING = {"previous_secret": "old-secret", "previous_secret_until": UNTIL.isoformat()}


def header_check(vendor: str, secret: str) -> Any:
    """The check of a webhook signed with ``secret`` under ``vendor``'s signature header."""
    headers = {SIGNATURE_HEADERS[vendor]: sign(BODY, secret)}
    return lambda a: a.verify_webhook(BODY, headers)


def cashfree_check(secret: str) -> Any:
    stamp = str(int(time.time() * 1000))
    headers = {cashfree.SIGNATURE_HEADER: cashfree.signature(BODY, stamp, secret), cashfree.TIMESTAMP_HEADER: stamp}
    return lambda a: a.verify_webhook(BODY, headers)


@pytest.mark.parametrize(("kind", "vendor"), [("payments", "razorpay"), ("disbursal", "idfc")])
def test_header_signed_webhooks_take_the_old_secret_only_within_the_window(kind: str, vendor: str) -> None:
    a = adapter(kind, vendor, **ROTATING)
    assert verified(a, header_check(vendor, "new-secret"), now=AFTER)
    assert verified(a, header_check(vendor, "old-secret"), now=BEFORE)
    assert not verified(a, header_check(vendor, "old-secret"), now=AFTER)
    assert not verified(a, header_check(vendor, "forged-secret"), now=BEFORE)


def test_cashfree_takes_the_old_secret_only_within_the_window() -> None:
    a = adapter("payments", "cashfree", **ROTATING)
    assert verified(a, cashfree_check("new-secret"), now=AFTER)
    assert verified(a, cashfree_check("old-secret"), now=BEFORE)
    assert not verified(a, cashfree_check("old-secret"), now=AFTER)
    assert not verified(a, cashfree_check("forged-secret"), now=BEFORE)


def test_without_a_rotation_only_the_current_secret_verifies() -> None:
    a = adapter("payments", "razorpay")
    assert verified(a, header_check("razorpay", "new-secret"))
    assert not verified(a, header_check("razorpay", "old-secret"))


@pytest.mark.parametrize(
    "rotation",
    [
        {"previous_secret": "old-secret"},  # no end: an overlap must end
        {"previous_secret": "old-secret", "previous_secret_until": "next tuesday"},
        {"previous_secret_until": UNTIL.isoformat()},
    ],
)
def test_an_incomplete_rotation_accepts_no_previous_secret(rotation: dict[str, str]) -> None:
    a = adapter("payments", "razorpay", **rotation)
    assert previous_secret(a.config, BEFORE) is None
    assert not verified(a, header_check("razorpay", "old-secret"), now=BEFORE)


def test_the_window_end_reads_offsets_and_utc() -> None:
    ist = adapter(
        "payments", "razorpay", previous_secret="old-secret", previous_secret_until="2026-12-01T17:30:00+05:30"
    )
    naive = adapter("payments", "razorpay", previous_secret="old-secret", previous_secret_until="2026-12-01T12:00:00")
    zulu = adapter("payments", "razorpay", previous_secret="old-secret", previous_secret_until="2026-12-01T12:00:00Z")
    for a in (ist, naive, zulu):
        assert previous_secret(a.config, BEFORE) == "old-secret"
        assert previous_secret(a.config, AFTER) is None
