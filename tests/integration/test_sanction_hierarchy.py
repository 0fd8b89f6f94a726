"""The sanction hierarchy through the real workflow: credit executive → sanction manager → sanction head,
send-back, rejection with the brand's reasons, maker-checker, and every refusal leaving nothing behind."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import func, select

from db.models import AuditLog, Loan, LoanStatusHistory, RevokedAccessToken, StaffUser
from los.demo import Driver
from los.seed import seed_brand, staff_email
from tests.conftest import record_histories
from tests.integration.test_staff_and_webhooks import _apply, _history_events, _status


def _rows(db, loan_id: str) -> tuple[int, int]:  # noqa: ANN001
    with db.unit_of_work() as s:
        history = s.scalar(
            select(func.count()).select_from(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan_id)
        )
        audits = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity_id == loan_id))
        return history, audits


def _loan(db, loan_id: str) -> Loan:  # noqa: ANN001
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, loan_id)
        s.expunge(loan)
        return loan


def _staff_id(db, brand_code: str, role: str) -> str:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalars(select(StaffUser.id).where(StaffUser.email == staff_email(role, brand_code))).one()


async def _post(driver: Driver, url: str, role: str, body: dict | None = None, headers: dict | None = None):  # noqa: ANN202
    return await driver.api.post(url, json=body or {}, headers=headers or await driver.staff_headers(role))


async def _queue(driver: Driver, brand_id: str, queue: str, role: str) -> list[str]:
    resp = await driver.api.get(
        f"/api/v1/partner/brand/{brand_id}/queues/{queue}", headers=await driver.staff_headers(role)
    )
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["items"]]


async def test_full_hierarchy_with_send_back(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        assert _loan(db, loan["id"]).review_stage == "CREDIT_EXECUTIVE"
        assert loan["id"] in await _queue(driver, brand["brand_id"], "credit-executive", "CREDIT_EXECUTIVE")
        assert loan["id"] not in await _queue(driver, brand["brand_id"], "sanction-manager", "SANCTION_MANAGER")

        review = (await driver.api.get(f"{url}/review", headers=await driver.staff_headers("CREDIT_EXECUTIVE"))).json()
        assert review["reviewStage"] == "CREDIT_EXECUTIVE" and review["bureau"]["score"] == 700
        assert {d["stage"] for d in review["decisions"]} >= {"BRE", "EVALUATION"}
        bre = next(d for d in review["decisions"] if d["stage"] == "BRE")
        assert any(r["rule"] == "MIN_BUREAU_SCORE" and r["passed"] for r in bre["details"])
        assert any(c["kind"] == "KYC_PAN" or c["kind"] == "PAN" for c in review["checks"])
        # an override needs a reason
        resp = await _post(driver, f"{url}/forward", "CREDIT_EXECUTIVE", {"scoreOverride": "72.5"})
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "reason"
        resp = await _post(
            driver, f"{url}/forward", "CREDIT_EXECUTIVE", {"scoreOverride": "72.5", "reason": "salary slips verified"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "loanId": loan["id"],
            "status": "UNDER_REVIEW",
            "reviewStage": "SANCTION_MANAGER",
            "assignedTo": None,
        }
        stored = _loan(db, loan["id"])
        assert str(stored.score_override) == "72.50" and stored.score_override_reason == "salary slips verified"
        assert loan["id"] in await _queue(driver, brand["brand_id"], "sanction-manager", "SANCTION_MANAGER")
        assert loan["id"] in await _queue(driver, brand["brand_id"], "unallocated", "SANCTION_MANAGER")

        # send back needs one of the brand's reasons; an unknown code is refused before the workflow
        resp = await _post(driver, f"{url}/send-back", "SANCTION_MANAGER", {"reasonCode": "NOPE"})
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "reasonCode"
        resp = await _post(
            driver, f"{url}/send-back", "SANCTION_MANAGER", {"reasonCode": "DOCS_MISSING", "reason": "payslip blurry"}
        )
        assert resp.status_code == 200 and resp.json()["reviewStage"] == "CREDIT_EXECUTIVE"
        credit_exec = _staff_id(db, brand["brand_code"], "CREDIT_EXECUTIVE")
        assert resp.json()["assignedTo"] == credit_exec  # back to the credit executive who forwarded it

        # the same credit executive acts again at their own stage (not a second stage: allowed)
        assert (await _post(driver, f"{url}/forward", "CREDIT_EXECUTIVE", {"reason": "new payslip"})).status_code == 200
        resp = await _post(
            driver, f"{url}/approve", "SANCTION_MANAGER", {"conditions": "NACH mandate before disbursal"}
        )
        assert resp.status_code == 200 and resp.json()["reviewStage"] == "SANCTION_HEAD"
        assert loan["id"] in await _queue(driver, brand["brand_id"], "sanction-head", "SANCTION_HEAD")
        listed = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans",
            params={"status": "UNDER_REVIEW", "reviewStage": "SANCTION_HEAD", "search": loan["id"]},
            headers=await driver.staff_headers("ADMIN"),
        )
        assert listed.status_code == 200 and [i["id"] for i in listed.json()["items"]] == [loan["id"]]
        bad = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans",
            params={"status": "NOPE"},
            headers=await driver.staff_headers("ADMIN"),
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
        resp = await _post(driver, f"{url}/sanction", "SANCTION_HEAD", {"reason": "ok"})
        assert resp.status_code == 200 and resp.json()["status"] != "UNDER_REVIEW"
        stored = _loan(db, loan["id"])
        assert stored.review_stage is None and stored.sanction_conditions == "NACH mandate before disbursal"

        with db.unit_of_work() as s:
            history = s.scalars(
                select(LoanStatusHistory)
                .where(LoanStatusHistory.loan_id == loan["id"], LoanStatusHistory.action.is_not(None))
                .order_by(LoanStatusHistory.seq)
            ).all()
            assert [(h.action, h.to_status) for h in history] == [
                ("FORWARD", "UNDER_REVIEW"),
                ("SEND_BACK", "UNDER_REVIEW"),
                ("FORWARD", "UNDER_REVIEW"),
                ("APPROVE", "UNDER_REVIEW"),
                ("SANCTION", "SANCTIONED"),
            ]
            assert history[1].details == {
                "action": "SEND_BACK",
                "reasonCode": "DOCS_MISSING",
                "reason": "payslip blurry",
            }
            assert history[-1].actor == f"SANCTION_HEAD:{staff_email('SANCTION_HEAD', brand['brand_code'])}"
            audits = s.scalars(
                select(AuditLog).where(AuditLog.entity_id == loan["id"]).order_by(AuditLog.created_at)
            ).all()
            assert [a.action for a in audits] == [
                "loan.forward",
                "loan.send_back",
                "loan.forward",
                "loan.approve",
                "loan.sanction",
            ]
            assert audits[0].before["reviewStage"] == "CREDIT_EXECUTIVE"
            assert audits[0].after["reviewStage"] == "SANCTION_MANAGER"
            assert audits[0].after["scoreOverride"] == "72.50"
            assert audits[-1].after["status"] == "SANCTIONED" and audits[-1].brand_id == brand["brand_id"]
            assert audits[-1].actor_id == _staff_id(db, brand["brand_code"], "SANCTION_HEAD")

        detail = (await driver.api.get(url, headers=await driver.staff_headers("SANCTION_HEAD"))).json()
        assert detail["review"]["sanctionConditions"] == "NACH mandate before disbursal"
        assert [h.get("action") for h in detail["statusHistory"] if h.get("action")][-1] == "SANCTION"
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run
            await _status(driver, headers, loan["id"], "SANCTIONED")
            await driver.accept_kfs(headers, loan["id"])
            await _status(driver, headers, loan["id"], "AGREEMENT_PENDING")
            await record_histories(app.client, loan["workflowId"], "sanction_hierarchy")
    finally:
        await driver.close()


async def test_refusals_write_nothing(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other_code = f"o{uuid.uuid4().hex[:7]}"
    other_brand = seed_brand(db, sandbox.url, code=other_code)
    other = Driver(app.api.url, sandbox.url, other_code)
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        before_rows = _rows(db, loan["id"])
        before_events = await _history_events(app.client, loan["workflowId"])

        async def refused(path: str, role: str, status: int, body: dict | None = None, **kw) -> None:  # noqa: ANN003
            resp = await _post(driver, f"{url}/{path}", role, body, **kw)
            assert resp.status_code == status, (path, role, resp.status_code, resp.text)
            assert resp.json()["statusCode"] == status and resp.json()["message"]

        # wrong role, caught by the route's permission
        await refused("approve", "CREDIT_EXECUTIVE", 403)
        await refused("forward", "SANCTION_MANAGER", 403)
        await refused("forward", "COLLECTION_HEAD", 403)
        await refused("sanction", "ADMIN", 403)
        # right permission, wrong stage: the workflow's validator says 409
        await refused("sanction", "SANCTION_HEAD", 409)
        await refused("approve", "SANCTION_MANAGER", 409)
        await refused("reject", "SANCTION_MANAGER", 409, {"reasonCode": "POLICY_DECLINE"})
        # a rejection reason that is not for rejections
        await refused("reject", "SANCTION_MANAGER", 422, {"reasonCode": "CAM_INCOMPLETE"})
        await refused("reject", "SANCTION_MANAGER", 422, {})
        # another brand's staff: 404 through their brand or this one
        other_headers = await other.staff_headers("CREDIT_EXECUTIVE")
        await refused("forward", "CREDIT_EXECUTIVE", 404, headers=other_headers)
        resp = await driver.api.post(
            f"/api/v1/partner/brand/{other_brand['brand_id']}/loans/{loan['id']}/forward", headers=other_headers
        )
        assert resp.status_code == 404
        # expired, forged and revoked tokens: 401
        settings = app.settings
        ce_id = _staff_id(db, brand["brand_code"], "CREDIT_EXECUTIVE")
        claims = {
            "sub": ce_id,
            "typ": "staff",
            "brand": brand["brand_id"],
            "role": "CREDIT_EXECUTIVE",
            "brands": {brand["brand_id"]: "CREDIT_EXECUTIVE"},
            "exp": datetime.now(UTC) - timedelta(minutes=1),
            "jti": uuid.uuid4().hex,
        }
        expired = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
        await refused("forward", "CREDIT_EXECUTIVE", 401, headers={"Authorization": f"Bearer {expired}"})
        forged = jwt.encode({**claims, "exp": datetime.now(UTC) + timedelta(minutes=5)}, "not-the-secret")
        await refused("forward", "CREDIT_EXECUTIVE", 401, headers={"Authorization": f"Bearer {forged}"})
        revoked_jti = uuid.uuid4().hex
        revoked = jwt.encode(
            {**claims, "exp": datetime.now(UTC) + timedelta(minutes=5), "jti": revoked_jti},
            settings.jwt_secret.get_secret_value(),
            algorithm="HS256",
        )
        with db.unit_of_work() as s:
            s.add(RevokedAccessToken(jti=revoked_jti, expires_at=datetime.now(UTC) + timedelta(minutes=5)))
        await refused("forward", "CREDIT_EXECUTIVE", 401, headers={"Authorization": f"Bearer {revoked}"})
        await refused("forward", "CREDIT_EXECUTIVE", 401, headers={"X-Nothing": "1"})

        assert _rows(db, loan["id"]) == before_rows
        assert await _history_events(app.client, loan["workflowId"]) == before_events  # validators wrote nothing

        # maker-checker: a super admin may act at any stage, but not at two stages of one loan
        assert (await _post(driver, f"{url}/forward", "SUPER_ADMIN", {"reason": "checked"})).status_code == 200
        rows, events = _rows(db, loan["id"]), await _history_events(app.client, loan["workflowId"])
        resp = await _post(driver, f"{url}/approve", "SUPER_ADMIN")
        assert resp.status_code == 403 and "maker-checker" in resp.json()["message"]
        # the sanction head cannot take the sanction manager's step either (403 from the workflow)
        await refused("send-back", "SANCTION_HEAD", 403, {"reasonCode": "DOCS_MISSING"})
        assert _rows(db, loan["id"]) == rows
        assert await _history_events(app.client, loan["workflowId"]) == events

        # a real rejection, with the brand's reason
        resp = await _post(driver, f"{url}/approve", "SANCTION_MANAGER")
        assert resp.status_code == 200
        resp = await _post(
            driver, f"{url}/reject", "SANCTION_HEAD", {"reasonCode": "BUREAU_ADVERSE", "reason": "recent write-off"}
        )
        assert resp.status_code == 200 and resp.json()["status"] == "REJECTED", resp.text
        stored = _loan(db, loan["id"])
        assert stored.status_reason == "rejected: [BUREAU_ADVERSE] recent write-off" and stored.review_stage is None
        # and nothing more can happen
        await refused("sanction", "SANCTION_HEAD", 409)
    finally:
        await driver.close()
        await other.close()


async def test_manual_allocation_follows_the_stage(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/allocate"
        ce = _staff_id(db, brand["brand_code"], "CREDIT_EXECUTIVE")
        sm = _staff_id(db, brand["brand_code"], "SANCTION_MANAGER")
        initial = _loan(db, loan["id"]).assigned_to  # auto-allocated to a credit executive, if any
        # a sanction manager cannot hold a loan at the credit executive's stage
        resp = await _post(driver, url, "ADMIN", {"staffId": sm})
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "staffId"
        resp = await _post(driver, url, "ADMIN", {"staffId": str(uuid.uuid4())})
        assert resp.status_code == 422
        assert (await _post(driver, url, "CREDIT_EXECUTIVE", {"staffId": ce})).status_code == 403  # no LOANS_ALLOCATE
        assert _loan(db, loan["id"]).assigned_to == initial
        resp = await _post(driver, url, "ADMIN", {"staffId": None, "reason": "back to the pool"})
        assert resp.status_code == 200 and resp.json()["assignedTo"] is None
        assert loan["id"] in await _queue(driver, brand["brand_id"], "unallocated", "CREDIT_EXECUTIVE")
        resp = await _post(driver, url, "ADMIN", {"staffId": ce, "reason": "balancing load"})
        assert resp.status_code == 200 and resp.json()["assignedTo"] == ce
        mine = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/queues/credit-executive",
            params={"assignedTo": "me"},
            headers=await driver.staff_headers("CREDIT_EXECUTIVE"),
        )
        assert loan["id"] in [i["id"] for i in mine.json()["items"]]
        with db.unit_of_work() as s:
            rows = s.scalars(
                select(AuditLog)
                .where(AuditLog.entity_id == loan["id"], AuditLog.action == "loan.allocate")
                .order_by(AuditLog.created_at)
            ).all()
            assert [(r.before["assignedTo"], r.after["assignedTo"]) for r in rows] == [(initial, None), (None, ce)]
        # a holder whose role changes to one that does not act at the loan's stage lets go of it
        user_url = f"/api/v1/partner/brand/{brand['brand_id']}/user/{ce}/update"
        resp = await driver.api.put(
            user_url, json={"role": "LOAN_EXECUTIVE"}, headers=await driver.staff_headers("ADMIN")
        )
        assert resp.status_code == 200, resp.text
        assert _loan(db, loan["id"]).assigned_to is None
        with db.unit_of_work() as s:
            change = s.scalars(select(AuditLog).where(AuditLog.entity_id == ce, AuditLog.action == "user.update")).one()
            assert change.after["releasedLoans"] == [loan["id"]]
        bad = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/queues/credit-executive",
            params={"assignedTo": "someone"},
            headers=await driver.staff_headers("SANCTION_MANAGER"),
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "assignedTo"
        # the role comes from the database on every request: the former credit executive's token is now a
        # loan executive's, without the credit queue
        resp = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/queues/credit-executive",
            headers=await driver.staff_headers("CREDIT_EXECUTIVE"),
        )
        assert resp.status_code == 403
    finally:
        await driver.close()


async def test_two_managers_at_once_one_wins(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Two people approve the same loan at the same moment: the workflow takes them one at a time, the second
    finds the stage moved and is refused (409); the loan moves once."""
    import asyncio

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        assert (await _post(driver, f"{url}/forward", "CREDIT_EXECUTIVE")).status_code == 200
        manager, admin = await driver.staff_headers("SANCTION_MANAGER"), await driver.staff_headers("SUPER_ADMIN")
        first, second = await asyncio.gather(
            _post(driver, f"{url}/approve", "SANCTION_MANAGER", {"conditions": "a"}, headers=manager),
            _post(driver, f"{url}/approve", "SUPER_ADMIN", {"conditions": "b"}, headers=admin),
        )
        codes = sorted([first.status_code, second.status_code])
        assert codes == [200, 409], (first.text, second.text)
        with db.unit_of_work() as s:
            approvals = s.scalars(
                select(LoanStatusHistory).where(
                    LoanStatusHistory.loan_id == loan["id"], LoanStatusHistory.action == "APPROVE"
                )
            ).all()
        assert len(approvals) == 1 and _loan(db, loan["id"]).review_stage == "SANCTION_HEAD"
        winner = first if first.status_code == 200 else second
        assert winner.json()["reviewStage"] == "SANCTION_HEAD"
    finally:
        await driver.close()


