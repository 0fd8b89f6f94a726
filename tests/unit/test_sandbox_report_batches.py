"""The sandbox batches delivery reports as Gupshup and SendGrid do (``Outbox.send_batched``, ``sandbox.messaging``):
the reports of the messages sent within its webhook delay go in one POST, never more events (Gupshup: 20) or bytes
(SendGrid: 768 KB) than the vendor puts in one, and each batch parses and verifies with the vendor's adapter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from activities.providers.base import ProviderConfig
from activities.providers.messaging.base import DELIVERED
from activities.providers.messaging.gupshup import GupshupSms
from activities.providers.messaging.sendgrid import SendGridEmail
from sandbox import mail, messaging, sendgrid_events
from sandbox.context import Sandbox
from sandbox.webhooks import Outbox

SECRET = "brand-secret"
DELAY = 1.0  # long enough that what the tests do before it never overtakes it, even on a slow machine
SMS = {"sender_id": "DEMOFN", "dlt_entity_id": "1101000000000000001", "userid": "2000123456"}


class Captured:
    """An Outbox whose deliveries are kept (vendor, url, payload, after) instead of posted."""

    def __init__(self, delay: float = DELAY) -> None:
        self.outbox = Outbox(SECRET, delay, [])
        self.sent: list[tuple[str, str, Any, float | None]] = []
        self.outbox.send = lambda vendor, url, payload, after=None, event_id=None: self.sent.append(  # type: ignore[method-assign]
            (vendor, url, payload, after)
        )


async def test_events_within_the_delay_go_in_one_batch_after_it() -> None:
    box = Captured()
    box.outbox.send_batched("gupshup", "http://lender/a", [{"n": 1}], 20)
    await asyncio.sleep(0.05)
    box.outbox.send_batched("gupshup", "http://lender/a", [{"n": 2}, {"n": 3}], 20)
    box.outbox.send_batched("gupshup", "http://lender/b", [{"n": 4}], 20)  # another URL: its own batch
    box.outbox.send_batched("sendgrid", "http://lender/a", [{"n": 5}], 20)  # another vendor: its own batch
    assert box.sent == []
    await asyncio.sleep(DELAY + 0.3)  # counted from each batch's first event
    assert sorted(box.sent, key=lambda s: (s[0], s[1])) == [
        ("gupshup", "http://lender/a", [{"n": 1}, {"n": 2}, {"n": 3}], 0.0),
        ("gupshup", "http://lender/b", [{"n": 4}], 0.0),
        ("sendgrid", "http://lender/a", [{"n": 5}], 0.0),
    ]
    box.outbox.send_batched("gupshup", "http://lender/a", [{"n": 6}], 20)  # a new batch after that
    await asyncio.sleep(DELAY * 1.5)
    assert box.sent[-1] == ("gupshup", "http://lender/a", [{"n": 6}], 0.0) and len(box.sent) == 4


async def test_a_full_batch_goes_at_once_and_none_is_larger_than_the_vendor_sends() -> None:
    box = Captured(delay=0.05)
    box.outbox.send_batched("gupshup", "http://lender/a", [{"n": i} for i in range(45)], 20)
    assert [len(payload) for _, _, payload, _ in box.sent] == [20, 20]  # the full ones at once
    await asyncio.sleep(0.5)
    assert [len(payload) for _, _, payload, _ in box.sent] == [20, 20, 5]
    assert [e["n"] for _, _, payload, _ in box.sent for e in payload] == list(range(45))  # each once, in order

    # bytes as the delivery writes them: every batch within the cap, and full (its next event would pass it)
    box = Captured(delay=0.05)
    events = [{"n": i, "text": "x" * (i % 7)} for i in range(500)]
    box.outbox.send_batched("sendgrid", "http://lender/a", events, 10_000, max_bytes=2048)
    await asyncio.sleep(0.5)
    batches = [payload for _, _, payload, _ in box.sent]
    assert [e for batch in batches for e in batch] == events and len(batches) > 5
    assert all(len(json.dumps(batch)) <= 2048 for batch in batches)
    assert all(len(json.dumps([*batch, nxt[0]])) > 2048 for batch, nxt in zip(batches, batches[1:], strict=False))


@pytest.fixture
async def twins() -> AsyncIterator[tuple[httpx.AsyncClient, Captured]]:
    """The sandbox's SMS and email twins over ASGI, their delivery reports captured."""
    box = Captured(delay=2.0)  # every send of the test made well within it
    app = FastAPI()
    state: dict[str, Any] = {"webhooks": [], "idempotency": {}}
    sbx = Sandbox(state, box.outbox, 1.0)
    mail.register(app, sbx)
    messaging.register(app, sbx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sbx") as client:
        for vendor in ("gupshup", "sendgrid"):
            url = f"http://lender/api/v1/webhooks/b1/{vendor}"
            assert (await client.put(f"/_messaging/webhooks/{vendor}", json={"url": url})).status_code == 200
        yield client, box


async def test_the_reports_of_messages_sent_together_come_in_one_post_the_adapters_read(twins) -> None:  # noqa: ANN001
    client, box = twins
    sms = GupshupSms(client, ProviderConfig("sms", "gupshup", "http://sbx", "gupshup-key", SECRET, SMS))
    sms_ids = [
        await sms.send_sms(
            to=f"98765432{i:02d}", text="Hi", template="DUE_TODAY", dlt_template_id="1107161234567890123"
        )
        for i in range(3)
    ]
    public_key = sendgrid_events.sendgrid_public_key(SECRET)
    options = {"from_email": "loans@lender.example", "event_webhook_public_key": public_key}
    email = SendGridEmail(client, ProviderConfig("email", "sendgrid", "http://sbx", "SG.key", SECRET, options))
    email_ids = [
        await email.send_email(to=f"b{i}@example.com", to_name=None, subject="S", text="T", reference=f"r{i}")
        for i in range(2)
    ]
    assert box.sent == []  # nothing before the delay
    await asyncio.sleep(2.5)
    [(_, _, sms_batch, _)] = [s for s in box.sent if s[0] == "gupshup"]
    [(_, _, email_batch, _)] = [s for s in box.sent if s[0] == "sendgrid"]

    # Gupshup's POST array: one event per message, each read by the adapter
    assert [(u.message_id, u.status) for u in sms.parse_webhook(json.dumps(sms_batch).encode())] == [
        (i, DELIVERED) for i in sms_ids
    ]
    # SendGrid's array: processed and delivered of each, signed over the whole batch
    body = json.dumps(email_batch).encode()
    assert email.verify_webhook(body, box.outbox.headers("sendgrid", body, None))
    updates = email.parse_webhook(body)
    assert [u.message_id for u in updates] == [i for i in email_ids for _ in ("processed", "delivered")]
    assert [u.status for u in updates][1::2] == [DELIVERED, DELIVERED]
