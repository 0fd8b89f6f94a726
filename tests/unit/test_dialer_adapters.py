"""The dialer adapters: each request in the vendor's documented shape (recorded on its way to the sandbox twin, which
answers as the vendor does), the answers and refusals classified for failover, the webhooks verified as documented
(Stringee's HMAC-SHA1 signature, Acefone's token header) and parsed from the vendors' examples
(tests/fixtures/vendors/dialer_sources.md), the sandbox's events in the same shape, and failover across the two."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.dialer import Agent, place_call
from activities.providers.dialer.acefone import AcefoneDialer
from activities.providers.dialer.base import (
    ANSWERED,
    BUSY,
    COMPLETED,
    FAILED,
    MISSED,
    RINGING,
    mask_number,
    mask_payload,
)
from activities.providers.dialer.stringee import StringeeDialer, rest_token, signature
from domain.errors import ValidationError
from sandbox import dialer as sandbox_dialer
from sandbox.context import Sandbox
from sandbox.webhooks import Outbox

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vendors"
SECRET = "brand-webhook-secret"
STRINGEE_SECRET = "stringee-api-key-secret"
SID = "SK.0.sandboxkeysid"
REF = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"
IST = timezone(timedelta(hours=5, minutes=30))
AGENT = Agent("7a1d0c52-0f0e-4c1b-9d5e-000000000001", "agent@lender.example", "9812345678")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def cfg(vendor: str, api_key: str = "acefone-token", **options: Any) -> ProviderConfig:
    return ProviderConfig("dialer", vendor, "http://sbx", api_key, SECRET, options)


def acefone(**options: Any) -> AcefoneDialer:
    return AcefoneDialer(None, cfg("acefone", **options))  # type: ignore[arg-type]


def stringee(**options: Any) -> StringeeDialer:
    return StringeeDialer(None, cfg("stringee", STRINGEE_SECRET, api_key_sid=SID, from_number="8062450000", **options))  # type: ignore[arg-type]


@pytest.fixture
async def wire() -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request]]]:
    """An HTTP client whose requests are recorded, then answered by the sandbox twins."""
    app = FastAPI()
    state: dict[str, Any] = {"webhooks": [], "idempotency": {}}
    sandbox_dialer.register(app, Sandbox(state, Outbox(SECRET, 0.0, state["webhooks"]), 0.5))
    inner = httpx.ASGITransport(app=app)
    seen: list[httpx.Request] = []

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            seen.append(request)
            return await inner.handle_async_request(request)

    async with httpx.AsyncClient(transport=Recording(), base_url="http://sbx") as client:
        yield client, seen


# --- Acefone ----------------------------------------------------------------------------------------------------------
async def test_acefone_click_to_call_request(wire) -> None:  # noqa: ANN001
    http, seen = wire
    adapter = AcefoneDialer(http, cfg("acefone", caller_id="8062451617", call_timeout=600))
    assert await adapter.initiate("1001", "9876543210", REF) is None  # the answer documents no call id
    sent = seen[-1]
    assert (sent.method, sent.url.path) == ("POST", "/acefone/v1/click_to_call")
    assert sent.headers["authorization"] == "Bearer acefone-token"
    assert json.loads(sent.content) == {
        "agent_number": "1001",
        "destination_number": "9876543210",
        "async": "1",
        "custom_identifier": REF,
        "caller_id": "8062451617",
        "call_timeout": 600,
    }


async def test_acefone_refusals_and_faults(wire) -> None:  # noqa: ANN001
    http, _ = wire
    with pytest.raises(BusinessRefusal, match="destination_number"):  # the vendor says no to this call
        await AcefoneDialer(http, cfg("acefone")).initiate("1001", "12345", REF)
    with pytest.raises(ProviderError, match="503"):  # down: failover
        await AcefoneDialer(http, cfg("acefone")).initiate("1001", "9999912345", REF)
    with pytest.raises(ProviderError, match="credentials") as refused:  # our token refused: failover too
        await AcefoneDialer(http, cfg("acefone", "expired-token")).initiate("1001", "9876543210", REF)
    assert refused.value.status == 401
    with pytest.raises(ProviderError):  # keeps us waiting past our time-out
        await AcefoneDialer(http, cfg("acefone", timeout_seconds=0.2)).initiate("1001", "8888812345", REF)


def test_acefone_webhook_token() -> None:
    raw = json.dumps(fixture("acefone_webhook_hangup.json")).encode()
    assert acefone().verify_webhook({"x-webhook-token": SECRET}, raw, SECRET)
    assert not acefone().verify_webhook({"X-Webhook-Token": "forged"}, raw, SECRET)
    assert not acefone().verify_webhook({}, raw, SECRET)
    assert not acefone().verify_webhook({"X-Webhook-Token": ""}, raw, "")  # no secret configured: nothing verifies
    custom = acefone(webhook_header="X-Acefone-Key")
    assert custom.verify_webhook({"X-Acefone-Key": SECRET}, raw, SECRET)
    assert not custom.verify_webhook({"X-Webhook-Token": SECRET}, raw, SECRET)


def test_acefone_answered_and_hangup_examples() -> None:
    answered = acefone().parse_webhook(fixture("acefone_webhook_answered.json"))
    assert (answered.event, answered.status, answered.ref, answered.provider_call_id) == (
        "answered",
        ANSWERED,
        REF,
        "1758782566.8131",
    )
    assert answered.answered_at == datetime(2025, 9, 25, 12, 12, 54, tzinfo=IST)
    assert answered.ended_at is None

    hangup = acefone().parse_webhook(fixture("acefone_webhook_hangup.json"))
    assert (hangup.event, hangup.status, hangup.duration_seconds, hangup.hangup_cause) == (
        "hangup:answered",
        COMPLETED,
        42,
        "NORMAL_CLEARING",
    )
    assert hangup.ended_at == datetime(2025, 9, 25, 6, 43, 36, tzinfo=UTC)
    assert hangup.recording_url == "https://recordings.acefone.in/c2c/1758782566.8131.mp3"
    assert hangup.agent_number == "0602141810347"
    assert hangup.event_key != answered.event_key  # two triggers of one call: two events
    assert acefone().parse_webhook(fixture("acefone_webhook_hangup.json")).event_key == hangup.event_key  # a redelivery


@pytest.mark.parametrize(
    ("call_status", "cause", "status"),
    [
        ("missed", "NO_ANSWER", MISSED),
        ("missed", "USER_BUSY", BUSY),
        ("missed", "CALL_REJECTED", BUSY),
        ("missed", "UNALLOCATED_NUMBER", FAILED),
        ("missed", "disconnected_by_caller", MISSED),
        ("Missed", "", MISSED),
    ],
)
def test_acefone_unanswered_calls(call_status: str, cause: str, status: str) -> None:
    body = {
        **fixture("acefone_webhook_hangup.json"),
        "call_status": call_status,
        "hangup_cause": cause,
        "billsec": "0",
        "answer_stamp": "",
        "recording_url": "$recording_url",  # an unfilled variable is no value
    }
    if not cause:
        body.pop("hangup_cause")
    event = acefone().parse_webhook(body)
    assert (event.status, event.duration_seconds, event.answered_at, event.recording_url) == (status, 0, None, None)


def test_acefone_missed_stays_missed_whatever_the_stamps() -> None:
    """The agent's leg may have answer and end stamps; ``call_status`` missed says the customer never answered."""
    body = {
        **fixture("acefone_webhook_hangup.json"),
        "call_status": "missed",
        "billsec": "0",
        "hangup_cause": "NO_ANSWER",
    }
    event = acefone().parse_webhook(body)
    assert (event.status, event.duration_seconds, event.answered_at, event.event) == (MISSED, 0, None, "hangup:missed")
    unknown = {k: v for k, v in fixture("acefone_webhook_hangup.json").items() if k != "call_status"}
    assert acefone().parse_webhook(unknown).status == COMPLETED  # no call_status: billsec > 0 says answered


