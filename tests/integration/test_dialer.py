"""The dialer over real HTTP (API, sandbox dialers, PostgreSQL): staff click to call, the vendor (the sandbox's
Acefone, or Stringee when Acefone is down) bridges the call and sends its signed events to the brand's webhook, and
the call log, its events and the stats read back through the API — answered, not answered, busy, out of order,
ended by staff, never placed. Forged events are refused and store nothing; a redelivered event is stored once;
another brand's staff see none of it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.partner import dialer as dialer_api
from db.models import Customer, DialerCall, DialerCallEvent, Loan, LoanProduct
from los.demo import Driver
from los.seed import SANDBOX_SECRET, seed_brand, staff_email
from sandbox import dialer as sandbox_dialer
from tests.conftest import eventually

EXTENSION = "1001"
AGENT_PHONE = "919812345678"
MIDDAY_IST = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 12:00 IST


@pytest.fixture(autouse=True)
def in_calling_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """A borrower in arrears is called only from 08:00 to 19:00 IST (domain.contact_hours); these tests run at any
    hour, so the API's clock reads midday IST unless a test moves it."""
    monkeypatch.setattr(dialer_api, "_now", lambda: MIDDAY_IST)


@dataclass
class Dialing:
    """A brand whose dialers are the sandbox's: Acefone (primary) and Stringee, with their webhooks registered."""

    driver: Driver
    brand_id: str
    staff: dict[str, str]  # role → staff id
    acefone_key: str
    stringee_sid: str

    @property
    def base(self) -> str:
        return f"/api/v1/partner/brand/{self.brand_id}/acefone/dialer"

    async def headers(self, role: str = "COLLECTION_EXECUTIVE") -> dict[str, str]:
        return await self.driver.staff_headers(role)

    async def call(self, customer_id: str, role: str = "COLLECTION_EXECUTIVE", **body: Any) -> httpx.Response:
        return await self.driver.api.post(
            f"{self.base}/initiate", json={"userId": customer_id, **body}, headers=await self.headers(role)
        )

    async def get(self, path: str, role: str = "COLLECTION_EXECUTIVE", **params: Any) -> dict[str, Any]:
        resp = await self.driver.api.get(f"{self.base}/{path}", headers=await self.headers(role), params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def settled(self, call_id: str, *statuses: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            call = await self.get(f"call/{call_id}")
            return call if call["status"] in statuses else None

        return await eventually(check, timeout=20)


async def _dialing(app, brand: dict, sandbox) -> Dialing:  # noqa: ANN001
    """Configure the brand's dialers through the settings API (the admin's Acefone and Stringee configuration:
    credentials, the agents' extensions) and register the brand's webhook URLs at the sandbox vendors."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    staff = {u["role"]: u["id"] for u in brand["staff"]}
    executive = staff_email("COLLECTION_EXECUTIVE", brand["brand_code"])
    manager = staff_email("COLLECTION_MANAGER", brand["brand_code"])
    acefone_key, sid = f"acefone-{uuid.uuid4().hex}", f"SK.0.{uuid.uuid4().hex}"
    settings = {
        "vendors": [
            {
                "vendor": "acefone",
                "baseUrl": sandbox.url,
                "apiKey": acefone_key,
                "webhookSecret": SANDBOX_SECRET,
                "options": {
                    f"extension.{executive}": EXTENSION,
                    f"extension.{manager}": "1002",
                    "caller_id": "8062451617",
                    "timeout_seconds": 1,
                },
            },
            {
                "vendor": "stringee",
                "baseUrl": sandbox.url,
                "apiKey": f"stringee-secret-{uuid.uuid4().hex}",
                "webhookSecret": SANDBOX_SECRET,
                "options": {"api_key_sid": sid, "from_number": "8062450000", f"extension.{executive}": AGENT_PHONE},
            },
        ],
        "primary": "acefone",
    }
    resp = await driver.api.put(
        f"/api/v1/partner/brand/{brand['brand_id']}/settings/providers/dialer",
        json=settings,
        headers=await driver.staff_headers("ADMIN"),
    )
    assert resp.status_code == 200, resp.text
    hooks = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}"
    for vendor, account in (("acefone", acefone_key), ("stringee", sid)):
        registered = await driver.sandbox.put(
            f"/_dialer/webhooks/{vendor}", json={"url": f"{hooks}/{vendor}", "account": account}
        )
        registered.raise_for_status()
    return Dialing(driver, brand["brand_id"], staff, acefone_key, sid)


def _customer(db, brand_id: str, phone: str, with_loan: bool = False) -> tuple[str, str | None]:  # noqa: ANN001
    """A customer of the brand with this phone (and a disbursed loan of theirs)."""
    with db.unit_of_work() as s:
        customer = Customer(brand_id=brand_id, phone=phone, phone_verified=True, full_name="Dialer Test")
        s.add(customer)
        s.flush()
        loan_id = None
        if with_loan:
            product = s.scalars(
                select(LoanProduct).where(LoanProduct.brand_id == brand_id, LoanProduct.code == "PL-MONTHLY")
            ).one()
            loan = Loan(
                brand_id=brand_id,
                customer_id=customer.id,
                product_id=product.id,
                workflow_id=f"loan-dialer-{uuid.uuid4().hex}",
                amount=50_000_00,
                tenure=6,
                annual_rate_bps=2400,
                status="OVERDUE",
            )
            s.add(loan)
            s.flush()
            loan_id = loan.id
        return customer.id, loan_id


def _events(db, call_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(DialerCallEvent).where(DialerCallEvent.call_id == call_id))


async def _deliveries(dialing: Dialing, vendor: str) -> list[dict[str, Any]]:
    """The sandbox's deliveries of ``vendor`` events to this brand's webhook."""
    sent = (await dialing.driver.sandbox.get("/_webhooks")).json()
    return [w for w in sent if w["vendor"] == vendor and dialing.brand_id in w["url"]]


def _sandbox_like(call_id: str) -> dict[str, Any]:
    """What the sandbox's Acefone keeps of a call it placed, for a hand-made event about it."""
    started = datetime.now(UTC) - timedelta(seconds=60)
    return {
        "call_id": f"{int(started.timestamp())}.4242",
        "uuid": str(uuid.uuid4()),
        "ref": call_id,
        "agent": EXTENSION,
        "customer": "9876540006",
        "caller_id": "8062451617",
        "started": started,
        "answered": started + timedelta(seconds=8),
    }


async def test_a_click_to_call_becomes_the_call_log(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Acefone bridges the agent's extension and the customer; the answered and hangup events become the call log:
    status, times, talk time, recording, linked to the customer, the loan and the agent; lists and stats."""
    dialing = await _dialing(app, brand, sandbox)
    customer_id, loan_id = _customer(db, brand["brand_id"], "9876543210", with_loan=True)
    executive = dialing.staff["COLLECTION_EXECUTIVE"]
    try:
        resp = await dialing.call(customer_id, loanId=loan_id, brandId=brand["brand_id"])
        assert resp.status_code == 200, resp.text
        placed = resp.json()
        assert (placed["status"], placed["provider"], placed["agentNumber"], placed["staffId"]) == (
            "INITIATED",
            "acefone",
            EXTENSION,
            executive,
        )
        assert (placed["customerId"], placed["loanId"], placed["customerNumberMasked"]) == (
            customer_id,
            loan_id,
            "XXXXXX3210",
        )
        assert [(a["vendor"], a["outcome"]) for a in placed["attempts"]] == [("acefone", "ok")]

        call = await dialing.settled(placed["id"], "COMPLETED")
        talk = sandbox_dialer.talk_seconds("9876543210")
        assert call["durationSeconds"] == talk
        assert call["answeredAt"] and call["endedAt"] and call["providerCallId"]
        assert call["recordingUrl"] == f"{sandbox.url}/acefone/recordings/{call['providerCallId']}.mp3"
        assert call["hangupCause"] == "NORMAL_CLEARING"
        # the two events in either order: the vendor's deliveries may arrive out of order (a busy receiver)
        events = {e["event"]: e for e in call["events"]}
        assert sorted(events) == ["answered", "hangup:answered"] and len(call["events"]) == 2
        assert "9876543210" not in json.dumps(call)  # the number is kept masked, in the events too
        assert events["hangup:answered"]["payload"]["call_to_number"] == "XXXXXX3210"
        recording = await dialing.driver.sandbox.get(call["recordingUrl"])
        assert recording.status_code == 200 and recording.headers["content-type"] == "audio/mpeg"
        with db.unit_of_work() as s:
            row = s.get_one(DialerCall, placed["id"])
            assert row.customer_number_masked == "XXXXXX3210" and row.staff_id == executive

        mine = await dialing.get(f"user/{customer_id}/calls")
        assert (mine["total"], mine["items"][0]["id"]) == (1, placed["id"])
        assert (await dialing.get(f"user/{customer_id}/calls", loanId=loan_id))["total"] == 1
        assert (await dialing.get(f"user/{customer_id}/calls", status="MISSED"))["total"] == 0
        theirs = await dialing.get(f"partner/{executive}/calls", role="COLLECTION_MANAGER")
        assert [c["id"] for c in theirs["items"]] == [placed["id"]]

        for path in (f"user/{customer_id}/stats", f"partner/{executive}/stats"):
            stats = await dialing.get(path)
            assert (stats["total"], stats["answered"], stats["answeredRate"]) == (1, 1, 1.0)
            assert (stats["totalTalkSeconds"], stats["averageTalkSeconds"]) == (talk, talk)
            assert stats["byStatus"]["COMPLETED"] == 1 and stats["byStatus"]["MISSED"] == 0
        assert (await dialing.get(f"partner/{executive}/stats", **{"from": "2000-01-01", "to": "2000-01-31"}))[
            "total"
        ] == 0
    finally:
        await dialing.driver.close()


async def test_unanswered_busy_out_of_order_and_ended_by_staff(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The customer does not answer (MISSED), is busy (BUSY); events out of order and redelivered leave the call
    COMPLETED with its events stored once; a call nobody reports on is ended by the agent (MISSED,
    ENDED_BY_STAFF), once; the stats count it all."""
    dialing = await _dialing(app, brand, sandbox)
    try:
        ids = {}
        for phone in ("9876540002", "9876540003", "9876540005", "9876540006"):
            customer_id, _ = _customer(db, brand["brand_id"], phone)
            resp = await dialing.call(customer_id)
            assert resp.status_code == 200, resp.text
            ids[phone] = resp.json()["id"]

        missed = await dialing.settled(ids["9876540002"], "MISSED")
        assert (missed["hangupCause"], missed["durationSeconds"], missed["answeredAt"]) == ("NO_ANSWER", 0, None)
        assert missed["recordingUrl"] is None
        busy = await dialing.settled(ids["9876540003"], "BUSY")
        assert busy["hangupCause"] == "USER_BUSY"

        # hangup, then the answer, then the hangup again: COMPLETED, the late answer and the repeat change nothing
        async def three_delivered() -> bool:
            mine = [
                w
                for w in await _deliveries(dialing, "acefone")
                if w["payload"]["custom_identifier"] == ids["9876540005"]
            ]
            return len(mine) == 3 and all(w["status"] == 200 for w in mine)

        await eventually(three_delivered, timeout=20)
        late = await dialing.get(f"call/{ids['9876540005']}")
        assert (late["status"], late["durationSeconds"]) == ("COMPLETED", sandbox_dialer.talk_seconds("9876540005"))
        assert [e["event"] for e in late["events"]] == ["hangup:answered", "answered"]
        assert _events(db, ids["9876540005"]) == 2

        silent = await dialing.get(f"call/{ids['9876540006']}")
        assert silent["status"] == "INITIATED"
        end = f"{dialing.base}/call/{ids['9876540006']}/end"
        other = await dialing.driver.api.patch(end, headers=await dialing.headers("LOAN_EXECUTIVE"))
        assert other.status_code == 403, other.text  # not their call, not a collections manager
        ended = await dialing.driver.api.patch(end, headers=await dialing.headers())
        assert ended.status_code == 200, ended.text
        assert (ended.json()["status"], ended.json()["hangupCause"]) == ("MISSED", "ENDED_BY_STAFF")
        again = await dialing.driver.api.patch(end, headers=await dialing.headers())
        assert again.status_code == 200 and again.json()["endedAt"] == ended.json()["endedAt"]  # once
        stats = await dialing.get(f"partner/{dialing.staff['COLLECTION_EXECUTIVE']}/stats")
        assert {k: v for k, v in stats["byStatus"].items() if v} == {"MISSED": 2, "BUSY": 1, "COMPLETED": 1}

        # the vendor's own hangup, when it comes, has the last word over the agent's end: it was answered, 12 s
        answered_late = {**_sandbox_like(ids["9876540006"]), "outcome": sandbox_dialer.ANSWERED, "talk": 12}
        late_hangup = sandbox_dialer.acefone_hangup(answered_late, sandbox.url)
        async with httpx.AsyncClient(timeout=10) as http:
            hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/acefone"
            token = {"Content-Type": "application/json", "X-Webhook-Token": SANDBOX_SECRET}
            resp = await http.post(hook, content=json.dumps(late_hangup), headers=token)
            assert resp.status_code == 200 and resp.json()["status"] == "recorded", resp.text
        final = await dialing.get(f"call/{ids['9876540006']}")
        assert (final["status"], final["durationSeconds"], final["hangupCause"]) == ("COMPLETED", 12, "NORMAL_CLEARING")

        stats = await dialing.get(f"partner/{dialing.staff['COLLECTION_EXECUTIVE']}/stats")
        assert stats["total"] == 4 and stats["answered"] == 2 and stats["answeredRate"] == 0.5
        assert {k: v for k, v in stats["byStatus"].items() if v} == {"MISSED": 1, "BUSY": 1, "COMPLETED": 2}
        talk = sandbox_dialer.talk_seconds("9876540005") + 12
        assert (stats["totalTalkSeconds"], stats["averageTalkSeconds"]) == (talk, round(talk / 2))
    finally:
        await dialing.driver.close()


async def test_stringee_takes_the_call_when_acefone_is_down(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Acefone answers 503, or keeps us waiting: Stringee rings the agent's phone and bridges the customer, its
    signed events complete the call. Both down: 503, and the call is kept FAILED with why. A manager may call for an
    agent; a loan executive may not."""
    dialing = await _dialing(app, brand, sandbox)
    try:
        for phone in ("9999912345", "8888812345"):
            customer_id, _ = _customer(db, brand["brand_id"], phone)
            resp = await dialing.call(customer_id)
            assert resp.status_code == 200, resp.text
            placed = resp.json()
            assert (placed["provider"], placed["agentNumber"]) == ("stringee", AGENT_PHONE)
            assert [(a["vendor"], a["outcome"]) for a in placed["attempts"]] == [
                ("acefone", "error"),
                ("stringee", "ok"),
            ]
            call = await dialing.settled(placed["id"], "COMPLETED")
            assert call["durationSeconds"] == sandbox_dialer.talk_seconds(phone)
            assert call["providerCallId"].startswith("call-vn-1-")
            assert call["recordingUrl"] == f"{sandbox.url}/stringee/v1/call/recording/{call['providerCallId']}"
            assert [e["event"] for e in call["events"]] == ["answered", "ended"]

        customer_id, _ = _customer(db, brand["brand_id"], "9999812345")
        down = await dialing.call(customer_id)
        assert down.status_code == 503, down.text
        failed = (await dialing.get(f"user/{customer_id}/calls"))["items"]
        assert [(c["status"], c["hangupCause"][:10]) for c in failed] == [("FAILED", "NOT_PLACED")]

        customer_id, _ = _customer(db, brand["brand_id"], "9876541111")
        executive = dialing.staff["COLLECTION_EXECUTIVE"]
        for_agent = await dialing.call(customer_id, role="COLLECTION_MANAGER", partnerUserId=executive)
        assert for_agent.status_code == 200, for_agent.text
        assert (for_agent.json()["staffId"], for_agent.json()["agentNumber"]) == (executive, EXTENSION)
        refused = await dialing.call(customer_id, role="LOAN_EXECUTIVE", partnerUserId=executive)
        assert refused.status_code == 403, refused.text
        no_extension = await dialing.call(customer_id, role="CREDIT_EXECUTIVE")  # no extension, no phone anywhere
        assert no_extension.status_code == 409, no_extension.text
    finally:
        await dialing.driver.close()


async def test_forged_events_are_refused_and_repeats_stored_once(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """A hangup redelivered is stored once; a forged one (wrong token, wrong signature) answers 401 and stores
    nothing; a malformed one 422; one naming no call of the brand is kept unmatched."""
    dialing = await _dialing(app, brand, sandbox)
    try:
        customer_id, _ = _customer(db, brand["brand_id"], "9876543212")
        placed = (await dialing.call(customer_id)).json()
        await dialing.settled(placed["id"], "COMPLETED")
        hangup = next(
            w
            for w in await _deliveries(dialing, "acefone")
            if w["payload"]["custom_identifier"] == placed["id"] and "end_stamp" in w["payload"]
        )
        hook = hangup["url"]
        stored = _events(db, placed["id"])
        async with httpx.AsyncClient(timeout=10) as http:
            again = await http.post(hook, content=json.dumps(hangup["payload"]), headers=hangup["headers"])
            assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
            assert _events(db, placed["id"]) == stored

            forged_payload = {**hangup["payload"], "uuid": str(uuid.uuid4()), "call_status": "missed", "billsec": "0"}
            for headers in ({"X-Webhook-Token": "guessed"}, {}):
                forged = await http.post(
                    hook, content=json.dumps(forged_payload), headers={"Content-Type": "application/json", **headers}
                )
                assert forged.status_code == 401, forged.text
            assert _events(db, placed["id"]) == stored
            assert (await dialing.get(f"call/{placed['id']}"))["status"] == "COMPLETED"

            token = {"Content-Type": "application/json", "X-Webhook-Token": SANDBOX_SECRET}
            malformed = await http.post(hook, content=json.dumps({"call_status": "missed"}), headers=token)
            assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "call_id"
            stranger = {**forged_payload, "call_id": "1700000000.1", "custom_identifier": str(uuid.uuid4())}
            unmatched = await http.post(hook, content=json.dumps(stranger), headers=token)
            assert unmatched.status_code == 200 and unmatched.json()["status"] == "unmatched", unmatched.text

            stringee_hook = hook.replace("/acefone", "/stringee")
            body = json.dumps({"call_status": "ended", "call_id": "call-vn-1-X", "timestamp_ms": 1}).encode()
            bad = await http.post(
                stringee_hook,
                content=body,
                headers={"Content-Type": "application/json", "X-STRINGEE-SIGNATURE": "AA=="},
            )
            assert bad.status_code == 401, bad.text
        assert _events(db, placed["id"]) == stored
    finally:
        await dialing.driver.close()


async def test_another_brand_sees_none_of_it(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Brand B's staff cannot read brand A's calls, customers or agents (404 through either brand's path), and A's
    events posted to B's webhook find nothing (unmatched: no call of B's has that id)."""
    dialing = await _dialing(app, brand, sandbox)
    code_b = f"b{uuid.uuid4().hex[:7]}"
    brand_b = seed_brand(db, sandbox.url, code=code_b)
    driver_b = Driver(app.api.url, sandbox.url, code_b)
    try:
        customer_id, _ = _customer(db, brand["brand_id"], "9876543213")
        placed = (await dialing.call(customer_id)).json()
        await dialing.settled(placed["id"], "COMPLETED")
        executive = dialing.staff["COLLECTION_EXECUTIVE"]
        headers_b = await driver_b.staff_headers("COLLECTION_MANAGER")
        for brand_id in (brand_b["brand_id"], brand["brand_id"]):
            base = f"/api/v1/partner/brand/{brand_id}/acefone/dialer"
            for path in (
                f"call/{placed['id']}",
                f"user/{customer_id}/calls",
                f"user/{customer_id}/stats",
                f"partner/{executive}/calls",
                f"partner/{executive}/stats",
            ):
                resp = await driver_b.api.get(f"{base}/{path}", headers=headers_b)
                assert resp.status_code == 404, (brand_id, path, resp.text)
                assert placed["id"] not in resp.text.replace(resp.request.url.path, "")
            ended = await driver_b.api.patch(f"{base}/call/{placed['id']}/end", headers=headers_b)
            assert ended.status_code == 404, ended.text
            calling = await driver_b.api.post(f"{base}/initiate", json={"userId": customer_id}, headers=headers_b)
            assert calling.status_code == 404, calling.text
        delivered = (await _deliveries(dialing, "acefone"))[-1]
        async with httpx.AsyncClient(timeout=10) as http:
            elsewhere = delivered["url"].replace(brand["brand_id"], brand_b["brand_id"])
            resp = await http.post(elsewhere, content=json.dumps(delivered["payload"]), headers=delivered["headers"])
            # B's dialer (the seed gives every brand one) knows no such call: stored for ops, A's call untouched
            assert resp.status_code == 200 and resp.json()["status"] == "unmatched", resp.text
        with db.unit_of_work() as s:
            assert (
                s.scalar(select(func.count()).select_from(DialerCall).where(DialerCall.brand_id == brand_b["brand_id"]))
                == 0
            )
    finally:
        await dialing.driver.close()
        await driver_b.close()


async def test_the_seeded_brand_dials_as_it_comes(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """`los up`'s demo brand needs no set-up to call: the seed configures Acefone with the collectors' extensions and
    tells the sandbox where call events go; the call ends COMPLETED with its recording."""
    from los.seed import DIALER_EXTENSIONS, register_dialer_webhooks

    register_dialer_webhooks(sandbox.url, app.api.url, brand["brand_id"])
    customer_id, loan_id = _customer(db, brand["brand_id"], "9876541234", with_loan=True)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers = await driver.staff_headers("COLLECTION_EXECUTIVE")
        base = f"/api/v1/partner/brand/{brand['brand_id']}/acefone/dialer"
        resp = await driver.api.post(
            f"{base}/initiate", json={"userId": customer_id, "loanId": loan_id}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        placed = resp.json()
        assert (placed["provider"], placed["agentNumber"]) == ("acefone", DIALER_EXTENSIONS["COLLECTION_EXECUTIVE"])
        deadline = time.monotonic() + 20
        while True:
            call = (await driver.api.get(f"{base}/call/{placed['id']}", headers=headers)).json()
            if call["status"] == "COMPLETED" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert call["status"] == "COMPLETED" and call["recordingUrl"], call
    finally:
        await driver.close()


async def test_a_borrower_in_arrears_is_called_only_from_8_to_19_ist(app, brand, sandbox, db, monkeypatch) -> None:  # noqa: ANN001
    """RBI's rule for recovery calls (12 August 2022): a borrower whose loan is OVERDUE is not called before 08:00 or
    from 19:00 IST. Outside the window the click-to-call is refused (409 naming userId, with when it opens next) and
    nothing is logged or rung; a customer not in arrears may be called then; at 18:59 the borrower is."""
    dialing = await _dialing(app, brand, sandbox)
    in_arrears, loan_id = _customer(db, brand["brand_id"], "9876545550", with_loan=True)
    current, _ = _customer(db, brand["brand_id"], "9876545551")

    async def rung() -> int:  # the sandbox dialers' calls to the borrower's number (kept masked there)
        taken = (await dialing.driver.sandbox.get("/_dialer/calls")).json()
        return sum(1 for c in taken if str(c["customer"]).endswith("5550"))

    try:
        for at, now, opens in (
            (datetime(2026, 12, 7, 13, 30, tzinfo=UTC), "19:00", "08 Dec 2026 08:00"),  # 19:00 IST
            (datetime(2026, 12, 7, 2, 29, tzinfo=UTC), "07:59", "07 Dec 2026 08:00"),  # 07:59 IST
        ):
            monkeypatch.setattr(dialer_api, "_now", lambda at=at: at)
            resp = await dialing.call(in_arrears, loanId=loan_id)
            assert resp.status_code == 409, resp.text
            body = resp.json()
            assert body["errors"][0]["field"] == "userId"
            assert "only between 08:00 and 19:00 IST" in body["message"]
            assert f"it is {now} IST now, next from {opens} IST" in body["message"]
            resp = await dialing.call(in_arrears)  # naming no loan changes nothing: the borrower is in arrears
            assert resp.status_code == 409, resp.text
        written_off, loan_wo = _customer(db, brand["brand_id"], "9876545552", with_loan=True)
        with db.unit_of_work() as s:
            s.get_one(Loan, loan_wo).status = "WRITTEN_OFF"  # still owed: a recovery call
        resp = await dialing.call(written_off, loanId=loan_wo)
        assert resp.status_code == 409 and resp.json()["errors"][0]["field"] == "userId", resp.text
        with db.unit_of_work() as s:
            logged = s.scalar(
                select(func.count())
                .select_from(DialerCall)
                .where(DialerCall.customer_id.in_([in_arrears, written_off]))
            )
        assert logged == 0
        assert await rung() == 0

        resp = await dialing.call(current)  # 07:59 IST, but not about overdue dues
        assert resp.status_code == 200, resp.text

        monkeypatch.setattr(dialer_api, "_now", lambda: datetime(2026, 12, 7, 13, 29, tzinfo=UTC))  # 18:59 IST
        resp = await dialing.call(in_arrears, loanId=loan_id)
        assert resp.status_code == 200, resp.text
        assert (await dialing.get(f"user/{in_arrears}/calls"))["total"] == 1
        assert await rung() == 1
    finally:
        await dialing.driver.close()
