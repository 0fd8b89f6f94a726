"""Reports through the real API and database (docs/reports.md): hand-built data in March 2025 (IST) — loans in
several statuses, installments, payments, an allocation, a follow-up, a field visit, sign-ins, bureau pulls — and
each report's rows and totals checked exactly; for every report type, JSON and CSV agree and the columns are the
catalogue's; 20,000 rows stream as CSV; formula injection is escaped; date range, limit and type are validated;
another brand's rows never appear; the master report is emailed as a link by a workflow of the worker, only to the
brand's own staff, and its job outlives the API and the worker restarting mid-build."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text

from db.models import (
    AuditLog,
    BankAccount,
    BureauReport,
    CollectionAllocation,
    CollectionFollowUp,
    Customer,
    CustomerMessage,
    Employment,
    FieldVisit,
    Loan,
    LoanProduct,
    LoanStatusHistory,
    PaymentTransaction,
    RepaymentInstallment,
    StaffLoginLog,
    StaffUser,
)
from los.demo import Driver
from los.seed import seed_brand
from reports import CATALOGUE
from reports.output import csv_value
from tests.conftest import eventually, running_app
from workflows.options import IST

MARCH = {"fromDate": "2025-03-01", "toDate": "2025-03-31"}


def ist(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=IST)


def staff_id(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def _product(s, brand_id: str) -> str:  # noqa: ANN001
    return s.scalars(
        select(LoanProduct.id).where(LoanProduct.brand_id == brand_id, LoanProduct.code == "PL-MONTHLY")
    ).one()


def _loan(s, brand_id: str, product: str, customer: str, created: datetime, **kw: Any) -> str:  # noqa: ANN001
    loan_id = str(uuid.uuid4())
    fields = {"amount": 50_000_00, "tenure": 6, "annual_rate_bps": 2400, "status": "APPLIED", **kw}
    s.add(
        Loan(
            id=loan_id,
            brand_id=brand_id,
            customer_id=customer,
            product_id=product,
            workflow_id=f"loan-{loan_id}",
            created_at=created,
            **fields,
        )
    )
    s.flush()
    return loan_id


def _customer(s, brand_id: str, name: str, created: datetime, **kw: Any) -> str:  # noqa: ANN001
    c = Customer(brand_id=brand_id, phone=f"9{uuid.uuid4().int % 10**9:09d}", full_name=name, created_at=created, **kw)
    s.add(c)
    s.flush()
    return c.id


def build(db, brand: dict) -> dict[str, str]:  # noqa: ANN001, PLR0915
    """The hand-built brand book of March 2025; the ids by name."""
    b = brand["brand_id"]
    cx, ce = staff_id(brand, "COLLECTION_EXECUTIVE"), staff_id(brand, "CREDIT_EXECUTIVE")
    with db.unit_of_work() as s:
        product = _product(s, b)
        c1 = _customer(
            s,
            b,
            "Asha Rao",
            ist(1, 9),
            email="asha@example.com",
            pan="ABCDE1234F",
            pan_verified=True,
            utm={"utm_source": "google", "utm_campaign": "spring"},
            onboarding_step="COMPLETED",
        )
        c2 = _customer(s, b, '=HYPERLINK("http://x")', ist(1, 11), utm={})
        c3 = _customer(s, b, "Ravi Kumar", ist(27, month=2), utm={"utm_source": "google"})
        s.add(
            Employment(customer_id=c1, employer_name="Acme Ltd", monthly_salary=60_000_00, employment_type="SALARIED")
        )
        s.add(
            BankAccount(
                customer_id=c1,
                account_sealed="-",
                account_fingerprint="f" * 64,
                account_last4="4321",
                ifsc="HDFC0000001",
                bank_name="HDFC Bank",
                is_primary=True,
            )
        )
        l3 = _loan(
            s, b, product, c3, ist(1, 8), status="COMPLETED", disbursed_at=ist(2), closed_at=ist(28), closed_as="REPAID"
        )
        l1 = _loan(
            s,
            b,
            product,
            c1,
            ist(2),
            status="OVERDUE",
            disbursed_at=ist(5, 12),
            net_disbursed=49_000_00,
            disbursal_utr="UTR0001",
            outstanding_principal=40_000_00,
            total_collected=12_345_67,
            dpd=12,
            max_dpd=12,
            collection_bucket="1-30",
            collector_id=cx,
            credit_score=720,
        )
        l2 = _loan(s, b, product, c2, ist(10), status="REJECTED", assigned_to=ce, assigned_at=ist(10, 12))
        l4 = _loan(
            s,
            b,
            product,
            c2,
            ist(1, month=2),
            status="COMPLETED",
            disbursed_at=ist(2, month=2),
            closed_at=ist(15),
            closed_as="FORECLOSED",
        )
        l5 = _loan(s, b, product, c2, ist(20), previous_loan_id=l4)
        c4 = _customer(s, b, "Meera Shah", ist(20, month=2))
        l6 = _loan(s, b, product, c4, ist(28, 23, 59, month=2))  # a minute before the range (IST)
        l7 = _loan(s, b, product, c4, ist(31, 23, 30))  # the last IST evening of the range (18:00 UTC)
        s.add(LoanStatusHistory(loan_id=l1, seq=1, to_status="SANCTIONED", actor="SANCTION_HEAD:x", created_at=ist(3)))
        s.add(
            LoanStatusHistory(
                loan_id=l2, seq=1, to_status="REJECTED", reason="bureau score below 650", created_at=ist(11)
            )
        )
        for no, due, status, penal, paid in ((1, 20, "PAID", 0, 10_000_00), (2, 25, "OVERDUE", 50_00, 2_000_00)):
            s.add(
                RepaymentInstallment(
                    loan_id=l1,
                    installment_no=no,
                    due_at=ist(due, 23, 59),
                    due_date=date(2025, 3, due),
                    principal=8_000_00,
                    interest=2_000_00,
                    total=10_000_00,
                    balance_after=0,
                    penal=penal,
                    principal_paid=paid,
                    status=status,
                )
            )
        s.add(
            RepaymentInstallment(
                loan_id=l1,
                installment_no=3,
                due_at=ist(25, 23, 59, month=4),
                due_date=date(2025, 4, 25),
                principal=8_000_00,
                interest=2_000_00,
                total=10_000_00,
                balance_after=0,
            )
        )

        def pay(loan: str, at: datetime, amount: int, status: str = "SUCCESS", **parts: int) -> None:
            s.add(
                PaymentTransaction(
                    loan_id=loan,
                    gateway="razorpay",
                    gateway_payment_id=f"pay_{uuid.uuid4().hex[:12]}",
                    amount=amount,
                    status=status,
                    collected_at=at,
                    **parts,
                )
            )

        pay(l1, ist(20, 11), 10_000_00, principal_part=8_000_00, interest_part=2_000_00)
        pay(l1, ist(26), 2_345_67, principal_part=2_000_00, penal_part=345_67)
        pay(l1, ist(27), 999_00, status="FAILED")
        pay(l3, ist(27, 15), 51_000_00, principal_part=50_000_00, interest_part=1_000_00)
        s.add(
            CollectionAllocation(
                brand_id=b,
                loan_id=l1,
                staff_id=cx,
                role="COLLECTION_EXECUTIVE",
                bucket="1-30",
                dpd=1,
                reason="area and load",
                idempotency_key=f"alloc-{l1}",
                created_at=ist(21),
            )
        )
        s.add(
            CollectionFollowUp(
                brand_id=b,
                loan_id=l1,
                staff_id=cx,
                disposition="PROMISE_TO_PAY",
                remarks="-2 days late, will pay",
                ptp_date=date(2025, 3, 26),
                ptp_amount=2_345_67,
                ptp_status="KEPT",
                ptp_paid=2_345_67,
                created_at=ist(22),
            )
        )
        s.add(
            FieldVisit(
                brand_id=b,
                loan_id=l1,
                staff_id=cx,
                visited_at=ist(23),
                latitude=Decimal("12.971599"),
                longitude=Decimal("77.594566"),
                disposition="MET_CUSTOMER",
                photo_key="field-visits/x.png",
            )
        )
        email = s.get_one(StaffUser, cx).email
        s.add(StaffLoginLog(staff_id=cx, email=email, success=True, ip="10.0.0.1", created_at=ist(4)))
        s.add(StaffLoginLog(staff_id=cx, email=email, success=False, reason="bad password", created_at=ist(4, 11)))
        s.add(StaffLoginLog(staff_id=None, email="nobody@example.com", success=False, created_at=ist(4)))
        s.add(BureauReport(loan_id=l1, customer_id=c1, provider="cibil", score=720, created_at=ist(2, 11)))
        s.add(BureauReport(loan_id=l2, customer_id=c2, provider="equifax", score=610, created_at=ist(10, 11)))
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "l5": l5, "l6": l6, "l7": l7, "c1": c1, "c2": c2, "cx": cx}


def other_brand_loan(db, sandbox) -> tuple[str, str]:  # noqa: ANN001
    """Brand B with a disbursed, overdue loan in March 2025 (with a payment and a bureau pull)."""
    other = seed_brand(db, sandbox.url, code=f"r{uuid.uuid4().hex[:7]}")
    with db.unit_of_work() as s:
        c = _customer(s, other["brand_id"], "Other Brand", ist(3), utm={"utm_source": "google"})
        loan = _loan(
            s, other["brand_id"], _product(s, other["brand_id"]), c, ist(3), status="OVERDUE", disbursed_at=ist(4)
        )
        s.add(BureauReport(loan_id=loan, customer_id=c, provider="cibil", score=700, created_at=ist(3)))
        s.add(
            PaymentTransaction(
                loan_id=loan, gateway="razorpay", gateway_payment_id=f"p_{loan}", amount=1, collected_at=ist(5)
            )
        )
    return other["brand_id"], loan


async def rows_of(driver: Driver, headers: dict, b: str, name: str, **params: Any) -> list[dict[str, Any]]:
    resp = await driver.api.get(
        f"/api/v1/partner/brand/{b}/report/{name}", params={**MARCH, "limit": 500, **params}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [c["name"] for c in body["columns"]] == [c.name for c in CATALOGUE[name].columns]
    assert body["total"] == len(body["items"]) or body["limit"] < body["total"]
    return body["items"]


async def csv_of(driver: Driver, headers: dict, b: str, name: str, kind: str = "csv", **params: Any) -> list[list[str]]:
    resp = await driver.api.get(
        f"/api/v1/partner/brand/{b}/report/{name}/{kind}", params={**MARCH, **params}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(resp.text)))


def by(rows: list[dict[str, Any]], key: str = "loan_id") -> list[Any]:
    return [r[key] for r in rows]


# ------------------------------------------------------------------------------------------- the rows
async def test_each_report_holds_exactly_the_hand_built_rows(app, brand, sandbox, db) -> None:  # noqa: ANN001, PLR0915
    ids = build(db, brand)
    other_b, other_loan = other_brand_loan(db, sandbox)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    l1, l2, l3, l4, l5, l7 = ids["l1"], ids["l2"], ids["l3"], ids["l4"], ids["l5"], ids["l7"]
    try:
        h = await driver.staff_headers("ADMIN")
        master = await rows_of(driver, h, b, "master-report")
        assert by(master) == [l3, l1, l2, l5, l7]  # by application instant; l6 is a minute before the range
        row = master[1]
        assert (row["employer_name"], row["monthly_salary"], row["bank_name"], row["account_last4"]) == (
            "Acme Ltd",
            60_000_00,
            "HDFC Bank",
            "4321",
        )
        assert (row["amount"], row["net_disbursed"], row["total_collected"], row["dpd"]) == (
            50_000_00,
            49_000_00,
            12_345_67,
            12,
        )
        assert row["applied_at"] == ist(2).isoformat() or datetime.fromisoformat(row["applied_at"]) == ist(2)

        assert by(await rows_of(driver, h, b, "disbursed-loan-report")) == [l3, l1]
        assert by(await rows_of(driver, h, b, "non-disbursed-loan-report")) == [l2, l5, l7]
        both = await rows_of(driver, h, b, "disburse-non-disburse-report")
        assert [(r["loan_id"], r["disbursed"]) for r in both] == [
            (l3, "YES"),
            (l1, "YES"),
            (l2, "NO"),
            (l5, "NO"),
            (l7, "NO"),
        ]
        due = await rows_of(driver, h, b, "active-loans-by-due-date-report")
        assert [(r["loan_id"], r["installment_no"], r["due_date"], r["due_now"]) for r in due] == [
            (l1, 2, "2025-03-25", 10_000_00 + 50_00 - 2_000_00)
        ]
        assert by(await rows_of(driver, h, b, "completed-loan-with-no-repet-report")) == [l3]  # l4 was renewed
        closed = await rows_of(driver, h, b, "loan-close-report")
        assert [(r["loan_id"], r["closed_as"]) for r in closed] == [(l4, "FORECLOSED"), (l3, "REPAID")]
        rejected = await rows_of(driver, h, b, "reject-report")
        assert [(r["loan_id"], r["reason"]) for r in rejected] == [(l2, "bureau score below 650")]
        sanctioned = await rows_of(driver, h, b, "total-approve-sanction-report")
        assert [(r["loan_id"], r["actor"]) for r in sanctioned] == [(l1, "SANCTION_HEAD:x")]
        outstanding = await rows_of(driver, h, b, "outstanding-data-report")
        assert [(r["loan_id"], r["outstanding_principal"], r["overdue_amount"]) for r in outstanding] == [
            (l1, 40_000_00, 8_050_00)
        ]
        assert by(await rows_of(driver, h, b, "affiliate-report")) == [l3, l1]  # c3 and c1 came from google

        mc = await rows_of(driver, h, b, "master-collection-report")
        assert [(r["loan_id"], r["oldest_due_date"], r["overdue_installments"], r["overdue_amount"]) for r in mc] == [
            (l1, "2025-03-25", 1, 8_050_00)
        ]
        assert mc[0]["collector_name"]
        dues = await rows_of(driver, h, b, "collection-due-report")
        assert [(r["installment_no"], r["paid"], r["installment_status"]) for r in dues] == [
            (1, 10_000_00, "PAID"),
            (2, 2_000_00, "OVERDUE"),
        ]
        view = await rows_of(driver, h, b, "collection-loan-report")
        assert [(r["loan_id"], r["total_repayable"]) for r in view] == [(l3, 0), (l1, 30_050_00)]
        assert by(await rows_of(driver, h, b, "collection-loan-report-by-approved-date")) == [l1]
        alloc = await rows_of(driver, h, b, "collection-allocation-executive-report")
        assert [(r["loan_id"], r["staff_id"], r["allocated_by"]) for r in alloc] == [(l1, ids["cx"], "auto")]
        remarks = await rows_of(driver, h, b, "collection-remarks-report")
        assert [(r["ptp_status"], r["ptp_amount"], r["ptp_paid"], r["ptp_date"]) for r in remarks] == [
            ("KEPT", 2_345_67, 2_345_67, "2025-03-26")
        ]
        recovery = await rows_of(driver, h, b, "total-recovery-report")
        assert [r["amount"] for r in recovery] == [10_000_00, 2_345_67, 51_000_00]  # the failed one is not
        assert sum(r["penal_part"] for r in recovery) == 345_67
        visits = await rows_of(driver, h, b, "field-visit-report")
        assert [(r["loan_id"], r["latitude"], r["photo"]) for r in visits] == [(l1, "12.971599", "YES")]

        logins = await rows_of(driver, h, b, "login-sessions-report")
        assert [(r["staff_id"], r["success"], r["reason"]) for r in logins] == [
            (ids["cx"], "YES", None),
            (ids["cx"], "NO", "bad password"),
        ]
        credit = await rows_of(driver, h, b, "credit-executive-allocation-report")
        assert [(r["loan_id"], r["staff_role"]) for r in credit] == [(l2, "CREDIT_EXECUTIVE")]

        assert [(r["loan_id"], r["score"]) for r in await rows_of(driver, h, b, "cic-report")] == [(l1, 720), (l2, 610)]
        assert by(await rows_of(driver, h, b, "equifax-credit-report")) == [l2]
        assert by(await rows_of(driver, h, b, "transunion-report")) == [l1]

        marketing = await rows_of(driver, h, b, "marketing-report")
        assert [(r["customer_id"], r["utm_source"], r["loans"], r["disbursed_loans"]) for r in marketing] == [
            (ids["c1"], "google", 1, 1),
            (ids["c2"], None, 3, 1),
        ]
        analysis = await rows_of(driver, h, b, "internal-marketing-analysis-report")
        assert [
            (r["utm_source"], r["registrations"], r["pan_verified"], r["applied"], r["rejected"], r["disbursed"])
            for r in analysis
        ] == [("(none)", 1, 0, 1, 1, 1), ("google", 1, 1, 1, 0, 1)]
        assert [r["conversion_pct"] for r in analysis] == ["100.00", "100.00"]
        campaigns = await rows_of(driver, h, b, "internal-marketing-report")
        assert [(r["utm_source"], r["utm_campaign"], r["disbursed_amount"]) for r in campaigns] == [
            ("(none)", None, 50_000_00),
            ("google", "spring", 50_000_00),
        ]
        leads = await rows_of(driver, h, b, "lead-total-report")
        assert sum(r["leads"] for r in leads) == 2 and sum(r["with_loan"] for r in leads) == 2
        mis = {r["day"]: r for r in await rows_of(driver, h, b, "daily-marketing-mis-report")}
        assert len(mis) == 31
        assert (mis["2025-03-01"]["registrations"], mis["2025-03-01"]["applications"]) == (2, 1)
        assert (mis["2025-03-05"]["disbursed"], mis["2025-03-05"]["disbursed_amount"]) == (1, 50_000_00)
        assert mis["2025-03-27"]["collected_amount"] == 51_000_00  # the failed payment is not counted
        assert mis["2025-03-31"]["applications"] == 1  # 23:30 IST is still the 31st

        # every type: JSON and CSV agree, the columns are the catalogue's, nothing of brand B
        for name, report in CATALOGUE.items():
            items = await rows_of(driver, h, b, name)
            table = await csv_of(driver, h, b, name)
            assert table[0] == [c.name for c in report.columns], name
            expected = [[csv_value(c, item[c.name]) for c in report.columns] for item in items]
            assert table[1:] == expected, name
            download = await csv_of(driver, h, b, name, "download")
            assert download[0][0] == "\ufeff" + table[0][0] and download[1:] == table[1:], name
            text = str(items) + str(table)
            assert other_b not in text and other_loan not in text, name
            assert "Other Brand" not in text, name
    finally:
        await driver.close()


async def test_csv_streams_many_rows_and_escapes_formulas(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    n = 20_000
    with db.unit_of_work() as s:
        product = _product(s, b)
        customer = _customer(s, b, "@SUM(A1:A9)", ist(1, month=6))
        s.execute(
            insert(Loan),
            [
                {
                    "id": str(uuid.uuid4()),
                    "brand_id": b,
                    "customer_id": customer,
                    "product_id": product,
                    "workflow_id": f"bulk-{i}-{uuid.uuid4().hex[:8]}",
                    "amount": 10_000_00 + i,
                    "tenure": 3,
                    "annual_rate_bps": 2400,
                    "status": "APPLIED",
                    "created_at": ist(1 + i % 28, 10, i % 60, month=6),
                }
                for i in range(n)
            ],
        )
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        h = await driver.staff_headers("ADMIN")
        june = {"fromDate": "2025-06-01", "toDate": "2025-06-30"}
        table = await csv_of(driver, h, b, "master-report", **june)
        assert len(table) == n + 1
        assert {r[4] for r in table[1:]} == {"'@SUM(A1:A9)"}  # customer_name: escaped, not a formula
        amounts = sorted(Decimal(r[20]) for r in table[1:])
        assert amounts[0] == Decimal("10000.00") and amounts[-1] == Decimal("10199.99")
        page = await driver.api.get(
            f"/api/v1/partner/brand/{b}/report/master-report", params={**june, "page": 40, "limit": 500}, headers=h
        )
        body = page.json()
        assert (body["total"], len(body["items"]), body["page"]) == (n, 500, 40)
        assert [r["loan_id"] for r in body["items"]] == [r[0] for r in table[1 + 39 * 500 : 1 + 40 * 500]]
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------ validation, access
async def test_dates_limits_types_and_access_are_checked(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other_b, _ = other_brand_loan(db, sandbox)
    b = brand["brand_id"]
    base = f"/api/v1/partner/brand/{b}/report"
    try:
        h = await driver.staff_headers("ADMIN")

        async def fields(path: str, **params: Any) -> dict[str, str]:
            resp = await driver.api.get(path, params=params, headers=h)
            assert resp.status_code == 422, resp.text
            return {e["field"]: e["reason"] for e in resp.json()["errors"]}

        assert "fromDate" in await fields(f"{base}/master-report", toDate="2025-03-01")
        assert "toDate" in await fields(f"{base}/master-report/csv", fromDate="2025-03-01")
        assert "toDate" in await fields(f"{base}/master-report", fromDate="2025-03-02", toDate="2025-03-01")
        assert "toDate" in await fields(f"{base}/loan-close-report", fromDate="2024-01-01", toDate="2025-01-02")
        assert "limit" in await fields(f"{base}/master-report", **MARCH, limit=501)
        assert "fromDate" in await fields(f"{base}/master-report/download", fromDate="1 March", toDate="2025-03-01")
        ok = await driver.api.get(
            f"{base}/loan-close-report", params={"fromDate": "2024-01-01", "toDate": "2025-01-01"}, headers=h
        )
        assert ok.status_code == 200  # 366 days apart is allowed
        for path in (f"{base}/no-such-report", f"{base}/no-such-report/csv"):
            missing = await driver.api.get(path, params=MARCH, headers=h)
            assert missing.status_code == 404 and "no-such-report" in missing.text
        catalogue = await driver.api.get(f"/api/v1/partner/brand/{b}/reports", headers=h)
        assert [r["name"] for r in catalogue.json()["items"]] == list(CATALOGUE)

        denied = await driver.api.get(
            f"{base}/master-report", params=MARCH, headers=await driver.staff_headers("CREDIT_EXECUTIVE")
        )
        assert denied.status_code == 403
        manager = await driver.api.get(
            f"{base}/master-report", params=MARCH, headers=await driver.staff_headers("COLLECTION_MANAGER")
        )
        assert manager.status_code == 200
        for path in ("report/master-report", "report/master-report/csv", "reports"):
            foreign = await driver.api.get(f"/api/v1/partner/brand/{other_b}/{path}", params=MARCH, headers=h)
            assert foreign.status_code == 404
    finally:
        await driver.close()


async def wait_for_job(driver: Driver, url: str, headers: dict, timeout: float = 30.0) -> dict[str, Any]:
    """The job's state once SENT or FAILED (polled)."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = await driver.api.get(url, headers=headers)
        assert resp.status_code == 200, resp.text
        state = resp.json()
        if state["state"] in ("SENT", "FAILED"):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job did not end within {timeout}s: {state}")