def test_acefone_fields_checked_at_the_door() -> None:
    hangup = fixture("acefone_webhook_hangup.json")
    for body, field in (
        ({k: v for k, v in hangup.items() if k not in ("call_id", "uuid")}, "call_id"),
        ({**hangup, "call_id": "x" * 101}, "call_id"),
        ({**hangup, "billsec": "12.5s"}, "billsec"),
        ({**hangup, "end_stamp": "yesterday"}, "end_stamp"),
    ):
        with pytest.raises(ValidationError) as refused:
            acefone().parse_webhook(body)
        assert refused.value.field == field
    # a recording URL that is not http(s) is dropped rather than shown to staff
    assert acefone().parse_webhook({**hangup, "recording_url": "javascript:alert(1)"}).recording_url is None


# --- Stringee ---------------------------------------------------------------------------------------------------------
def _b64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_stringee_rest_token() -> None:
    token = rest_token(SID, STRINGEE_SECRET, now=1_700_000_000)
    head, payload, sig = token.split(".")
    assert _b64url_json(head) == {"typ": "JWT", "alg": "HS256", "cty": "stringee-api;v=1"}
    claims = _b64url_json(payload)
    assert (claims["iss"], claims["exp"], claims["rest_api"]) == (SID, 1_700_003_600, True)
    assert claims["jti"].startswith(SID)
    mac = hmac.new(STRINGEE_SECRET.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == sig


async def test_stringee_callout_request(wire) -> None:  # noqa: ANN001
    http, seen = wire
    adapter = StringeeDialer(http, cfg("stringee", STRINGEE_SECRET, api_key_sid=SID, from_number="8062450000"))
    assert await adapter.initiate("9812345678", "9876543210", REF) is None
    sent = seen[-1]
    assert (sent.method, sent.url.path) == ("POST", "/stringee/v1/call2/callout")
    claims = _b64url_json(sent.headers["x-stringee-auth"].split(".")[1])
    assert claims["iss"] == SID and claims["rest_api"] is True
    body = json.loads(sent.content)
    party = lambda n: {"type": "external", "number": n, "alias": n}  # noqa: E731
    assert body == {
        "from": party("918062450000"),
        "to": [party("919812345678")],
        "actions": [
            {"action": "record", "format": "mp3"},
            {
                "action": "connect",
                "from": party("918062450000"),
                "to": party("919876543210"),
                "customData": REF,
                "timeout": 45,
            },
        ],
    }


async def test_stringee_refusals(wire) -> None:  # noqa: ANN001
    http, _ = wire
    no_from = StringeeDialer(http, cfg("stringee", STRINGEE_SECRET, api_key_sid=SID, from_number="x"))
    with pytest.raises(BusinessRefusal, match="r=2"):  # from.number empty: r != 0
        await no_from.initiate("9812345678", "9876543210", REF)
    with pytest.raises(BusinessRefusal, match="api_key_sid"):
        await StringeeDialer(http, cfg("stringee", STRINGEE_SECRET)).initiate("9812345678", "9876543210", REF)
    with pytest.raises(ProviderError, match="503"):
        await stringee_on(http).initiate("9812345678", "9999812345", REF)


def stringee_on(http: httpx.AsyncClient) -> StringeeDialer:
    return StringeeDialer(http, cfg("stringee", STRINGEE_SECRET, api_key_sid=SID, from_number="8062450000"))


def test_stringee_signature() -> None:
    raw = (FIXTURES / "stringee_call_event_ended.json").read_bytes()
    good = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha1).digest()).decode()
    assert signature(raw, SECRET) == good
    assert stringee().verify_webhook({"x-stringee-signature": good}, raw, SECRET)
    assert not stringee().verify_webhook({"X-STRINGEE-SIGNATURE": good}, raw + b" ", SECRET)  # tampered
    assert not stringee().verify_webhook({"X-STRINGEE-SIGNATURE": signature(raw, "other")}, raw, SECRET)
    assert not stringee().verify_webhook({}, raw, SECRET)


