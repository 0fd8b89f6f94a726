"""Collections through the real API, database, sandbox and loan workflow (docs/collections.md): the three queues with
their filters, pagination and who sees what; the day-end allocation by ``review_collection`` (leave, area, load,
rating, escalation by bucket, a retry writing nothing twice); manual and bulk moves; follow-ups whose promise is kept
by a payment the workflow applies and broken at the day-end; a field visit with its photo; the collector's payment
link sent to the customer; collector profiles; and another brand seeing and touching nothing."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from activities.loan.collections import CollectionActivities
from api.partner import collection_links
from db.models import (
    AuditLog,
    CollectionAllocation,
    CollectionFollowUp,
    CollectorProfile,
    Customer,
    CustomerMessage,
    FieldVisit,
    Loan,
    LoanProduct,
    PartnerUnavailabilityDate,
    PaymentLink,
    RepaymentInstallment,
    StaffBrandRole,
    StaffNotification,
    StaffUser,
)
from los.demo import Driver
from los.seed import seed_brand
from tests.integration.test_offline_payments import credited_offline, disbursed_loan
from workflows.contracts import CollectionReview
from workflows.options import IST

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def today() -> date:
    return datetime.now(IST).date()


def errors_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in response.json().get("errors", [])}


def staff_of(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def add_collector(db, brand_id: str, role: str = "COLLECTION_EXECUTIVE", *, active: bool = True, **profile) -> str:  # noqa: ANN001, ANN003
    """A staff member with ``role`` in the brand (and a collector profile when ``profile`` is given)."""
    with db.unit_of_work() as s:
        user = StaffUser(
            brand_id=brand_id,
            email=f"cx.{uuid.uuid4().hex[:10]}@test.example",
            name="Collector",
            role=role,
            password_hash="-",
            is_active=active,
        )
        s.add(user)
        s.flush()
        s.add(StaffBrandRole(staff_id=user.id, brand_id=brand_id, role=role))
        if profile:
            s.add(CollectorProfile(brand_id=brand_id, staff_id=user.id, rating_criteria={}, **profile))
        return user.id


def seed_loan(
    db,  # noqa: ANN001
    brand_id: str,
    *,
    dpd: int = 0,
    overdue: int = 0,
    status: str = "OVERDUE",
    pincode: str | None = None,
    due_in_days: int | None = None,
    bucket: str | None = None,
    collector: str | None = None,
) -> str:
    """A disbursed loan written straight to the tables as the servicing workflow leaves them: DPD, the next due
    date, and one OVERDUE installment of ``overdue`` paise (principal and interest)."""
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        product = s.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand_id, LoanProduct.code == "PL-MONTHLY")
        ).one()
        customer = Customer(
            brand_id=brand_id, phone=f"9{random.randrange(10**8, 10**9)}", full_name="Asha Rao", pincode=pincode
        )
        s.add(customer)
        s.flush()
        loan_id = str(uuid.uuid4())
        s.add(
            Loan(
                id=loan_id,
                brand_id=brand_id,
                customer_id=customer.id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=50_000_00,
                tenure=6,
                annual_rate_bps=2400,
                status=status,
                outstanding_principal=40_000_00,
                dpd=dpd,
                max_dpd=dpd,
                collection_bucket=bucket,
                collector_id=collector,
                disbursed_at=now - timedelta(days=120),
                next_due_at=now + timedelta(days=due_in_days) if due_in_days is not None else None,
            )
        )
        s.flush()
        if overdue:
            due = today() - timedelta(days=dpd)
            s.add(
                RepaymentInstallment(
                    loan_id=loan_id,
                    installment_no=1,
                    due_at=datetime.combine(due, datetime.max.time(), IST),
                    due_date=due,
                    principal=overdue - 500_00,
                    interest=500_00,
                    total=overdue,
                    balance_after=0,
                    status="OVERDUE",
                )
            )
        return loan_id


def promise_row(db, brand_id: str, loan_id: str, staff_id: str, on: date, amount: int = 1_000_00) -> str:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = CollectionFollowUp(
            brand_id=brand_id,
            loan_id=loan_id,
            staff_id=staff_id,
            disposition="PROMISE_TO_PAY",
            ptp_date=on,
            ptp_amount=amount,
            ptp_status="PENDING",
            ptp_paid=0,
        )
        s.add(row)
        s.flush()
        return row.id


def review(db, loan_id: str, brand_id: str, dpd: int, bucket: str | None, as_of: date) -> Any:  # noqa: ANN001
    acts = CollectionActivities(db, None, None, None, "http://127.0.0.1:1")  # type: ignore[arg-type]  # DB only
    return acts.review_collection(CollectionReview(loan_id, brand_id, dpd, bucket, as_of))


def loan_row(db, loan_id: str) -> Loan:  # noqa: ANN001
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, loan_id)
        s.expunge(loan)
        return loan


def allocations(db, loan_id: str) -> list[CollectionAllocation]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = list(
            s.scalars(
                select(CollectionAllocation)
                .where(CollectionAllocation.loan_id == loan_id)
                .order_by(CollectionAllocation.created_at, CollectionAllocation.id)
            )
        )
        s.expunge_all()
        return rows


async def other_brand(app, sandbox, db) -> tuple[Driver, dict]:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    return Driver(app.api.url, sandbox.url, other["brand_code"]), other


# ------------------------------------------------------------------------------------------- queues
async def test_the_queues_hold_what_the_brands_rules_say_with_filters_pages_and_visibility(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, _ = await other_brand(app, sandbox, db)
    b = brand["brand_id"]
    base = f"/api/v1/partner/brand/{b}/collection"
    cx = staff_of(brand, "COLLECTION_EXECUTIVE")
    try:
        soon = seed_loan(db, b, status="DISBURSED", due_in_days=3)
        seed_loan(db, b, status="DISBURSED", due_in_days=20)  # beyond preDueDays (7)
        mine = seed_loan(db, b, dpd=5, overdue=10_000_00, bucket="1-30", collector=cx)
        nobodys = seed_loan(db, b, dpd=45, overdue=40_000_00, bucket="31-60")
        late = seed_loan(db, b, dpd=75, overdue=60_000_00, bucket="61-90")
        npa = seed_loan(db, b, dpd=120, overdue=90_000_00, bucket="90+")
        seed_loan(db, b, dpd=10, overdue=5_000_00, status="COMPLETED")  # ended: in no queue
        promise_row(db, b, mine, cx, today() + timedelta(days=2), 7_000_00)
        cm = await driver.staff_headers("COLLECTION_MANAGER")

        async def ids(path: str, headers: dict, **params: Any) -> list[str]:
            r = await driver.api.get(f"{base}{path}", headers=headers, params=params)
            assert r.status_code == 200, r.text
            return [row["loanId"] for row in r.json()["items"]]

        assert await ids("", cm) == [nobodys, mine]  # the most days past due first
        assert await ids("/post", cm) == [npa, late]
        assert await ids("/pre", cm) == [soon]
        assert await ids("", cm, bucket="1-30") == [mine]
        assert await ids("", cm, dpdMin=30) == [nobodys]
        assert await ids("/post", cm, dpdMin=70, dpdMax=80) == [late]
        assert await ids("", cm, agentId=cx) == [mine]
        assert await ids("", cm, agentId="none") == [nobodys]
        assert await ids("", cm, amountMin=20_000_00) == [nobodys]
        assert await ids("", cm, amountMax=20_000_00) == [mine]
        assert await ids("", cm, ptpDue=(today() + timedelta(days=2)).isoformat()) == [mine]
        assert await ids("", cm, ptpDue=(today() + timedelta(days=1)).isoformat()) == []
        page = (await driver.api.get(base, headers=cm, params={"limit": 1, "page": 2})).json()
        assert [r["loanId"] for r in page["items"]] == [mine] and page["total"] == 2 and page["limit"] == 1
        row = page["items"][0]
        assert row["overduePaise"] == 10_000_00 and row["bucket"] == "1-30" and row["collectorId"] == cx
        assert row["ptpDate"] == (today() + timedelta(days=2)).isoformat() and row["ptpAmountPaise"] == 7_000_00

        # a collection executive sees only what is allocated to them
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        assert await ids("", cxh) == [mine]
        assert await ids("/post", cxh) == []
        assert await ids("/pre", cxh) == [soon]  # nobody holds a loan before it is overdue

        # bad filters are named; the loan executive has the pre-collection queue only
        for params, name in (
            ({"dpdMin": 10, "dpdMax": 5}, "dpdMax"),
            ({"bucket": "1-99"}, "bucket"),
            ({"agentId": "someone"}, "agentId"),
            ({"amountMin": "12.5"}, "amountMin"),
            ({"limit": 0}, "limit"),
            ({"ptpDue": "tomorrow"}, "ptpDue"),
        ):
            r = await driver.api.get(base, headers=cm, params=params)
            assert r.status_code == 422 and name in errors_of(r), (params, r.text)
        le = await driver.staff_headers("LOAN_EXECUTIVE")
        assert (await driver.api.get(base, headers=le)).status_code == 403
        assert (await driver.api.get(f"{base}/pre", headers=le)).status_code == 200

        # another brand's staff: the brand is not theirs
        ocm = await other.staff_headers("COLLECTION_MANAGER")
        for path in ("", "/pre", "/post"):
            assert (await driver.api.get(f"{base}{path}", headers=ocm)).status_code == 404
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- auto-allocation
async def test_the_day_end_allocates_by_leave_area_load_rating_and_escalates_by_bucket(brand, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    day = today()
    seeded_cx = staff_of(brand, "COLLECTION_EXECUTIVE")  # no profile: rating 3, no area
    south = add_collector(db, b, rating=3, pincodes=["560001"])
    star = add_collector(db, b, rating=5, pincodes=[])
    away = add_collector(db, b, rating=5, pincodes=["110001"])
    add_collector(db, b, active=False, rating=5, pincodes=["110001"])
    with db.unit_of_work() as s:
        s.add(PartnerUnavailabilityDate(staff_id=away, day=day, reason="leave"))

    # area first: the customer's pincode is covered by `south`, though `star` is rated higher
    first = seed_loan(db, b, dpd=1, overdue=5_000_00, pincode="560001")
    assert await review(db, first, b, 1, "1-30", day) == south
    loan = loan_row(db, first)
    assert (loan.collection_bucket, loan.collector_id, loan.max_dpd) == ("1-30", south, 1)
    [row] = allocations(db, first)
    assert row.staff_id == south and row.role == "COLLECTION_EXECUTIVE" and row.ended_at is None
    assert row.idempotency_key == f"loan-{first}:bucket:1-30:{day.isoformat()}" and row.allocated_by is None
    # a retried activity writes nothing twice
    assert await review(db, first, b, 1, "1-30", day) == south
    assert len(allocations(db, first)) == 1
    with db.unit_of_work() as s:
        told = s.scalars(select(StaffNotification).where(StaffNotification.staff_id == south)).all()
        assert [(n.type, n.meta["loanId"]) for n in told] == [("NEW_ASSIGNMENT", first)]

    # nobody covers 110001 but `away`, who is on leave that day: the better rating wins at equal load
    second = seed_loan(db, b, dpd=1, overdue=5_000_00, pincode="110001")
    assert await review(db, second, b, 1, "1-30", day) == star
    # the next day `away` is back and covers the area
    third = seed_loan(db, b, dpd=1, overdue=5_000_00, pincode="110001")
    assert await review(db, third, b, 1, "1-30", day + timedelta(days=1)) == away
    # load: `star` is at their cap of 1, `south` has 1 open case, the seeded executive none
    with db.unit_of_work() as s:
        s.execute(CollectorProfile.__table__.update().where(CollectorProfile.staff_id == star).values(capacity=1))
    fourth = seed_loan(db, b, dpd=1, overdue=5_000_00, pincode="999999")
    assert await review(db, fourth, b, 1, "1-30", day) == seeded_cx
    reason = allocations(db, fourth)[0].reason
    assert "no eligible collector covers the pincode" in reason

    # escalation: 61-90 goes to the collection manager, 90+ to the head; each move ends the one before
    manager, head = staff_of(brand, "COLLECTION_MANAGER"), staff_of(brand, "COLLECTION_HEAD")
    assert await review(db, first, b, 61, "61-90", day + timedelta(days=60)) == manager
    assert await review(db, first, b, 91, "90+", day + timedelta(days=90)) == head
    rows = allocations(db, first)
    assert [(r.role, r.bucket, r.ended_at is None) for r in rows] == [
        ("COLLECTION_EXECUTIVE", "1-30", False),
        ("COLLECTION_MANAGER", "61-90", False),
        ("COLLECTION_HEAD", "90+", True),
    ]
    # current again: the allocation ends, the worst DPD stays
    assert await review(db, first, b, 0, None, day + timedelta(days=91)) is None
    loan = loan_row(db, first)
    assert (loan.collection_bucket, loan.collector_id, loan.max_dpd) == (None, None, 91)
    assert all(r.ended_at is not None for r in allocations(db, first))

    # nobody eligible: the head on leave → the loan waits in its bucket with nobody, the row says why
    with db.unit_of_work() as s:
        s.add(PartnerUnavailabilityDate(staff_id=head, day=day))
    fifth = seed_loan(db, b, dpd=95, overdue=5_000_00)
    assert await review(db, fifth, b, 95, "90+", day) is None
    [row] = allocations(db, fifth)
    assert row.staff_id is None and "no eligible COLLECTION_HEAD" in row.reason
    assert loan_row(db, fifth).collection_bucket == "90+"

    # promises dated before the day-end and not kept are broken; the day's own promise is not yet
    late = promise_row(db, b, second, star, day - timedelta(days=1))
    due_today = promise_row(db, b, second, star, day)
    await review(db, second, b, 2, "1-30", day)
    with db.unit_of_work() as s:
        assert s.get_one(CollectionFollowUp, late).ptp_status == "BROKEN"
        assert s.get_one(CollectionFollowUp, due_today).ptp_status == "PENDING"
    assert len(allocations(db, second)) == 1  # the same bucket: the allocation stands


# ------------------------------------------------------------------------------------------- manual allocation
async def test_manual_and_bulk_allocation_is_checked_audited_and_kept_by_the_day_end(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, other_seed = await other_brand(app, sandbox, db)
    b = brand["brand_id"]
    url = f"/api/v1/partner/brand/{b}/collection/allocate"
    target = add_collector(db, b)
    try:
        one = seed_loan(
            db, b, dpd=5, overdue=5_000_00, bucket="1-30", collector=staff_of(brand, "COLLECTION_EXECUTIVE")
        )
        two = seed_loan(db, b, dpd=40, overdue=5_000_00, bucket="31-60")
        ended = seed_loan(db, b, dpd=9, overdue=5_000_00, status="COMPLETED")
        theirs = seed_loan(db, other_seed["brand_id"], dpd=5, overdue=5_000_00)
        cm = await driver.staff_headers("COLLECTION_MANAGER")

        def unchanged() -> None:
            assert loan_row(db, two).collector_id is None
            assert allocations(db, two) == []

        for body, status, name in (
            ({"loanIds": [one, two], "staffId": staff_of(brand, "CREDIT_EXECUTIVE")}, 422, "staffId"),
            ({"loanIds": [one, theirs], "staffId": target}, 404, "loanIds"),
            ({"loanIds": [two, ended], "staffId": target}, 409, "loanIds"),
            ({"loanIds": [two, two], "staffId": target}, 422, "loanIds"),
            ({"loanIds": [], "staffId": target}, 422, "loanIds"),
            ({"loanIds": [two], "staffId": "nobody"}, 422, "staffId"),
        ):
            r = await driver.api.post(url, json=body, headers=cm)
            assert r.status_code == status and name in errors_of(r), (body, r.text)
            unchanged()
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        assert (await driver.api.post(url, json={"loanIds": [two], "staffId": target}, headers=cxh)).status_code == 403
        unchanged()

        r = await driver.api.post(url, json={"loanIds": [one, two], "staffId": target, "reason": "area"}, headers=cm)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["staffId"] == target and body["role"] == "COLLECTION_EXECUTIVE"
        assert {m["loanId"]: m["previousStaffId"] for m in body["allocated"]} == {
            one: staff_of(brand, "COLLECTION_EXECUTIVE"),
            two: None,
        }
        for loan_id in (one, two):
            assert loan_row(db, loan_id).collector_id == target
            current = [a for a in allocations(db, loan_id) if a.ended_at is None]
            assert [(a.staff_id, a.allocated_by, a.reason) for a in current] == [
                (target, staff_of(brand, "COLLECTION_MANAGER"), "area")
            ]
        with db.unit_of_work() as s:
            audits = s.scalars(select(AuditLog).where(AuditLog.action == "loan.collection_allocate")).all()
            assert sorted(a.entity_id for a in audits if a.brand_id == b) == sorted([one, two])
            assert (
                s.scalar(
                    select(func.count()).select_from(StaffNotification).where(StaffNotification.staff_id == target)
                )
                == 2
            )
        # the day-end keeps a manual move while the bucket stays; a new bucket allocates afresh
        assert await review(db, two, b, 41, "31-60", today()) == target
        assert await review(db, two, b, 61, "61-90", today()) == staff_of(brand, "COLLECTION_MANAGER")

        # another brand's manager cannot move our loans, through our brand or theirs
        ocm = await other.staff_headers("COLLECTION_MANAGER")
        assert (await driver.api.post(url, json={"loanIds": [one], "staffId": target}, headers=ocm)).status_code == 404
        their_url = f"/api/v1/partner/brand/{other_seed['brand_id']}/collection/allocate"
        r = await driver.api.post(their_url, json={"loanIds": [one], "staffId": target}, headers=ocm)
        assert r.status_code in (404, 422), r.text
        assert loan_row(db, one).collector_id == target
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- collector profile
async def test_a_collectors_profile_is_read_and_set_by_a_manager(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, _ = await other_brand(app, sandbox, db)
    b = brand["brand_id"]
    cx = staff_of(brand, "COLLECTION_EXECUTIVE")
    url = f"/api/v1/partner/brand/{b}/collection/collectors/{cx}/profile"
    try:
        cm = await driver.staff_headers("COLLECTION_MANAGER")
        got = (await driver.api.get(url, headers=cm)).json()
        assert got["rating"] == "3.00" and got["pincodes"] == [] and got["updatedAt"] is None
        body = {"rating": "4.5", "pincodes": ["560001", "560002", "560001"], "capacity": 40}
        r = await driver.api.put(url, json=body, headers=cm)
        assert r.status_code == 200, r.text
        assert r.json()["rating"] == "4.50" and r.json()["pincodes"] == ["560001", "560002"]
        r = await driver.api.put(url, json={"ratingCriteria": {"recovery": "4", "conduct": 5}}, headers=cm)
        assert r.json()["rating"] == "4.50" and r.json()["ratingCriteria"] == {"recovery": "4", "conduct": "5"}
        assert r.json()["capacity"] == 40  # left out: kept
        for bad, name in (
            ({"rating": "5.5"}, "rating"),
            ({"rating": 4.5}, "rating"),
            ({"pincodes": ["12345"]}, "pincodes"),
            ({"capacity": 0}, "capacity"),
            ({"rank": 1}, "rank"),
        ):
            r = await driver.api.put(url, json=bad, headers=cm)
            assert r.status_code == 422 and name in errors_of(r), (bad, r.text)
        with db.unit_of_work() as s:
            row = s.scalars(select(CollectorProfile).where(CollectorProfile.staff_id == cx)).one()
            assert str(row.rating) == "4.50" and row.pincodes == ["560001", "560002"]
        ce = staff_of(brand, "CREDIT_EXECUTIVE")
        not_collector = f"/api/v1/partner/brand/{b}/collection/collectors/{ce}/profile"
        assert (await driver.api.get(not_collector, headers=cm)).status_code == 404
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        assert (await driver.api.put(url, json={"rating": "5"}, headers=cxh)).status_code == 403
        ocm = await other.staff_headers("COLLECTION_MANAGER")
        assert (await driver.api.get(url, headers=ocm)).status_code == 404
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- follow-ups and promises
async def test_follow_ups_and_a_promise_kept_by_a_payment_then_one_broken_at_the_day_end(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, _ = await other_brand(app, sandbox, db)
    b = brand["brand_id"]
    try:
        _, loan_id = await disbursed_loan(driver)
        url = f"/api/v1/partner/brand/{b}/collection/{loan_id}"
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        d0, d3 = today(), today() + timedelta(days=3)
        first = await driver.api.post(
            f"{url}/follow-ups",
            json={
                "disposition": "PROMISE_TO_PAY",
                "ptpDate": d0.isoformat(),
                "ptpAmount": 5_000_00,
                "remarks": "salary",
            },
            headers=cxh,
        )
        assert first.status_code == 201, first.text
        assert first.json()["ptpStatus"] == "PENDING" and first.json()["staffId"] == staff_of(
            brand, "COLLECTION_EXECUTIVE"
        )
        later = {"disposition": "PROMISE_TO_PAY", "ptpDate": d3.isoformat(), "ptpAmount": 1_000_00}
        assert (await driver.api.post(f"{url}/follow-ups", json=later, headers=cxh)).status_code == 201
        callback = {"disposition": "CALLBACK", "nextActionOn": d3.isoformat(), "remarks": "call after 6 pm"}
        assert (await driver.api.post(f"{url}/follow-ups", json=callback, headers=cxh)).status_code == 201
        for bad, name in (
            (
                {"disposition": "PROMISE_TO_PAY", "ptpDate": (d0 - timedelta(days=1)).isoformat(), "ptpAmount": 100},
                "ptpDate",
            ),
            ({"disposition": "PROMISE_TO_PAY", "ptpDate": d0.isoformat(), "ptpAmount": 0}, "ptpAmount"),
            ({"disposition": "PROMISE_TO_PAY", "ptpDate": d0.isoformat(), "ptpAmount": 10.5}, "ptpAmount"),
            ({"disposition": "PROMISE_TO_PAY", "ptpDate": d0.isoformat(), "ptpAmount": 999999999999}, "ptpAmount"),
            ({"disposition": "PROMISE_TO_PAY", "ptpDate": "2099-12-31", "ptpAmount": 100}, "ptpDate"),
            ({"disposition": "CALLBACK"}, "nextActionOn"),
            ({"disposition": "REFUSED_TO_PAY", "ptpAmount": 100}, "ptpAmount"),
            ({"disposition": "ABSCONDED"}, "disposition"),
            ({"disposition": "DISPUTE", "callId": str(uuid.uuid4())}, "callId"),
        ):
            r = await driver.api.post(f"{url}/follow-ups", json=bad, headers=cxh)
            assert r.status_code == 422 and name in errors_of(r), (bad, r.text)
        listed = (await driver.api.get(f"{url}/follow-ups", headers=cxh, params={"limit": 2})).json()
        assert listed["total"] == 3 and [f["disposition"] for f in listed["items"]] == ["CALLBACK", "PROMISE_TO_PAY"]

        # a payment arrives (offline, approved; applied by the loan's workflow): it keeps the older promise
        await credited_offline(driver, loan_id, amount="5000.00")
        promised = (await driver.api.get(f"{url}/promises", headers=cxh)).json()
        by_date = {p["ptpDate"]: p for p in promised["items"]}
        assert by_date[d0.isoformat()]["ptpStatus"] == "KEPT" and by_date[d0.isoformat()]["ptpPaidPaise"] == 5_000_00
        assert by_date[d3.isoformat()]["ptpStatus"] == "PENDING" and by_date[d3.isoformat()]["ptpPaidPaise"] == 0
        assert (promised["pending"], promised["kept"], promised["broken"]) == (1, 1, 0)

        # the day-end after the later promise's date breaks it
        await review(db, loan_id, b, 0, None, d3 + timedelta(days=1))
        promised = (await driver.api.get(f"{url}/promises", headers=cxh)).json()
        assert (promised["pending"], promised["kept"], promised["broken"]) == (0, 1, 1)

        # allocated to someone else, the executive may no longer work it; another brand never could
        someone = add_collector(db, b)
        cm = await driver.staff_headers("COLLECTION_MANAGER")
        moved = await driver.api.post(
            f"/api/v1/partner/brand/{b}/collection/allocate",
            json={"loanIds": [loan_id], "staffId": someone},
            headers=cm,
        )
        assert moved.status_code == 200, moved.text
        r = await driver.api.post(f"{url}/follow-ups", json={"disposition": "DISPUTE"}, headers=cxh)
        assert r.status_code == 403
        assert (
            await driver.api.post(f"{url}/follow-ups", json={"disposition": "DISPUTE"}, headers=cm)
        ).status_code == 201
        ocm = await other.staff_headers("COLLECTION_MANAGER")
        for path in ("follow-ups", "promises", "field-visits"):
            assert (await driver.api.get(f"{url}/{path}", headers=ocm)).status_code == 404
        with db.unit_of_work() as s:
            assert (
                s.scalar(
                    select(func.count()).select_from(CollectionFollowUp).where(CollectionFollowUp.loan_id == loan_id)
                )
                == 4
            )
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- field visits
async def test_a_field_visit_with_its_place_and_photo(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    loan_id = seed_loan(db, b, dpd=12, overdue=8_000_00, bucket="1-30")
    url = f"/api/v1/partner/brand/{b}/collection/{loan_id}/field-visits"
    visited = datetime.now(IST).replace(microsecond=0) - timedelta(hours=1)
    fields = {
        "latitude": "12.971599",
        "longitude": "77.594566",
        "visitedAt": visited.isoformat(),
        "address": "4th Cross, Indiranagar",
        "disposition": "NOT_CONTACTABLE",
        "remarks": "house locked",
    }
    try:
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        refusals = (
            ({**fields, "latitude": "91"}, {"photo": ("door.png", PNG, "image/png")}, "latitude"),
            ({**fields, "longitude": "east"}, {"photo": ("door.png", PNG, "image/png")}, "longitude"),
            ({**fields, "visitedAt": (datetime.now(IST) + timedelta(hours=2)).isoformat()},
             {"photo": ("door.png", PNG, "image/png")}, "visitedAt"),
            ({**fields, "disposition": "GONE"}, {"photo": ("door.png", PNG, "image/png")}, "disposition"),
            (fields, {"photo": ("door.pdf", b"%PDF-1.4 not an image", "application/pdf")}, "photo"),
            (fields, {"photo": ("door.png", b"\xff\xd8\xff" + PNG, "image/png")}, "photo"),  # a JPEG called PNG
            (fields, None, "photo"),
        )  # fmt: skip
        for data, files, name in refusals:
            # without a photo: the fields alone, still as multipart (parts with no file name)
            parts = files or [(k, (None, v)) for k, v in data.items()]
            r = await driver.api.post(url, data=data if files else None, files=parts, headers=cxh)
            assert r.status_code == 422 and name in errors_of(r), (name, r.text)
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(FieldVisit).where(FieldVisit.loan_id == loan_id)) == 0

        r = await driver.api.post(url, data=fields, files={"photo": ("door.png", PNG, "image/png")}, headers=cxh)
        assert r.status_code == 201, r.text
        visit = r.json()
        assert visit["latitude"] == "12.971599" and visit["disposition"] == "NOT_CONTACTABLE"
        assert datetime.fromisoformat(visit["visitedAt"]) == visited and visit["photoContentType"] == "image/png"
        listed = (await driver.api.get(url, headers=cxh)).json()["items"]
        assert [v["id"] for v in listed] == [visit["id"]]
        photo = await driver.api.get(visit["photoUrl"], headers=cxh)
        assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
        with db.unit_of_work() as s:
            row = s.get_one(FieldVisit, visit["id"])
            assert row.photo_key.startswith(f"field-visits/{b}/{loan_id}/") and len(row.photo_sha256) == 64
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------------- payment link
def _link_messages(session: Any, loan_id: str) -> list[CustomerMessage]:
    """The loan's logged COLLECTION_PAYMENT_LINK messages (a row per channel and send key)."""
    return list(
        session.scalars(
            select(CustomerMessage).where(
                CustomerMessage.loan_id == loan_id, CustomerMessage.event == "COLLECTION_PAYMENT_LINK"
            )
        ).all()
    )


