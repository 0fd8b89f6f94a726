"""Co-lending over the real stack (API, worker, Temporal, PostgreSQL, the sandbox's Lendbox twin): `los demo
--scenario co-lending` to COMPLETED with both lenders' books balanced and summing to what the borrower paid; every
Lendbox callback signed and applied once (duplicate, forged, stale, malformed); the partners' book and settlement
statement; brand isolation of every co-lending route.

The stack is ``tests.conftest.running_app``'s with this build's co-lending routes and activities added (what
``api/app.py`` and ``worker.py`` register once co-lending is wired there).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select

from activities.providers.partners.lendbox_colending import sign
from db.models import CoLendingEvent, CoLendingLeg, CoLentLoan, Loan
from los.demo import Driver
from los.demo_scenarios import SCENARIOS, run_scenario
from los.seed import seed_brand
from tests.conftest import App, ThreadedServer, free_port, record_histories
from workflows.options import IST

SECRET = "sandbox-partner-secret"


@contextlib.asynccontextmanager
async def co_lending_app(env: Any, database_url: str, db: Any, storage_dir: Any, renderer: Any) -> AsyncIterator[App]:
    """``running_app`` plus the co-lending router, Lendbox's webhook and ``CoLendingActivities``."""
    from temporalio.worker import Worker

    from activities.colending import CoLendingActivities
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from activities.messaging import MessagingActivities
    from activities.partners import PartnerActivities
    from activities.refunds import RefundActivities
    from activities.storage import LocalStorage
    from api.app import create_app
    from api.partner import colending
    from api.webhooks import lendbox
    from los.settings import Settings
    from worker import WORKFLOWS

    queue = f"test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    settings = Settings(database_url=database_url, temporal_address=env.client.service_client.config.target_host,
                        task_queue=queue, api_port=port, storage_dir=storage_dir)  # fmt: skip
    app = create_app(settings)
    app.include_router(colending.router)
    app.router.routes.insert(0, next(r for r in lendbox.router.routes))  # before /{brandId}/{vendor}
    storage = LocalStorage(storage_dir)
    async with httpx.AsyncClient(timeout=30) as http:
        loan = LoanActivities(db, http, storage, renderer, settings.api_url, settings.field_key())
        kyc = KycActivities(db, http, storage, settings.api_url, settings.field_key())
        refunds = RefundActivities(db, http, storage, renderer, settings.api_url, settings.field_key())
        with ThreadedServer(app, port=port) as api:
            activities = (loan.all() + kyc.all() + MessagingActivities(db, http).all() + refunds.all()
                          + PartnerActivities(db, http).all()
                          + CoLendingActivities(db, http, storage, settings.api_url).all())  # fmt: skip
            async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities):
                yield App(api, env.client, queue, settings, http)


@pytest_asyncio.fixture
async def co_app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator[App]:  # noqa: ANN001
    async with co_lending_app(dev_env, database_url, db, storage_dir, renderer) as a:
        yield a


def test_the_cli_names_the_scenario() -> None:
    assert "co-lending" in SCENARIOS


#: The callbacks Lendbox sends about the journey's loan (listed by the sandbox only once their delay has passed).
EXPECTED_CALLBACKS = Counter({"ESIGN": 1, "DISBURSED": 1, "CREDIT_ORDER": 3, "LOAN_STATUS": 1})