def test_stringee_documented_events() -> None:
    started = stringee().parse_webhook(fixture("stringee_call_event_started.json"))
    assert (started.status, started.provider_call_id, started.ref) == (
        RINGING,
        "call-vn-1-ZD3IDIXS1J-1515820305477",
        "CLIENT_CUSTOM_DATA",
    )
    assert started.started_at == datetime.fromtimestamp(1515859261.381, UTC)
    ended = stringee().parse_webhook(fixture("stringee_call_event_ended.json"))
    assert (ended.status, ended.duration_seconds, ended.hangup_cause, ended.recording_url, ended.ref) == (
        BUSY,
        0,
        "486 Busy Here",
        None,
        None,
    )
    talked = stringee().parse_webhook({**fixture("stringee_call_event_ended.json"), "answerDuration": 35})
    assert (talked.status, talked.duration_seconds) == (COMPLETED, 35)
    assert talked.recording_url == "http://sbx/stringee/v1/call/recording/call-vn-1-ZD3IDIXS1J-1515820305478"
    assert talked.answered_at == talked.ended_at - timedelta(seconds=35)  # type: ignore[operator]
    for cause, status in (("480 Temporarily Unavailable", MISSED), ("603 Decline", BUSY), ("404 Not Found", FAILED)):
        assert (
            stringee().parse_webhook({**fixture("stringee_call_event_ended.json"), "endCallCause": cause}).status
            == status
        )
    with pytest.raises(ValidationError) as refused:
        stringee().parse_webhook({**fixture("stringee_call_event_started.json"), "call_status": "exploded"})
    assert refused.value.field == "call_status"
    with pytest.raises(ValidationError) as refused:
        stringee().parse_webhook({**fixture("stringee_call_event_started.json"), "timestamp_ms": "soon"})
    assert refused.value.field == "timestamp_ms"


