"""A borrower's loan read with ETag, If-None-Match and Prefer: wait (api/loan_changes.py, migration 0032), through the
real API, database and workflow: 304 while unchanged, a long poll answered as soon as the loan changes (woken by
PostgreSQL's notification, or by reading again every second where notifications are off), nothing told about a loan
that is not the caller's, and the listener's own behaviour (every detail table notifies; a dropped connection is
reopened and its waiters woken)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import delete, text

from api.loan_changes import CHANNEL, FALLBACK_SECONDS, LoanChanges, listen_url
from db.models import LoanStatusHistory
from los.demo import Driver, demo_identity
from los.demo_identities import demo_aadhaar
from los.seed import FULL_KYC, seed_brand
from tests.conftest import eventually, running_app

DETAIL_TABLES = (
    "loans",
    "loan_status_history",
    "repayment_installments",
    "loan_agreements",
    "payment_links",
    "payment_transactions",
    "refunds",
    "parked_payments",
    "bureau_reports",
)


@pytest.fixture
def kyc_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand whose KYC asks the borrower for the Aadhaar OTP: a loan waits there, and nothing else writes it."""
    code = f"w{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Wait {code}", period_seconds=2, kyc_steps=FULL_KYC)


async def applied_loan(driver: Driver) -> tuple[dict[str, str], str]:
    """A customer and their loan, APPLIED (its KYC waits for the Aadhaar OTP, so nothing moves it meanwhile)."""
    phone, pan = demo_identity(0, "auto")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    created = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
        )
    )

    async def waiting_for_aadhaar() -> bool:
        kyc = (await driver.loan(headers, created["id"], kyc=True)).get("kyc") or {}
        return kyc.get("waitingFor") == "AADHAAR"

    await eventually(waiting_for_aadhaar, timeout=60)
    return headers, created["id"]


def touch(db: Any, loan_id: str, reason: str) -> None:
    """A change the customer's detail shows (``statusReason``), committed as any writer would."""
    with db.unit_of_work() as session:
        session.execute(text("UPDATE loans SET status_reason = :r WHERE id = :id"), {"r": reason, "id": loan_id})


async def long_poll_answered_by_change(
    api: httpx.AsyncClient, db: Any, headers: dict, loan_id: str, path_id: str | None = None
) -> float:
    """Seconds from a change of the loan to the answer of the long poll that waited for it (``path_id``: the id as
    the path writes it). While the poll waits, no database connection is held in an open transaction for it."""
    path = f"/api/v1/web/loans/{path_id or loan_id}"
    first = await api.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    poll = asyncio.create_task(api.get(path, headers={**headers, "If-None-Match": etag, "Prefer": "wait=20"}))
    await asyncio.sleep(1.1)  # just past the first re-read where no notification can come (FALLBACK_SECONDS)
    assert not poll.done(), "the API answered a long poll before the loan changed"
    with db.unit_of_work() as session:
        held = session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND state_change < now() - interval '0.5 seconds'"
            )
        ).scalar_one()
    assert held == 0, "a connection sits in an open transaction while the long poll waits"
    reason = f"checked {uuid.uuid4().hex[:6]}"
    changed_at = time.monotonic()
    await asyncio.to_thread(touch, db, loan_id, reason)
    answer = await asyncio.wait_for(poll, 10)
    took = time.monotonic() - changed_at
    assert answer.status_code == 200
    assert answer.json()["statusReason"] == reason
    assert answer.headers["etag"] != etag
    assert answer.headers["preference-applied"] == "wait=20"
    return took