async def test_send_back_to_someone_who_left_goes_to_the_pool(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        assert (await _post(driver, f"{url}/forward", "CREDIT_EXECUTIVE")).status_code == 200
        ce = _staff_id(db, brand["brand_code"], "CREDIT_EXECUTIVE")
        resp = await driver.api.put(
            f"/api/v1/partner/brand/{brand['brand_id']}/user/{ce}/update",
            json={"role": "LOAN_EXECUTIVE"},
            headers=await driver.staff_headers("ADMIN"),
        )
        assert resp.status_code == 200, resp.text
        resp = await _post(driver, f"{url}/send-back", "SANCTION_MANAGER", {"reasonCode": "CLARIFICATION"})
        assert resp.status_code == 200 and resp.json()["reviewStage"] == "CREDIT_EXECUTIVE"
        assert resp.json()["assignedTo"] is None  # not to the former credit executive: to the pool
        assert loan["id"] in await _queue(driver, brand["brand_id"], "unallocated", "SANCTION_MANAGER")
    finally:
        await driver.close()


async def test_who_sanctioned_cannot_release_the_money(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Maker-checker across the loan: a super admin who took part in the review cannot also approve the
    disbursal; loan ops (another person) can."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        assert (await _post(driver, f"{url}/forward", "SUPER_ADMIN", {"reason": "verified"})).status_code == 200
        assert (await _post(driver, f"{url}/approve", "SANCTION_MANAGER")).status_code == 200
        assert (await _post(driver, f"{url}/sanction", "SANCTION_HEAD")).status_code == 200
        await _status(driver, headers, loan["id"], "SANCTIONED")
        await driver.accept_kfs(headers, loan["id"])
        pending = await _status(driver, headers, loan["id"], "AGREEMENT_PENDING")
        signing_url = pending["agreement"]["signingUrl"]
        (await driver.sandbox.post(signing_url)).raise_for_status()
        await _status(driver, headers, loan["id"], "AGREEMENT_SIGNED")
        events = await _history_events(app.client, loan["workflowId"])
        resp = await _post(driver, f"{url}/approve-disbursal", "SUPER_ADMIN")
        assert resp.status_code == 403 and "maker-checker" in resp.json()["message"]
        assert await _history_events(app.client, loan["workflowId"]) == events
        resp = await _post(driver, f"{url}/approve-disbursal", "LOAN_EXECUTIVE")
        assert resp.status_code == 200, resp.text
    finally:
        await driver.close()
