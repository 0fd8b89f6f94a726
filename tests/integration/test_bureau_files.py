"""The bureau (CIC) files through the real API, database and Temporal server (docs/bureau-reporting.md): a brand's
loans written straight to the tables, files built as on RBI's reference dates of August 2026 and read back field by
field; the incremental files holding exactly the accounts that changed; a file with validation errors refused for
download until fixed and rebuilt; submission, the CIC's rejections and their resubmission with the next file;
dates that are not reference dates 422 naming the field; brand B never sees brand A's files; the workflow run on a
real Temporal server, once per brand and date; the schedule the worker registers."""

from __future__ import annotations

import os
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from temporalio.client import ScheduleOverlapPolicy, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from activities.bureau_files import BureauFileActivities
from api.partner import bureau_files as routes
from db.models import (
    AuditLog,
    Brand,
    BureauFile,
    BureauFileRecord,
    Customer,
    Loan,
    LoanProduct,
    RepaymentInstallment,
    StaffNotification,
)
from domain import cic
from los.bureau_files_job import BUREAU_FILES_JOB
from los.demo import Driver
from los.schedules import ensure_schedule
from los.seed import seed_brand
from tests.conftest import record_histories
from tests.decode_history import decode_history_json
from tests.unit.test_cic_format import parse_segment
from workflows.bureau_files import ALERTS_PATCH, RUN_AT_UTC, BureauFilesWorkflow, day_ended
from workflows.options import IST

R = 100  # paise in a rupee
MEMBER = "NB00012345"


def at(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=IST)


def enable(db, brand_id: str, member: str = MEMBER) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        brand = s.get(Brand, brand_id)
        brand.config = {
            **(brand.config or {}),
            "bureau_reporting": {"enabled": True, "memberCode": member, "memberShortName": "Test NBFC"},
        }


class Book:
    """Loans of one brand, written in one transaction, with customers the format can report."""

    def __init__(self, session, brand_id: str):  # noqa: ANN001
        self.s, self.brand_id = session, brand_id
        self.product = session.scalar(
            select(LoanProduct.id).where(LoanProduct.brand_id == brand_id, LoanProduct.code == "PL-MONTHLY")
        )

    def loan(
        self,
        status: str,
        amount: int,
        disbursed: date | None,
        *,
        outstanding: int = 0,
        dpd: int = 0,
        asset_class: str = "STANDARD",
        closed: date | None = None,
        dob: date | None = date(1991, 3, 14),
    ) -> str:
        customer = Customer(
            brand_id=self.brand_id,
            phone=f"9{random.randrange(10**8, 10**9)}",
            full_name="Ravi Kumar",
            pan=f"ABCPK{random.randrange(1000, 9999)}Z",
            dob=dob,
            gender="M",
            email="ravi@example.in",
            address="12 MG Road, Indiranagar, Bengaluru",
            state="Karnataka",
            pincode="560038",
        )
        self.s.add(customer)
        self.s.flush()
        loan_id = str(uuid.uuid4())
        self.s.add(
            Loan(
                id=loan_id,
                brand_id=self.brand_id,
                customer_id=customer.id,
                product_id=self.product,
                workflow_id=f"loan-{loan_id}",
                amount=amount,
                tenure=6,
                annual_rate_bps=2400,
                status=status,
                outstanding_principal=outstanding,
                dpd=dpd,
                max_dpd=dpd,
                asset_class=asset_class,
                disbursed_at=at(disbursed) if disbursed else None,
                closed_at=at(closed) if closed else None,
                created_at=at(disbursed - timedelta(days=1)) if disbursed else datetime.now(UTC),
            )
        )
        self.s.flush()
        return loan_id

    def installment(self, loan_id: str, no: int, due: date, principal: int, interest: int, status: str) -> None:
        self.s.add(
            RepaymentInstallment(
                loan_id=loan_id, installment_no=no, due_at=at(due, 23), due_date=due, principal=principal,
                interest=interest, total=principal + interest, balance_after=0, status=status,
            )
        )  # fmt: skip