async def _callbacks_delivered(sandbox_url: str, loan_id: str, within: float = 60.0) -> None:
    """Wait until every Lendbox callback about the loan (at least :data:`EXPECTED_CALLBACKS`) was sent and got a
    2xx. The loan does not wait for them (an eSign callback can still be in its retries when the loan completes, as
    with the real partner); an answer other than 2xx is named in the failure."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            hooks = [h for h in (await http.get(f"{sandbox_url}/_webhooks")).json()
                     if h["vendor"] == "lendbox" and h["payload"].get("partner_loan_id") == loan_id]  # fmt: skip
            pending = [(h["payload"]["event"], h["status"], h.get("answer")) for h in hooks
                       if not (isinstance(h["status"], int) and 200 <= h["status"] < 300)]  # fmt: skip
            sent = Counter(h["payload"]["event"] for h in hooks)
            if not EXPECTED_CALLBACKS - sent and not pending:  # each expected one sent (a retried step may send more)
                return
            assert time.monotonic() < deadline, f"Lendbox callbacks sent {dict(sent)}, not delivered: {pending}"
            await asyncio.sleep(0.25)


def _signed(body: dict, stamp: int | None = None, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(stamp if stamp is not None else int(time.time()))
    return raw, {"Content-Type": "application/json", "X-Lendbox-Timestamp": ts,
                 "X-Lendbox-Signature": sign(secret, ts, raw)}  # fmt: skip


async def test_co_lending_journey_books_balance_and_callbacks_apply_once(co_app, brand, sandbox, db) -> None:  # noqa: ANN001
    journey = await run_scenario(co_app.api.url, sandbox.url, "co-lending", brand["brand_code"])
    if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run (the replay suite)
        await record_histories(co_app.client, journey.workflow_id, "co_lending")
    assert journey.status == "COMPLETED"
    await _callbacks_delivered(sandbox.url, journey.loan_id)
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, journey.loan_id)
        co = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan.id)).one()
        assert (co.partner_code, co.partner_share_bps, co.partner_rate_bps) == ("lendbox", 2000, 1200)
        assert co.originator_principal + co.partner_principal == loan.amount
        assert co.partner_principal == loan.amount // 5
        assert co.partner_utr and co.partner_utr.startswith("LBXN") and co.partner_loan_id.startswith("LBCL")
        assert all(co.steps[s]["status"] == "DONE" for s in ("BORROWER", "LOAN", "DOCUMENTS", "ESIGN", "SCHEDULE"))
        assert co.steps["ESIGN"]["esign"] == "SIGNED" and co.partner_status == "CLOSED"
        orders = co.steps["orders"]
        assert len(orders) == 3 and {o["status"] for o in orders.values()} == {"SUCCESS"}
        rows = s.execute(
            select(CoLendingLeg.lender, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
            .where(CoLendingLeg.loan_id == loan.id).group_by(CoLendingLeg.lender, CoLendingLeg.account)
        ).all()  # fmt: skip
        bal: dict[str, dict[str, int]] = {}
        for lender, account, total in rows:
            bal.setdefault(lender, {})[account] = int(total)
        for lender in ("ORIGINATOR", "PARTNER"):
            assert sum(bal[lender].values()) == 0 and bal[lender].get("CL_PRINCIPAL", 0) == 0
        assert bal["PARTNER"]["CL_FUNDING"] == -co.partner_principal and bal["PARTNER"].get("CL_FUNDING_DUE", 0) == 0
        assert bal["ORIGINATOR"]["CL_COLLECTIONS"] + bal["PARTNER"]["CL_COLLECTIONS"] == loan.total_collected
        events_before = s.scalar(
            select(func.count()).select_from(CoLendingEvent).where(CoLendingEvent.loan_id == loan.id)
        )
    assert events_before >= 6  # ESIGN, DISBURSED, 3 CREDIT_ORDER, LOAN_STATUS

    hook = f"{co_app.api.url}/api/v1/webhooks/{loan.brand_id}/partners/lendbox"
    event = {"event_id": "lbx_evt_test_1", "event": "LOAN_STATUS", "partner_loan_id": loan.id,
             "lendbox_loan_id": co.partner_loan_id, "occurred_at": datetime.now(IST).isoformat(),
             "data": {"status": "NOC_ISSUED"}}  # fmt: skip
    async with httpx.AsyncClient() as http:
        raw, headers = _signed(event)
        first = await http.post(hook, content=raw, headers=headers)
        again = await http.post(hook, content=raw, headers=_signed(event)[1])
        assert first.status_code == 200 and first.json()["status"] == "applied"
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        forged = {**event, "event_id": "lbx_evt_test_2", "data": {"status": "WRITTEN_OFF"}}
        raw2, _ = _signed(forged)
        bad = await http.post(hook, content=raw2, headers=_signed(forged, secret="not-the-secret")[1])
        assert bad.status_code == 401
        assert (await http.post(hook, content=raw2, headers={"Content-Type": "application/json"})).status_code == 401
        stale = await http.post(hook, content=raw2, headers=_signed(forged, stamp=int(time.time()) - 3600)[1])
        assert stale.status_code == 401
        tampered = await http.post(hook, content=raw2.replace(b"WRITTEN_OFF", b"CLOSED"), headers=_signed(forged)[1])
        assert tampered.status_code == 401
        malformed = {**forged, "event": "SOMETHING"}
        answer = await http.post(hook, content=_signed(malformed)[0], headers=_signed(malformed)[1])
        assert answer.status_code == 422 and "event" in answer.text
        unknown = await http.post(f"{co_app.api.url}/api/v1/webhooks/{uuid.uuid4()}/partners/lendbox",
                                  content=raw, headers=headers)  # fmt: skip
        assert unknown.status_code == 404
    with db.unit_of_work() as s:
        co = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan.id)).one()
        assert co.partner_status == "NOC_ISSUED"  # the forged, stale, tampered and malformed ones changed nothing
        count = s.scalar(select(func.count()).select_from(CoLendingEvent).where(CoLendingEvent.loan_id == loan.id))
        assert count == events_before + 1

    driver = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    try:
        today = datetime.now(IST).date().isoformat()
        view = await driver.partner("LOAN_EXECUTIVE", "GET", f"/co-lending/loans/{loan.id}")
        assert view["originator"]["balanced"] and view["partner"]["balanced"]
        assert view["originatorRateBps"] == "1700.00"  # (16 % − 0.2 × 12 %) ÷ 0.8
        (book,) = await driver.partner("ADMIN", "GET", "/co-lending/book", params={"asOf": today})
        assert book["partnerCode"] == "lendbox" and book["partner"]["loans"] == 1
        assert book["partner"]["disbursed"] + book["originator"]["disbursed"] == loan.amount
        assert book["partner"]["outstanding"] == 0 and book["partner"]["overdueTotal"] == 0
        assert book["partner"]["collectedPrincipal"] == co.partner_principal
        period = {"fromDate": today, "toDate": today}
        rows = await driver.partner("ADMIN", "GET", "/co-lending/settlement", params=period)
        by = {r["lender"]: r for r in rows}
        assert by["PARTNER"]["collected"] + by["ORIGINATOR"]["collected"] == loan.total_collected
        assert by["PARTNER"]["remitted"] == by["PARTNER"]["collected"] and by["PARTNER"]["owed"] == 0
        headers = await driver.staff_headers("ADMIN")
        got = await driver.api.get(f"/api/v1/partner/brand/{loan.brand_id}/co-lending/settlement/csv", params=period,
                                   headers=headers)  # fmt: skip
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(got.text)))
        assert {r["lender"] for r in lines} == {"PARTNER", "ORIGINATOR"}
        assert sum(int(r["collected"]) for r in lines) == loan.total_collected
        partner = await driver.partner("LOAN_EXECUTIVE", "GET", f"/co-lending/loans/{loan.id}/partner")
        assert partner["status"] == "NOC_ISSUED" or partner["principalOutstanding"] == 0
        noc = await driver.api.get(f"/api/v1/partner/brand/{loan.brand_id}/co-lending/loans/{loan.id}/noc",
                                   headers=await driver.staff_headers("LOAN_EXECUTIVE"))  # fmt: skip
        assert noc.status_code == 200 and noc.content.startswith(b"%PDF")
        bad = await driver.api.get(f"/api/v1/partner/brand/{loan.brand_id}/co-lending/settlement", headers=headers,
                                   params={"fromDate": today, "toDate": "2000-01-01"})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "toDate"
    finally:
        await driver.close()


async def test_agreement_validation_and_brand_isolation(co_app, brand, sandbox, db) -> None:  # noqa: ANN001
    code_b = f"b{uuid.uuid4().hex[:7]}"
    brand_b = seed_brand(db, sandbox.url, code=code_b)
    driver_a = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    driver_b = Driver(co_app.api.url, sandbox.url, code_b)
    try:
        from los.demo_partners import partner_body

        body = partner_body("lendbox", "Lendbox", 1600, 100, 20, 10, sandbox.url)
        await driver_b.partner("ADMIN", "POST", "/partner-lenders", json=body)
        await driver_a.partner("ADMIN", "POST", "/partner-lenders", json=body)
        admin_a = await driver_a.staff_headers("ADMIN")
        a_base = f"/api/v1/partner/brand/{brand['brand_id']}/co-lending"
        b_base = f"/api/v1/partner/brand/{brand_b['brand_id']}/co-lending"
        good = {"partnerShareBps": 2000, "partnerRateBps": 1200}
        # a share leaving the originator under its floor: 422 naming the field, nothing written
        over = await driver_a.api.put(f"{a_base}/agreements/lendbox", json={**good, "partnerShareBps": 9500,
                                      "minOriginatorShareBps": 1000}, headers=admin_a)  # fmt: skip
        assert over.status_code == 422 and over.json()["errors"][0]["field"] == "partnerShareBps"
        clm = await driver_a.api.put(f"{a_base}/agreements/lendbox", json={**good, "partnerShareBps": 8500,
                                     "minOriginatorShareBps": 2000}, headers=admin_a)  # fmt: skip
        assert clm.status_code == 422 and clm.json()["errors"][0]["field"] == "partnerShareBps"
        assert await driver_a.partner("ADMIN", "GET", "/co-lending/agreements") == []
        saved = await driver_b.partner("ADMIN", "PUT", "/co-lending/agreements/lendbox", json=good)
        assert saved["partnerShareBps"] == 2000
        with db.unit_of_work() as s:
            loan_b = s.scalars(select(Loan.id).where(Loan.brand_id == brand_b["brand_id"])).first() or uuid.uuid4()
        today = datetime.now(IST).date().isoformat()
        for method, path, payload in (
            ("GET", f"{b_base}/agreements", None),
            ("PUT", f"{b_base}/agreements/lendbox", good),
            ("GET", f"{b_base}/loans/{loan_b}", None),
            ("GET", f"{b_base}/loans/{loan_b}/partner", None),
            ("GET", f"{b_base}/loans/{loan_b}/noc", None),
            ("GET", f"{b_base}/book?asOf={today}", None),
            ("GET", f"{b_base}/settlement?fromDate={today}&toDate={today}", None),
            ("GET", f"{b_base}/settlement/csv?fromDate={today}&toDate={today}", None),
        ):
            resp = await driver_a.api.request(method, path, json=payload, headers=admin_a)
            assert resp.status_code in (403, 404), (method, path, resp.status_code)
        for method, path in (("GET", f"{a_base}/loans/{loan_b}"), ("GET", f"{a_base}/loans/{loan_b}/noc")):
            assert (await driver_a.api.request(method, path, headers=admin_a)).status_code == 404
        assert await driver_a.partner("ADMIN", "GET", "/co-lending/agreements") == []
        agreements_b = await driver_b.partner("ADMIN", "GET", "/co-lending/agreements")
        assert [(a["partnerCode"], a["partnerShareBps"]) for a in agreements_b] == [("lendbox", 2000)]
    finally:
        await driver_a.close()
        await driver_b.close()


def test_the_migration_creates_the_co_lending_tables_as_the_models_declare(db) -> None:  # noqa: ANN001
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diffs if "colending" in repr(d)]
    assert ours == []
