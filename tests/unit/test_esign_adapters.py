"""The eSign adapters (Signzy, SignDesk) against their sandbox twins, in process: create (idempotent, refused
in the vendor's shape), sign / decline as a borrower would, the callback as delivered (verified, parsed into
the right ``EsignEvent``; a forged one refused), cancel, expiry, the signed PDF, the instant signer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from activities.providers.base import BusinessRefusal, ProviderConfig, UnsupportedOperation
from activities.providers.esign.signdesk import SignDeskEsign
from activities.providers.esign.signzy import SignzyEsign, callback_password
from activities.providers.signing import sign
from domain.outcomes import AgreementStatus
from sandbox.app import create_app
from workflows.contracts import EsignEvent

SECRET = "sandbox-webhook-secret"
LOAN = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"
CALLBACK = "http://los.test/api/v1/webhooks/brand/"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
VENDORS = ("signzy", "signdesk")


@dataclass
class World:
    app: Any
    http: httpx.AsyncClient
    delivered: list[httpx.Request] = field(default_factory=list)

    def adapter(self, vendor: str, secret: str = SECRET) -> Any:
        if vendor == "signzy":
            options = {"customer_id": "cust_sbx"}
            return SignzyEsign(self.http, ProviderConfig("esign", "signzy", "http://sbx", "tok", secret, options))
        options = {"application_id": "lender_esign_uat", "environment": "sandbox"}
        return SignDeskEsign(self.http, ProviderConfig("esign", "signdesk", "http://sbx", "key", secret, options))

    @property
    def dockets(self) -> dict[str, dict]:
        return self.app.state.sandbox["dockets"]

    async def callbacks(self, count: int) -> list[httpx.Request]:
        for _ in range(200):
            if len(self.delivered) >= count:
                break
            await asyncio.sleep(0.01)
        assert len(self.delivered) >= count, f"{len(self.delivered)} callbacks, wanted {count}"
        return self.delivered[:count]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = create_app(webhook_secret=SECRET, delay_seconds=0.0)
    delivered: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        delivered.append(request)
        return httpx.Response(200, json={"status": "delivered"})

    outbox = app.state.outbox
    outbox.attempts = 1
    outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield World(app, http, delivered)
    await outbox.aclose()


async def create(world: World, vendor: str, key: str = "agr-1", phone: str = "9876543210", **kw: Any) -> Any:
    args = {
        "reference_id": LOAN,
        "pdf": PDF,
        "signer_name": "Asha Rao",
        "signer_phone": phone,
        "signer_email": "asha@example.com",
        "expires_in_seconds": 3 * 86400,
        "callback_url": CALLBACK + vendor,
        "idempotency_key": key,
    }
    return await world.adapter(vendor).create_docket(**{**args, **kw})


def final_event(world: World, vendor: str, request: httpx.Request) -> Any:
    adapter = world.adapter(vendor)
    assert adapter.verify_webhook(request.content, request.headers)
    return adapter.parse_webhook(json.loads(request.content), request.headers)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_create_is_idempotent_on_our_reference(world: World, vendor: str) -> None:
    first = await create(world, vendor)
    assert first.docket_id and first.signing_url.endswith(f"/{vendor}/sign/{first.docket_id}")
    assert await create(world, vendor) == first
    other = await create(world, vendor, key="agr-2")
    assert other.docket_id != first.docket_id
    page = await world.http.get(first.signing_url)
    assert page.status_code == 200 and "PENDING" in page.text


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_pdf_that_is_not_a_pdf_is_refused(world: World, vendor: str) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await create(world, vendor, pdf=b"<html>not a pdf</html>")
    assert refused.value.status == (422 if vendor == "signzy" else 400)
    if vendor == "signdesk":
        assert refused.value.code == "invalid_document"
    assert world.dockets == {}


async def test_signzy_refusals_in_its_shape(world: World) -> None:
    with pytest.raises(UnsupportedOperation, match="email is compulsory"):  # failover tries the next vendor
        await create(world, "signzy", signer_email=None)
    url = "http://sbx/signzy/api/customers/cust_sbx/contractdetails"
    body = {"pdfbase64": base64.b64encode(PDF).decode(), "fileFormat": "base64", "callbackUrl": CALLBACK}
    answer = await world.http.post(
        url, json={**body, "signerdetail": [{"signerName": "A"}]}, headers={"Authorization": "t"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["status"] == 422
    assert "signerEmail" in answer.json()["error"]["message"]
    assert (await world.http.post(url, json=body)).status_code == 401


async def test_signdesk_refusals_in_its_shape(world: World) -> None:
    url = "http://sbx/signdesk/api/sandbox/signRequest"
    answer = await world.http.post(url, json={"reference_id": "r"})
    assert answer.status_code == 401 and answer.json()["status"] == "failed"
    headers = {"x-parse-application-id": "app", "x-parse-rest-api-key": "key"}
    answer = await world.http.post(url, json={"reference_id": "r", "docket_title": "t"}, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "missing_parameter" and "callback_url" in answer.json()["error"]


async def test_signzy_sign_sends_signer_and_completion_callbacks(world: World) -> None:
    docket = await create(world, "signzy")
    signed = await world.http.post(f"http://sbx/signzy/sign/{docket.docket_id}")
    assert signed.json() == {"docket_id": docket.docket_id, "status": "SIGNED"}
    delivered = await world.callbacks(2)
    events = sorted((final_event(world, "signzy", r) for r in delivered), key=lambda e: e.signal is None)
    completed, signer = events
    assert completed.loan_ref == LOAN and completed.event_type == "contract.completed"
    assert completed.arg == EsignEvent(docket.docket_id, AgreementStatus.SIGNED, f"{docket.docket_id}.completed")
    assert signer.signal is None and signer.event_type == "signer.signed" and signer.loan_ref == LOAN
    username, password = base64.b64decode(delivered[0].headers["authorization"][6:]).decode().split(":")
    assert (username, password) == (LOAN, callback_password(SECRET, LOAN))


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_forged_callback_does_not_verify(world: World, vendor: str) -> None:
    docket = await create(world, vendor)
    await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}")
    request = (await world.callbacks(1))[0]
    assert world.adapter(vendor).verify_webhook(request.content, request.headers)
    assert not world.adapter(vendor, secret="another-secret").verify_webhook(request.content, request.headers)
    if vendor == "signzy":
        forged = base64.b64encode(f"{LOAN}:{sign(LOAN.encode(), 'guess')}".encode()).decode()
        assert not world.adapter(vendor).verify_webhook(request.content, {"Authorization": f"Basic {forged}"})
        assert not world.adapter(vendor).verify_webhook(request.content, {})
    else:
        tampered = request.content.replace(b"signed", b"SIGNED")
        assert not world.adapter(vendor).verify_webhook(tampered, request.headers)
        assert not world.adapter(vendor).verify_webhook(request.content, {"X-SignDesk-Signature": "00" * 32})


async def test_signdesk_sign_sends_one_signed_callback(world: World) -> None:
    docket = await create(world, "signdesk")
    await world.http.post(f"http://sbx/signdesk/sign/{docket.docket_id}")
    request = (await world.callbacks(1))[0]
    event = final_event(world, "signdesk", request)
    signer_id = json.loads(request.content)["signer_info"][0]["signer_id"]
    event_id = f"{docket.docket_id}.{signer_id}.signed"
    assert (event.event_id, event.loan_ref) == (event_id, LOAN)
    assert event.arg == EsignEvent(docket.docket_id, AgreementStatus.SIGNED, event_id)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_decline(world: World, vendor: str) -> None:
    docket = await create(world, vendor)
    declined = await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}", params={"outcome": "DECLINED"})
    assert declined.json()["status"] == "DECLINED"
    event = final_event(world, vendor, (await world.callbacks(1))[0])
    assert event.loan_ref == LOAN and event.arg.status == AgreementStatus.DECLINED
    assert event.arg.docket_id == docket.docket_id
    again = await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}")
    assert again.status_code == 409
    await asyncio.sleep(0.05)
    assert len(world.delivered) == 1  # no second callback


@pytest.mark.parametrize("vendor", VENDORS)
async def test_cancelled_docket_cannot_be_signed(world: World, vendor: str) -> None:
    docket = await create(world, vendor)
    adapter = world.adapter(vendor)
    await adapter.cancel_docket(docket.docket_id)
    await adapter.cancel_docket(docket.docket_id)  # again: fine
    refused = await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}")
    assert refused.status_code == 409
    assert world.dockets[docket.docket_id]["status"] == "CANCELLED"
    await asyncio.sleep(0.05)
    assert world.delivered == []


@pytest.mark.parametrize("vendor", VENDORS)
async def test_signed_document_differs_from_the_unsigned_and_cancel_refuses(world: World, vendor: str) -> None:
    docket = await create(world, vendor)
    adapter = world.adapter(vendor)
    with pytest.raises(BusinessRefusal):
        await adapter.signed_document(docket.docket_id)  # not signed yet
    await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}")
    signed = await adapter.signed_document(docket.docket_id)
    assert signed.startswith(PDF) and hashlib.sha256(signed).digest() != hashlib.sha256(PDF).digest()
    with pytest.raises(BusinessRefusal) as refused:
        await adapter.cancel_docket(docket.docket_id)
    assert refused.value.code == "ALREADY_SIGNED"


@pytest.mark.parametrize("vendor", VENDORS)
async def test_expired_docket_answers_expired(world: World, vendor: str) -> None:
    docket = await create(world, vendor)
    world.dockets[docket.docket_id]["expires_at"] = 0
    refused = await world.http.post(f"http://sbx/{vendor}/sign/{docket.docket_id}")
    assert refused.status_code == 409
    assert "EXPIRED" in (await world.http.get(docket.signing_url)).text
    if vendor == "signdesk":  # SignDesk calls back; Signzy documents no expiry callback
        event = final_event(world, vendor, (await world.callbacks(1))[0])
        assert event.arg.status == AgreementStatus.EXPIRED


@pytest.mark.parametrize("vendor", VENDORS)
async def test_instant_signer_calls_back_before_anyone_waits(world: World, vendor: str) -> None:
    docket = await create(world, vendor, phone="9000000099")
    delivered = await world.callbacks(2 if vendor == "signzy" else 1)
    statuses = {final_event(world, vendor, r).arg.status for r in delivered if final_event(world, vendor, r).arg}
    assert statuses == {AgreementStatus.SIGNED}
    assert world.dockets[docket.docket_id]["status"] == "SIGNED"


async def test_signdesk_request_shape(world: World) -> None:
    docket = await create(world, "signdesk", phone="+919876543210")
    stored = world.dockets[docket.docket_id]
    assert stored["reference"] == "agr-1" and stored["loan_ref"] == LOAN
    assert stored["signer"]["phone"] == "9876543210"
    status = await world.http.post(
        "http://sbx/signdesk/api/sandbox/getSignatureStatus",
        json={"document_id": stored["document_id"]},
        headers={"x-parse-application-id": "a", "x-parse-rest-api-key": "k"},
    )
    assert status.json()["status"] == "success" and status.json()["signer_info"][0]["status"] == "pending"