async def test_a_long_poll_whose_client_left_stops_waiting(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    """A client that gives up on a long poll (an app's screen closed: its request aborted, the connection closed)
    is not waited for until the end of its 20 s: the API notices the disconnect and lets the wait go."""
    hub = app.api.server.config.app.state.loan_changes
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan_id = await applied_loan(driver)
        path = f"/api/v1/web/loans/{loan_id}"
        etag = (await driver.api.get(path, headers=headers)).headers["etag"]
        wait = {**headers, "If-None-Match": etag, "Prefer": "wait=20"}
        async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as leaving:
            poll = asyncio.create_task(leaving.get(path, headers=wait))
            await eventually(lambda: hub.waiting == 1, timeout=5)
            poll.cancel()  # the client gives up: its connection is closed
            with pytest.raises(asyncio.CancelledError):
                await poll
        await eventually(lambda: hub.waiting == 0, timeout=5)  # not after the 20 s asked for
        # a long poll that stays is still answered at the change
        assert await long_poll_answered_by_change(driver.api, db, headers, loan_id) < 5
    finally:
        await driver.close()


async def test_conditional_and_long_poll_reads_of_a_loan(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan_id = await applied_loan(driver)
        api = driver.api
        path = f"/api/v1/web/loans/{loan_id}"

        first = await api.get(path, headers=headers)
        assert first.status_code == 200 and first.headers["etag"].startswith('"')
        assert first.headers["cache-control"] == "private, no-cache"
        etag = first.headers["etag"]
        again = await api.get(path, headers=headers)
        assert again.headers["etag"] == etag and again.content == first.content  # the tag is the answer's

        # unchanged: 304 at once, no body; a weak or listed tag matches too; a stale one does not
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            same = await api.get(path, headers={**headers, "If-None-Match": sent})
            assert same.status_code == 304 and same.content == b"", sent
            assert same.headers["etag"] == etag and "preference-applied" not in same.headers
        assert (await api.get(path, headers={**headers, "If-None-Match": '"stale"'})).status_code == 200

        # a wait that sees no change: 304 once it is over
        started = time.monotonic()
        waited = await api.get(path, headers={**headers, "If-None-Match": etag, "Prefer": "wait=1"})
        assert waited.status_code == 304 and waited.headers["preference-applied"] == "wait=1"
        assert time.monotonic() - started >= 1.0
        # a wait that is not a number: answered at once, no wait applied
        started = time.monotonic()
        quick = await api.get(path, headers={**headers, "If-None-Match": etag, "Prefer": "wait=soon"})
        assert quick.status_code == 304 and "preference-applied" not in quick.headers
        assert time.monotonic() - started < 4.0

        # a change ends the wait, woken by the database's notification: the API process listens (its own
        # connection), so the wait ends at the change, not at its 20 s
        with db.unit_of_work() as session:
            listeners = session.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'los-api-loan-changes' "
                    "AND datname = current_database() AND query = 'LISTEN los_loan_changed'"
                )
            ).scalar_one()
        assert listeners >= 1
        took = await long_poll_answered_by_change(api, db, headers, loan_id)
        assert took < 5.0, f"the long poll was answered {took:.2f}s after the change"
        # the id in capitals names the same loan, and its wait is woken all the same
        took = await long_poll_answered_by_change(api, db, headers, loan_id, path_id=loan_id.upper())
        assert took < 5.0, f"the long poll (capitals) was answered {took:.2f}s after the change"

        # someone else's loan (or none): 404 whatever the tag, never a 304 that would say it exists
        other_headers = await driver.register(demo_identity(1, "auto")[0])
        for sent in (etag, "*"):
            probe = await api.get(path, headers={**other_headers, "If-None-Match": sent, "Prefer": "wait=2"})
            assert probe.status_code == 404, sent
        missing = await api.get(f"/api/v1/web/loans/{uuid.uuid4()}", headers={**headers, "If-None-Match": "*"})
        assert missing.status_code == 404
    finally:
        await driver.close()


async def test_a_long_poll_of_the_kyc_progress_is_answered_when_the_workflow_moves(app, kyc_brand, sandbox) -> None:  # noqa: ANN001
    """With ``include=kyc`` the answer holds the workflow's KYC progress, which no database notification covers: the
    API waits on the workflow itself (``kyc_progress_changed``, api/kyc_waits.py) and answers the moment the progress
    moves, here the Aadhaar OTP sent, which writes nothing the loan's detail reads."""
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan_id = await applied_loan(driver)
        path = f"/api/v1/web/loans/{loan_id}"
        first = await driver.api.get(path, params={"include": "kyc"}, headers=headers)
        assert first.status_code == 200 and first.json()["kyc"]["waitingFor"] == "AADHAAR"
        assert not first.json()["kyc"]["aadhaarOtpSent"]
        etag = first.headers["etag"]
        wait = {**headers, "If-None-Match": etag, "Prefer": "wait=20"}

        # nothing moves: 304 once the wait is over, the wait honoured
        started = time.monotonic()
        still = await driver.api.get(path, params={"include": "kyc"}, headers={**wait, "Prefer": "wait=1"})
        assert still.status_code == 304 and still.headers["preference-applied"] == "wait=1"
        assert still.headers["etag"] == etag and time.monotonic() - started >= 1.0

        poll = asyncio.create_task(driver.api.get(path, params={"include": "kyc"}, headers=wait))
        await asyncio.sleep(1.5)  # past any re-read where no notification can come
        assert not poll.done(), "the API answered a KYC long poll before the progress moved"
        sent_at = time.monotonic()
        await driver._ok(
            await driver.api.post(
                "/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json={"aadhaarNumber": demo_aadhaar()}
            )
        )
        answer = await asyncio.wait_for(poll, 10)
        assert answer.status_code == 200 and answer.headers["preference-applied"] == "wait=20"
        assert answer.json()["kyc"]["aadhaarOtpSent"] and answer.headers["etag"] != etag
        assert time.monotonic() - sent_at < 5.0
    finally:
        await driver.close()


