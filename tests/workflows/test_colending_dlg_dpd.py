"""The default-loss guarantee's overdue day reached by a co-lent loan itself, in virtual time: a loan booked with
Lendbox (80:20) on a monthly product stops paying; the Java time-skipping test server runs its day-ends until the DPD
reaches the day the agreement's DLG is invoked on, and the loan's own workflow invokes it there, once (not before,
and not again on the days after), posted to both lenders' sub-ledgers. Activities are the production ones (real
PostgreSQL, the sandbox's Lendbox twin over HTTP), as in ``test_time_skipping``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from datetime import time as clock

import pytest_asyncio
from sqlalchemy import func, select

from db.models import CoLendingDlgInvocation, CoLendingLeg, Loan
from los.demo import Driver, Journey, demo_identity, random_account
from los.demo_colending import _booked, _co_lent, _configure
from tests.conftest import eventually, running_app, skip_time
from workflows.options import IST

INVOKE_DPD = 30


@pytest_asyncio.fixture(scope="module")
async def ts_env(env):  # noqa: ANN001, ANN201
    """The module's time-skipping test server (tests/workflows/conftest.py)."""
    return env


@pytest_asyncio.fixture
async def ts_app(ts_env, database_url, db, storage_dir, renderer) -> AsyncIterator:  # noqa: ANN001
    # virtual time runs ahead of the wall clock, so updates cannot carry a wall-clock expiry here
    async with running_app(ts_env, database_url, db, storage_dir, renderer, workflow_update_expiry=False) as app:
        yield app


async def _co_lent_monthly(driver: Driver, deadline: float) -> tuple[dict, Journey]:
    """A monthly loan applied for, booked by Lendbox, signed and disbursed, co-lent with its funding (UTR) in."""
    phone, pan = demo_identity(21, "auto")
    j = Journey(phone=phone, pan=pan)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers, random_account())
    body = {"amount": "120000", "tenure": 6, "productCode": "PL-MONTHLY"}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    j.loan_id, j.workflow_id = created["id"], created["workflowId"]
    await driver.complete_kyc(headers, j.loan_id, deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
    if loan["status"] == "UNDER_REVIEW":
        await driver.sanction_via_hierarchy(j.loan_id, "income verified")
    await _booked(driver, j.loan_id, deadline)
    await driver.accept_kfs(headers, j.loan_id)
    loan = await driver.wait_for(
        headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
    )
    await driver.sign(headers, j, loan, deadline)
    await driver.disburse(headers, j, deadline)
    await _co_lent(driver, j.loan_id, deadline, lambda x: bool(x["partnerUtr"]), "Lendbox's funding (UTR)")
    return headers, j


async def test_the_dlg_is_invoked_once_on_the_dpd_the_agreement_names(ts_env, ts_app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(ts_app.api.url, sandbox.url, brand["brand_code"])
    deadline = time.monotonic() + driver.timeout
    try:
        await _configure(driver)
        await driver.partner("ADMIN", "PUT", "/co-lending/dlg/lendbox",
                             json={"coverBps": 500, "setAside": 10_000_000, "invokeDpd": INVOKE_DPD})  # fmt: skip
        headers, j = await _co_lent_monthly(driver, deadline)
        detail = await driver.loan(headers, j.loan_id)
        due = datetime.fromisoformat(detail["schedule"][0]["dueAt"]).astimezone(IST).date() - timedelta(days=1)

        def day_end(offset: int) -> datetime:  # the instant the day-end of (due + offset) has run
            return datetime.combine(due + timedelta(days=offset + 1), clock(0), IST) + timedelta(minutes=1)

        async def go(moment: datetime) -> None:
            await skip_time(ts_env, moment)

        def state() -> tuple[int, list[CoLendingDlgInvocation]]:
            with db.unit_of_work() as s:
                dpd = s.get_one(Loan, j.loan_id).dpd
                mine = CoLendingDlgInvocation.loan_id == j.loan_id
                rows = list(s.scalars(select(CoLendingDlgInvocation).where(mine)))
                s.expunge_all()
                return dpd, rows

        async def reaches(dpd: int) -> tuple[int, list]:
            return await eventually(lambda: (st := state())[0] == dpd and st, timeout=60)

        # RBI IRACP: the due date unpaid is DPD 1 at its own day-end, so DPD n at the day-end of due + n - 1
        await go(day_end(INVOKE_DPD - 2))
        assert await reaches(INVOKE_DPD - 1) == (INVOKE_DPD - 1, [])  # overdue, but not yet on its day
        await go(day_end(INVOKE_DPD - 1))
        _dpd, invoked = await eventually(lambda: (st := state())[1] and st, timeout=60)
        (inv,) = invoked
        assert (inv.reason, inv.dpd) == ("OVERDUE", INVOKE_DPD)
        assert inv.invoked_on == due + timedelta(days=INVOKE_DPD - 1)  # dated the day whose day-end ran
        assert 0 < inv.amount <= inv.loss and inv.amount <= 120_000_00 // 5 * 500 // 10_000
        await go(day_end(INVOKE_DPD + 2))
        later = (await reaches(INVOKE_DPD + 3))[1]
        assert [(r.id, r.amount) for r in later] == [(inv.id, inv.amount)]  # once: not again on the days after
        with db.unit_of_work() as s:
            posted = dict(s.execute(select(CoLendingLeg.account, func.sum(CoLendingLeg.amount)).where(
                CoLendingLeg.loan_id == j.loan_id, CoLendingLeg.kind == "CL_DLG_INVOKED"
            ).group_by(CoLendingLeg.account)).all())  # fmt: skip
        assert posted == {"CL_DLG_PAID": inv.amount, "CL_DLG_COVER": -inv.amount, "CL_DLG_RECEIVED": inv.amount,
                          "CL_LOSS_COVERED": -inv.amount}  # fmt: skip
        # the loan's workflow asks at a run's first DPD and on the invocation day, no more (this run's history)
        history = await ts_app.client.get_workflow_handle(j.workflow_id).fetch_history()
        asked = [e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
                 and e.activity_task_scheduled_event_attributes.activity_type.name == "colending_overdue"]  # fmt: skip
        assert len(asked) <= 2
    finally:
        await driver.close()
