"""The SendGrid email adapter against its sandbox twin (``sandbox/mail.py``), in process: a message with an
attachment is accepted (202, ``X-Message-Id``) and stored with its recipient, subject and the attachment's
SHA-256; a missing API key and a missing recipient come back as refusals in SendGrid's shape."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.messaging.email_base import EmailProvider
from activities.providers.messaging.sendgrid import PATH, SendGridEmail
from sandbox import mail
from sandbox.context import Sandbox
from sandbox.webhooks import Outbox

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OPTIONS = {"from_email": "loans@lender.example", "from_name": "Lender Loans"}


@pytest.fixture
def sandbox_app() -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {"webhooks": [], "idempotency": {}}
    sbx = Sandbox(state, Outbox("secret", 0.0, state["webhooks"]), 1.0)
    mail.register(app, sbx)
    app.state.sandbox = state
    return app


@pytest.fixture
async def http(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as client:
        yield client


def adapter(http: httpx.AsyncClient, api_key: str = "SG.sandbox-key", **options: Any) -> SendGridEmail:
    return SendGridEmail(
        http, ProviderConfig("email", "sendgrid", "http://sbx", api_key, options={**OPTIONS, **options})
    )


async def test_sends_with_an_attachment(http: httpx.AsyncClient, sandbox_app: FastAPI) -> None:
    provider: EmailProvider = adapter(http)
    message_id = await provider.send_email(
        to="borrower@example.com",
        to_name="Asha Rao",
        subject="Your loan agreement",
        text="Please find your signed agreement attached.",
        attachments=[("agreement.pdf", "application/pdf", PDF)],
        reference="loan-123",
    )
    assert message_id

    sent = (await http.get("http://sbx/sendgrid/messages", params={"to": "borrower@example.com"})).json()
    assert len(sent) == 1
    email = sent[0]
    assert email["message_id"] == message_id
    assert email["to"] == ["borrower@example.com"]
    assert email["to_names"] == ["Asha Rao"]
    assert email["from"] == "loans@lender.example"
    assert email["from_name"] == "Lender Loans"
    assert email["subject"] == "Your loan agreement"
    assert email["content"] == [{"type": "text/plain", "value": "Please find your signed agreement attached."}]
    assert email["custom_args"] == {"reference": "loan-123"}
    assert email["attachments"] == [
        {
            "filename": "agreement.pdf",
            "type": "application/pdf",
            "disposition": "attachment",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
    ]
    assert "content" not in email["attachments"][0]  # the bytes are not kept
    assert (await http.get("http://sbx/sendgrid/messages", params={"to": "someone@else.example"})).json() == []


async def test_plain_message_without_attachments_or_reference(http: httpx.AsyncClient, sandbox_app: FastAPI) -> None:
    await adapter(http).send_email(to="b@example.com", to_name=None, subject="Hi", text="Hello", reference=None)
    (email,) = sandbox_app.state.sandbox["emails"]
    assert email["attachments"] == [] and email["custom_args"] == {} and email["to_names"] == [None]


async def test_missing_api_key_is_refused(http: httpx.AsyncClient, sandbox_app: FastAPI) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await adapter(http, api_key="").send_email(
            to="borrower@example.com", to_name=None, subject="s", text="t", reference=None
        )
    assert refused.value.status == 401
    assert "authorization grant is invalid" in str(refused.value)
    assert sandbox_app.state.sandbox["emails"] == []


async def test_missing_recipient_is_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await adapter(http).send_email(to="", to_name=None, subject="s", text="t", reference=None)
    assert refused.value.status == 400
    assert "personalizations.0.to.0.email" in str(refused.value)
    assert refused.value.details["errors"][0]["field"] == "personalizations.0.to.0.email"

    # a body with no ``to`` at all, as SendGrid words it
    answer = await http.post(
        f"http://sbx{PATH}",
        headers={"Authorization": "Bearer SG.k"},
        json={
            "personalizations": [{}],
            "from": {"email": "a@b.c"},
            "subject": "s",
            "content": [{"type": "text/plain", "value": "t"}],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "personalizations.0.to"


async def test_sender_must_be_configured(http: httpx.AsyncClient) -> None:
    with pytest.raises(BusinessRefusal, match="from_email"):
        await adapter(http, from_email="").send_email(
            to="b@example.com", to_name=None, subject="s", text="t", reference=None
        )


async def test_server_trouble_is_transient() -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": [{"message": "unavailable"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(failing)) as client:
        with pytest.raises(ProviderError):
            await adapter(client).send_email(to="b@example.com", to_name=None, subject="s", text="t", reference=None)