async def test_without_notifications_a_long_poll_reads_again_every_second(
    dev_env, database_url, db, storage_dir, renderer, kyc_brand, sandbox
) -> None:  # noqa: ANN001
    async with running_app(dev_env, database_url, db, storage_dir, renderer, loan_change_notifications=False) as app:
        driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
        try:
            headers, loan_id = await applied_loan(driver)
            took = await long_poll_answered_by_change(driver.api, db, headers, loan_id)
            assert took < FALLBACK_SECONDS + 2.0, f"the long poll was answered {took:.2f}s after the change"
        finally:
            await driver.close()


async def test_every_table_of_a_loans_detail_notifies_its_loan(app, kyc_brand, sandbox, db, database_url) -> None:  # noqa: ANN001
    """Migration 0032's triggers: a write sends the loan's id at commit, once per transaction; nothing for a
    rolled-back one, an update that changes nothing, or with the database setting off. Each of the nine tables has
    them, calling the function that reads its column naming the loan."""
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        _, loan_id = await applied_loan(driver)  # its workflow waits for the customer: no write of its own
    finally:
        await driver.close()
    with psycopg.connect(listen_url(database_url), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")

        def notified() -> list[str]:
            return [note.payload for note in listener.notifies(timeout=0.5, stop_after=10)]

        def reason(session: Any, value: str | None) -> None:
            session.execute(text("UPDATE loans SET status_reason = :r WHERE id = :id"), {"r": value, "id": loan_id})

        with db.unit_of_work() as session:
            reason(session, "first")
            reason(session, "second")
        assert notified() == [loan_id]  # two writes, one transaction: one notification
        with db.unit_of_work() as session:
            reason(session, "second")
        assert notified() == []  # written again as it was
        with db.unit_of_work() as session:
            row = LoanStatusHistory(loan_id=loan_id, seq=100_000, from_status="APPLIED", to_status="APPLIED")
            session.add(row)
        assert notified() == [loan_id]
        with db.unit_of_work() as session:
            session.execute(delete(LoanStatusHistory).where(LoanStatusHistory.id == row.id))
        assert notified() == [loan_id]
        with pytest.raises(RuntimeError), db.unit_of_work() as session:
            reason(session, "rolled back")
            raise RuntimeError("rolled back")
        assert notified() == []
        for off in ("off", "FALSE"):  # the operators' switch (ALTER DATABASE ... SET), here for one transaction
            with db.unit_of_work() as session:
                session.execute(text(f"SET LOCAL los.loan_change_notifications = '{off}'"))
                reason(session, f"unnoticed {off}")
            assert notified() == [], off
        with db.unit_of_work() as session:
            reason(session, None)
        assert notified() == [loan_id]

    with db.unit_of_work() as session:
        triggers = session.execute(
            text(
                "SELECT event_object_table, event_manipulation, action_statement, action_condition "
                "FROM information_schema.triggers WHERE event_object_schema = current_schema() "
                "AND trigger_name IN ('los_loan_changed', 'los_loan_changed_update')"
            )
        ).all()
    # each table's triggers call the function that reads the loan's id from the right column, on every write, and
    # its UPDATE trigger only when the row changed
    watched = {table: "id" if table == "loans" else "loan_id" for table in DETAIL_TABLES}
    assert {(table, event) for table, event, _, _ in triggers} == {
        (table, event) for table in watched for event in ("INSERT", "UPDATE", "DELETE")
    }
    for table, event, statement, condition in triggers:
        assert statement == f"EXECUTE FUNCTION los_notify_loan_changed_by_{watched[table]}()", (table, event)
        if event == "UPDATE":
            assert condition is not None and "is distinct from" in condition.lower(), table
        else:
            assert condition is None, (table, event)


async def test_the_listener_wakes_its_waiters_and_comes_back_after_its_connection_drops(database_url, db) -> None:  # noqa: ANN001
    changes = LoanChanges(listen_url(database_url))
    changes.start()
    try:
        await eventually(lambda: changes.listening, timeout=10)
        loan_id = str(uuid.uuid4())
        with changes.watch(loan_id) as mine, changes.watch(str(uuid.uuid4())) as other:
            with db.unit_of_work() as session:
                session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": loan_id})
            await asyncio.wait_for(mine.wait(), 5)
            assert not other.is_set()
            mine.clear()

            with db.unit_of_work() as session:  # the listening connection is cut, as by a database restart
                cut = (
                    session.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": changes.backend_pid},
                    )
                    .scalars()
                    .all()
                )
            assert cut and all(cut)
            # every waiter is woken to read again (a change may have gone unnoticed), and the listener reopens
            await asyncio.wait_for(other.wait(), 5)
            await eventually(lambda: changes.listening, timeout=10)
            mine.clear()
            with db.unit_of_work() as session:
                session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": loan_id})
            await asyncio.wait_for(mine.wait(), 5)
        assert changes.waiting == 0
    finally:
        await changes.stop()
    assert not changes.listening