async def test_the_master_report_is_built_in_the_background_and_emailed(app, brand, sandbox, db) -> None:  # noqa: ANN001
    ids = build(db, brand)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    base = f"/api/v1/partner/brand/{b}/master-report/email"
    to = next(s["email"] for s in brand["staff"] if s["role"] == "SANCTION_HEAD")  # a staff user of the brand
    try:
        h = await driver.staff_headers("ADMIN")
        bad = await driver.api.post(base, json={"fromDate": "2025-03-01", "toDate": "2026-03-31"}, headers=h)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "toDate"
        resp = await driver.api.post(base, json={**MARCH, "email": to.upper()}, headers=h)
        assert resp.status_code == 202, resp.text
        job = resp.json()["jobId"]
        assert resp.json()["state"] in ("QUEUED", "RUNNING", "SENT")
        # the job is a workflow of the worker, on its own id
        handle = app.client.get_workflow_handle(f"report-email-{job}")  # type: ignore[attr-defined]
        final = await handle.result()
        assert final["state"] == "SENT" and final["jobId"] == job
        state = await wait_for_job(driver, f"{base}/{job}", h)
        assert state["state"] == "SENT", state
        assert state["rows"] == 5 and state["email"] == to and state["error"] is None
        assert state["finishedAt"] >= state["createdAt"]
        file = await driver.api.get(state["url"])
        table = list(csv.reader(io.StringIO(file.text)))
        assert [r[0] for r in table[1:]] == [ids["l3"], ids["l1"], ids["l2"], ids["l5"], ids["l7"]]
        with db.unit_of_work() as s:
            sent = s.scalars(
                select(CustomerMessage).where(CustomerMessage.brand_id == b, CustomerMessage.event == "REPORT_EMAIL")
            ).all()
            assert [(m.kind, m.status) for m in sent] == [("email", "SENT")]
        unknown = await driver.api.get(f"{base}/{uuid.uuid4()}", headers=h)
        assert unknown.status_code == 404
        other_b, _ = other_brand_loan(db, sandbox)
        foreign = await driver.api.get(f"/api/v1/partner/brand/{other_b}/master-report/email/{job}", headers=h)
        assert foreign.status_code == 404
    finally:
        await driver.close()