# --- the sandbox sends the documented shapes -----------------------------------------------------------------------
def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


def _sandbox_call(vendor: str, customer: str) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(seconds=60)
    return {
        "vendor": vendor,
        "call_id": "1758782566.8131" if vendor == "acefone" else "call-vn-1-ABCDEFGHIJ-1515820305477",
        "uuid": "a3c1f0d2-6b7e-4f58-9d0c-2e4b5a6c7d8e",
        "ref": REF,
        "agent": "1001",
        "customer": customer,
        "caller_id": "8062451617",
        "from": "918062450000",
        "account_sid": "ACsandbox",
        "started": started,
        "answered": started + timedelta(seconds=8),
        "outcome": sandbox_dialer.scenario(customer),
        "talk": sandbox_dialer.talk_seconds(customer),
    }


def test_sandbox_events_have_the_documented_shape() -> None:
    call = _sandbox_call("stringee", "919876543210")
    documented = shape(fixture("stringee_call_event_ended.json"))
    assert shape(sandbox_dialer.stringee_ended(call)) == documented
    started = shape(fixture("stringee_call_event_started.json"))
    assert shape(sandbox_dialer.stringee_answered(call)) == {**started}  # the same keys as any state change
    ended = stringee().parse_webhook(sandbox_dialer.stringee_ended(call))
    assert (ended.status, ended.duration_seconds, ended.ref) == (COMPLETED, call["talk"], REF)

    call = _sandbox_call("acefone", "9876543210")
    assert shape(sandbox_dialer.acefone_hangup(call, "http://sbx")) == shape(fixture("acefone_webhook_hangup.json"))
    assert shape(sandbox_dialer.acefone_answered(call)) == shape(fixture("acefone_webhook_answered.json"))
    hangup = acefone().parse_webhook(sandbox_dialer.acefone_hangup(call, "http://sbx"))
    assert (hangup.status, hangup.duration_seconds, hangup.ref) == (COMPLETED, call["talk"], REF)
    busy = acefone().parse_webhook(sandbox_dialer.acefone_hangup(_sandbox_call("acefone", "9876540003"), "x"))
    missed = acefone().parse_webhook(sandbox_dialer.acefone_hangup(_sandbox_call("acefone", "9876540002"), "x"))
    assert (busy.status, missed.status, missed.recording_url) == (BUSY, MISSED, None)