def seed(db, brand_id: str) -> dict[str, str]:  # noqa: ANN001
    """L1 DISBURSED ₹60,000 on 1 Jul 2026, ₹50,000 outstanding; L2 OVERDUE ₹40,000 on 5 Jul, DPD 15 (SMA-0),
    ₹7,000 overdue; L3 COMPLETED 2 Jul, closed 20 Jul; L4 DISBURSED ₹30,000 on 12 Aug (after the 9th);
    L5 APPLIED (never disbursed)."""
    with db.unit_of_work() as s:
        b = Book(s, brand_id)
        l1 = b.loan("DISBURSED", 60_000 * R, date(2026, 7, 1), outstanding=50_000 * R)
        b.installment(l1, 1, date(2026, 8, 1), 9_000 * R, 1_000 * R, "PAID")
        l2 = b.loan("OVERDUE", 40_000 * R, date(2026, 7, 5), outstanding=40_000 * R, dpd=15, asset_class="SMA-0")
        b.installment(l2, 1, date(2026, 8, 5), 6_000 * R, 1_000 * R, "OVERDUE")
        l3 = b.loan("COMPLETED", 10_000 * R, date(2026, 7, 2), closed=date(2026, 7, 20))
        l4 = b.loan("DISBURSED", 30_000 * R, date(2026, 8, 12), outstanding=30_000 * R)
        l5 = b.loan("APPLIED", 20_000 * R, None)
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "l5": l5}


class Files:
    def __init__(self, driver: Driver, brand_id: str):
        self.driver, self.brand_id = driver, brand_id

    def url(self, path: str = "", brand_id: str | None = None) -> str:
        return f"/api/v1/partner/brand/{brand_id or self.brand_id}/bureau-files{path}"

    async def call(self, method: str, path: str = "", role: str = "ADMIN", brand_id: str | None = None, **kw: Any):  # noqa: ANN201
        headers = await self.driver.staff_headers(role)
        return await self.driver.api.request(method, self.url(path, brand_id), headers=headers, **kw)

    async def build(self, kind: str, ref: str, **extra: Any) -> dict:
        resp = await self.call("POST", json={"kind": kind, "referenceDate": ref, **extra})
        assert resp.status_code == 200, resp.text
        routes.BuildOut.model_validate(resp.json())
        return resp.json()

    async def ok(self, method: str, path: str, model: type, **kw: Any) -> dict:
        resp = await self.call(method, path, **kw)
        assert resp.status_code == 200, resp.text
        model.model_validate(resp.json())
        return resp.json()


@pytest.fixture
def other_brand(db, sandbox) -> dict:  # noqa: ANN001
    return seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")


@pytest_asyncio.fixture
async def files(app, sandbox, brand):  # noqa: ANN001, ANN201
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    yield Files(driver, brand["brand_id"])
    await driver.close()


def accounts_of(content: str) -> dict[str, dict[str, str]]:
    """Loan id → the TL segment's fields, for each record line of a TUDF file."""
    lines = content.splitlines()
    assert lines[0].startswith("TUDF12") and lines[-1] == "TRLR"
    out = {}
    for line in lines[1:-1]:
        assert line.endswith("ES02**")
        tl = parse_segment(line, "TL")
        out[cic.loan_id_of_account(tl["03"])] = tl
    return out


async def download(files: Files, file_id: str) -> str:
    resp = await files.call("GET", f"/{file_id}/download")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    assert "attachment" in resp.headers["content-disposition"] and "TUDF_" in resp.headers["content-disposition"]
    return resp.text


