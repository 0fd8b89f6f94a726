"""Each partner adapter's disbursal calls against its sandbox twin, in process (httpx over ASGI): the status API in
the partner's own shape and auth (PENDING while held, FAILED on request, DISBURSED with its UTR), and the signed
disbursal callback: verified, refused when forged, stale or malformed (the field named)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from activities.providers.base import BusinessRefusal
from activities.providers.partners import ADAPTERS, CallbackRejected, PartnerApplication, adapter
from activities.providers.partners.base import hmac_hex
from sandbox.app import create_app
from sandbox.partners import DEFAULT_SECRET
from sandbox.partners import disbursals as twin
from tests.unit.test_partners_adapters import APP, SETTINGS


@pytest.fixture
async def sandbox():  # noqa: ANN201
    app = create_app(delay_seconds=0, hang_seconds=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        yield http


def partner(http: httpx.AsyncClient, code: str):  # noqa: ANN201
    return adapter(http, code, {"base_url": "http://sandbox", "webhook_secret": DEFAULT_SECRET, **SETTINGS[code]})


async def book(http: httpx.AsyncClient, code: str, loan: str) -> tuple[PartnerApplication, str]:
    app = PartnerApplication(**{**APP.as_dict(), "dob": APP.dob, "reference": f"loan-{loan}:partners:1:{code}"})
    decision = await partner(http, code).submit(app, timeout=5)
    assert decision.accepted and decision.partner_reference
    return app, decision.partner_reference


@pytest.mark.parametrize("code", sorted(ADAPTERS))
async def test_the_status_api_says_pending_failed_then_disbursed_with_a_utr(sandbox, code, monkeypatch) -> None:  # noqa: ANN001
    app, ref = await book(sandbox, code, f"S-{code}")
    api = partner(sandbox, code)
    monkeypatch.setattr(twin, "DISBURSE_AFTER", 3600.0)  # not yet disbursed, whatever the machine's speed
    held = await api.disbursal_status(partner_reference=ref, reference=app.reference)
    assert (held.status, held.utr) == ("PENDING", None)
    await sandbox.post("/_partners/disbursals", json={"partner": code, "reference": f"S-{code}", "status": "FAILED"})
    failed = await api.disbursal_status(partner_reference=ref, reference=app.reference)
    assert failed.status == "FAILED" and failed.detail
    await sandbox.delete("/_partners/disbursals")
    monkeypatch.setattr(twin, "DISBURSE_AFTER", 0.0)
    done = await api.disbursal_status(partner_reference=ref, reference=app.reference)
    assert done.status == "DISBURSED" and done.utr and done.utr.isalnum() and done.amount and done.amount > 0
    with pytest.raises(BusinessRefusal):  # a loan it never booked
        await api.disbursal_status(partner_reference="NOPE", reference="loan-nope")


@pytest.mark.parametrize("code", sorted(ADAPTERS))
async def test_the_twins_callback_verifies_and_reads_back(sandbox, code, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(twin, "DISBURSE_AFTER", 0.0)
    app, ref = await book(sandbox, code, f"C-{code}")
    ask = {"partner": code, "reference": f"C-{code}", "url": "http://nowhere.invalid/x"}
    sent = await sandbox.post("/_partners/disbursal-callback", json=ask)
    payload = sent.json()["payload"]
    raw = json.dumps(payload).encode()
    stamp_header, signature_header = ADAPTERS[code].callback_headers
    stamp = str(int(time.time()))
    headers = {stamp_header: stamp, signature_header: hmac_hex(DEFAULT_SECRET, stamp, raw)}
    event = partner(sandbox, code).verify_callback(raw, headers)
    assert (event.reference, event.partner_reference, event.status) == (app.reference, ref, "DISBURSED")
    assert event.event_id == sent.json()["eventId"] and event.utr
    with pytest.raises(CallbackRejected) as forged:
        partner(sandbox, code).verify_callback(raw, {**headers, signature_header: hmac_hex("other", stamp, raw)})
    assert forged.value.reason == "signature"
    with pytest.raises(CallbackRejected) as stale:
        partner(sandbox, code).verify_callback(raw, headers, now=time.time() + 3600)
    assert stale.value.reason == "stale"
    bad = json.dumps({"nothing": 1}).encode()
    bad_headers = {stamp_header: stamp, signature_header: hmac_hex(DEFAULT_SECRET, stamp, bad)}
    with pytest.raises(CallbackRejected) as malformed:
        partner(sandbox, code).verify_callback(bad, bad_headers)
    assert malformed.value.reason == "payload"
