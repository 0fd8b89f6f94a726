"""Timers in virtual time: the Java time-skipping test server runs a year of repayments in seconds.
Activities are the production ones (real PostgreSQL, sandbox over HTTP, Chromium PDF)."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta, timezone

import pytest_asyncio
from sqlalchemy import select

from db.models import (
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanAgreement,
    LoanProduct,
    LoanStatusHistory,
    RepaymentInstallment,
)
from los.demo import Driver, demo_identity, random_account
from tests.conftest import eventually, record_histories, running_app, skip_time
from workflows.loan import LoanWorkflow


@pytest_asyncio.fixture(scope="module")
async def ts_env(env):  # noqa: ANN001, ANN201
    """The module's time-skipping test server (tests/workflows/conftest.py)."""
    return env


@pytest_asyncio.fixture
async def ts_app(ts_env, database_url, db, storage_dir, renderer):  # noqa: ANN001, ANN201
    # Virtual time runs ahead of the wall clock (a year per test), so updates cannot carry a wall-clock expiry here.
    async with running_app(ts_env, database_url, db, storage_dir, renderer, workflow_update_expiry=False) as app:
        yield app


async def _until(driver: Driver, headers: dict, loan_id: str, predicate) -> dict:  # noqa: ANN001
    async def check():  # noqa: ANN202
        loan = await driver.loan(headers, loan_id)
        return loan if predicate(loan) else None

    return await eventually(check, timeout=60)


async def _to_disbursed(driver: Driver, product: str, tenure: int) -> tuple[dict, dict]:
    phone, pan = demo_identity(0, "auto")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.add_account(headers, random_account())  # the account the money goes to
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "120000", "tenure": tenure, "productCode": product}, headers=headers
        )
    )
    await _until(driver, headers, loan["id"], lambda x: x["status"] == "SANCTIONED")
    await driver.accept_kfs(headers, loan["id"])  # nothing goes for eSign before
    return headers, loan


