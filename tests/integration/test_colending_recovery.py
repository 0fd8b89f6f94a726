"""Co-lending's finishing pieces over the real stack (API, worker, Temporal, PostgreSQL, the sandbox's Lendbox
twin; the stack of ``test_colending_journey``):

- a wallet order Lendbox refused, resent by ops maker-checker: 403 for the maker approving it, 409 while a resend
  awaits approval or is in flight, 409 naming why once the order succeeded; then the loan's restructure sent to
  Lendbox, refused once and sent again by ops' retry (``CoLendingRetryWorkflow``), the loan never failing;
- a loan written off with the DLG invoked and posted to both lenders' books, then money recovered by the borrower's
  payment: split between the lenders as the write-off was, the DLG paid back first from Lendbox's part, each
  sub-ledger balanced to the paisa.

``LOS_RECORD_HISTORIES=1`` saves the restructured loan's runs for the replay suite (``co_lending_restructured_*``,
patch ``co-lending-restructure-v1``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest_asyncio
from sqlalchemy import select

from db.models import CoLendingDlgInvocation, CoLendingEscrowEntry, CoLendingLeg, CoLentLoan
from los.demo import Driver
from los.demo_colending import _configure
from los.demo_collections import HEAD, _amount, _set_collections, _sms_link
from los.seed import seed_brand
from tests.conftest import record_histories
from tests.integration.test_colending_journey import co_lending_app
from tests.integration.test_colending_losses import _balances, _disbursed_co_lent, _retry_activities, _until

MANAGER = "COLLECTION_MANAGER"


@pytest_asyncio.fixture
async def co_app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator:  # noqa: ANN001
    async with co_lending_app(dev_env, database_url, db, storage_dir, renderer) as a:
        yield a


async def _refuse(sandbox, call: str, times: int = 1) -> None:  # noqa: ANN001
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandbox.url}/_partners/lendbox/colending/refuse",
                         json={"call": call, "times": times})).raise_for_status()  # fmt: skip


async def _lendbox(sandbox) -> dict:  # noqa: ANN001
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{sandbox.url}/_partners/lendbox/colending")).json()


def _co(db, loan_id: str) -> CoLentLoan:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan_id)).one()
        s.expunge(row)
        return row


def _set_order(db, loan_id: str, ref: str, **resend: object) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan_id).with_for_update()).one()
        orders = dict(row.steps["orders"])
        orders[ref] = {**orders[ref], "resend": {**orders[ref].get("resend", {}), **resend}}
        row.steps = {**row.steps, "orders": orders}


async def test_a_refused_wallet_order_is_resent_and_a_restructure_reaches_lendbox(co_app, brand, sandbox, db) -> None:  # noqa: ANN001, PLR0915
    driver = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    deadline = time.monotonic() + driver.timeout
    base = f"/api/v1/partner/brand/{brand['brand_id']}/co-lending"
    try:
        await _configure(driver)
        headers, j = await _disbursed_co_lent(driver, deadline, 11)
        loan_id = j.loan_id
        await _refuse(sandbox, "wallet_order")  # Lendbox refuses the first payment's order
        loan = await driver.wait_for(headers, loan_id, lambda x: x.get("paymentLink") is not None, "a link", deadline)
        await driver.pay_link(loan["paymentLink"]["url"])

        async def refused() -> tuple | None:
            orders = (_co(db, loan_id).steps or {}).get("orders") or {}
            return next(((k, o) for k, o in orders.items() if str(o.get("status")).startswith("REFUSED")), None)

        ref, order = await _until(refused, "the refused wallet order", deadline)
        assert order["walletOrderId"] is None and order["amount"] > 0
        resend = f"{base}/loans/{loan_id}/wallet-orders/{ref}/resend"
        maker, checker = await driver.staff_headers("LOAN_EXECUTIVE"), await driver.staff_headers("ADMIN")
        assert (await driver.api.post(resend, headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))) \
            .status_code == 403  # fmt: skip
        unknown = await driver.api.post(f"{base}/loans/{loan_id}/wallet-orders/CL-nope/resend", headers=maker)
        assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "orderRef"
        asked = await driver.api.post(resend, headers=maker)
        assert asked.status_code == 200 and asked.json()["resend"]["status"] == "PENDING", asked.text
        again = await driver.api.post(resend, headers=maker)
        assert again.status_code == 409 and "awaits approval" in again.text
        own = await driver.api.post(f"{resend}/approve", headers=maker)
        assert own.status_code == 403  # a loan executive does not approve (settings.manage)
        # in flight: another approval while it is being sent is 409, and nothing more reaches Lendbox
        _set_order(db, loan_id, ref, status="SENDING", sendingAt=datetime.now(UTC).isoformat())
        busy = await driver.api.post(f"{resend}/approve", headers=checker)
        assert busy.status_code == 409 and busy.json()["errors"][0]["field"] == "orderRef" and "being sent" in busy.text
        assert (await driver.api.post(resend, headers=maker)).status_code == 409
        assert ref not in (await _lendbox(sandbox))["orders"]
        _set_order(db, loan_id, ref, status="PENDING", sendingAt=None)
        sent = await driver.api.post(f"{resend}/approve", headers=checker)
        assert sent.status_code == 200 and sent.json()["resend"]["status"] == "SENT", sent.text
        assert sent.json()["walletOrderId"].startswith("LBW")
        held = (await _lendbox(sandbox))["orders"][ref]
        assert held["amount"] == f"{order['amount'] // 100}.{order['amount'] % 100:02d}"

        async def succeeded() -> dict | None:
            got = (_co(db, loan_id).steps or {})["orders"][ref]
            return got if got.get("status") == "SUCCESS" else None

        await _until(succeeded, "Lendbox's CREDIT_ORDER callback", deadline)
        done = await driver.api.post(resend, headers=maker)
        assert done.status_code == 409 and "already succeeded" in done.json()["errors"][0]["reason"], done.text
        assert (await driver.api.post(f"{resend}/approve", headers=checker)).status_code == 409

        # restructured: Lendbox's schedule sync refused once (the loan goes on), then sent by ops' retry
        await driver.wait_for(headers, loan_id, lambda x: x["status"] == "OVERDUE", "the loan overdue", deadline)
        await _refuse(sandbox, "schedule")
        proposed = await driver.partner(MANAGER, "POST", f"/collection/{loan_id}/restructure",
                                        json={"installments": 4, "reason": "salary cut"})  # fmt: skip
        approved = await driver.partner(HEAD, "POST", f"/collection/{loan_id}/restructure/approve", json={})
        assert approved["id"] == proposed["id"]
        step = _co(db, loan_id).steps["SCHEDULE"]
        assert (step["status"], step["version"]) == ("FAILED", 1) and "refused" in step["reason"], step
        retried = await driver.partner("LOAN_EXECUTIVE", "POST", f"/co-lending/loans/{loan_id}/partner-steps/retry")
        assert retried["complete"] and [s["step"] for s in retried["steps"]][4] == "SCHEDULE"
        assert await _retry_activities(co_app.client, retried["workflowId"]) == ["colending_partner_step"] * 6
        co = _co(db, loan_id)
        assert (co.steps["SCHEDULE"]["status"], co.steps["SCHEDULE"]["version"]) == ("DONE", 1)
        held = (await _lendbox(sandbox))["loans"][co.partner_loan_id]
        principal = sum(int(x["principal"].replace(".", "")) for x in held["schedule"])
        assert len(held["schedule"]) == 4 and len(held["schedules"]) == 2  # at disbursal, then restructured
        assert principal == _balances(db, loan_id)["PARTNER"]["CL_PRINCIPAL"] > 0  # its principal outstanding
        history = await co_app.client.get_workflow_handle(j.workflow_id).fetch_history()
        names = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
                 if e.HasField("activity_task_scheduled_event_attributes")]  # fmt: skip
        assert "colending_reschedule" in names
        assert (await driver.loan(headers, loan_id))["status"] in ("DISBURSED", "OVERDUE")  # never failed
        if os.environ.get("LOS_RECORD_HISTORIES"):
            await record_histories(co_app.client, j.workflow_id, "co_lending_restructured")

        # another brand reaches none of it
        code_b = f"b{uuid.uuid4().hex[:7]}"
        seed_brand(db, sandbox.url, code=code_b)
        driver_b = Driver(co_app.api.url, sandbox.url, code_b)
        try:
            admin_b = await driver_b.staff_headers("ADMIN")
            for path in (resend, f"{resend}/approve"):
                assert (await driver_b.api.post(path, headers=admin_b)).status_code in (403, 404)
        finally:
            await driver_b.close()
    finally:
        await driver.close()


async def test_a_recovery_after_a_write_off_is_split_and_repays_the_dlg(co_app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    deadline = time.monotonic() + driver.timeout
    try:
        await _configure(driver)
        await driver.partner("ADMIN", "PUT", "/co-lending/dlg/lendbox",
                             json={"coverBps": 500, "setAside": 10_000_000})  # fmt: skip
        headers, j = await _disbursed_co_lent(driver, deadline, 12)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "OVERDUE", "overdue", deadline)
        before = await _set_collections(driver, writeOffDpd=0)
        try:
            await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/writeoff", json={"reason": "unreachable"})
        finally:
            await driver.partner("ADMIN", "PUT", "/settings/brand", json={"collections": before})

        async def invoked() -> dict | None:
            got = _balances(db, j.loan_id)
            return got if got["PARTNER"].get("CL_LOSS_COVERED") else None

        books = await _until(invoked, "the DLG's postings", deadline)
        with db.unit_of_work() as s:
            inv = s.scalars(select(CoLendingDlgInvocation).where(CoLendingDlgInvocation.loan_id == j.loan_id)).one()
            amount = inv.amount
        assert amount > 0
        # the DLG posted: the originator's payout from its cover, the partner's receipt against its loss; balanced
        assert (books["ORIGINATOR"]["CL_DLG_PAID"], books["ORIGINATOR"]["CL_DLG_COVER"]) == (amount, -amount)
        assert (books["PARTNER"]["CL_DLG_RECEIVED"], books["PARTNER"]["CL_LOSS_COVERED"]) == (amount, -amount)
        assert all(sum(books[x].values()) == 0 for x in ("ORIGINATOR", "PARTNER"))

        # the borrower pays the link still open: a recovery, split as the write-off was
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "WRITTEN_OFF", "written off",
                                     deadline)  # fmt: skip
        url = (loan.get("paymentLink") or {}).get("url") or await _sms_link(driver, j.phone, "overdue", deadline)
        recovered = _amount(await driver.pay_link(url))

        async def split() -> dict | None:
            got = _balances(db, j.loan_id)
            return got if got["ORIGINATOR"].get("CL_EXCESS_RECOVERED") is not None or any(
                k.endswith("_RECOVERED") for k in got["PARTNER"]) else None  # fmt: skip

        books = await _until(split, "the recovery's split", deadline)
        with db.unit_of_work() as s:
            legs = s.execute(select(CoLendingLeg.lender, CoLendingLeg.kind, CoLendingLeg.account, CoLendingLeg.amount)
                             .where(CoLendingLeg.loan_id == j.loan_id)).all()  # fmt: skip
            escrow = dict(s.execute(select(CoLendingEscrowEntry.lender, CoLendingEscrowEntry.amount).where(
                CoLendingEscrowEntry.loan_id == j.loan_id, CoLendingEscrowEntry.payment_id.like("colending:recovery:%"))
            ).all())  # fmt: skip
        got = {x: sum(a for lender, k, acct, a in legs
                      if lender == x and k == "CL_RECOVERY" and acct == "CL_COLLECTIONS")
               for x in ("ORIGINATOR", "PARTNER")}  # fmt: skip
        if recovered is not None:
            assert got["ORIGINATOR"] + got["PARTNER"] == recovered
        assert got["PARTNER"] > 0 and got["ORIGINATOR"] > 0  # both lenders recover what they lost, by share
        lost = {x: sum(a for lender, k, acct, a in legs if lender == x and k == "CL_WRITE_OFF" and acct == "CL_LOSS")
                for x in ("ORIGINATOR", "PARTNER")}  # fmt: skip
        assert got["PARTNER"] <= lost["PARTNER"] and got["ORIGINATOR"] <= lost["ORIGINATOR"] + (recovered or 0)
        # the DLG paid back first from the partner's part (never more than it paid), the cover not reinstated
        repaid = sum(a for lender, k, acct, a in legs if lender == "PARTNER" and k == "CL_DLG_REPAID"
                     and acct == "CL_LOSS_COVERED")  # fmt: skip
        assert repaid == min(amount, got["PARTNER"])
        assert books["ORIGINATOR"]["CL_DLG_PAID"] == amount - repaid
        assert escrow == {x: v for x, v in {"ORIGINATOR": got["ORIGINATOR"] + repaid,
                                            "PARTNER": got["PARTNER"] - repaid}.items() if v}  # fmt: skip
        for lender in ("ORIGINATOR", "PARTNER"):
            assert sum(books[lender].values()) == 0, books[lender]  # each sub-ledger balances to the paisa
        (dlg,) = await driver.partner("ADMIN", "GET", "/co-lending/dlg")
        assert dlg["used"] == amount  # never reinstated by the recovery
    finally:
        await driver.close()
