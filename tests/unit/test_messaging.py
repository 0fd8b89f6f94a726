"""Messaging: each adapter's request against the vendor's documented shape (recorded on its way to the sandbox
twin, which answers as the vendor does), the answers read back to the vendor's message id, delivery reports parsed and
verified (SendGrid's ECDSA signature, Zepto's HMAC, the URL/Bearer tokens of vendors that sign nothing), and the
templates: variables checked at save, the sandbox refusing attribute tricks, SMS needing a DLT id."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI

from activities.messaging import defaults, events, templates
from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.messaging.aisensy import AiSensyWhatsApp
from activities.providers.messaging.base import DELIVERED, FAILED, READ, UNDELIVERED
from activities.providers.messaging.brevo import BrevoEmail
from activities.providers.messaging.gupshup import GupshupSms
from activities.providers.messaging.msg91 import Msg91Sms
from activities.providers.messaging.nimbusit import NimbusItSms
from activities.providers.messaging.sendgrid import SendGridEmail
from activities.providers.messaging.zepto import ZeptoEmail, producer_signature
from domain.errors import ValidationError
from sandbox import mail, messaging, sendgrid_events
from sandbox.context import Sandbox
from sandbox.webhooks import Outbox

SECRET = "brand-secret"
SMS = {"sender_id": "DEMOFN", "dlt_entity_id": "1101000000000000001", "userid": "2000123456"}
MAIL = {"from_email": "loans@lender.example", "from_name": "Lender"}


@pytest.fixture
async def wire() -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request], dict]]:
    """An HTTP client whose requests are recorded, then answered by the sandbox twins."""
    app = FastAPI()
    state: dict[str, Any] = {"webhooks": [], "idempotency": {}}
    sbx = Sandbox(state, Outbox(SECRET, 0.0, state["webhooks"]), 1.0)
    mail.register(app, sbx)
    messaging.register(app, sbx)
    inner = httpx.ASGITransport(app=app)
    seen: list[httpx.Request] = []

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            seen.append(request)
            return await inner.handle_async_request(request)

    async with httpx.AsyncClient(transport=Recording(), base_url="http://sbx") as client:
        yield client, seen, state


def cfg(kind: str, vendor: str, **options: Any) -> ProviderConfig:
    return ProviderConfig(kind, vendor, "http://sbx", f"{vendor}-key", SECRET, options)


async def test_gupshup_send_message_shape(wire) -> None:  # noqa: ANN001
    http, seen, state = wire
    sms = GupshupSms(http, cfg("sms", "gupshup", **SMS))
    mid = await sms.send_sms(to="9876543210", text="Hi", template="DUE_TODAY", dlt_template_id="1107161234567890123")
    form = {k: v[0] for k, v in parse_qs(seen[-1].content.decode()).items()}
    assert seen[-1].url.path == "/gupshup/GatewayAPI/rest"
    assert form == {
        "method": "SendMessage",
        "userid": "2000123456",
        "password": "gupshup-key",
        "auth_scheme": "plain",
        "v": "1.1",
        "send_to": "919876543210",
        "msg": "Hi",
        "msg_type": "TEXT",
        "format": "text",
        "mask": "DEMOFN",
        "principalEntityId": "1101000000000000001",
        "dltTemplateId": "1107161234567890123",
    }
    assert mid and state["sms"][-1] == {**state["sms"][-1], "message_id": mid, "to": "9876543210", "text": "Hi"}
    # the text answer: "error | code | why" is a refusal
    with pytest.raises(BusinessRefusal) as refused:
        sms.message_id("error | 105 | Authentication failed")
    assert refused.value.code == "105"


async def test_msg91_nimbusit_flow_shapes(wire) -> None:  # noqa: ANN001
    http, seen, state = wire
    msg91 = Msg91Sms(http, cfg("sms", "msg91", **SMS, template_ids={"1107161234567890123": "65f0flow"}))
    mid = await msg91.send_sms(
        to="9876543210", text="x", template="DUE_TODAY", dlt_template_id="1107161234567890123", values={"amount": "₹1"}
    )
    req = seen[-1]
    assert req.url.path == "/msg91/api/v5/flow" and req.headers["authkey"] == "msg91-key"
    assert json.loads(req.content) == {
        "template_id": "65f0flow",
        "sender": "DEMOFN",
        "short_url": "0",
        "recipients": [{"mobiles": "919876543210", "amount": "₹1"}],
    }
    assert state["messages"]["msg91"][-1]["message_id"] == mid
    nimbus = NimbusItSms(http, cfg("sms", "nimbusit", **SMS))
    nid = await nimbus.send_sms(to="9876543210", text="Hi", template="X", dlt_template_id="1107161234567890123")
    q = dict(seen[-1].url.params)
    assert seen[-1].method == "GET" and seen[-1].url.path == "/nimbusit/api/SmsApi/SendSingleApi"
    assert q == {
        "UserID": "2000123456",
        "Password": "nimbusit-key",
        "SenderID": "DEMOFN",
        "Phno": "9876543210",
        "Msg": "Hi",
        "EntityID": "1101000000000000001",
        "TemplateID": "1107161234567890123",
    }
    assert nid.startswith("nim_")


async def test_email_and_whatsapp_shapes(wire) -> None:  # noqa: ANN001
    http, seen, _ = wire
    brevo = BrevoEmail(http, cfg("email", "brevo", **MAIL))
    bid = await brevo.send_email(to="a@x.example", to_name="Asha", subject="S", text="T", reference="k1")
    assert seen[-1].url.path == "/brevo/v3/smtp/email" and seen[-1].headers["api-key"] == "brevo-key"
    assert json.loads(seen[-1].content) == {
        "sender": {"email": "loans@lender.example", "name": "Lender"},
        "to": [{"email": "a@x.example", "name": "Asha"}],
        "subject": "S",
        "textContent": "T",
        "headers": {"X-Reference": "k1"},
    }
    assert bid.endswith("@smtp-relay.mailin.fr>")
    zepto = ZeptoEmail(http, cfg("email", "zepto", **MAIL))
    zid = await zepto.send_email(to="a@x.example", to_name=None, subject="S", text="T", reference="k1")
    assert seen[-1].url.path == "/zepto/v1.1/email"
    assert seen[-1].headers["authorization"] == "Zoho-enczapikey zepto-key"
    assert json.loads(seen[-1].content) == {
        "from": {"address": "loans@lender.example", "name": "Lender"},
        "to": [{"email_address": {"address": "a@x.example"}}],
        "subject": "S",
        "textbody": "T",
        "client_reference": "k1",
    }
    assert zid.startswith("zm_")
    wa = AiSensyWhatsApp(http, cfg("whatsapp", "aisensy"))
    wid = await wa.send_whatsapp(to="9876543210", name="Asha", campaign="due_today", params=["Asha", "₹1"])
    assert seen[-1].url.path == "/aisensy/campaign/t1/api/v2"
    assert json.loads(seen[-1].content) == {
        "apiKey": "aisensy-key",
        "campaignName": "due_today",
        "destination": "+919876543210",
        "userName": "Asha",
        "templateParams": ["Asha", "₹1"],
        "source": "loan",
    }
    assert wid.startswith("ais_")
    # a refusal in the vendor's shape stays a refusal (never failed over)
    with pytest.raises(BusinessRefusal):
        await BrevoEmail(http, ProviderConfig("email", "brevo", "http://sbx", "", SECRET, MAIL)).send_email(
            to="a@x.example", to_name=None, subject="S", text="T", reference=None
        )


def test_delivery_reports_verified_and_parsed() -> None:
    # SendGrid: ECDSA over timestamp + body with the sandbox key; the public key verifies, a changed body does not
    sg = SendGridEmail(
        httpx.AsyncClient(),
        cfg("email", "sendgrid", event_webhook_public_key=sendgrid_events.sendgrid_public_key(SECRET)),
    )
    body = json.dumps(
        [{"event": "delivered", "sg_message_id": "abc.filter1", "sg_event_id": "e1", "timestamp": 1}]
    ).encode()
    headers = sendgrid_events.sendgrid_headers(body, SECRET, None)
    assert sg.verify_webhook(body, headers)
    assert not sg.verify_webhook(body.replace(b"delivered", b"bounce"), headers)
    assert not sg.verify_webhook(body, {**headers, "X-Twilio-Email-Event-Webhook-Timestamp": "2"})
    [update] = sg.parse_webhook(body)
    assert (update.message_id, update.status) == ("abc", DELIVERED)
    # Zepto: HMAC in producer-signature
    zepto = ZeptoEmail(httpx.AsyncClient(), cfg("email", "zepto"))
    zbody = json.dumps(
        {
            "event_name": ["hardbounce"],
            "event_message": [{"request_id": "r1", "event_data": [{"object": "hardbounce"}]}],
        }
    ).encode()
    assert zepto.verify_webhook(zbody, {"producer-signature": producer_signature(zbody, SECRET, "1")})
    assert not zepto.verify_webhook(zbody, {"producer-signature": producer_signature(zbody, "other", "1")})
    assert [(u.message_id, u.status) for u in zepto.parse_webhook(zbody)] == [("r1", UNDELIVERED)]
    # Gupshup, MSG91 sign nothing: the token in the URL; Brevo: Bearer token
    gs = GupshupSms(httpx.AsyncClient(), cfg("sms", "gupshup"))
    assert gs.verify_webhook(b"[]", {}, {"token": SECRET}) and not gs.verify_webhook(b"[]", {}, {"token": "x"})
    assert not gs.verify_webhook(b"[]", {}, {})
    dlr = json.dumps([{"externalId": "m1", "eventType": "FAILED", "eventTs": 1, "cause": "ABSENT", "errCode": "1"}])
    assert [(u.message_id, u.status) for u in gs.parse_webhook(dlr.encode())] == [("m1", FAILED)]
    m91 = Msg91Sms(httpx.AsyncClient(), cfg("sms", "msg91"))
    m = json.dumps({"requestId": "q1", "status": "1", "desc": "DELIVERED", "date": "2026-01-05 10:00:00"}).encode()
    assert [(u.message_id, u.status) for u in m91.parse_webhook(m)] == [("q1", DELIVERED)]
    brevo = BrevoEmail(httpx.AsyncClient(), cfg("email", "brevo"))
    assert brevo.verify_webhook(b"{}", {"Authorization": f"Bearer {SECRET}"})
    assert not brevo.verify_webhook(b"{}", {"Authorization": "Bearer nope"})
    ev = json.dumps({"event": "opened", "message-id": "<m@x>", "ts_event": 5}).encode()
    assert [(u.message_id, u.status) for u in brevo.parse_webhook(ev)] == [("<m@x>", READ)]


def test_every_default_template_renders_and_sms_ones_are_marked() -> None:
    for event in events.EVENT_VARIABLES:
        for kind in events.KINDS:
            t = defaults.default(event, kind)
            rendered = templates.check(event, kind, t.body, t.subject)
            assert rendered.body and "{{" not in rendered.body
            if kind == "sms":
                assert t.dlt_template_id == defaults.PLACEHOLDER_DLT_ID
    due = templates.render(
        "DUE_TODAY", "{{ amount }} on {{ due_date }}", None, {"amount": 450_050, "due_date": "2026-01-05"}
    )
    assert due.body == "₹4,500.50 on 05 Jan 2026"


def test_default_texts_count_days_as_people_do() -> None:
    """Days counted as people say them: "1 day", "7 days", and on the day it fell due just "overdue"."""
    t = defaults.default("OVERDUE", "sms")
    said = {dpd: templates.render("OVERDUE", t.body, None, _overdue(dpd)).body for dpd in (0, 1, 7)}
    assert "is overdue." in said[0] and "0 day" not in said[0]
    assert "is 1 day overdue." in said[1] and "is 7 days overdue." in said[7]
    link = defaults.default("COLLECTION_PAYMENT_LINK", "sms")
    assert "is 1 day overdue." in templates.render("COLLECTION_PAYMENT_LINK", link.body, None, _overdue(1)).body
    due = defaults.default("DUE_REMINDER", "sms")
    values = {**_overdue(0), "due_date": "2026-01-05", "days_before": 1}
    assert "(in 1 day)." in templates.render("DUE_REMINDER", due.body, None, values).body


def _overdue(dpd: int) -> dict[str, object]:
    return {"brand_name": "Demo", "amount": 450_050, "loan_ref": "abcd1234", "dpd": dpd, "customer_name": "A"}


def test_unknown_variable_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        templates.check("DUE_TODAY", "sms", "Pay {{ amount }} by {{ utr }}", None)
    assert err.value.field == "body" and "utr" in str(err.value)
    with pytest.raises(ValidationError) as err:
        templates.check("DISBURSED", "email", "ok {{ amount }}", "{{ password }}")
    assert err.value.field == "subject"
    with pytest.raises(ValidationError) as err:
        templates.check("DUE_TODAY", "sms", "Pay {{ amount ", None)
    assert err.value.field == "body"


@pytest.mark.parametrize(
    "source",
    [
        "{{ amount.__class__.__mro__ }}",
        "{{ brand_name.__class__.__base__.__subclasses__() }}",
        "{{ customer_name.format.__globals__ }}",
        "{{ loan_ref.__init__.__globals__['os'] }}",
    ],
)
def test_sandbox_refuses_attribute_tricks(source: str) -> None:
    with pytest.raises(ValidationError) as err:
        templates.check("DUE_TODAY", "sms", source, None)
    assert err.value.field == "body"
    with pytest.raises(templates.TemplateError):
        templates.render("DUE_TODAY", source, None, templates.sample_values("DUE_TODAY"))


def test_missing_value_is_an_error_not_blank() -> None:
    with pytest.raises(templates.TemplateError) as err:
        templates.render("DUE_TODAY", "Pay {{ amount }}", None, {})
    assert "amount" in str(err.value)


def test_a_template_is_compiled_once_and_rendered_with_each_notices_values() -> None:
    source = "Received {{ amount }}, receipt {{ receipt_no }} (compile-once)"
    values = templates.sample_values("PAYMENT_RECEIVED")
    before = templates._compiled.cache_info()
    first = templates.render("PAYMENT_RECEIVED", source, None, {**values, "amount": 1_000_00})
    second = templates.render("PAYMENT_RECEIVED", source, None, {**values, "amount": 2_500_00})
    after = templates._compiled.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert first.body != second.body and "2,500" in second.body and "1,000" in first.body
    # a template that cannot compile is refused each time, never cached as if it had
    for _ in range(2):
        with pytest.raises(templates.TemplateError):
            templates.render("PAYMENT_RECEIVED", "Received {{ amount ", None, values)
    assert templates._compiled.cache_info().currsize == after.currsize


def test_sms_template_needs_a_dlt_id() -> None:
    from api.partner.settings.templates import TemplateIn, _check

    for dlt in (None, "", defaults.PLACEHOLDER_DLT_ID, "12AB"):
        with pytest.raises(ValidationError) as err:
            _check("DUE_TODAY", "sms", TemplateIn(body="Pay {{ amount }}", dltTemplateId=dlt))
        assert err.value.field == "dltTemplateId"
    _check("DUE_TODAY", "sms", TemplateIn(body="Pay {{ amount }}", dltTemplateId="1107161234567890123"))
    with pytest.raises(ValidationError) as err:
        _check("DUE_TODAY", "email", TemplateIn(body="Pay {{ amount }}"))
    assert err.value.field == "subject"
    for campaign in (None, defaults.PLACEHOLDER_CAMPAIGN, "bad/name"):
        with pytest.raises(ValidationError) as err:
            _check("DUE_TODAY", "whatsapp", TemplateIn(body="{{ amount }}", dltTemplateId=campaign))
        assert err.value.field == "dltTemplateId"
    _check("DUE_TODAY", "whatsapp", TemplateIn(body="{{ customer_name }}\n{{ amount }}", dltTemplateId="due_today_v2"))


def test_sandbox_key_is_a_der_p256_key() -> None:
    der = base64.b64decode(sendgrid_events.sendgrid_public_key(SECRET))
    assert der[:2] == b"\x30\x59"  # SubjectPublicKeyInfo of a P-256 point