async def test_twelve_monthly_installments_complete_in_virtual_time(ts_env, ts_app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(ts_app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _to_disbursed(driver, "PL-MONTHLY", 12)
        pending = await _until(
            driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"]
        )
        await driver.sandbox.post(pending["agreement"]["signingUrl"])
        await _until(driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_SIGNED")
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")
        detail = await _until(driver, headers, loan["id"], lambda x: x["status"] == "DISBURSED")
        assert len(detail["schedule"]) == 12
        late = {3, 7}  # these two are paid a day after their due date
        penal_links: list[int] = []

        for row in detail["schedule"]:
            number = row["installmentNo"]
            due = datetime.fromisoformat(row["dueAt"])
            target = due + timedelta(days=1) if number in late else due - timedelta(days=1)
            await skip_time(ts_env, target)
            if number in late:
                await _until(driver, headers, loan["id"], lambda x: x["status"] == "OVERDUE")
            # The customer pays the link for what is due as shown, and waits for it to be applied. A late
            # installment also owes a penal charge that grows by the day: what accrued since the link was made
            # is left over and paid with a second, smaller link.
            links_paid = 0
            while True:
                current = await _until(
                    driver,
                    headers,
                    loan["id"],
                    lambda x, n=number: (
                        x["schedule"][n - 1]["status"] == "PAID"
                        or (
                            (x.get("paymentLink") or {}).get("installmentNo") == n
                            and x["paymentLink"]["amountPaise"] == x["schedule"][n - 1]["duePaise"]
                        )
                    ),
                )
                if current["schedule"][number - 1]["status"] == "PAID":
                    break
                count = len(current["payments"])
                (await driver.sandbox.post(current["paymentLink"]["url"])).raise_for_status()
                links_paid += 1
                await _until(driver, headers, loan["id"], lambda x, c=count: len(x["payments"]) > c)
            penal_links.append(links_paid)

        result = await ts_app.client.get_workflow_handle_for(LoanWorkflow.run, loan["workflowId"]).result()
        assert result.status == "COMPLETED" and result.installments_paid == 12
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run
            await record_histories(ts_app.client, loan["workflowId"], "origination_local_steps")
        virtual_span = await ts_env.get_current_time() - datetime.fromisoformat(detail["disbursedAt"])
        assert virtual_span > timedelta(days=330)  # a year of timers really elapsed, in virtual time

        with db.unit_of_work() as s:
            moves = [
                h.to_status
                for h in s.scalars(
                    select(LoanStatusHistory)
                    .where(LoanStatusHistory.loan_id == loan["id"])
                    .order_by(LoanStatusHistory.seq)
                )
            ]
            assert moves.count("OVERDUE") == 2
            assert moves[-1] == "COMPLETED"
            rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan["id"])).all()
            assert len(rows) == 12 and all(r.status == "PAID" for r in rows)
            assert sum(r.principal for r in rows) == 120_000_00
            # the late ones carried a penal charge (24% p.a. on the overdue installment for the days late)
            penal = {r.installment_no: r.penal for r in rows if r.penal}
            assert set(penal) == late and all(0 < p < 1_000_00 for p in penal.values())
            assert all(r.penal_paid == r.penal for r in rows)
            # on time: one link each; late: the link plus at most one for the penal accrued meanwhile
            assert all(n == 1 for i, n in enumerate(penal_links, start=1) if i not in late)
            assert all(1 <= penal_links[i - 1] <= 2 for i in late)
            loan_row = s.get_one(Loan, loan["id"])
            assert loan_row.total_collected == sum(r.total + r.penal for r in rows)
            assert (loan_row.dpd, loan_row.asset_class) == (0, "STANDARD")
            legs = s.execute(
                select(LedgerTransaction.kind, LedgerEntry.account, LedgerEntry.amount)
                .join(LedgerEntry)
                .where(LedgerTransaction.loan_id == loan["id"])
            ).all()
            assert sum(a for _, _, a in legs) == 0
            assert sum(a for k, acct, a in legs if k == "PENAL_CHARGE" and acct == "PENAL_CHARGES_INCOME") == -sum(
                penal.values()
            )
            # the disbursal paid out the net amount: 2% processing fee + 18% GST + ₹300 insurance deducted
            assert sum(a for k, acct, a in legs if k == "DISBURSAL" and acct == "DISBURSAL_BANK") == -(
                120_000_00 - 2_400_00 - 432_00 - 300_00
            )
            dues = sorted((r.due_date, r.interest) for r in rows)
        # Accrual basis: the ledger as of each due date holds, as interest income, exactly the schedule's interest
        # of the periods ended by then (early payments were income when collected, late ones accrued at the
        # period's end); the late installments' interest sat receivable at their due dates; every as-of ledger
        # balances, and so does the brand's trial balance.
        staff = await driver.staff_headers("CREDIT_EXECUTIVE")
        base = f"/api/v1/partner/brand/{brand['brand_id']}"
        for n, (due_date, _) in enumerate(dues, start=1):
            book = (await driver.api.get(f"{base}/loans/{loan['id']}/ledger", params={"asOf": str(due_date)},
                                         headers=staff)).json()  # fmt: skip
            assert book["balanced"] and book["asOf"] == str(due_date)
            lines = {line["account"]: line["balancePaise"] for line in book["trialBalance"]}
            assert -lines["INTEREST_INCOME"] == sum(i for _, i in dues[:n]), n
            receivable = lines.get("INTEREST_RECEIVABLE", 0)
            assert receivable == (dues[n - 1][1] if n in late else 0), n
        # the brand's books are a report: not for a credit executive, who sees loans
        assert (await driver.api.get(f"{base}/ledger/trial-balance", headers=staff)).status_code == 403
        manager = await driver.staff_headers("SANCTION_MANAGER")
        brand_book = (await driver.api.get(f"{base}/ledger/trial-balance", headers=manager)).json()
        assert brand_book["balanced"] and brand_book["totalDebitPaise"] == brand_book["totalCreditPaise"] > 0
    finally:
        await driver.close()


async def test_unsigned_agreement_expires(ts_env, ts_app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(ts_app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _to_disbursed(driver, "PL-MONTHLY", 6)
        await _until(driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"])
        await ts_env.sleep(timedelta(seconds=601))  # the brand's eSign expiry is 600 s
        result = await ts_app.client.get_workflow_handle_for(LoanWorkflow.run, loan["workflowId"]).result()
        assert result.status == "EXPIRED"
        final = await driver.loan(headers, loan["id"])
        assert final["status"] == "EXPIRED" and final["statusReason"] == "agreement not signed before expiry"
        with db.unit_of_work() as s:
            assert s.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan["id"])).one().status == "EXPIRED"
    finally:
        await driver.close()


IST = timezone(timedelta(hours=5, minutes=30))


async def test_dpd_and_asset_class_on_rbi_day_ends(ts_env, ts_app, brand, sandbox, db) -> None:  # noqa: ANN001
    """RBI IRACP clarifications (12 Nov 2021), worked example: an installment due 31 Mar, unpaid, is overdue
    (DPD 1) at the day-end of 31 Mar; SMA-1 at the day-end of 30 Apr (due + 30 days), SMA-2 at the day-end of
    30 May (+60), NPA at the day-end of 29 Jun (+90). The day-end of date X runs at 00:00 IST of X+1. A borrower
    who pays the oldest installment during day +90 is SMA-2 at its day-end (the next one, due +30, is 61 days
    past due), not NPA; that next installment makes the loan NPA at the day-end of its own +90."""
    with db.unit_of_work() as s:  # 30-day periods, so every due date is the first plus a multiple of 30 days
        product = s.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"], LoanProduct.code == "PL-MONTHLY")
        ).one()
        product.repay_every, product.repay_unit = 30, "DAYS"
    driver = Driver(ts_app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _to_disbursed(driver, "PL-MONTHLY", 6)
        pending = await _until(
            driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"]
        )
        await driver.sandbox.post(pending["agreement"]["signingUrl"])
        await _until(driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_SIGNED")
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")
        detail = await _until(driver, headers, loan["id"], lambda x: x["status"] == "DISBURSED")
        due = datetime.fromisoformat(detail["schedule"][0]["dueAt"]).astimezone(IST).date() - timedelta(days=1)
        second = datetime.fromisoformat(detail["schedule"][1]["dueAt"]).astimezone(IST).date() - timedelta(days=1)
        assert second == due + timedelta(days=30)

        def day_end(offset: int) -> datetime:  # the instant the day-end of (due + offset) has run
            return datetime.combine(due + timedelta(days=offset + 1), time(0), IST) + timedelta(minutes=1)

        async def go(moment: datetime) -> None:
            await skip_time(ts_env, moment)

        def state() -> tuple[int, str, object]:
            with db.unit_of_work() as s:
                row = s.get_one(Loan, loan["id"])
                return row.dpd, row.asset_class, row.asset_class_since

        async def reaches(dpd: int) -> tuple[int, str, object]:
            return await eventually(lambda: (st := state())[0] == dpd and st, timeout=60)

        await go(day_end(0) - timedelta(minutes=2))  # 23:59 IST on the due date: not yet overdue
        assert state()[:2] == (0, "STANDARD")
        await go(day_end(0))
        assert await reaches(1) == (1, "SMA-0", due)
        await go(day_end(29))
        assert await reaches(30) == (30, "SMA-0", due)  # one day before SMA-1: still SMA-0
        await go(day_end(30))
        assert await reaches(31) == (31, "SMA-1", due + timedelta(30))
        await go(day_end(59))
        assert (await reaches(60))[1] == "SMA-1"
        await go(day_end(60))
        assert await reaches(61) == (61, "SMA-2", due + timedelta(60))
        await go(day_end(89))
        assert (await reaches(90))[1] == "SMA-2"  # the start of day +90: not NPA yet

        # During day +90 the borrower pays what the oldest installment owes (with its penal charges).
        await go(day_end(89) + timedelta(hours=10))
        while True:
            current = await _until(
                driver,
                headers,
                loan["id"],
                lambda x: (
                    x["schedule"][0]["status"] == "PAID" or ((x.get("paymentLink") or {}).get("installmentNo") == 1)
                ),
            )
            if current["schedule"][0]["status"] == "PAID":
                break
            count = len(current["payments"])
            (await driver.sandbox.post(current["paymentLink"]["url"])).raise_for_status()
            await _until(driver, headers, loan["id"], lambda x, c=count: len(x["payments"]) > c)
        await go(day_end(90))
        # Installment 2 (due + 30) is now the oldest unpaid: at the day-end of day +90 it is 61 days past due,
        # so SMA-2 and not NPA (the bug had tagged NPA at 00:00 of day +90, before the payment, for good).
        assert await reaches(61) == (61, "SMA-2", due + timedelta(90))
        await go(day_end(30 + 89))
        assert (await reaches(90))[1] == "SMA-2"
        await go(day_end(30 + 90))
        assert await reaches(91) == (91, "NPA", due + timedelta(30 + 90))
    finally:
        await driver.close()
