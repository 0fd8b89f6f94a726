"""Co-lending's losses, default-loss guarantee, escrow and ops retry over the real stack (API, worker, Temporal,
PostgreSQL, the sandbox's Lendbox twin; the stack of ``test_colending_journey``).

- A loan co-lent 80:20 with Lendbox repays its first installment, falls overdue and is written off: the write-off
  split between the lenders with each sub-ledger balanced and both principals zero; the DLG invoked once, capped at
  its cover; the book and settlement statement showing the losses; the escrow's apportionment and a maker-checker
  remittance; a failed partner step run again, audited and idempotent; bad input 422 naming the field; brand
  isolation.
- Another falls overdue and is settled below its dues: a waiver and the DLG's invocation on its DPD (the
  activities, as the workflow calls them: demo products' DPD stays 0), then the settlement's waiver split.

``LOS_RECORD_HISTORIES=1`` saves both loans' runs for the replay suite (``co_lending_write_off_*``,
``co_lending_settled_*``: patch ``co-lending-losses-v1``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest_asyncio
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from activities.colending import CoLendingActivities
from api.partner import colending_losses
from db.models import AuditLog, CoLendingDlgInvocation, CoLendingEscrowEntry, CoLendingLeg, CoLentLoan
from los.demo import Driver, Journey, demo_identity, random_account
from los.demo_colending import _booked, _co_lent, _configure
from los.demo_collections import HEAD, MANAGER, _set_collections, _sms_link
from los.seed import seed_brand
from tests.conftest import record_histories
from tests.integration.test_colending_journey import co_lending_app
from workflows.colending_retry import CoLendingRetryWorkflow, CoLendRetryInput
from workflows.contracts.colending_losses import CoLendLoss, CoLendOverdue
from workflows.options import IST


@pytest_asyncio.fixture
async def co_app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator:  # noqa: ANN001
    async with co_lending_app(dev_env, database_url, db, storage_dir, renderer) as a:
        yield a


async def _until(check, what: str, deadline: float):  # noqa: ANN001, ANN202
    while time.monotonic() < deadline:
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} not seen in time")


async def _disbursed_co_lent(driver: Driver, deadline: float, index: int) -> tuple[dict, Journey]:
    """A loan applied for, booked by Lendbox, signed, disbursed and co-lent with its funding (UTR) in."""
    phone, pan = demo_identity(index, "auto")
    j = Journey(phone=phone, pan=pan)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers, random_account())
    body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
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


def _balances(db, loan_id: str) -> dict[str, dict[str, int]]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.execute(select(CoLendingLeg.lender, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
                         .where(CoLendingLeg.loan_id == loan_id)
                         .group_by(CoLendingLeg.lender, CoLendingLeg.account)).all()  # fmt: skip
    out: dict[str, dict[str, int]] = {"ORIGINATOR": {}, "PARTNER": {}}
    for lender, account, total in rows:
        out[lender][account] = int(total)
    return out


async def _retry_activities(client, workflow_id: str) -> list[str]:  # noqa: ANN001
    """The activity types the retry workflow ``workflow_id`` scheduled, in order (it must have completed)."""
    handle = client.get_workflow_handle(workflow_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    history = await handle.fetch_history()
    return [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")]  # fmt: skip


async def test_write_off_split_dlg_escrow_and_retry(co_app, brand, sandbox, db, monkeypatch) -> None:  # noqa: ANN001, PLR0915
    driver = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    deadline = time.monotonic() + driver.timeout
    base = f"/api/v1/partner/brand/{brand['brand_id']}/co-lending"
    try:
        await _configure(driver)
        admin = await driver.staff_headers("ADMIN")
        for bad, name in (({"coverBps": 600, "setAside": 1}, "coverBps"), ({"coverBps": 500, "setAside": -1},
                          "setAside"), ({"coverBps": 500, "setAside": 1, "invokeDpd": 121}, "invokeDpd"),
                          ({"coverBps": 500, "setAside": 1, "form": "GOLD"}, "form")):  # fmt: skip
            answer = await driver.api.put(f"{base}/dlg/lendbox", json=bad, headers=admin)
            assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == name, answer.text
        assert await driver.partner("ADMIN", "GET", "/co-lending/dlg") == []
        dlg = await driver.partner("ADMIN", "PUT", "/co-lending/dlg/lendbox",
                                   json={"coverBps": 500, "setAside": 100_000, "form": "FIXED_DEPOSIT"})  # fmt: skip
        assert (dlg["coverBps"], dlg["invokeDpd"], dlg["used"]) == (500, 90, 0)

        headers, j = await _disbursed_co_lent(driver, deadline, 7)
        loan_id = j.loan_id
        loan = await driver.wait_for(headers, loan_id, lambda x: x.get("paymentLink") is not None, "a link", deadline)
        await driver.pay_link(loan["paymentLink"]["url"])
        await driver.wait_for(headers, loan_id, lambda x: x["totalCollectedPaise"] > 0, "the payment", deadline)

        # the escrow apportioned the payment to each lender; a remittance to the originator, maker-checker
        async def apportioned() -> list | None:
            rows = await driver.partner("ADMIN", "GET", "/co-lending/escrow")
            return rows if {r["lender"] for r in rows} >= {"ORIGINATOR", "PARTNER"} else None

        rows = {r["lender"]: r for r in await _until(apportioned, "the escrow's apportionment", deadline)}
        with db.unit_of_work() as s:
            entries = dict(s.execute(select(CoLendingEscrowEntry.lender, CoLendingEscrowEntry.amount)
                                     .where(CoLendingEscrowEntry.loan_id == loan_id)).all())  # fmt: skip
        assert sum(entries.values()) == (await driver.loan(headers, loan_id))["totalCollectedPaise"]
        owed = rows["ORIGINATOR"]["payable"]
        assert owed == entries["ORIGINATOR"] > 0
        body = {"partnerCode": "lendbox", "lender": "ORIGINATOR", "amount": owed + 1,
                "remittedOn": datetime.now(IST).date().isoformat(), "reference": "UTR-ESC-1"}  # fmt: skip
        over = await driver.api.post(f"{base}/escrow/remittances", json=body, headers=admin)
        assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount"
        mine = await driver.partner("ADMIN", "POST", "/co-lending/escrow/remittances", json={**body, "amount": 100})
        same = await driver.api.post(f"{base}/escrow/remittances/{mine['id']}/approve", json={}, headers=admin)
        assert same.status_code == 403  # the maker may not approve it
        for reject in ({}, {"reason": "  "}):
            no_reason = await driver.api.post(f"{base}/escrow/remittances/{mine['id']}/reject", json=reject,
                                              headers=admin)  # fmt: skip
            assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        same = await driver.api.post(f"{base}/escrow/remittances/{mine['id']}/reject", json={"reason": "typo"},
                                     headers=admin)  # fmt: skip
        assert same.status_code == 403  # nor reject it
        theirs = await driver.partner("LOAN_EXECUTIVE", "POST", "/co-lending/escrow/remittances",
                                      json={**body, "amount": owed - 100})  # fmt: skip
        assert theirs["status"] == "PENDING"
        too_much = await driver.api.post(f"{base}/escrow/remittances", json={**body, "amount": 1}, headers=admin)
        assert too_much.status_code == 422  # both pending remittances take all the escrow owes
        done = await driver.partner("ADMIN", "POST", f"/co-lending/escrow/remittances/{theirs['id']}/approve", json={})
        assert done["status"] == "APPROVED" and done["decidedBy"] != done["recordedBy"]
        again = await driver.api.post(f"{base}/escrow/remittances/{theirs['id']}/approve", json={}, headers=admin)
        assert again.status_code == 409
        rows = {r["lender"]: r for r in await driver.partner("ADMIN", "GET", "/co-lending/escrow")}
        assert (rows["ORIGINATOR"]["remitted"], rows["ORIGINATOR"]["pending"]) == (owed - 100, 100)
        assert rows["ORIGINATOR"]["payable"] == 100

        # overdue, then written off: the write-off split between the lenders, the DLG invoked once
        await driver.wait_for(headers, loan_id, lambda x: x["status"] == "OVERDUE", "the loan overdue", deadline)
        before = await _set_collections(driver, writeOffDpd=0)
        try:
            await driver.partner(HEAD, "POST", f"/collection/{loan_id}/writeoff", json={"reason": "unreachable"})
        finally:
            await driver.partner("ADMIN", "PUT", "/settings/brand", json={"collections": before})

        async def split() -> dict | None:
            view = await driver.partner("LOAN_EXECUTIVE", "GET", f"/co-lending/loans/{loan_id}")
            return view if view["partner"]["balances"].get("CL_LOSS") else None

        view = await _until(split, "the write-off's split", deadline)
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run (the replay suite)
            await driver.wait_for(headers, loan_id, lambda x: x["status"] == "WRITTEN_OFF", "written off", deadline)
            await record_histories(co_app.client, j.workflow_id, "co_lending_write_off")
        for side in ("originator", "partner"):
            assert view[side]["balanced"], view[side]
            assert view[side]["balances"].get("CL_PRINCIPAL", 0) == 0, view[side]
            assert view[side]["balances"]["CL_LOSS"] > 0
        with db.unit_of_work() as s:
            co = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan_id)).one()
            (inv,) = s.scalars(select(CoLendingDlgInvocation).where(CoLendingDlgInvocation.loan_id == loan_id)).all()
        partner_lost = view["partner"]["balances"]["CL_LOSS"]
        cap = co.partner_principal * 500 // 10_000
        assert (inv.reason, inv.loss) == ("WRITE_OFF", partner_lost)
        assert inv.amount == min(partner_lost, cap, 100_000)
        (dlg,) = await driver.partner("ADMIN", "GET", "/co-lending/dlg")
        assert dlg["used"] == inv.amount and dlg["left"] == dlg["cover"] - inv.amount and dlg["invocations"] == 1
        (row,) = await driver.partner("ADMIN", "GET", "/co-lending/dlg/lendbox/invocations")
        assert row["loanId"] == loan_id and row["amount"] == inv.amount

        today = datetime.now(IST).date().isoformat()
        (book,) = await driver.partner("ADMIN", "GET", "/co-lending/book", params={"asOf": today})
        assert book["partner"]["outstanding"] == 0 and book["originator"]["outstanding"] == 0
        assert book["partner"]["overdueTotal"] == 0
        assert book["partner"]["collectedPrincipal"] + book["partner"]["lostPrincipal"] == co.partner_principal
        stmt = {r["lender"]: r for r in await driver.partner(
            "ADMIN", "GET", "/co-lending/settlement", params={"fromDate": today, "toDate": today})}  # fmt: skip
        assert stmt["PARTNER"]["lost"] == partner_lost
        assert stmt["PARTNER"]["lost"] + stmt["ORIGINATOR"]["lost"] == (
            view["partner"]["balances"]["CL_LOSS"] + view["originator"]["balances"]["CL_LOSS"]
        )
        assert stmt["ORIGINATOR"]["remitted"] == owed - 100

        # a partner step that failed for good, run again by ops: once, audited; a second call sends nothing
        with db.unit_of_work() as s:
            co = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan_id)).one()
            co.steps = {**co.steps, "DOCUMENTS": {"status": "FAILED", "reason": "422: file too large"}}
        sent = lambda: sandbox_docs(sandbox, co.partner_loan_id)  # noqa: E731
        docs_before = await sent()
        retried = await driver.partner("LOAN_EXECUTIVE", "POST", f"/co-lending/loans/{loan_id}/partner-steps/retry")
        assert retried["complete"] and [s["status"] for s in retried["steps"]] == ["DONE"] * 6
        # it ran as the retry workflow (the API runs no activity): one partner-step activity per step
        assert retried["workflowId"] == f"colending-retry-{loan_id}"
        assert await _retry_activities(co_app.client, retried["workflowId"]) == ["colending_partner_step"] * 6
        again = await driver.partner("LOAN_EXECUTIVE", "POST", f"/co-lending/loans/{loan_id}/partner-steps/retry")
        assert again["complete"] and await sent() == docs_before
        with db.unit_of_work() as s:
            assert s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == loan_id)).one() \
                .steps["DOCUMENTS"]["status"] == "DONE"  # fmt: skip
            audits = s.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.action == "co_lending.partner_steps.retry", AuditLog.entity_id == co.id))  # fmt: skip
        assert audits == 2
        # a retry that outlasts the route's wait: 202 with its workflow id; it finishes on its own
        monkeypatch.setattr(colending_losses, "RETRY_WAIT_SECONDS", 0.0)
        slow = await driver.api.post(f"{base}/loans/{loan_id}/partner-steps/retry",
                                     headers=await driver.staff_headers("LOAN_EXECUTIVE"))  # fmt: skip
        assert slow.status_code == 202 and slow.json()["workflowId"] == f"colending-retry-{loan_id}", slow.text
        assert slow.json()["steps"] == []
        ran = co_app.client.get_workflow_handle_for(CoLendingRetryWorkflow.run, slow.json()["workflowId"])
        assert (await ran.result()).complete
        monkeypatch.undo()
        # a retry already running (its workflow started where no worker polls): 409 naming loanId, nothing sent
        blocker = await co_app.client.start_workflow(
            CoLendingRetryWorkflow.run, CoLendRetryInput(loan_id, brand["brand_id"]),
            id=f"colending-retry-{loan_id}", task_queue=f"idle-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        try:
            busy = await driver.api.post(f"{base}/loans/{loan_id}/partner-steps/retry",
                                         headers=await driver.staff_headers("LOAN_EXECUTIVE"))  # fmt: skip
            assert busy.status_code == 409 and busy.json()["errors"][0]["field"] == "loanId"
        finally:
            await blocker.terminate("test: the retry that was running")
        assert await sent() == docs_before
        denied = await driver.api.post(f"{base}/loans/{loan_id}/partner-steps/retry",
                                       headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))  # fmt: skip
        assert denied.status_code == 403

        # another brand sees none of it
        code_b = f"b{uuid.uuid4().hex[:7]}"
        seed_brand(db, sandbox.url, code=code_b)
        driver_b = Driver(co_app.api.url, sandbox.url, code_b)
        try:
            admin_b = await driver_b.staff_headers("ADMIN")
            for method, path, payload in (
                ("GET", "/dlg", None), ("PUT", "/dlg/lendbox", {"coverBps": 100, "setAside": 1}),
                ("GET", "/dlg/lendbox/invocations", None), ("GET", "/escrow", None),
                ("GET", "/escrow/remittances", None), ("POST", "/escrow/remittances", {**body, "amount": 1}),
                ("POST", f"/escrow/remittances/{mine['id']}/approve", {}),
                ("POST", f"/escrow/remittances/{mine['id']}/reject", {"reason": "no"}),
                ("POST", f"/loans/{loan_id}/partner-steps/retry", None),
            ):
                resp = await driver_b.api.request(method, base + path, json=payload, headers=admin_b)
                assert resp.status_code in (403, 404), (method, path, resp.status_code)
        finally:
            await driver_b.close()
    finally:
        await driver.close()


async def test_waiver_dlg_on_its_dpd_and_settlement_split(co_app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(co_app.api.url, sandbox.url, brand["brand_code"])
    deadline = time.monotonic() + driver.timeout
    acts = CoLendingActivities(db, co_app.http, None, co_app.api.url)  # type: ignore[arg-type]  (no steps here)
    try:
        await _configure(driver)
        await driver.partner("ADMIN", "PUT", "/co-lending/dlg/lendbox",
                             json={"coverBps": 500, "setAside": 10_000_000, "invokeDpd": 90})  # fmt: skip
        headers, j = await _disbursed_co_lent(driver, deadline, 8)
        await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "OVERDUE", "the loan overdue", deadline)
        today = datetime.now(IST).date()

        # a penal waiver split by the agreement's penal rule (SHARE, 20 %), once however often it is retried
        waiver = CoLendLoss(j.loan_id, brand["brand_id"], "CL_WAIVER", "waiver:test", 0, 0, 0, 1001, today)
        first, again = await acts.colending_loss(waiver), await acts.colending_loss(waiver)
        assert first == again and (first.partner["penal"], first.originator["penal"]) == (200, 801)
        assert _balances(db, j.loan_id)["PARTNER"]["CL_PENAL_FORGONE"] == -200

        # the DLG is not invoked before its DPD, then once on it for the partner's exposure
        assert await acts.colending_overdue(CoLendOverdue(j.loan_id, brand["brand_id"], 89, today)) == 90
        with db.unit_of_work() as s:
            assert s.scalars(select(CoLendingDlgInvocation).where(CoLendingDlgInvocation.loan_id == j.loan_id)).all() \
                == []  # fmt: skip
        assert await acts.colending_overdue(CoLendOverdue(j.loan_id, brand["brand_id"], 90, today)) is None
        assert await acts.colending_overdue(CoLendOverdue(j.loan_id, brand["brand_id"], 91, today)) is None
        with db.unit_of_work() as s:
            (inv,) = s.scalars(select(CoLendingDlgInvocation).where(CoLendingDlgInvocation.loan_id == j.loan_id)).all()
            co = s.scalars(select(CoLentLoan).where(CoLentLoan.loan_id == j.loan_id)).one()
        assert (inv.reason, inv.dpd) == ("OVERDUE", 90)
        assert inv.loss >= _balances(db, j.loan_id)["PARTNER"]["CL_PRINCIPAL"] > 0
        assert inv.amount == min(inv.loss, co.partner_principal * 500 // 10_000)

        # settled below its dues: the rest waived, split between the lenders
        quote = await driver.partner(MANAGER, "GET", f"/loans/{j.loan_id}/foreclosure-quote")
        amount = quote["principal"] * 3 // 5 // 100 * 100
        await driver.partner(MANAGER, "POST", f"/collection/{j.loan_id}/settlement",
                             json={"amount": amount, "reason": "job loss; one-time settlement"})  # fmt: skip
        await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/settlement/approve", json={"reason": "ok"})
        await driver.pay_link(await _sms_link(driver, j.phone, "settle loan", deadline))
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "SETTLED", "settled", deadline)

        async def settled() -> dict | None:
            got = _balances(db, j.loan_id)
            return got if got["PARTNER"].get("CL_LOSS", 0) > 200 else None

        books = await _until(settled, "the settlement's split", deadline)
        for lender in ("ORIGINATOR", "PARTNER"):
            assert sum(books[lender].values()) == 0 and books[lender].get("CL_PRINCIPAL", 0) == 0, books[lender]
        assert books["PARTNER"]["CL_FUNDING"] == -co.partner_principal
        assert books["ORIGINATOR"]["CL_COLLECTIONS"] + books["PARTNER"]["CL_COLLECTIONS"] == loan["totalCollectedPaise"]
        with db.unit_of_work() as s:
            kinds = set(s.scalars(select(CoLendingLeg.kind).where(CoLendingLeg.loan_id == j.loan_id)))
            assert s.scalar(select(func.count()).select_from(CoLendingDlgInvocation)
                            .where(CoLendingDlgInvocation.loan_id == j.loan_id)) == 1  # fmt: skip
        assert {"CL_WAIVER", "CL_SETTLEMENT", "CL_REPAYMENT"} <= kinds
        if os.environ.get("LOS_RECORD_HISTORIES"):
            await record_histories(co_app.client, j.workflow_id, "co_lending_settled")
    finally:
        await driver.close()


async def sandbox_docs(sandbox, partner_loan_id: str) -> list:  # noqa: ANN001
    """The documents the sandbox's Lendbox twin holds for the loan."""
    import httpx

    async with httpx.AsyncClient() as http:
        book = (await http.get(f"{sandbox.url}/_partners/lendbox/colending")).json()
    return list(book["loans"][partner_loan_id]["documents"])


def seed_remittance(session, brand_id: str) -> str:  # noqa: ANN001
    """A partner lender of brand ``brand_id`` and a PENDING escrow remittance to it (for walks that need one of each:
    tests/integration/test_brand_isolation.py, ``escrow/remittances/{id}/approve``, ``/reject``); the remittance's
    id."""
    from datetime import date

    from db.models import CoLendingRemittance, PartnerLender

    partner = PartnerLender(brand_id=brand_id, code="lendbox", name="Lendbox", adapter="lendbox", active=False,
                            min_amount=1_000_00, max_amount=5_00_000_00, min_tenure=1, max_tenure=36)  # fmt: skip
    session.add(partner)
    session.flush()
    row = CoLendingRemittance(brand_id=brand_id, partner_id=partner.id, lender="PARTNER", amount=100,
                              remitted_on=date(2026, 1, 2), reference="UTR-B-ONLY", status="PENDING",
                              recorded_by=str(uuid.uuid4()))  # fmt: skip
    session.add(row)
    session.flush()
    return row.id