async def _texts(sandbox: Any, phone: str) -> list[str]:
    """The SMS texts the sandbox's Gupshup took for ``phone``."""
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
        return [m["text"] for m in (await sbx.get("/gupshup/messages", params={"to": phone})).json()]


async def test_the_collector_sends_a_payment_link_for_the_overdue_amount(app, brand, sandbox, db, monkeypatch) -> None:  # noqa: ANN001,E501
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    loan_id = seed_loan(db, b, dpd=12, overdue=8_250_00, bucket="1-30")
    current = seed_loan(db, b, status="DISBURSED", due_in_days=5)
    try:
        cxh = await driver.staff_headers("COLLECTION_EXECUTIVE")
        url = f"/api/v1/partner/brand/{b}/collection/{loan_id}/payment-link"
        # RBI's contact hours: at 19:30 IST nothing is made or sent, and the refusal says when the window opens
        monkeypatch.setattr(collection_links, "_now", lambda: datetime(2026, 12, 7, 14, 0, tzinfo=UTC))
        r = await driver.api.post(url, headers=cxh)
        assert r.status_code == 409 and "loanId" in errors_of(r) and "next from 08 Dec 2026 08:00 IST" in r.text, r.text
        with db.unit_of_work() as s:
            assert s.scalars(select(PaymentLink).where(PaymentLink.loan_id == loan_id)).all() == []
        monkeypatch.setattr(collection_links, "_now", lambda: datetime(2026, 12, 7, 6, 30, tzinfo=UTC))  # 12:00 IST
        r = await driver.api.post(url, headers=cxh)
        assert r.status_code == 200, r.text
        link = r.json()
        assert link["amountPaise"] == 8_250_00 and link["purpose"] == "OVERDUE" and link["dpd"] == 12
        assert link["sent"].get("sms") == "SENT", link
        with db.unit_of_work() as s:
            phone = s.get_one(Customer, s.get_one(Loan, loan_id).customer_id).phone
            row = s.scalars(select(PaymentLink).where(PaymentLink.loan_id == loan_id)).one()
            assert (row.purpose, row.amount, row.installment_no, row.url) == ("OVERDUE", 8_250_00, 0, link["url"])
            logged = s.scalars(
                select(CustomerMessage).where(
                    CustomerMessage.loan_id == loan_id, CustomerMessage.event == "COLLECTION_PAYMENT_LINK"
                )
            ).all()
            assert {m.kind for m in logged} >= {"sms"}
        async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
            texts = [m["text"] for m in (await sbx.get("/gupshup/messages", params={"to": phone})).json()]
        assert any(link["url"] in t and "12 days overdue" in t for t in texts), texts
        # asked again the same day: the same link, not sent again (one SMS, one message row per channel)
        again = await driver.api.post(url, headers=cxh)
        assert again.status_code == 200 and again.json()["url"] == link["url"]
        assert again.json()["sent"].get("sms") in ("SENT", "DELIVERED"), again.json()
        after = await _texts(sandbox, phone)
        assert sum(link["url"] in t for t in after) == sum(link["url"] in t for t in texts) == 1, after
        with db.unit_of_work() as s:
            rows = _link_messages(s, loan_id)
            assert sorted(m.kind for m in rows) == sorted(m.kind for m in logged)
            # the SMS failed (a vendor down): asked again, it is sent again, once
            for m in rows:
                if m.kind == "sms":
                    m.status = "FAILED"
        resent = await driver.api.post(url, headers=cxh)
        assert resent.status_code == 200 and resent.json()["sent"].get("sms") == "SENT", resent.text
        again = await driver.api.post(url, headers=cxh)
        assert again.status_code == 200 and again.json()["url"] == link["url"]
        after = await _texts(sandbox, phone)
        assert sum(link["url"] in t for t in after) == 2, after
        with db.unit_of_work() as s:
            rows = _link_messages(s, loan_id)
            # the same rows: only the failed channel was sent again, the others not
            assert sorted(m.kind for m in rows) == sorted(m.kind for m in logged)
            assert all(m.status != "FAILED" for m in rows)
            assert all(len(m.attempts) == 1 for m in rows if m.kind != "sms"), [(m.kind, m.attempts) for m in rows]
        # nothing overdue: nothing to send
        r = await driver.api.post(f"/api/v1/partner/brand/{b}/collection/{current}/payment-link", headers=cxh)
        assert r.status_code == 409 and "loanId" in errors_of(r)
    finally:
        await driver.close()
