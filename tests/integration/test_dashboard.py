"""The dashboards through the real API and database (docs/dashboards.md): a brand's book written straight to the
tables — loans in several statuses and DPDs, their schedules, payments, ledger write-offs, collectors' allocations
and promises — and every figure of every route checked against the numbers worked by hand below; bad periods 422
naming the field; another brand's loans never counted and its id 404; the daily snapshot written once per day by its
workflow on a real Temporal server, read back by ``summary?asOf``; the schedule the worker registers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from temporalio.client import ScheduleOverlapPolicy
from temporalio.worker import Worker

from activities.portfolio import PortfolioActivities
from api.partner import dashboard as routes
from db.models import (
    CollectionAllocation,
    CollectionFollowUp,
    Customer,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanProduct,
    LoanStatusHistory,
    PaymentTransaction,
    PortfolioSnapshot,
    RepaymentInstallment,
)
from db.portfolio import IST, start_of
from los.demo import Driver
from los.schedules import ensure_schedule
from los.seed import seed_brand
from worker import scheduled_job
from workflows.portfolio_snapshot import RUN_AT_UTC, PortfolioSnapshotWorkflow, day_ended

TODAY = datetime.now(IST).date()
MONTH = TODAY.replace(day=1)
START = TODAY - timedelta(days=59)  # the period the analysis routes are asked for: 60 days to today
R = 100  # paise in a rupee
MODELS = {
    "stats": routes.DashboardStats,
    "summary": routes.PortfolioSummary,
    "users-by-subdomain": routes.UsersBySubdomain,
    "collection-analysis": routes.CollectionAnalysis,
    "disbursement-analysis": routes.DisbursementAnalysis,
    "partner-user-leads-stats": routes.StaffLeads,
    "portfolio/vintage": routes.Vintage,
}


def days_ago(n: int, hour: int = 12) -> datetime:
    """An instant on the IST day ``n`` days before today (today: a minute past midnight, never in the future)."""
    if n == 0:
        return start_of(TODAY) + timedelta(minutes=1)
    return start_of(TODAY - timedelta(days=n)) + timedelta(hours=hour)


def staff_of(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


class Book:
    """Rows of one brand, written in one transaction."""

    def __init__(self, session, brand_id: str):  # noqa: ANN001
        self.s, self.brand_id = session, brand_id
        self.products = {
            p.code: p.id for p in session.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id))
        }

    def customer(self, utm_source: str | None = None, assigned_to: str | None = None) -> str:
        c = Customer(
            brand_id=self.brand_id,
            phone=f"9{random.randrange(10**8, 10**9)}",
            full_name="Ravi Kumar",
            utm={"utm_source": utm_source} if utm_source else {},
            assigned_to=assigned_to,
        )
        self.s.add(c)
        self.s.flush()
        return c.id

    def loan(
        self,
        status: str,
        amount: int,
        *,
        product: str = "PL-MONTHLY",
        outstanding: int = 0,
        dpd: int = 0,
        asset_class: str = "STANDARD",
        disbursed: datetime | None = None,
        net: int | None = None,
        created: datetime | None = None,
        closed: datetime | None = None,
        collector: str | None = None,
        assigned_to: str | None = None,
        utm_source: str | None = None,
    ) -> str:
        loan_id = str(uuid.uuid4())
        self.s.add(
            Loan(
                id=loan_id,
                brand_id=self.brand_id,
                customer_id=self.customer(utm_source),
                product_id=self.products[product],
                workflow_id=f"loan-{loan_id}",
                amount=amount,
                tenure=6,
                annual_rate_bps=2400,
                status=status,
                outstanding_principal=outstanding,
                net_disbursed=net,
                dpd=dpd,
                max_dpd=dpd,
                asset_class=asset_class,
                disbursed_at=disbursed,
                closed_at=closed,
                collector_id=collector,
                assigned_to=assigned_to,
                created_at=created or (disbursed - timedelta(days=1) if disbursed else days_ago(0)),
            )
        )
        self.s.flush()
        return loan_id

    def installment(
        self,
        loan_id: str,
        no: int,
        due: date,
        principal: int,
        interest: int,
        *,
        paid: int = 0,
        paid_on: date | None = None,
        penal: int = 0,
    ) -> None:
        """``paid`` is taken by interest first, then principal; ``paid_on`` marks it PAID that day; ``penal``
        levied and unpaid."""
        interest_paid = min(paid, interest)
        overdue = paid_on is None and due < TODAY
        self.s.add(
            RepaymentInstallment(
                loan_id=loan_id,
                installment_no=no,
                due_at=datetime.combine(due, datetime.max.time(), IST),
                due_date=due,
                principal=principal,
                interest=interest,
                total=principal + interest,
                balance_after=0,
                interest_paid=interest_paid,
                principal_paid=paid - interest_paid,
                penal=penal,
                status="PAID" if paid_on else ("OVERDUE" if overdue else "PENDING"),
                paid_at=start_of(paid_on) + timedelta(hours=12) if paid_on else None,
            )
        )

    def payment(self, loan_id: str, amount: int, at: datetime, **parts: int) -> None:
        """A successful payment; ``parts`` its allocation (principal_part, interest_part, ...), none by default."""
        self.s.add(
            PaymentTransaction(
                loan_id=loan_id,
                gateway="razorpay",
                gateway_payment_id=f"pay_{uuid.uuid4().hex[:14]}",
                amount=amount,
                collected_at=at,
                **parts,
            )
        )

    def written_off(self, loan_id: str, principal: int, key: str) -> None:
        txn = LedgerTransaction(loan_id=loan_id, kind="WRITE_OFF", idempotency_key=f"loan-{loan_id}:{key}")
        self.s.add(txn)
        self.s.flush()
        self.s.add(LedgerEntry(transaction_id=txn.id, account="WRITE_OFF_EXPENSE", amount=principal))
        self.s.add(LedgerEntry(transaction_id=txn.id, account="LOAN_PRINCIPAL_RECEIVABLE", amount=-principal))

    def allocation(self, loan_id: str, staff_id: str, since: datetime, until: datetime | None = None) -> None:
        self.s.add(
            CollectionAllocation(
                brand_id=self.brand_id,
                loan_id=loan_id,
                staff_id=staff_id,
                role="COLLECTION_EXECUTIVE",
                bucket="1-30",
                idempotency_key=f"alloc-{uuid.uuid4().hex}",
                created_at=since,
                ended_at=until,
            )
        )

    def promise(self, loan_id: str, staff_id: str, on: date, status: str) -> None:
        self.s.add(
            CollectionFollowUp(
                brand_id=self.brand_id,
                loan_id=loan_id,
                staff_id=staff_id,
                disposition="PROMISE_TO_PAY",
                ptp_date=on,
                ptp_amount=1_000 * R,
                ptp_status=status,
            )
        )

    def history(self, loan_id: str, to_status: str, actor_id: str | None, at: datetime) -> None:
        self.s.add(
            LoanStatusHistory(
                loan_id=loan_id, seq=1, to_status=to_status, actor="staff", actor_id=actor_id, created_at=at
            )
        )


def seed_book(db, brand: dict) -> dict[str, Any]:  # noqa: ANN001
    """Brand A's book (amounts in rupees; D = today, IST):

    L1 DISBURSED   ₹1,20,000 (net 1,17,000) disbursed D, ₹1,00,000 outstanding, DPD 0; sanctioned D by the sanction
                   head, assigned to the credit executive; customer from google
    L2 OVERDUE     ₹60,000 (net 58,000) DEMO-FAST disbursed D−40, ₹50,000 outstanding, DPD 15, collector CX;
                   EMI due D−45 (₹4,000 + ₹1,000) paid D−44 by ₹5,000; EMI due D−15 (₹4,000 + ₹1,000) unpaid; google
    L3 OVERDUE     ₹50,000 disbursed D−100, ₹40,000 outstanding, DPD 45 (SMA-1), collector CX since D−44;
                   EMI due D−45 (₹8,000 + ₹2,000) of which ₹2,000 (interest) paid D−10; facebook
    L4 OVERDUE     ₹40,000 disbursed D−200, ₹30,000 outstanding, DPD 120, NPA, collector CH since D−119;
                   EMI due D−120 (₹6,000 + ₹2,000) unpaid; ₹3,000 paid D (not allocated: no parts)
    L5 WRITTEN_OFF closed D−5, ₹20,000 principal written off;  L6 SETTLED closed D−6, ₹5,000 principal written off
    L7 COMPLETED   ₹30,000 (net 29,000) disbursed D−50; EMI due D−20 (₹9,000 + ₹1,000) paid D−20 by ₹10,000
    L8 APPLIED today;  L9 SANCTIONED today by the sanction head, assigned to the credit executive
    and one customer from google with no loan, assigned (like L8's) to the loan executive.
    Promises: CX on L2 due D−5 KEPT, on L3 due D−3 BROKEN, on L3 due D+2 PENDING (after the period).
    """
    cx, ch = staff_of(brand, "COLLECTION_EXECUTIVE"), staff_of(brand, "COLLECTION_HEAD")
    sh, ce, le = (
        staff_of(brand, "SANCTION_HEAD"),
        staff_of(brand, "CREDIT_EXECUTIVE"),
        staff_of(brand, "LOAN_EXECUTIVE"),
    )
    d = lambda n: TODAY - timedelta(days=n)  # noqa: E731
    with db.unit_of_work() as s:
        b = Book(s, brand["brand_id"])
        l1 = b.loan(
            "DISBURSED", 1_20_000 * R, outstanding=1_00_000 * R, disbursed=days_ago(0), net=1_17_000 * R,
            created=days_ago(0), assigned_to=ce, utm_source="google",
        )  # fmt: skip
        b.history(l1, "SANCTIONED", sh, days_ago(0))
        l2 = b.loan(
            "OVERDUE", 60_000 * R, product="DEMO-FAST", outstanding=50_000 * R, dpd=15, asset_class="SMA-0",
            disbursed=days_ago(40), net=58_000 * R, collector=cx, utm_source="google",
        )  # fmt: skip
        b.installment(l2, 1, d(45), 4_000 * R, 1_000 * R, paid=5_000 * R, paid_on=d(44))
        b.installment(l2, 2, d(15), 4_000 * R, 1_000 * R)
        b.payment(l2, 5_000 * R, days_ago(44), interest_part=1_000 * R, principal_part=4_000 * R)
        b.allocation(l2, cx, days_ago(14))
        l3 = b.loan(
            "OVERDUE", 50_000 * R, outstanding=40_000 * R, dpd=45, asset_class="SMA-1", disbursed=days_ago(100),
            net=49_000 * R, collector=cx, utm_source="facebook",
        )  # fmt: skip
        b.installment(l3, 1, d(45), 8_000 * R, 2_000 * R, paid=2_000 * R)
        b.payment(l3, 2_000 * R, days_ago(10), interest_part=2_000 * R)
        b.allocation(l3, cx, days_ago(44))
        l4 = b.loan(
            "OVERDUE", 40_000 * R, outstanding=30_000 * R, dpd=120, asset_class="NPA", disbursed=days_ago(200),
            net=39_000 * R, collector=ch,
        )  # fmt: skip
        b.installment(l4, 1, d(120), 6_000 * R, 2_000 * R)
        b.payment(l4, 3_000 * R, days_ago(0))
        b.allocation(l4, ch, days_ago(119))
        l5 = b.loan("WRITTEN_OFF", 25_000 * R, disbursed=days_ago(300), net=24_000 * R, closed=days_ago(5))
        b.written_off(l5, 20_000 * R, "writeoff")
        l6 = b.loan("SETTLED", 10_000 * R, disbursed=days_ago(300), net=9_000 * R, closed=days_ago(6))
        b.written_off(l6, 5_000 * R, "settlement:principal")
        l7 = b.loan("COMPLETED", 30_000 * R, disbursed=days_ago(50), net=29_000 * R, closed=days_ago(20))
        b.installment(l7, 1, d(20), 9_000 * R, 1_000 * R, paid=10_000 * R, paid_on=d(20))
        b.payment(l7, 10_000 * R, days_ago(20), interest_part=1_000 * R, principal_part=9_000 * R)
        l8 = b.loan("APPLIED", 20_000 * R, created=days_ago(0))
        s.execute(
            update(Customer)
            .where(Customer.id == select(Loan.customer_id).where(Loan.id == l8).scalar_subquery())
            .values(assigned_to=le)
        )
        l9 = b.loan("SANCTIONED", 15_000 * R, created=days_ago(0), assigned_to=ce)
        b.history(l9, "SANCTIONED", sh, days_ago(0))
        b.customer("google", assigned_to=le)
        b.promise(l2, cx, d(5), "KEPT")
        b.promise(l3, cx, d(3), "BROKEN")
        b.promise(l3, cx, TODAY + timedelta(days=2), "PENDING")
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "l5": l5, "l6": l6, "l7": l7, "l8": l8, "l9": l9}


def seed_vintage(db, brand_id: str) -> None:  # noqa: ANN001
    """Brand B: four loans of 2025 for the vintage curves (as of 30 April 2025), and a live loan of today.

    V1 10 Jan ₹20,000: EMI due 10 Feb paid 5 Feb; EMI due 10 Mar unpaid → DPD above 30 at the day-end of 9 Apr
    V2 20 Jan ₹30,000: EMI due 25 Jan unpaid → above 30 on 24 Feb (month on book 1), above 90 on 25 Apr (MOB 3)
    V3 31 Jan ₹50,000: EMI due 28 Feb paid 30 Mar (day 30: not above 30)
    V4 15 Feb ₹10,000: EMI due 15 Mar paid 20 Apr → above 30 on 14 Apr (MOB 2 of February)
    V5 5 Mar ₹20,000: EMI due 20 Mar (₹20,000 + ₹1,000) paid by two part payments, the second 25 Mar; a ₹500
       penal charge left unpaid, so the installment is not PAID: DPD back to 0 on 25 Mar, never above 30
    """
    with db.unit_of_work() as s:
        b = Book(s, brand_id)
        at = lambda y, m, dd: start_of(date(y, m, dd)) + timedelta(hours=11)  # noqa: E731
        v1 = b.loan("COMPLETED", 20_000 * R, disbursed=at(2025, 1, 10))
        b.installment(v1, 1, date(2025, 2, 10), 10_000 * R, 0, paid=10_000 * R, paid_on=date(2025, 2, 5))
        b.installment(v1, 2, date(2025, 3, 10), 10_000 * R, 0)
        v2 = b.loan("COMPLETED", 30_000 * R, disbursed=at(2025, 1, 20))
        b.installment(v2, 1, date(2025, 1, 25), 30_000 * R, 0)
        v3 = b.loan("COMPLETED", 50_000 * R, disbursed=at(2025, 1, 31))
        b.installment(v3, 1, date(2025, 2, 28), 50_000 * R, 0, paid=50_000 * R, paid_on=date(2025, 3, 30))
        v4 = b.loan("COMPLETED", 10_000 * R, disbursed=at(2025, 2, 15))
        b.installment(v4, 1, date(2025, 3, 15), 10_000 * R, 0, paid=10_000 * R, paid_on=date(2025, 4, 20))
        v5 = b.loan("OVERDUE", 20_000 * R, disbursed=at(2025, 3, 5))
        b.installment(v5, 1, date(2025, 3, 20), 20_000 * R, 1_000 * R, paid=21_000 * R, penal=500 * R)
        b.payment(v5, 11_000 * R, at(2025, 3, 21), interest_part=1_000 * R, principal_part=10_000 * R)
        b.payment(v5, 10_000 * R, at(2025, 3, 25), principal_part=10_000 * R)
        # B's live book: would change every A figure if it leaked
        live = b.loan(
            "OVERDUE", 5_00_000 * R, outstanding=4_00_000 * R, dpd=95, asset_class="NPA", disbursed=days_ago(0),
            net=4_90_000 * R, created=days_ago(0), utm_source="google",
        )  # fmt: skip
        b.installment(live, 1, TODAY - timedelta(days=95), 50_000 * R, 0)
        b.payment(live, 7_000 * R, days_ago(0))


@pytest.fixture
def other_brand(db, sandbox) -> dict:  # noqa: ANN001
    return seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")


@pytest.fixture
def books(db, brand, other_brand) -> dict:  # noqa: ANN001
    loans = seed_book(db, brand)
    seed_vintage(db, other_brand["brand_id"])
    return loans


class Dash:
    def __init__(self, driver: Driver, brand_id: str):
        self.driver, self.brand_id = driver, brand_id

    async def get(self, path: str, brand_id: str | None = None, **params: Any):  # noqa: ANN201
        headers = await self.driver.staff_headers("ADMIN")
        url = f"/api/v1/partner/brand/{brand_id or self.brand_id}/dashboard/{path}"
        return await self.driver.api.get(url, headers=headers, params=params)

    async def ok(self, path: str, **params: Any) -> dict:
        resp = await self.get(path, **params)
        assert resp.status_code == 200, resp.text
        MODELS[path].model_validate(resp.json())  # the answer is what the route declares (no key more or less)
        return resp.json()


@pytest_asyncio.fixture
async def dash(app, sandbox, brand):  # noqa: ANN001, ANN201
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    yield Dash(driver, brand["brand_id"])
    await driver.close()


PERIOD = {"fromDate": START.isoformat(), "toDate": TODAY.isoformat()}


@pytest.fixture(autouse=True)
def _today_when_run() -> None:
    """Today (IST) as of each test, not as of collection: a suite collected before IST midnight and run after it
    would otherwise seed and ask for yesterday while the API answers for today."""
    global TODAY, MONTH, START
    TODAY = datetime.now(IST).date()
    MONTH = TODAY.replace(day=1)
    START = TODAY - timedelta(days=59)
    PERIOD.update(fromDate=START.isoformat(), toDate=TODAY.isoformat())


def in_month(*days_back: int) -> int:
    return sum(1 for n in days_back if TODAY - timedelta(days=n) >= MONTH)


async def test_stats(dash, books) -> None:  # noqa: ANN001
    body = await dash.ok("stats")
    assert body["asOf"] == TODAY.isoformat()
    assert body["byStatus"] == [
        {"status": "APPLIED", "count": 1},
        {"status": "COMPLETED", "count": 1},
        {"status": "DISBURSED", "count": 1},
        {"status": "OVERDUE", "count": 3},
        {"status": "SANCTIONED", "count": 1},
        {"status": "SETTLED", "count": 1},
        {"status": "WRITTEN_OFF", "count": 1},
    ]
    assert body["totalLoans"] == 9
    # created today: L1, L8, L9; this month also those created the day before a disbursal in this month
    created_back = [0, 0, 0, 41, 101, 201, 301, 301, 51]
    assert body["applications"] == {"today": 3, "thisMonth": in_month(*created_back)}
    assert body["sanctioned"] == {"today": 2, "thisMonth": 2}  # L1 and L9, by the sanction head
    assert body["disbursed"]["today"] == {"count": 1, "amountPaise": 1_20_000 * R, "netPaise": 1_17_000 * R}
    month = [(n, a, net) for n, a, net in [(0, 1_20_000, 1_17_000), (40, 60_000, 58_000), (50, 30_000, 29_000),
             (100, 50_000, 49_000), (200, 40_000, 39_000), (300, 25_000, 24_000), (300, 10_000, 9_000)]
             if TODAY - timedelta(days=n) >= MONTH]  # fmt: skip
    assert body["disbursed"]["thisMonth"] == {
        "count": len(month),
        "amountPaise": sum(a for _, a, _ in month) * R,
        "netPaise": sum(net for _, _, net in month) * R,
    }
    assert body["collections"]["today"] == {"count": 1, "amountPaise": 3_000 * R}
    paid = [(44, 5_000), (10, 2_000), (0, 3_000), (20, 10_000)]
    this_month = [a for n, a in paid if TODAY - timedelta(days=n) >= MONTH]
    assert body["collections"]["thisMonth"] == {"count": len(this_month), "amountPaise": sum(this_month) * R}


async def test_summary(dash, books) -> None:  # noqa: ANN001
    body = await dash.ok("summary", **PERIOD)
    assert body == {
        "brandId": dash.brand_id,
        "source": "live",
        "asOf": TODAY.isoformat(),
        "takenAt": None,
        "fromDate": START.isoformat(),
        "toDate": TODAY.isoformat(),
        # AUM: 1,00,000 + 50,000 + 40,000 + 30,000
        "aumPaise": 2_20_000 * R,
        "loansOnBook": 4,
        # disbursed in the period: L1, L2, L7
        "disbursals": {"count": 3, "amountPaise": 2_10_000 * R, "netPaise": 2_04_000 * R},
        "collections": {"count": 4, "amountPaise": 20_000 * R},
        # due in the period: L2's two EMIs (5,000 + 5,000), L3's (10,000), L7's (10,000) = 30,000;
        # collected towards them 5,000 + 0 + 2,000 + 10,000 = 17,000 → 56.67 %
        "collectionEfficiency": {"billedPaise": 30_000 * R, "collectedPaise": 17_000 * R, "percent": "56.67"},
        # overall: due = L2 10,000 + L3 10,000 + L4's opening arrears 8,000 (due D−120) + L7 10,000 = 38,000;
        # collected towards dues in the period (payments' parts) 5,000 + 2,000 + 0 + 10,000 = 17,000 → 44.74 %
        "overallCollectionEfficiency": {"duePaise": 38_000 * R, "collectedPaise": 17_000 * R, "percent": "44.74"},
        # DPD > 30: L3 + L4 = 70,000 / 2,20,000 = 31.82 %; > 60 and > 90: L4 = 30,000 → 13.64 %
        "par30": {"loans": 2, "principalPaise": 70_000 * R, "percent": "31.82"},
        "par60": {"loans": 1, "principalPaise": 30_000 * R, "percent": "13.64"},
        "par90": {"loans": 1, "principalPaise": 30_000 * R, "percent": "13.64"},
        "gnpa": {"loans": 1, "principalPaise": 30_000 * R, "percent": "13.64"},
        "writtenOff": {"loans": 1, "principalPaise": 20_000 * R},
        "settled": {"loans": 1, "principalWrittenOffPaise": 5_000 * R},
    }
    # a period before anything happened: the book is the same, the period's figures are zero and CE has no ratio
    early = await dash.ok("summary", fromDate="2020-01-01", toDate="2020-01-31")
    assert early["aumPaise"] == 2_20_000 * R and early["disbursals"]["count"] == 0
    assert early["collectionEfficiency"] == {"billedPaise": 0, "collectedPaise": 0, "percent": None}
    assert early["overallCollectionEfficiency"] == {"duePaise": 0, "collectedPaise": 0, "percent": None}


async def test_users_by_subdomain(dash, books, brand) -> None:  # noqa: ANN001
    body = await dash.ok("users-by-subdomain")
    assert body["brandId"] == dash.brand_id and body["subdomain"] == brand["brand_code"]
    assert (body["customers"], body["applied"], body["disbursed"]) == (10, 9, 7)
    assert body["bySource"] == [
        {"source": "direct", "customers": 6, "applied": 6, "disbursed": 4},
        {"source": "google", "customers": 3, "applied": 2, "disbursed": 2},
        {"source": "facebook", "customers": 1, "applied": 1, "disbursed": 1},
    ]
    none = await dash.ok("users-by-subdomain", fromDate="2020-01-01", toDate="2020-12-31")
    assert none["customers"] == 0 and none["bySource"] == []


async def test_collection_analysis(dash, books, brand) -> None:  # noqa: ANN001
    body = await dash.ok("collection-analysis", **PERIOD)
    assert body["byBucket"] == [
        {"bucket": "0", "loans": 1, "principalPaise": 1_00_000 * R, "overduePaise": 0},
        {"bucket": "1-30", "loans": 1, "principalPaise": 50_000 * R, "overduePaise": 5_000 * R},
        {"bucket": "31-60", "loans": 1, "principalPaise": 40_000 * R, "overduePaise": 8_000 * R},
        {"bucket": "61-90", "loans": 0, "principalPaise": 0, "overduePaise": 0},
        {"bucket": "90+", "loans": 1, "principalPaise": 30_000 * R, "overduePaise": 8_000 * R},
    ]
    by = {c["staffId"]: c for c in body["byCollector"]}
    cx, ch = staff_of(brand, "COLLECTION_EXECUTIVE"), staff_of(brand, "COLLECTION_HEAD")
    assert set(by) == {cx, ch}
    # CX: L2 and L3, 13,000 overdue; recovered L3's 2,000 (L2's payment was before its allocation): 2/15 = 13.33 %
    assert by[cx] == {
        "staffId": cx, "name": "Collection Executive", "role": "COLLECTION_EXECUTIVE", "cases": 2,
        "overduePaise": 13_000 * R, "promises": 2, "promisesKept": 1, "promisesBroken": 1, "promisesPending": 0,
        "recoveredPaise": 2_000 * R, "recoveryRate": "13.33",
    }  # fmt: skip
    # CH: L4, 8,000 overdue, 3,000 recovered today: 3/11 = 27.27 %
    assert by[ch]["cases"] == 1 and by[ch]["recoveredPaise"] == 3_000 * R and by[ch]["recoveryRate"] == "27.27"
    assert by[ch]["promises"] == 0
    # all: 5,000 recovered, 21,000 overdue → 5/26 = 19.23 %
    assert (body["recoveredPaise"], body["overduePaise"], body["recoveryRate"]) == (5_000 * R, 21_000 * R, "19.23")


async def test_disbursement_analysis(dash, books) -> None:  # noqa: ANN001
    body = await dash.ok("disbursement-analysis", **PERIOD)
    assert (body["count"], body["amountPaise"], body["netPaise"]) == (3, 2_10_000 * R, 2_04_000 * R)

    def day(n, a, net):
        return {
            "day": (TODAY - timedelta(days=n)).isoformat(),
            "count": 1,
            "amountPaise": a * R,
            "netPaise": net * R,
        }

    assert body["byDay"] == [day(50, 30_000, 29_000), day(40, 60_000, 58_000), day(0, 1_20_000, 1_17_000)]
    names = {p["productCode"]: (p["count"], p["amountPaise"], p["netPaise"]) for p in body["byProduct"]}
    assert names == {"DEMO-FAST": (1, 60_000 * R, 58_000 * R), "PL-MONTHLY": (2, 1_50_000 * R, 1_46_000 * R)}
    assert [(b["band"], b["count"], b["amountPaise"]) for b in body["byAmountBand"]] == [
        ("below 25k", 0, 0),
        ("25k-50k", 1, 30_000 * R),
        ("50k-1L", 1, 60_000 * R),
        ("1L-2L", 1, 1_20_000 * R),
        ("2L-5L", 0, 0),
        ("5L and above", 0, 0),
    ]


async def test_partner_user_leads_stats(dash, books, brand) -> None:  # noqa: ANN001
    body = await dash.ok("partner-user-leads-stats", **PERIOD)
    by = {i["staffId"]: i for i in body["items"]}
    assert set(by) >= {s["id"] for s in brand["staff"] if s["role"] != "SUPER_ADMIN"}
    ce, sh, le = (staff_of(brand, r) for r in ("CREDIT_EXECUTIVE", "SANCTION_HEAD", "LOAN_EXECUTIVE"))

    def pick(i):
        return (
            i["assignedCustomers"],
            i["assignedLoans"],
            i["sanctioned"],
            i["disbursed"],
            i["disbursedAmountPaise"],
        )

    assert pick(by[ce]) == (0, 2, 0, 1, 1_20_000 * R)  # L1 and L9 assigned; L1 disbursed
    assert pick(by[sh]) == (0, 0, 2, 1, 1_20_000 * R)  # sanctioned L1 and L9; worked L1
    assert pick(by[le]) == (2, 0, 0, 0, 0)  # L8's customer and the one with no loan
    others = [pick(i) for sid, i in by.items() if sid not in (ce, sh, le)]
    assert others and all(p == (0, 0, 0, 0, 0) for p in others)


async def test_vintage(app, sandbox, dash, books, other_brand) -> None:  # noqa: ANN001
    # A has nothing disbursed by April 2025
    assert (await dash.ok("portfolio/vintage", asOf="2025-04-30"))["cohorts"] == []
    resp = await dash.get("portfolio/vintage", brand_id=other_brand["brand_id"], asOf="2025-04-30")
    assert resp.status_code == 404  # B's figures are not A's staff's to read
    driver = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    try:
        b = Dash(driver, other_brand["brand_id"])
        body = await b.ok("portfolio/vintage", asOf="2025-04-30")
    finally:
        await driver.close()
    assert body["asOf"] == "2025-04-30"
    january, february, march = body["cohorts"]
    assert (january["month"], january["loans"], january["principalPaise"]) == ("2025-01", 3, 1_00_000 * R)

    def curve(c):
        return [
            (p["monthsOnBook"], p["loans"], p["principalPaise"], p["percentPrincipal"], p["percentLoans"]) for p in c
        ]

    assert curve(january["dpd30"]) == [
        (0, 0, 0, "0.00", "0.00"),
        (1, 1, 30_000 * R, "30.00", "33.33"),
        (2, 1, 30_000 * R, "30.00", "33.33"),
        (3, 2, 50_000 * R, "50.00", "66.67"),
    ]
    assert curve(january["dpd90"])[-1] == (3, 1, 30_000 * R, "30.00", "33.33")
    assert [p["loans"] for p in january["dpd90"]] == [0, 0, 0, 1]
    assert (february["month"], february["loans"]) == ("2025-02", 1)
    assert curve(february["dpd30"]) == [
        (0, 0, 0, "0.00", "0.00"),
        (1, 0, 0, "0.00", "0.00"),
        (2, 1, 10_000 * R, "100.00", "100.00"),
    ]  # noqa: E501
    # V5: principal and interest cleared by part payments within 30 days, penal still owed: never above 30
    assert (march["month"], march["loans"], march["principalPaise"]) == ("2025-03", 1, 20_000 * R)
    assert curve(march["dpd30"]) == [(0, 0, 0, "0.00", "0.00"), (1, 0, 0, "0.00", "0.00")]


async def test_periods_are_checked_and_other_brands_are_404(dash, books, other_brand) -> None:  # noqa: ANN001
    cases = [
        ("summary", {"fromDate": "2026-02-10", "toDate": "2026-02-01"}, "toDate"),
        ("collection-analysis", {"fromDate": "2024-01-01", "toDate": "2025-01-01"}, "toDate"),  # 367 days
        ("disbursement-analysis", {"fromDate": "2025-02-30"}, "fromDate"),
        ("partner-user-leads-stats", {"toDate": "01-02-2025"}, "toDate"),
        ("users-by-subdomain", {"fromDate": "2025-03-01", "toDate": "2025-02-01"}, "toDate"),
        ("summary", {"asOf": TODAY.isoformat(), "fromDate": START.isoformat()}, "asOf"),
        ("portfolio/vintage", {"asOf": "yesterday"}, "asOf"),
        ("portfolio/vintage", {"asOf": (TODAY + timedelta(days=1)).isoformat()}, "asOf"),
    ]
    for path, params, field in cases:
        resp = await dash.get(path, **params)
        assert resp.status_code == 422, (path, params, resp.text)
        assert field in [e["field"] for e in resp.json()["errors"]], (path, resp.json())
    # 366 days is allowed
    assert (await dash.get("collection-analysis", fromDate="2024-01-01", toDate="2024-12-31")).status_code == 200
    for path in ("stats", "summary", "users-by-subdomain", "collection-analysis", "disbursement-analysis",
                 "partner-user-leads-stats", "portfolio/vintage"):  # fmt: skip
        resp = await dash.get(path, brand_id=other_brand["brand_id"])
        assert resp.status_code == 404, (path, resp.text)
        assert "aumPaise" not in resp.text and "byStatus" not in resp.text and "cohorts" not in resp.text


# ------------------------------------------------------------------------------------------- the daily snapshot
def test_the_snapshot_is_of_the_day_that_ended_in_india() -> None:
    # 00:30 IST on 1 Dec is 19:00 UTC on 30 Nov: the day that ended is 30 Nov
    assert day_ended(datetime(2026, 11, 30, 19, 0, tzinfo=UTC)) == date(2026, 11, 30)
    assert day_ended(datetime(2026, 12, 1, 0, 30, tzinfo=IST)) == date(2026, 11, 30)
    assert day_ended(datetime(2026, 12, 1, 18, 29, tzinfo=UTC)) == date(2026, 11, 30)  # 23:59 IST on 1 Dec
    assert RUN_AT_UTC == (19, 0)


async def test_snapshot_written_once_per_day_and_read_back(dev_env, db, dash, books, brand) -> None:  # noqa: ANN001
    day = TODAY - timedelta(days=1)
    queue = f"portfolio-{uuid.uuid4().hex[:8]}"
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[PortfolioSnapshotWorkflow],
        activities=PortfolioActivities(db).all(),
    ):
        first = await dev_env.client.execute_workflow(
            PortfolioSnapshotWorkflow.run, day.isoformat(), id=f"snap-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        assert first["asOf"] == day.isoformat() and first["brands"] >= 2
        # the book changes after the day-end: the day's snapshot does not
        with db.unit_of_work() as s:
            s.execute(update(Loan).where(Loan.id == books["l1"]).values(outstanding_principal=1))
        again = await dev_env.client.execute_workflow(
            PortfolioSnapshotWorkflow.run, day.isoformat(), id=f"snap-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        # as the schedule starts it (no date): the day that ended last in India, already written
        scheduled = await dev_env.client.execute_workflow(
            PortfolioSnapshotWorkflow.run, id=f"snap-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
    assert scheduled == {"asOf": day.isoformat(), "brands": first["brands"], "written": 0}
    assert again == {"asOf": day.isoformat(), "brands": first["brands"], "written": 0}
    with db.unit_of_work() as s:
        rows = s.scalars(select(PortfolioSnapshot).where(PortfolioSnapshot.brand_id == brand["brand_id"])).all()
        assert [r.as_of for r in rows] == [day]
        figures = dict(rows[0].figures)
        assert (
            s.scalar(select(func.count()).select_from(PortfolioSnapshot).where(PortfolioSnapshot.as_of == day))
            == first["brands"]
        )
    # the month to that day; the book as it stood (AUM with L1's 1,00,000)
    assert figures["fromDate"] == day.replace(day=1).isoformat() and figures["toDate"] == day.isoformat()
    assert figures["aumPaise"] == 2_20_000 * R and figures["par30"]["percent"] == "31.82"
    body = await dash.ok("summary", asOf=day.isoformat())
    assert body["source"] == "snapshot" and body["asOf"] == day.isoformat() and body["takenAt"]
    assert {k: v for k, v in body.items() if k not in ("brandId", "source", "asOf", "takenAt")} == figures
    live = await dash.ok("summary")
    assert live["source"] == "live" and live["aumPaise"] == 1_20_000 * R + 1  # 1 + 50,000 + 40,000 + 30,000 rupees
    # before the first snapshot: said so, naming asOf (history is not recomputed); a day the schedule missed
    missing = await dash.get("summary", asOf="2020-01-01")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "asOf"
    assert f"snapshots start on {day.isoformat()}" in missing.json()["message"], missing.text
    assert "not recomputed" in missing.json()["message"] and "fromDate" in missing.json()["message"]
    with db.unit_of_work() as s:
        mine = (PortfolioSnapshot.brand_id == brand["brand_id"]) & (PortfolioSnapshot.as_of == day)
        s.execute(update(PortfolioSnapshot).where(mine).values(as_of=day - timedelta(days=9)))
    gap = await dash.get("summary", asOf=(day - timedelta(days=2)).isoformat())
    assert gap.status_code == 404 and "did not write one that day" in gap.json()["message"], gap.text


async def test_the_worker_registers_the_daily_schedule_once(dev_env, app) -> None:  # noqa: ANN001
    schedule_id = f"portfolio-snapshot-{uuid.uuid4().hex[:8]}"
    await ensure_schedule(dev_env.client, app.settings, scheduled_job("portfolio-snapshot"), schedule_id)
    handle = dev_env.client.get_schedule_handle(schedule_id)
    try:
        await handle.pause(note="ops paused it")
        await ensure_schedule(
            dev_env.client, app.settings, scheduled_job("portfolio-snapshot"), schedule_id
        )  # a restart: no error, one schedule
        desc = await handle.describe()
        (calendar,) = desc.schedule.spec.calendars
        assert [r.start for r in calendar.hour] == [19] and [r.start for r in calendar.minute] == [0]
        assert desc.schedule.action.workflow == "PortfolioSnapshotWorkflow"
        assert desc.schedule.action.task_queue == app.settings.task_queue
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert desc.schedule.state.paused  # the pause set in the UI survives the worker's restart
    finally:
        await handle.delete()
