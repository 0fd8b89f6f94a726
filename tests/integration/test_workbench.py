"""The staff workbench through the real API, workflow and database: CAM calculator, loan comments and the staff
member's notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from db.models import AuditLog, Brand, CamRecord, Loan, LoanComment, StaffNotification
from domain import cam
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually

CAM_BODY = {
    "salaryCreditDate1": "2026-01-31",
    "salaryAmount1": 50_000_00,
    "salaryCreditDate2": "2026-02-28",
    "salaryAmount2": 52_000_00,
    "salaryCreditDate3": "2026-03-31",
    "salaryAmount3": 51_000_00,
    "obligations": 10_000_00,
    "eligibleFoir": "50",
    "roundEligibleTo": 100,
    "recommendMultiple": 1_000_00,
}


def _expected(loan: dict, **overrides: object) -> cam.CamInput:
    """CAM_BODY as domain input, with the loan's amount, rate and tenure (the route's defaults)."""
    base: dict[str, object] = dict(
        salary_credits=(
            cam.SalaryCredit(50_000_00, date(2026, 1, 31)),
            cam.SalaryCredit(52_000_00, date(2026, 2, 28)),
            cam.SalaryCredit(51_000_00, date(2026, 3, 31)),
        ),
        obligations=10_000_00,
        eligible_foir=Decimal("50"),
        loan_applied=loan["amountPaise"],
        roi=Decimal(loan["annualRateBps"]) / 100,
        tenure_months=loan["tenure"],
        round_eligible_to=100,
        recommend_multiple=1_000_00,
    )
    base.update(overrides)
    return cam.CamInput(**base)  # type: ignore[arg-type]


async def _apply(driver: Driver, index: int = 0) -> tuple[dict, dict]:
    phone, pan = demo_identity(index, "review")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "25000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
        )
    )
    return headers, loan


async def _under_review(driver: Driver, index: int = 0) -> dict:
    headers, loan = await _apply(driver, index)

    async def check():  # noqa: ANN202
        detail = await driver.loan(headers, loan["id"])
        return detail if detail["status"] == "UNDER_REVIEW" else None

    return await eventually(check)


def _staff_id(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def _audits(db, loan_id: str, action: str) -> list[AuditLog]:  # noqa: ANN001
    with db.unit_of_work() as s:
        return list(
            s.scalars(
                select(AuditLog)
                .where(AuditLog.entity_id == loan_id, AuditLog.action == action)
                .order_by(AuditLog.created_at)
            )
        )


def _cam_row(db, loan_id: str) -> tuple | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(select(CamRecord).where(CamRecord.loan_id == loan_id)).first()
        return None if row is None else (row.staff_id, row.inputs, row.result, row.updated_at)


async def _other_brand(app, sandbox, db) -> tuple[Driver, dict]:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    return Driver(app.api.url, sandbox.url, other["brand_code"]), other


async def test_cam_save_get_list_delete_and_refusals(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, other_brand = await _other_brand(app, sandbox, db)
    base = f"/api/v1/partner/brand/{brand['brand_id']}"
    try:
        loan = await _under_review(driver)
        url = f"{base}/loans/{loan['id']}/cam"
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        assert (await driver.api.get(url, headers=ce)).status_code == 404  # nothing saved yet

        saved = await driver.api.post(url, json=CAM_BODY, headers=ce)
        assert saved.status_code == 200, saved.text
        body = saved.json()
        expected = cam.calculate_cam(_expected(loan))
        assert {k: body["result"][k] for k in expected.as_record()} == expected.as_record()
        assert body["result"]["repaymentData"]["proposedEmi"] == expected.proposed_emi
        assert body["result"]["withinPolicy"] is expected.within_policy
        assert body["inputs"]["loanApplied"] == loan["amountPaise"] and body["inputs"]["tenureMonths"] == 3
        assert body["staffId"] == _staff_id(brand, "CREDIT_EXECUTIVE")
        with db.unit_of_work() as s:
            record = s.scalars(select(CamRecord).where(CamRecord.loan_id == loan["id"])).one()
            assert record.customer_id == s.get_one(Loan, loan["id"]).customer_id
            assert record.brand_id == brand["brand_id"] and record.result == body["result"]

        # anyone who may view the loan reads it (a collection executive holds loans.view)
        got = await driver.api.get(url, headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))
        assert got.status_code == 200 and got.json()["result"] == body["result"]

        # saving again replaces it (one per loan), and records who saved it last
        sm = await driver.staff_headers("SANCTION_MANAGER")
        again = await driver.api.post(url, json={**CAM_BODY, "loanRecommended": 20_000_00, "roi": "18"}, headers=sm)
        assert again.status_code == 200, again.text
        override = cam.calculate_cam(_expected(loan, loan_recommended=20_000_00, roi=Decimal("18")))
        assert again.json()["result"]["loanRecommended"] == 20_000_00 == override.loan_recommended
        assert again.json()["result"]["proposedFoir"] == str(override.proposed_foir)
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(CamRecord).where(CamRecord.loan_id == loan["id"])) == 1
        saves = _audits(db, loan["id"], "loan.cam.save")
        assert [a.actor_role for a in saves] == ["CREDIT_EXECUTIVE", "SANCTION_MANAGER"]
        assert saves[0].before is None and saves[1].before["result"] == body["result"]
        assert saves[1].after["result"] == again.json()["result"] and saves[1].method == "POST"

        # bad input: 422 naming the field, nothing stored, nothing audited
        stored = _cam_row(db, loan["id"])
        for bad, field in (
            ({"salaryAmount1": 0}, "salaryAmount1"),
            ({"salaryCreditDate2": None, "salaryAmount2": None}, "salaryAmount2"),  # the 1st and 3rd, no 2nd
            ({"salaryAmount2": None}, "salaryAmount2"),  # a date without its amount
            ({"salaryAmount1": 500.5}, "salaryAmount1"),
            ({"eligibleFoir": "fifty"}, "eligibleFoir"),
            ({"eligibleFoir": "0"}, "eligibleFoir"),
            ({"roi": "-1"}, "roi"),
            ({"obligations": -1}, "obligations"),
            ({"tenureMonths": 0}, "tenureMonths"),
            ({"loanRecommended": loan["amountPaise"] + 1}, "loanRecommended"),
            ({"recommendMultiple": 0}, "recommendMultiple"),
            ({"roundEligibleTo": 0}, "roundEligibleTo"),
            ({"actualSalary": 0}, "actualSalary"),
            ({"surprise": 1}, "surprise"),
        ):
            resp = await driver.api.post(url, json={**CAM_BODY, **bad}, headers=ce)
            assert resp.status_code == 422, (bad, resp.text)
            assert resp.json()["errors"][0]["field"] == field, (bad, resp.text)
        no_credits = {k: v for k, v in CAM_BODY.items() if not k.startswith("salary")}
        resp = await driver.api.post(url, json=no_credits, headers=ce)
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "salaryAmount1"
        # a role without cam.manage → 403; another brand → 404; no token → 401
        assert (
            await driver.api.post(url, json=CAM_BODY, headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))
        ).status_code == 403
        other_ce = await other.staff_headers("CREDIT_EXECUTIVE")
        assert (await driver.api.post(url, json=CAM_BODY, headers=other_ce)).status_code == 404
        elsewhere = f"/api/v1/partner/brand/{other_brand['brand_id']}/loans/{loan['id']}/cam"
        for method in ("get", "post", "delete"):
            kwargs = {"json": CAM_BODY} if method == "post" else {}
            resp = await getattr(driver.api, method)(elsewhere, headers=other_ce, **kwargs)
            assert resp.status_code == 404, (method, resp.text)
        assert (await driver.api.post(url, json=CAM_BODY)).status_code == 401
        assert _cam_row(db, loan["id"]) == stored
        assert len(_audits(db, loan["id"], "loan.cam.save")) == 2

        # the list: by who saved it, by customer
        listed = await driver.api.get(
            f"{base}/cam", params={"staffId": _staff_id(brand, "SANCTION_MANAGER")}, headers=ce
        )
        assert listed.status_code == 200 and [i["loanId"] for i in listed.json()["items"]] == [loan["id"]]
        assert listed.json()["total"] == 1
        mine = await driver.api.get(f"{base}/cam", params={"staffId": _staff_id(brand, "CREDIT_EXECUTIVE")}, headers=ce)
        assert mine.json()["items"] == [] and mine.json()["total"] == 0
        by_customer = await driver.api.get(f"{base}/cam", params={"customerId": body["customerId"]}, headers=ce)
        assert by_customer.json()["total"] == 1
        assert (await driver.api.get(f"{base}/cam", params={"staffId": "x"}, headers=ce)).status_code == 422
        assert (await other.api.get(f"/api/v1/partner/brand/{other_brand['brand_id']}/cam", headers=other_ce)).json()[
            "total"
        ] == 0

        # delete, then it is gone
        assert (
            await driver.api.delete(url, headers=await driver.staff_headers("COLLECTION_EXECUTIVE"))
        ).status_code == 403
        assert (await driver.api.delete(url, headers=ce)).status_code == 204
        assert _cam_row(db, loan["id"]) is None
        assert (await driver.api.get(url, headers=ce)).status_code == 404
        assert (await driver.api.delete(url, headers=ce)).status_code == 404
        deleted = _audits(db, loan["id"], "loan.cam.delete")
        assert len(deleted) == 1 and deleted[0].before["result"] == again.json()["result"] and deleted[0].after is None

        # once the loan leaves review the CAM is frozen: saving or deleting → 409, nothing changes
        assert (await driver.api.post(url, json=CAM_BODY, headers=ce)).status_code == 200
        stored = _cam_row(db, loan["id"])
        await driver.sanction_via_hierarchy(loan["id"])
        resp = await driver.api.post(url, json=CAM_BODY, headers=ce)
        assert resp.status_code == 409, resp.text
        assert (await driver.api.delete(url, headers=ce)).status_code == 409
        assert _cam_row(db, loan["id"]) == stored
        assert (
            len(_audits(db, loan["id"], "loan.cam.save")) == 3 and len(_audits(db, loan["id"], "loan.cam.delete")) == 1
        )
    finally:
        await driver.close()
        await other.close()


async def test_cam_required_gates_forward_and_send_back_notifies(app, brand, sandbox, db) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.get_one(Brand, brand["brand_id"])
        row.config = {**row.config, "cam_required": True}
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    base = f"/api/v1/partner/brand/{brand['brand_id']}"
    ce_id = _staff_id(brand, "CREDIT_EXECUTIVE")
    try:
        loan = await _under_review(driver)
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        refused = await driver.api.post(f"{base}/loans/{loan['id']}/forward", json={}, headers=ce)
        assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "cam"
        with db.unit_of_work() as s:
            held = s.get_one(Loan, loan["id"])
            assert held.review_stage == "CREDIT_EXECUTIVE" and held.assigned_to == ce_id  # auto-allocated
        # the workflow told the credit executive: the loan was allocated to them, then moved to review
        listed = (await driver.api.get(f"{base}/notifications", headers=ce)).json()
        assert sorted((n["type"], n["metadata"]) for n in listed["items"]) == [
            ("NEW_ASSIGNMENT", {"loanId": loan["id"], "customerId": held.customer_id}),
            ("STATUS_CHANGE", {"loanId": loan["id"], "from": "APPLIED", "to": "UNDER_REVIEW"}),
        ]
        assert listed["unreadCount"] == 2

        saved = await driver.api.post(f"{base}/loans/{loan['id']}/cam", json=CAM_BODY, headers=ce)
        assert saved.status_code == 200, saved.text
        forwarded = await driver.staff_action("CREDIT_EXECUTIVE", loan["id"], "forward")
        assert forwarded["reviewStage"] == "SANCTION_MANAGER" and forwarded["assignedTo"] is None

        # the sanction manager sends it back: it returns to the credit executive who forwarded it, who is told
        back = await driver.api.post(
            f"{base}/loans/{loan['id']}/send-back",
            json={"reasonCode": "DOCS_MISSING", "reason": "payslip unreadable"},
            headers=await driver.staff_headers("SANCTION_MANAGER"),
        )
        assert back.status_code == 200, back.text
        assert back.json()["assignedTo"] == ce_id and back.json()["reviewStage"] == "CREDIT_EXECUTIVE"

        async def assignment():  # noqa: ANN202
            resp = await driver.api.get(f"{base}/notifications", headers=ce)
            assert resp.status_code == 200, resp.text
            return next(
                (
                    n
                    for n in resp.json()["items"]
                    if n["type"] == "NEW_ASSIGNMENT"
                    and n["metadata"] == {"loanId": loan["id"], "reviewStage": "CREDIT_EXECUTIVE"}
                ),
                None,
            )

        note = await eventually(assignment)
        assert not note["isRead"] and "payslip unreadable" in note["body"]
        with db.unit_of_work() as s:
            assert s.get_one(StaffNotification, note["id"]).staff_id == ce_id
    finally:
        await driver.close()


async def test_comments(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, other_brand = await _other_brand(app, sandbox, db)
    url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{{}}/comments"
    try:
        _, loan = await _apply(driver)
        comments = url.format(loan["id"])
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        collector = await driver.staff_headers("COLLECTION_EXECUTIVE")
        first = await driver.api.post(comments, json={"comment": "  salary slips look genuine  "}, headers=ce)
        assert first.status_code == 201, first.text
        assert first.json()["comment"] == "salary slips look genuine"
        assert first.json()["author"]["email"] == f"credit.executive@{brand['brand_code']}.example"
        second = await driver.api.post(comments, json={"comment": "called the employer"}, headers=collector)
        assert second.status_code == 201, second.text

        listed = await driver.api.get(comments, headers=await driver.staff_headers("SANCTION_HEAD"))
        assert listed.status_code == 200
        assert [c["comment"] for c in listed.json()] == ["called the employer", "salary slips look genuine"]
        assert listed.json()[0]["author"] == {
            "id": _staff_id(brand, "COLLECTION_EXECUTIVE"),
            "name": "Collection Executive",
            "email": f"collection.executive@{brand['brand_code']}.example",
        }
        added = _audits(db, loan["id"], "loan.comment.add")
        assert [a.after["comment"] for a in added] == ["salary slips look genuine", "called the employer"]
        assert added[0].after["commentId"] == first.json()["id"] and added[0].actor_role == "CREDIT_EXECUTIVE"

        # blank, too long, unknown fields → 422 naming the field; another brand → 404; nothing stored
        for bad in ({"comment": "   "}, {"comment": ""}, {"comment": "x" * 2001}, {}):
            resp = await driver.api.post(comments, json=bad, headers=ce)
            assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "comment", resp.text
        assert (await driver.api.post(comments, json={"comment": "x" * 2000}, headers=ce)).status_code == 201
        other_ce = await other.staff_headers("CREDIT_EXECUTIVE")
        assert (await driver.api.post(comments, json={"comment": "hi"}, headers=other_ce)).status_code == 404
        elsewhere = f"/api/v1/partner/brand/{other_brand['brand_id']}/loans/{loan['id']}/comments"
        assert (await driver.api.get(elsewhere, headers=other_ce)).status_code == 404
        assert (await driver.api.post(elsewhere, json={"comment": "hi"}, headers=other_ce)).status_code == 404
        assert (await driver.api.get(url.format(uuid.uuid4()), headers=ce)).status_code == 404
        with db.unit_of_work() as s:
            count = select(func.count()).select_from(LoanComment).where(LoanComment.loan_id == loan["id"])
            assert s.scalar(count) == 3
        assert len(_audits(db, loan["id"], "loan.comment.add")) == 3
    finally:
        await driver.close()
        await other.close()


async def test_notifications_list_read_dismiss(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other, other_brand = await _other_brand(app, sandbox, db)
    ce_id, sm_id = _staff_id(brand, "CREDIT_EXECUTIVE"), _staff_id(brand, "SANCTION_MANAGER")
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        mine = [
            StaffNotification(
                staff_id=ce_id,
                brand_id=brand["brand_id"],
                type="NEW_ASSIGNMENT",
                title=f"note {i}",
                meta={"n": i},
                created_at=now - timedelta(minutes=10 - i),
            )
            for i in range(3)
        ]
        theirs = StaffNotification(staff_id=sm_id, brand_id=brand["brand_id"], type="SYSTEM", title="not yours")
        elsewhere = StaffNotification(staff_id=ce_id, brand_id=other_brand["brand_id"], type="SYSTEM", title="other")
        s.add_all([*mine, theirs, elsewhere])
        s.flush()
        ids = [n.id for n in mine]
        theirs_id = theirs.id
    base = f"/api/v1/partner/brand/{brand['brand_id']}/notifications"
    try:
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        audits_before = _actor_audits(db, ce_id)
        listed = (await driver.api.get(base, headers=ce)).json()
        assert [n["id"] for n in listed["items"]] == ids[::-1]  # newest first, only mine, only this brand
        assert listed["total"] == 3 and listed["unreadCount"] == 3
        assert listed["items"][0] == {
            "id": ids[2],
            "type": "NEW_ASSIGNMENT",
            "title": "note 2",
            "body": "",
            "metadata": {"n": 2},
            "isRead": False,
            "createdAt": listed["items"][0]["createdAt"],
        }
        page = (await driver.api.get(base, params={"page": 2, "limit": 2}, headers=ce)).json()
        assert [n["id"] for n in page["items"]] == [ids[0]] and page["total"] == 3

        read = await driver.api.patch(f"{base}/{ids[1]}/read", headers=ce)
        assert read.status_code == 200 and read.json()["isRead"] is True
        unread = (await driver.api.get(base, params={"unread": "true"}, headers=ce)).json()
        assert [n["id"] for n in unread["items"]] == [ids[2], ids[0]]
        assert unread["unreadCount"] == 2 and unread["total"] == 2

        # someone else's notification, or an unknown id → 404, and it is left alone
        sm = await driver.staff_headers("SANCTION_MANAGER")
        for path in (f"{base}/{theirs_id}", f"{base}/{uuid.uuid4()}", f"{base}/nope"):
            assert (await driver.api.patch(f"{path}/read", headers=ce)).status_code == 404
            assert (await driver.api.delete(path, headers=ce)).status_code == 404
        assert (await driver.api.patch(f"{base}/{ids[0]}/read", headers=sm)).status_code == 404
        with db.unit_of_work() as s:
            row = s.get_one(StaffNotification, theirs_id)
            assert not row.is_read and row.dismissed_at is None
            assert not s.get_one(StaffNotification, ids[0]).is_read
        theirs_list = (await driver.api.get(base, headers=sm)).json()
        assert [n["title"] for n in theirs_list["items"]] == ["not yours"]

        everything = await driver.api.patch(f"{base}/read-all", headers=ce)
        assert everything.status_code == 200 and everything.json() == {"updated": 2}
        assert (await driver.api.get(base, headers=ce)).json()["unreadCount"] == 0
        with db.unit_of_work() as s:
            assert not s.get_one(StaffNotification, theirs_id).is_read  # read-all is the caller's only
            assert not s.scalars(select(StaffNotification).where(StaffNotification.title == "other")).one().is_read

        assert (await driver.api.delete(f"{base}/{ids[2]}", headers=ce)).status_code == 204
        after = (await driver.api.get(base, headers=ce)).json()
        assert [n["id"] for n in after["items"]] == [ids[1], ids[0]] and after["total"] == 2
        assert (await driver.api.delete(f"{base}/{ids[2]}", headers=ce)).status_code == 404
        assert (await driver.api.patch(f"{base}/{ids[2]}/read", headers=ce)).status_code == 404
        with db.unit_of_work() as s:
            assert s.get_one(StaffNotification, ids[2]).dismissed_at is not None

        # every staff role has a notification list; another brand's staff cannot see this brand's
        collector = await driver.staff_headers("COLLECTION_HEAD")
        assert (await driver.api.get(base, headers=collector)).json()["total"] == 0
        assert (await driver.api.get(base, headers=await other.staff_headers("CREDIT_EXECUTIVE"))).status_code == 404
        assert (await driver.api.get(base)).status_code == 401
        assert _actor_audits(db, ce_id) == audits_before  # reading one's own notifications is not audited
    finally:
        await driver.close()
        await other.close()


def _actor_audits(db, actor_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.actor_id == actor_id))