async def test_the_master_report_goes_only_to_the_brands_own_staff(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """It carries customers' personal data: an outside address, another brand's staff, or a deactivated account is
    refused (422 naming ``email``), nothing started; the requester's own address (the default) and a colleague's are
    taken."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    base = f"/api/v1/partner/brand/{b}/master-report/email"
    other = seed_brand(db, sandbox.url, code=f"r{uuid.uuid4().hex[:7]}")
    outsider = other["staff"][0]["email"]
    colleague = next(s for s in brand["staff"] if s["role"] == "COLLECTION_HEAD")
    try:
        h = await driver.staff_headers("ADMIN")
        with db.unit_of_work() as s:
            jobs_before = s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.brand_id == b, AuditLog.action == "report.email")
            )
        for email in ("ops@example.com", outsider, "someone@" + colleague["email"].split("@")[1]):
            refused = await driver.api.post(base, json={**MARCH, "email": email}, headers=h)
            assert refused.status_code == 422, (email, refused.text)
            assert refused.json()["errors"][0]["field"] == "email"
        with db.unit_of_work() as s:
            s.get_one(StaffUser, colleague["id"]).is_active = False
        gone = await driver.api.post(base, json={**MARCH, "email": colleague["email"]}, headers=h)
        assert gone.status_code == 422 and gone.json()["errors"][0]["field"] == "email"
        with db.unit_of_work() as s:
            audited = s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.brand_id == b, AuditLog.action == "report.email")
            )
            assert audited == jobs_before  # nothing started
            s.get_one(StaffUser, colleague["id"]).is_active = True
        mine = await driver.api.post(base, json=MARCH, headers=h)  # the requester's own address
        admin = next(s["email"] for s in brand["staff"] if s["role"] == "ADMIN")
        assert mine.status_code == 202 and mine.json()["email"] == admin
        theirs = await driver.api.post(base, json={**MARCH, "email": colleague["email"]}, headers=h)
        assert theirs.status_code == 202 and theirs.json()["email"] == colleague["email"]
        for resp in (mine, theirs):
            assert (await wait_for_job(driver, f"{base}/{resp.json()['jobId']}", h))["state"] == "SENT"
    finally:
        await driver.close()


async def test_a_report_job_outlives_the_api_and_the_worker_restarting_mid_build(
    dev_env,
    database_url,
    db,
    storage_dir,
    renderer,
    brand,
    sandbox,  # noqa: ANN001
) -> None:
    """The build is held mid-way (its query waits on a lock on ``loans``) while the API that took the request and the
    worker building it both stop (the old in-process job died with its API); a new API and a worker start on the same
    task queue: the workflow runs the build again, the file is stored and emailed once, and the new API answers
    SENT."""
    ids = build(db, brand)
    b = brand["brand_id"]
    base = f"/api/v1/partner/brand/{b}/master-report/email"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    to = next(s["email"] for s in brand["staff"] if s["role"] == "ADMIN")
    lock = db.engine.connect()
    lock.execute(text("LOCK TABLE loans IN ACCESS EXCLUSIVE MODE"))  # the report's query waits here
    try:
        async with running_app(dev_env, database_url, db, storage_dir, renderer, task_queue=queue) as first:
            driver = Driver(first.api.url, sandbox.url, brand["brand_code"])
            try:
                h = await driver.staff_headers("ADMIN")
                resp = await driver.api.post(base, json=MARCH, headers=h)
                assert resp.status_code == 202, resp.text
                job = resp.json()["jobId"]

                async def running() -> bool:
                    return (await driver.api.get(f"{base}/{job}", headers=h)).json()["state"] == "RUNNING"

                await eventually(running, timeout=20)  # the build started and waits for its rows
            finally:
                await driver.close()
        # the API and the worker are gone, mid-build; the job is not
        described = await dev_env.client.get_workflow_handle(f"report-email-{job}").describe()
        assert described.status is not None and described.status.name == "RUNNING"
    finally:
        lock.rollback()
        lock.close()

    async with running_app(dev_env, database_url, db, storage_dir, renderer, task_queue=queue) as second:
        driver = Driver(second.api.url, sandbox.url, brand["brand_code"])
        try:
            h = await driver.staff_headers("ADMIN")
            state = await wait_for_job(driver, f"{base}/{job}", h, timeout=45)
            assert state["state"] == "SENT" and state["rows"] == 5 and state["email"] == to, state
            table = list(csv.reader(io.StringIO((await driver.api.get(state["url"])).text)))
            assert [r[0] for r in table[1:]] == [ids["l3"], ids["l1"], ids["l2"], ids["l5"], ids["l7"]]
        finally:
            await driver.close()
    history = await dev_env.client.get_workflow_handle(f"report-email-{job}").fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts[0] >= 2  # the build ran again after the first worker stopped (one started event per try kept)
    with db.unit_of_work() as s:
        sent = s.scalars(
            select(CustomerMessage).where(CustomerMessage.brand_id == b, CustomerMessage.event == "REPORT_EMAIL")
        ).all()
        assert [(m.kind, m.status) for m in sent] == [("email", "SENT")]
