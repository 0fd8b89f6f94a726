"""What hostile input found, kept as tests: each one the exact request that went wrong (from the API fuzzer,
tests/fuzz, or the webhook storm, tests/integration/test_webhook_storm.py), what it did, and what it must do now.
"""

from __future__ import annotations

import json
import logging
import uuid

import httpx
from sqlalchemy import func, select

from activities.providers import signing
from db.models import PaymentAttempt, WebhookEvent
from sandbox import gateway_events


async def test_a_forged_gateway_webhook_is_logged_and_leaves_nothing(app, brand, db, caplog) -> None:  # noqa: ANN001
    """The storm: a Razorpay ``payment.captured`` signed with another secret was refused 401 and left no trace at
    all — nothing stored (right) and nothing logged (wrong: only the dialers logged their refusals), so ops could
    not see forgeries. Now each refusal leaves one warning on ``los.webhooks`` naming the vendor and the brand."""
    payment_id = f"pay_{uuid.uuid4().hex[:12]}"
    payment = gateway_events.razorpay_payment(payment_id, 500_00, None, {"loan_id": str(uuid.uuid4())}, "order_x")
    body = json.dumps(gateway_events.razorpay_payment_captured(payment)).encode()
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": signing.sign(body, "not-the-secret"),
        "X-Razorpay-Event-Id": event_id,
    }
    caplog.set_level(logging.WARNING, logger="los.webhooks")
    async with httpx.AsyncClient(base_url=app.api.url) as http:
        resp = await http.post(f"/api/v1/webhooks/{brand['brand_id']}/razorpay", content=body, headers=headers)
    assert resp.status_code == 401, resp.text
    assert resp.json()["message"] == "webhook signature does not verify"
    lines = [r for r in caplog.records if r.name == "los.webhooks" and r.levelno == logging.WARNING]
    assert len(lines) == 1 and "razorpay" in lines[0].getMessage() and brand["brand_id"] in lines[0].getMessage()
    assert payment_id not in lines[0].getMessage()  # the body is never logged
    with db.unit_of_work() as s:
        assert not s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.event_id == event_id))
        assert not s.scalars(select(PaymentAttempt).where(PaymentAttempt.gateway_payment_id == payment_id)).all()
