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


async def test_an_escrow_remittance_id_that_is_not_a_uuid_is_not_found(app, brand, sandbox) -> None:  # noqa: ANN001
    """The fuzzer: ``POST co-lending/escrow/remittances/0/approve`` (and ``/reject``) reached the database with "0"
    as a UUID and answered 500. Now an id that cannot be a remittance's is 404, and nothing is written."""
    from los.demo import Driver

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers = await driver.staff_headers("ADMIN")
        base = f"/api/v1/partner/brand/{brand['brand_id']}/co-lending/escrow/remittances"
        for action, body in (("approve", {}), ("reject", {"reason": "not ours"})):
            resp = await driver.api.post(f"{base}/0/{action}", json=body, headers=headers)
            assert resp.status_code == 404, (action, resp.status_code, resp.text)
            assert resp.json()["message"] == "remittance not found"
    finally:
        await driver.close()