# ------------------------------------------------------------------------------------------- the routes
async def test_files_through_a_month(db, files, brand) -> None:  # noqa: ANN001
    enable(db, brand["brand_id"])
    loans = seed(db, brand["brand_id"])
    l1, l2, l3, l4 = loans["l1"], loans["l2"], loans["l3"], loans["l4"]

    # 9 Aug: the first file — every open account is new to the CIC; L3 closed before, L4 not yet opened
    first = await files.build("INCREMENTAL", "2026-08-09")
    assert first["built"] and first["kind"] == "INCREMENTAL" and first["status"] == "VALIDATED"
    assert (first["referenceDate"], first["dueDate"], first["records"]) == ("2026-08-09", "2026-08-13", 2)
    assert first["recordErrors"] == [] and first["headerErrors"] == [] and first["late"] is True
    text = await download(files, first["id"])
    header = text.splitlines()[0]
    assert header[6:16] == MEMBER and header[36:52] == "TEST NBFC".ljust(16) and header[54:62] == "09082026"
    tls = accounts_of(text)
    assert set(tls) == {l1, l2}
    assert tls[l1] == {
        "01": MEMBER, "02": "TEST NBFC", "03": cic.account_number(l1), "04": "05", "05": "1", "08": "01072026",
        "11": "09082026", "12": "60000", "13": "50000", "14": "0", "15": "000", "26": "01", "38": "24.00",
        "39": "6", "40": "10000", "44": "03",
    }  # fmt: skip
    assert (tls[l2]["13"], tls[l2]["14"], tls[l2]["15"], tls[l2]["26"]) == ("40000", "7000", "015", "05")
    again = await files.build("INCREMENTAL", "2026-08-09")
    assert again["id"] == first["id"] and again["built"] is False

    # 16 Aug: L2 moved to SMA-1 (a DPD bucket and classification change), L4 opened; L1 did not change
    with db.unit_of_work() as s:
        s.execute(update(Loan).where(Loan.id == l2).values(dpd=35, asset_class="SMA-1"))
        s.execute(
            update(Customer)
            .where(Customer.id == select(Loan.customer_id).where(Loan.id == l4).scalar_subquery())
            .values(dob=None)
        )
    second = await files.build("INCREMENTAL", "2026-08-16")
    assert second["status"] == "VALIDATION_FAILED" and second["records"] == 2 and second["invalidRecords"] == 1
    (bad,) = second["recordErrors"]
    assert bad["loanId"] == l4 and bad["accountNumber"] == cic.account_number(l4)
    assert bad["errors"] == [{"segment": "PN", "tag": "07", "field": "Date of Birth", "message": "is mandatory"}]
    refused = await files.call("GET", f"/{second['id']}/download")
    assert refused.status_code == 409 and "validation errors" in refused.text
    assert (await files.call("POST", f"/{second['id']}/submitted")).status_code == 409
    # fixed at the source, then built again
    with db.unit_of_work() as s:
        s.execute(
            update(Customer)
            .where(Customer.id == select(Loan.customer_id).where(Loan.id == l4).scalar_subquery())
            .values(dob=date(1992, 5, 1))
        )
    second = await files.build("INCREMENTAL", "2026-08-16", rebuild=True)
    assert second["built"] and second["status"] == "VALIDATED" and second["recordErrors"] == []
    tls = accounts_of(await download(files, second["id"]))
    assert set(tls) == {l2, l4}  # exactly the accounts that changed
    assert (tls[l2]["15"], tls[l2]["26"]) == ("035", "05") and tls[l4]["08"] == "12082026"

    # submitted; the CIC rejects L2's record
    sub = await files.ok("POST", f"/{second['id']}/submitted", routes.BureauFileDetail)
    assert sub["status"] == "SUBMITTED" and sub["submittedAt"]
    assert (await files.call("POST", json={"kind": "INCREMENTAL", "referenceDate": "2026-08-16", "rebuild": True})
            ).status_code == 409  # fmt: skip
    wrong = await files.call(
        "POST", f"/{second['id']}/rejections",
        json={"records": [{"accountNumber": cic.account_number(l2), "reason": "E021 DPD mismatch"},
                          {"accountNumber": cic.account_number(l1), "reason": "not in this file"}]},
    )  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "records[1].accountNumber"
    rejected = await files.ok(
        "POST", f"/{second['id']}/rejections", routes.BureauFileDetail,
        json={"records": [{"accountNumber": cic.account_number(l2), "reason": "E021 DPD mismatch"}]},
    )  # fmt: skip
    assert rejected["status"] == "REJECTED_RECORDS" and rejected["rejectedRecords"] == 1
    (rej,) = rejected["rejections"]
    assert (rej["loanId"], rej["reason"], rej["resubmit"], rej["resubmittedIn"]) == (
        l2, "E021 DPD mismatch", True, None,
    )  # fmt: skip

    # 23 Aug: nothing changed but L2 goes again (resubmitted)
    third = await files.build("INCREMENTAL", "2026-08-23")
    assert third["records"] == 1 and third["resubmittedRecords"] == 1 and third["dueDate"] == "2026-08-27"
    assert set(accounts_of(await download(files, third["id"]))) == {l2}
    back = await files.ok("GET", f"/{second['id']}", routes.BureauFileDetail)
    assert back["rejections"][0]["resubmit"] is False and back["rejections"][0]["resubmittedIn"] == third["id"]

    # 31 Aug, the full file: every open account and L1, closed on the 25th; not L3 (closed in July)
    with db.unit_of_work() as s:
        s.execute(
            update(Loan).where(Loan.id == l1).values(status="COMPLETED", outstanding_principal=0,
                                                     closed_at=at(date(2026, 8, 25)))
        )  # fmt: skip
    full = await files.build("FULL", "2026-08-31")
    assert (full["kind"], full["dueDate"], full["status"], full["records"]) == ("FULL", "2026-09-05", "VALIDATED", 3)
    tls = accounts_of(await download(files, full["id"]))
    assert set(tls) == {l1, l2, l4} and l3 not in tls
    assert (tls[l1]["10"], tls[l1]["13"]) == ("25082026", "0")

    listed = await files.ok("GET", "", routes.BureauFilePage)
    assert [f["referenceDate"] for f in listed["items"]] == ["2026-08-31", "2026-08-23", "2026-08-16", "2026-08-09"]
    assert listed["total"] == 4 and listed["items"][2]["status"] == "REJECTED_RECORDS"
    with db.unit_of_work() as s:
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.brand_id == brand["brand_id"], AuditLog.entity_type == "bureau_file")
        ).all()
    assert actions.count("bureau_file.build") == 5  # the rebuild too; not the repeated build
    assert {"bureau_file.download", "bureau_file.submitted", "bureau_file.rejections"} <= set(actions)


