"""Lendbox's co-lending adapter against its sandbox twin, in process (httpx over ASGI): the lifecycle call by call
(borrower, loan, document, eSign, schedule, funding, wallet orders, transaction and loan status, foreclosure, NOC),
the twin's callbacks signed so the adapter's verification takes them, and every way a callback is refused."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date

import httpx
import pytest

from activities.providers.base import BusinessRefusal
from activities.providers.partners.lendbox_colending import (
    LendboxColending,
    WebhookRejected,
    colending_adapter,
    paise,
    sign,
)
from domain.colending import Agreement, Parts, principal_split, schedule_split
from sandbox.app import create_app
from sandbox.partners.lendbox_colending import DEFAULT_SECRET

SETTINGS = {"base_url": "http://sandbox", "api_key": "lbx-key", "partner_id": "P-77", "webhook_secret": DEFAULT_SECRET}
HOOK = "http://receiver.invalid/api/v1/webhooks/b/partners/lendbox"


@pytest.fixture
async def sandbox(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("LOS_SANDBOX_WEBHOOK_ATTEMPTS", "1")
    app = create_app(delay_seconds=0, hang_seconds=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        yield http, app


def lendbox(http: httpx.AsyncClient) -> LendboxColending:
    api = colending_adapter(http, "lendbox", SETTINGS)
    assert isinstance(api, LendboxColending)
    return api


async def _deliveries(app, count: int) -> list[dict]:  # noqa: ANN001
    for _ in range(100):
        if len(app.state.outbox.records) >= count:
            break
        await asyncio.sleep(0.02)
    return list(app.state.outbox.records)


def test_rupee_amounts_read_to_the_paisa() -> None:
    assert [paise("1234.56"), paise("10"), paise("0.5"), paise(12), paise("-3.07")] == [123456, 1000, 50, 1200, -307]
    for bad in ("12.345", "abc", "1,000.00", ""):
        with pytest.raises(ValueError):
            paise(bad)
    assert colending_adapter(httpx.AsyncClient(), "kavach", SETTINGS) is None  # no co-lending API


async def test_the_lifecycle_against_the_twin_with_its_signed_callbacks(sandbox) -> None:  # noqa: ANN001
    http, app = sandbox
    api = lendbox(http)
    agreement = Agreement(2000, 1200)
    _, share = principal_split(agreement, 60_000_00)
    borrower = {"name": "Diya Patel", "pan": "ABCDE1234F", "dob": "1990-01-15", "mobile": "9876543210"}
    borrower_id = await api.create_borrower("cust-1", borrower)
    assert borrower_id == await api.create_borrower("cust-1", borrower)  # the same customer, the same id
    loan_id, status = await api.create_loan(
        reference="L1", borrower_id=borrower_id, booking_id="LBX1", principal=60_000_00, share=share,
        share_bps=2000, blended_bps=1800, lendbox_bps=1200, tenure=3, disbursed_on=date(2026, 12, 1),
        callback_url=HOOK,
    )  # fmt: skip
    assert loan_id.startswith("LBCL") and status == "CREATED"
    assert (await api.upload_document(loan_id, "AGREEMENT", "a.pdf", b"%PDF-1.4 x")).startswith("LBD")
    esign_id, url = await api.start_esign(loan_id)
    assert esign_id.startswith("LBE") and url
    lines = [Parts(20_000_00, 900_00), Parts(20_000_00, 600_00), Parts(20_000_00, 300_00)]
    theirs = [s.partner for s in schedule_split(agreement, 1800, lines)]
    sent = [{"number": n, "due_date": f"2027-0{n}-05", "principal": p.principal, "interest": p.interest}
            for n, p in enumerate(theirs, 1)]  # fmt: skip
    assert await api.sync_schedule(loan_id, sent) == 3
    with pytest.raises(BusinessRefusal):  # a schedule that is not Lendbox's share is refused
        await api.sync_schedule(loan_id, [{**sent[0], "principal": 1}])
    with pytest.raises(BusinessRefusal):
        await api.noc(loan_id)  # open: no NOC yet
    assert (await api.request_disbursal(loan_id, share, "fund-L1")).startswith("LBR")
    for n, part in enumerate(theirs, 1):
        parts = {"principal": part.principal, "interest": part.interest, "fees": 0, "penal": 0}
        wallet_id, state = await api.wallet_order(loan_id, f"CL-pay_{n}", parts)
        assert wallet_id.startswith("LBW") and state == "PENDING"
    again = await api.wallet_order(loan_id, "CL-pay_1", parts)  # idempotent by our order id
    assert again[0] == (await api.wallet_order(loan_id, "CL-pay_1", parts))[0]
    assert (await api.transaction_status("CL-pay_1"))["order_id"] == "CL-pay_1"
    assert (await api.transaction_status("CL-pay_2"))["status"] == "SUCCESS"
    assert await api.loan_status(loan_id) == {"status": "CLOSED", "principal_outstanding": 0}
    assert (await api.foreclosure_amount(loan_id, date(2027, 4, 1)))["total"] == 0
    assert (await api.noc(loan_id)).startswith(b"%PDF")

    # its callbacks: ESIGN, DISBURSED, 3 CREDIT_ORDER, LOAN_STATUS, each signed so the adapter takes it
    deliveries = await _deliveries(app, 6)
    events = []
    for d in deliveries:
        raw = json.dumps(d["payload"]).encode()
        events.append(api.parse_callback(raw, d["headers"]))
    assert [e.event for e in events] == ["ESIGN", "DISBURSED", "CREDIT_ORDER", "CREDIT_ORDER", "CREDIT_ORDER",
                                         "LOAN_STATUS"]  # fmt: skip
    funded = events[1]
    assert funded.partner_loan_id == "L1" and paise(funded.data["amount"]) == share and funded.data["utr"]
    assert len({e.event_id for e in events}) == 6
    assert all(d["url"] == HOOK for d in deliveries)


def test_a_callback_is_refused_when_forged_stale_or_malformed() -> None:
    api = lendbox(httpx.AsyncClient())
    body = {"event_id": "e1", "event": "DISBURSED", "partner_loan_id": "L1", "data": {"utr": "U1"}}
    raw = json.dumps(body).encode()
    now = int(time.time())

    def headers(stamp: int = now, secret: str = DEFAULT_SECRET, payload: bytes = raw) -> dict[str, str]:
        return {"X-Lendbox-Timestamp": str(stamp), "X-Lendbox-Signature": sign(secret, str(stamp), payload)}

    assert api.parse_callback(raw, headers()).data == {"utr": "U1"}
    cases = [
        (raw, headers(secret="guess"), "signature"),
        (raw, {}, "signature"),
        (raw.replace(b"U1", b"U2"), headers(), "signature"),
        (raw, headers(stamp=now - 301), "stale"),
        (raw, headers(stamp=now + 301), "stale"),
        (b"[1]", headers(payload=b"[1]"), "payload"),
        (b"not json", headers(payload=b"not json"), "payload"),
    ]
    for event in ({**body, "event": "OTHER"}, {**body, "event_id": ""}, {**body, "data": []}):
        other = json.dumps(event).encode()
        cases.append((other, headers(payload=other), "payload"))
    for payload, given, reason in cases:
        with pytest.raises(WebhookRejected) as refused:
            api.parse_callback(payload, given)
        assert refused.value.reason == reason, (payload, reason)