def test_numbers_are_masked_before_they_are_stored() -> None:
    assert mask_number("9876543210") == "XXXXXX3210"
    stored = mask_payload(fixture("acefone_webhook_hangup.json"))
    assert stored["call_to_number"] == "XXXXXX3210" and stored["caller_id_number"] == "XXXXXX1617"
    assert stored["call_id"] == "1758782566.8131" and stored["start_stamp"] == "2025-09-25 12:12:46"
    assert "9876543210" not in json.dumps(stored)
    stored = mask_payload(fixture("stringee_call_event_started.json"))
    assert stored["to"] == {"number": "XXXXXXX5668", "alias": "XXXXXXX5668", "is_online": False, "type": "external"}
    assert stored["call_id"] == "call-vn-1-ZD3IDIXS1J-1515820305477" and stored["timestamp_ms"] == 1515859261381
    assert mask_payload({"note": "919876543210", "list": ["+919876543210"]}) == {
        "note": "XXXXXXXX3210",
        "list": ["XXXXXXXXX3210"],
    }


# --- failover ---------------------------------------------------------------------------------------------------------
def _brand(acefone_key: str = "acefone-token", acefone_ext: bool = True, **acefone_options: Any) -> dict[str, Any]:
    ext = {f"extension.{AGENT.email}": "1001"} if acefone_ext else {}
    return {
        "providers": {
            "dialer": [
                {"vendor": "acefone", "base_url": "http://sbx", "api_key": acefone_key, "primary": True,
                 **ext, **acefone_options},
                {"vendor": "stringee", "base_url": "http://sbx", "api_key": STRINGEE_SECRET, "api_key_sid": SID,
                 "from_number": "8062450000"},
            ]
        }
    }  # fmt: skip


async def test_failover_from_acefone_to_stringee(wire) -> None:  # noqa: ANN001
    http, seen = wire
    placed = await place_call(_brand(), http, AGENT, "9876543210", REF)
    assert (placed.vendor, placed.agent_number, [a["outcome"] for a in placed.attempts]) == ("acefone", "1001", ["ok"])

    for brand, why in (
        (_brand(), "down"),  # Acefone answers 503
        (_brand("expired-token"), "credentials"),  # Acefone refuses our token
        (_brand(acefone_ext=False), "no extension"),  # Acefone has no extension for this agent
        (_brand(timeout_seconds=0.2), "time-out"),
    ):
        number = {"down": "9999912345", "time-out": "8888812345"}.get(why, "9876543210")
        placed = await place_call(brand, http, AGENT, number, REF)
        assert placed.vendor == "stringee", why
        assert placed.agent_number == "9812345678"  # Stringee rings the agent's own phone
        assert [a["vendor"] for a in placed.attempts] == ["acefone", "stringee"], why
        assert seen[-1].url.path == "/stringee/v1/call2/callout"

    with pytest.raises(ProviderError) as down:  # both down: the caller answers 503
        await place_call(_brand(), http, AGENT, "9999812345", REF)
    assert [a["outcome"] for a in down.value.attempts] == ["error", "error"]
    with pytest.raises(BusinessRefusal) as refused:  # a refusal stops at once: Stringee would be asked the same
        await place_call(_brand(), http, AGENT, "12345", REF)
    assert [a["vendor"] for a in refused.value.attempts] == ["acefone"]