async def test_dates_that_are_not_reference_dates_are_422_naming_the_field(db, files, brand) -> None:  # noqa: ANN001
    cases = [
        ({"kind": "INCREMENTAL", "referenceDate": "2026-08-15"}, "referenceDate"),
        ({"kind": "INCREMENTAL", "referenceDate": "2026-08-31"}, "referenceDate"),
        ({"kind": "FULL", "referenceDate": "2026-08-23"}, "referenceDate"),
        ({"kind": "FULL", "referenceDate": "2026-08-30"}, "referenceDate"),
        ({"kind": "INCREMENTAL", "referenceDate": "2026-06-09"}, "referenceDate"),  # before the weekly calendar
        ({"kind": "FULL", "referenceDate": "2999-12-31"}, "referenceDate"),  # its day-end has not run
        ({"kind": "FULL", "referenceDate": "31-08-2026"}, "referenceDate"),
        ({"kind": "WEEKLY", "referenceDate": "2026-08-09"}, "kind"),
    ]
    for body, field in cases:
        resp = await files.call("POST", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert field in [e["field"] for e in resp.json()["errors"]], (body, resp.json())
    missing = await files.call("GET", f"/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert (await files.call("GET", "/not-a-uuid/download")).status_code == 404
    # a role without reports.view
    assert (await files.call("GET", role="COLLECTION_EXECUTIVE")).status_code == 403


async def test_brand_b_never_sees_brand_a_files(app, db, sandbox, files, brand, other_brand) -> None:  # noqa: ANN001
    enable(db, brand["brand_id"])
    seed(db, brand["brand_id"])
    seed(db, other_brand["brand_id"])
    built = await files.build("INCREMENTAL", "2026-08-09")
    driver_b = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    try:
        other = Files(driver_b, other_brand["brand_id"])
        listed = await other.ok("GET", "", routes.BureauFilePage)
        assert listed["items"] == [] and listed["total"] == 0
        for method, path in (("GET", f"/{built['id']}"), ("GET", f"/{built['id']}/download"),
                             ("POST", f"/{built['id']}/submitted")):  # fmt: skip
            resp = await other.call(method, path)
            assert resp.status_code == 404, (path, resp.text)
            assert "TUDF" not in resp.text
        # brand B's own file holds only brand B's loans
        b_file = await other.build("INCREMENTAL", "2026-08-09")
        assert b_file["id"] != built["id"]
        with db.unit_of_work() as s:
            loan_brands = set(
                s.scalars(
                    select(Loan.brand_id)
                    .join(BureauFileRecord, BureauFileRecord.loan_id == Loan.id)
                    .where(BureauFileRecord.file_id == b_file["id"])
                )
            )
        assert loan_brands == {other_brand["brand_id"]}
        # brand A's staff cannot reach brand B's files by its path
        assert (await files.call("GET", f"/{b_file['id']}", brand_id=other_brand["brand_id"])).status_code == 404
    finally:
        await driver_b.close()


# ------------------------------------------------------------------------------------------- the schedule
def test_the_run_decides_from_the_day_that_ended_in_india() -> None:
    # 01:00 IST on 10 Nov is 19:30 UTC on 9 Nov: the day that ended is the 9th, an incremental reference date
    assert day_ended(datetime(2026, 11, 9, 19, 30, tzinfo=UTC)) == date(2026, 11, 9)
    assert RUN_AT_UTC == (19, 30) and BUREAU_FILES_JOB.at_utc == RUN_AT_UTC
    assert BUREAU_FILES_JOB.schedule_id == "bureau-files"


async def test_the_workflow_builds_each_reporting_brand_file_once(dev_env, db, brand, other_brand) -> None:  # noqa: ANN001
    enable(db, brand["brand_id"])
    loans = seed(db, brand["brand_id"])
    seed(db, other_brand["brand_id"])  # bureau reporting off: no file
    queue = f"bureau-{uuid.uuid4().hex[:8]}"
    async with Worker(
        dev_env.client, task_queue=queue, workflows=[BureauFilesWorkflow], activities=BureauFileActivities(db).all()
    ):

        async def run(*args: str) -> dict:
            return await dev_env.client.execute_workflow(
                BureauFilesWorkflow.run, *args, id=f"bureau-{uuid.uuid4().hex[:8]}", task_queue=queue
            )

        first = await run("2026-09-09")
        again = await run("2026-09-09")
        quiet = await run("2026-09-10")
        scheduled = await run()  # as the schedule starts it: the day that ended last in India
    mine = [f for f in first["files"] if f["brandId"] == brand["brand_id"]]
    assert first["asOf"] == "2026-09-09" and first["kind"] == "INCREMENTAL"
    assert len(mine) == 1 and mine[0]["built"] and mine[0]["records"] == 3 and mine[0]["status"] == "VALIDATED"
    assert other_brand["brand_id"] not in [f["brandId"] for f in first["files"]]
    assert [f for f in again["files"] if f["brandId"] == brand["brand_id"]][0]["built"] is False
    assert (quiet["asOf"], quiet["kind"], quiet["built"], quiet["files"]) == ("2026-09-10", None, 0, [])
    assert quiet["brands"] >= 1 and quiet["alerts"] >= 0  # any day: the reporting brands' alerts (below)
    assert scheduled["asOf"] == day_ended(datetime.now(UTC)).isoformat()
    with db.unit_of_work() as s:
        rows = s.scalars(
            select(BureauFile).where(BureauFile.brand_id.in_([brand["brand_id"], other_brand["brand_id"]]))
        )
        built = [(r.brand_id, r.reference_date, r.created_by) for r in rows]
        assert (brand["brand_id"], date(2026, 9, 9), None) in built
        assert all(b == brand["brand_id"] for b, _, _ in built)
        records = set(
            s.scalars(
                select(BureauFileRecord.loan_id).where(
                    BureauFileRecord.reference_date == date(2026, 9, 9), BureauFileRecord.brand_id == brand["brand_id"]
                )
            )
        )
    assert records == {loans["l1"], loans["l2"], loans["l4"]}


def alerts_of(db, brand_id: str) -> list[tuple[str, str, str, str]]:  # noqa: ANN001
    """The brand's bureau-file alerts: (staff id, reason, file's reference date, title), oldest first."""
    with db.unit_of_work() as s:
        rows = s.scalars(
            select(StaffNotification)
            .where(StaffNotification.brand_id == brand_id, StaffNotification.meta["alert"].astext == "bureau_file")
            .order_by(StaffNotification.created_at, StaffNotification.staff_id)
        ).all()
        return [(r.staff_id, r.meta["reason"], r.meta["referenceDate"], r.title) for r in rows]


async def test_failed_and_late_files_alert_the_admins_once(dev_env, db, files, brand) -> None:  # noqa: ANN001
    """The scheduled run builds a file that fails validation: the brand's admins are told (SYSTEM notification);
    the day after its due date, not submitted: told it is late; each once per file and reason, however many runs.
    A file staff built and submitted tells no one."""
    enable(db, brand["brand_id"])
    with db.unit_of_work() as s:
        b = Book(s, brand["brand_id"])
        b.loan("DISBURSED", 60_000 * R, date(2026, 9, 1), outstanding=60_000 * R)
        b.loan("DISBURSED", 40_000 * R, date(2026, 9, 2), outstanding=40_000 * R, dob=None)  # PN 07 missing
    admins = sorted(st["id"] for st in brand["staff"] if st["role"] == "ADMIN")
    assert admins
    # staff built August's files and sent them: never an alert
    for ref in ("2026-08-16", "2026-08-23"):
        built = await files.build("INCREMENTAL", ref)
        assert (await files.call("POST", f"/{built['id']}/submitted")).status_code == 200
    queue = f"bureau-{uuid.uuid4().hex[:8]}"
    async with Worker(
        dev_env.client, task_queue=queue, workflows=[BureauFilesWorkflow], activities=BureauFileActivities(db).all()
    ):

        async def run(day: str) -> tuple[str, dict]:
            wid = f"bureau-{uuid.uuid4().hex[:8]}"
            out = await dev_env.client.execute_workflow(BureauFilesWorkflow.run, day, id=wid, task_queue=queue)
            return wid, out

        _, built = await run("2026-09-09")
        after_build = alerts_of(db, brand["brand_id"])
        await run("2026-09-09")  # again: the file is there, told already
        again = alerts_of(db, brand["brand_id"])
        await run("2026-09-12")  # the day before its due date ended: not late
        on_due = alerts_of(db, brand["brand_id"])
        # its due date ended (the run at 01:00 IST on the 14th) and it was not submitted: late
        late_id, late = await run("2026-09-13")
        after_due = alerts_of(db, brand["brand_id"])
        await run("2026-09-14")
        final = alerts_of(db, brand["brand_id"])
        history = await dev_env.client.get_workflow_handle(late_id).fetch_history()
        if os.environ.get("LOS_RECORD_HISTORIES") == "1":
            await record_histories(dev_env.client, late_id, "bureau_file_alerts")

    mine = [f for f in built["files"] if f["brandId"] == brand["brand_id"]]
    assert len(mine) == 1 and mine[0]["status"] == "VALIDATION_FAILED" and mine[0]["built"]
    assert built["alerts"] >= len(admins)
    failed = [(a, "VALIDATION_FAILED", "2026-09-09", "Bureau file failed validation: 2026-09-09") for a in admins]
    assert sorted(after_build) == failed
    assert sorted(again) == sorted(on_due) == failed
    late_alerts = [(a, "LATE", "2026-09-09", "Bureau file late: 2026-09-09") for a in admins]
    assert sorted(after_due) == sorted(failed + late_alerts)
    assert late["kind"] is None and late["built"] == 0 and late["alerts"] >= len(admins)
    assert sorted(final) == sorted(after_due)  # once per file and reason
    with db.unit_of_work() as s:
        one = s.scalars(
            select(StaffNotification).where(
                StaffNotification.brand_id == brand["brand_id"], StaffNotification.staff_id == admins[0]
            )
        ).all()
        by_reason = {n.meta["reason"]: n for n in one if n.meta.get("alert") == "bureau_file"}
        assert set(by_reason) == {"VALIDATION_FAILED", "LATE"} and all(n.type == "SYSTEM" for n in one)
        assert "1 of 2 records" in by_reason["VALIDATION_FAILED"].body
        assert "due to the CICs by 2026-09-13" in by_reason["LATE"].body
        assert (
            by_reason["LATE"].meta["fileId"] == mine[0]["id"]
            and by_reason["LATE"].meta["status"] == "VALIDATION_FAILED"
        )

    # the run took the patched path, and its history replays against today's code
    markers = [e for e in history.events if e.marker_recorded_event_attributes.marker_name == "core_patch"]
    assert (
        markers
        and ALERTS_PATCH.encode() in markers[0].marker_recorded_event_attributes.details["patch-data"].payloads[0].data
    )
    replayer = Replayer(workflows=[BureauFilesWorkflow], data_converter=pydantic_data_converter)
    decoded = WorkflowHistory.from_json(late_id, await decode_history_json(history.to_json()))
    result = await replayer.replay_workflow(decoded, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_the_worker_registers_the_daily_schedule_once(dev_env, app) -> None:  # noqa: ANN001
    schedule_id = f"bureau-files-{uuid.uuid4().hex[:8]}"
    await ensure_schedule(dev_env.client, app.settings, BUREAU_FILES_JOB, schedule_id)
    handle = dev_env.client.get_schedule_handle(schedule_id)
    try:
        await handle.pause(note="ops paused it")
        await ensure_schedule(dev_env.client, app.settings, BUREAU_FILES_JOB, schedule_id)  # a restart
        desc = await handle.describe()
        (calendar,) = desc.schedule.spec.calendars
        assert [r.start for r in calendar.hour] == [19] and [r.start for r in calendar.minute] == [30]
        assert desc.schedule.action.workflow == "BureauFilesWorkflow"
        assert desc.schedule.action.task_queue == app.settings.task_queue
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert desc.schedule.state.paused  # the pause survives the worker's restart
    finally:
        await handle.delete()
