"""A partner that failed or lost its disbursal of a booked loan, over the real database, the real worker and the
sandbox's partner twins over HTTP: the scheduled watch (``PartnerDisbursalWatchWorkflow``) asks past the DISBURSAL
SLA, re-sends the disbursal request once per case under the partner's own idempotency reference (the twin pays
once), records the re-send on the case and alerts loan ops; the partner's UTR then arrives by its signed callback
at ``/api/v1/webhooks/{brandId}/partner/{code}`` (or by its status API); a partner that fails again is escalated.
The older callback path still answers; a forged callback is refused."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from activities.partners import DisbursalResend, PartnerActivities
from activities.providers.partners.base import hmac_hex
from db.models import PartnerDisbursal, PartnerDisbursalResend
from los.demo import Driver
from tests.conftest import eventually, record_histories
from tests.integration.test_partner_disbursal_watch import (
    _alerts,
    _booked_loan,
    _case,
    _confirmed,
    _disbursed,
    _partner,
)
from workflows.partner_disbursal_watch import PartnerDisbursalWatchWorkflow

SECRET = "sandbox-partner-secret"  # noqa: S105 - the sandbox twins' published test secret


def _overdue(db, case_id: str) -> None:  # noqa: ANN001
    """The case due an hour ago (its loan disbursed two hours ago), and due for a recheck now."""
    with db.unit_of_work() as s:
        row = s.get_one(PartnerDisbursal, case_id)
        now = datetime.now(UTC)
        row.disbursed_at, row.due_at = now - timedelta(hours=2), now - timedelta(hours=1)
        if row.next_check_at is not None:
            row.next_check_at = now - timedelta(seconds=1)


def _resend(db, case_id: str) -> PartnerDisbursalResend | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(select(PartnerDisbursalResend).where(PartnerDisbursalResend.case_id == case_id)).first()
        if row is not None:
            s.expunge(row)
        return row


async def _watch(app, record: str | None = None) -> dict:  # noqa: ANN001
    workflow_id = f"partner-disbursal-watch-{os.urandom(4).hex()}"
    counts = await app.client.execute_workflow(
        PartnerDisbursalWatchWorkflow.run, id=workflow_id, task_queue=app.task_queue
    )
    if record and os.environ.get("LOS_RECORD_HISTORIES"):  # tests/histories/<record>_1.json (the replay suite)
        await record_histories(app.client, workflow_id, record)
    return counts


async def _booking(box: httpx.AsyncClient, partner: str, loan_id: str) -> dict:
    listed = (await box.get("/_partners/disbursals")).json()["bookings"]
    return next(b for b in listed if b["partner"] == partner and loan_id in b["reference"])


def _signed(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"content-type": "application/json", "X-Kavach-Timestamp": stamp,
            "X-Kavach-Signature": hmac_hex(secret, stamp, raw)}  # fmt: skip


async def test_a_failed_disbursal_is_resent_once_and_its_utr_comes_by_the_signed_callback(app, brand, sandbox, db) -> (  # noqa: ANN001
    None
):
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        failed = {"partner": "kavach", "reference": loan_id, "status": "FAILED"}
        assert (await box.post("/_partners/disbursals", json=failed)).status_code == 200
        _disbursed(db, loan_id, timedelta(minutes=5))
        await _watch(app)  # opens the case, within its SLA
        case = _case(db, loan_id)
        _overdue(db, case.id)
        counts = await _watch(app, record="partner_disbursal_resend")
        assert counts["resent"] >= 1
        case = _case(db, loan_id)
        # Kavach said FAILED: breached, not escalated (the re-send is its follow-up), the re-send recorded once.
        assert (case.state, case.checks, case.breached, case.escalated_at) == ("BREACHED", 1, True, None)
        assert [e["status"] for e in case.check_log] == ["FAILED", "RESENT"]
        resend = _resend(db, case.id)
        assert resend is not None and (resend.status, resend.reason, resend.attempts) == ("ACCEPTED", "FAILED", 1)
        assert resend.reference == f"{case.our_reference}:resend"
        assert set(_alerts(db, brand["brand_id"], loan_id)) == {"partner_disbursal_breach", "partner_disbursal_resend"}
        booking = await _booking(box, "kavach", loan_id)
        assert (booking["resendCalls"], booking["resendPayouts"], booking["resend_reference"]) == (
            1, 1, resend.reference,
        )  # fmt: skip
        # The activity again (a retry after its answer was lost, say): nothing sent, nothing paid twice.
        async with httpx.AsyncClient(timeout=30) as http:
            again = await PartnerActivities(db, http).partner_disbursal_resend(
                DisbursalResend(case.id, loan_id, "kavach", "FAILED")
            )
        assert again.status == "SKIPPED"
        assert (await _booking(box, "kavach", loan_id))["resendPayouts"] == 1
        # Loan ops see it among the open cases, with its re-send.
        driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
        try:
            rows = await driver.partner("LOAN_EXECUTIVE", "GET", "/partner-lenders/disbursals")
            row = next(r for r in rows if r["loanId"] == loan_id)
            assert (row["state"], row["partnerCode"], row["lastAnswer"], row["resend"]["status"]) == (
                "BREACHED", "kavach", "RESENT", "ACCEPTED",
            )  # fmt: skip
            assert row["overdueSeconds"] >= 3590 and row["slaSeconds"] == 3600
            # The re-sent disbursal is paid; Kavach's signed callback reaches the webhook path: applied once.
            url = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/partner/kavach"
            await eventually(lambda: _disbursed_at_twin(box, loan_id), timeout=10, interval=0.2)
            sent = (await box.post("/_partners/disbursal-callback",
                                   json={"partner": "kavach", "reference": loan_id, "url": url})).json()  # fmt: skip
            confirmed = await eventually(lambda: _confirmed(db, loan_id), timeout=30, interval=0.2)
            assert (confirmed.confirmed_via, confirmed.callback_event_id) == ("CALLBACK", sent["eventId"])
            assert confirmed.utr and confirmed.utr.startswith("KVFD")
            raw = json.dumps(sent["payload"]).encode()
            path = url.removeprefix(app.api.url)
            again_answer = await driver.api.post(path, content=raw, headers=_signed(raw))
            assert again_answer.status_code == 200 and again_answer.json()["status"] == "duplicate"
            # A forged one: 401, nothing changes.
            other = json.dumps({**sent["payload"], "eventId": "evt_forged", "utrNumber": "KVFD000000000001"}).encode()
            forged = await driver.api.post(path, content=other, headers=_signed(other, secret="not-the-secret"))
            assert forged.status_code == 401
            assert _case(db, loan_id).utr == confirmed.utr
            # The older path still answers with the same handler.
            old = f"/api/v1/partner/partner-lenders/callbacks/{brand['brand_id']}/kavach/disbursal"
            legacy = await driver.api.post(old, content=raw, headers=_signed(raw))
            assert legacy.status_code == 200 and legacy.json()["status"] == "duplicate", legacy.text
            rows = await driver.partner("LOAN_EXECUTIVE", "GET", "/partner-lenders/disbursals")
            assert all(r["loanId"] != loan_id for r in rows)  # confirmed: no longer open
            routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
            assert routing["disbursal"]["resend"]["reference"] == resend.reference
        finally:
            await driver.close()
            await box.delete("/_partners/disbursals")


async def _disbursed_at_twin(box: httpx.AsyncClient, loan_id: str) -> bool | None:
    return (await _booking(box, "kavach", loan_id))["state"] == "DISBURSED" or None


async def test_a_lost_disbursal_is_resent_and_confirmed_by_the_status_api(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "navodaya", "Navodaya Credit")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "navodaya")
        lost = {"partner": "navodaya", "reference": loan_id, "status": "LOST"}
        await box.post("/_partners/disbursals", json=lost)
        _disbursed(db, loan_id, timedelta(hours=3))
        await _watch(app)
        case = _case(db, loan_id)
        # Navodaya's signed status API answered 404: the request re-sent (redisbursal_id), not escalated.
        assert (case.state, case.check_log[0]["status"], case.check_log[0]["resendReason"]) == (
            "BREACHED", "UNKNOWN", "NOT_FOUND",
        )  # fmt: skip
        resend = _resend(db, case.id)
        assert resend is not None and (resend.status, resend.reason) == ("ACCEPTED", "NOT_FOUND")
        booking = await _booking(box, "navodaya", loan_id)
        assert (booking["resendPayouts"], booking["resend_reference"]) == (1, resend.reference)
        await asyncio.sleep(1.1)  # the twin pays the re-sent request a second later
        _overdue(db, case.id)
        await _watch(app)
        case = _case(db, loan_id)
        assert (case.state, case.confirmed_via, case.breached) == ("CONFIRMED", "STATUS_API", True)
        assert case.utr and case.utr.startswith("NAVD")
        await box.delete("/_partners/disbursals")


async def test_a_partner_that_fails_again_after_the_resend_is_escalated(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        for after in (False, True):
            switch = {"partner": "kavach", "reference": loan_id, "status": "FAILED", "afterResend": after}
            await box.post("/_partners/disbursals", json=switch)
        _disbursed(db, loan_id, timedelta(hours=3))
        await _watch(app)
        case = _case(db, loan_id)
        assert case.state == "BREACHED" and _resend(db, case.id).status == "ACCEPTED"  # type: ignore[union-attr]
        _overdue(db, case.id)
        await _watch(app)  # FAILED again: escalated as before, and not re-sent a second time
        case = _case(db, loan_id)
        assert (case.state, case.checks, case.escalated_at is not None) == ("ESCALATED", 2, True)
        assert "partner_disbursal_escalation" in _alerts(db, brand["brand_id"], loan_id)
        _overdue(db, case.id)
        await _watch(app)
        booking = await _booking(box, "kavach", loan_id)
        assert (booking["resendCalls"], booking["resendPayouts"]) == (1, 1)
        assert _resend(db, case.id).attempts == 1  # type: ignore[union-attr]
        await box.delete("/_partners/disbursals")


async def test_the_demo_scenario_resends_and_takes_the_utr_from_the_signed_callback(app, brand, sandbox, db) -> None:  # noqa: ANN001
    from los.demo_partner_sla import partner_disbursal_sla
    from los.demo_scenarios import SCENARIOS

    assert SCENARIOS["partner-disbursal-sla"] is partner_disbursal_sla
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=150)
    try:  # the watch run as the schedule would run it (the test's worker has no schedules)
        journey = await partner_disbursal_sla(driver, int.from_bytes(os.urandom(3), "big"), watch=lambda: _watch(app))
    finally:
        await driver.close()
    assert journey.status in ("DISBURSED", "OVERDUE")
    steps = [(h["to"], h["actor"]) for h in journey.history]
    assert steps[0] == ("PENDING", "loan disbursed") and steps[-1] == ("CONFIRMED", "partner CALLBACK")
    reasons = [h["reason"].split(" (")[0] for h in journey.history[1:3]]
    assert reasons == ["kavach said FAILED", "disbursal request re-sent"]
    case = _case(db, journey.loan_id)
    assert (case.state, case.confirmed_via, case.breached) == ("CONFIRMED", "CALLBACK", True)
    assert _resend(db, case.id).status == "ACCEPTED"  # type: ignore[union-attr]
