"""Loan corrections, the reports bypass and the disbursed amount through the real API, database and loan workflow
(docs/operations.md, "Loan corrections").

A loan under manual review on a brand that requires the CAM: forwarding is refused until an admin bypasses the
requirement (audited), then a correction rejects it through the workflow's own ``reject`` update with the brand's
reasons. Refusals (a move the lifecycle or the workflow does not take, a wrong role, a reason that is not the
brand's) leave the loan and its history as they were. Loan ops' corrections on real loans: a hold resumed (the loan is
then disbursed) and a hold rejected, and an agreement waiting for the KFS cancelled. The sums are checked on loans
written straight to the tables.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import AuditLog, Brand, Loan, LoanProduct, LoanStatusHistory
from los.demo import Driver, random_account
from los.demo_scenarios import _account, _begin, _signed
from los.seed import seed_brand
from tests.integration.test_money_out_api import _history, _loan
from tests.integration.test_workbench import _under_review


def fields(r: Any) -> list[str]:
    return [e["field"] for e in r.json().get("errors", [])]


def history_rows(db, loan_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).where(LoanStatusHistory.loan_id == loan_id)) or 0


def audit_rows(db, loan_id: str, action: str) -> list[AuditLog]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(AuditLog).where(AuditLog.entity_id == loan_id, AuditLog.action == action)))
        s.expunge_all()
        return rows


async def test_bypass_then_reject_with_reasons_through_the_workflow(app, brand, sandbox, db) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.get_one(Brand, brand["brand_id"])
        row.config = {**row.config, "cam_required": True}
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    base = f"/api/v1/partner/brand/{brand['brand_id']}/loans"
    api = driver.api
    try:
        loan = (await _under_review(driver))["id"]
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        admin = await driver.staff_headers("ADMIN")
        sm = await driver.staff_headers("SANCTION_MANAGER")
        r = await api.post(f"{base}/{loan}/forward", json={}, headers=ce)
        assert r.status_code == 409 and fields(r) == ["cam"]

        # the bypass: admins only, with a reason; audited once
        url = f"{base}/{loan}/force-bypass-reports"
        assert (await api.post(url, json={"reason": "CAM tool down"}, headers=ce)).status_code == 403
        r = await api.post(url, json={"reason": "  "}, headers=admin)
        assert r.status_code == 422 and fields(r) == ["reason"]
        assert (await api.post(url, json={}, headers=admin)).status_code == 422
        for _ in range(2):
            r = await api.post(url, json={"reason": "CAM tool down"}, headers=admin)
            assert r.status_code == 200 and r.json()["reportsBypassed"] is True, r.text
        [row] = audit_rows(db, loan, "loan.reports.bypass")
        assert row.after == {"reportsBypassed": True, "reason": "CAM tool down"}
        r = await api.post(f"{base}/{loan}/forward", json={}, headers=ce)
        assert r.status_code == 200 and r.json()["reviewStage"] == "SANCTION_MANAGER", r.text

        # refusals: nothing moves, nothing is written
        rows = history_rows(db, loan)
        status = f"{base}/{loan}/status"
        r = await api.post(status, json={"status": "DISBURSED", "reason": "x"}, headers=sm)
        assert r.status_code == 409 and "UNDER_REVIEW" in r.json()["message"], r.text  # the lifecycle refuses
        r = await api.post(status, json={"status": "SANCTIONED", "reason": "x"}, headers=sm)
        assert r.status_code == 409 and "REJECTED" in r.json()["message"], r.text  # no such correction
        r = await api.post(status, json={"status": "REJECTED", "reason": "x"}, headers=sm)
        assert r.status_code == 422 and fields(r) == ["reasonCode"]
        r = await api.post(status, json={"status": "NOPE", "reason": "x"}, headers=sm)
        assert r.status_code == 422 and "status" in fields(r)
        reasons = f"{base}/{loan}/update-with-reasons"
        r = await api.post(
            reasons, json={"status": "REJECTED", "reasonCodes": ["POLICY_DECLINE", "CLARIFICATION"]}, headers=sm
        )
        assert r.status_code == 422 and fields(r) == ["reasonCodes.1"]  # a send-back reason, not a rejection's
        r = await api.post(reasons, json={"status": "REJECTED", "reasonCodes": []}, headers=sm)
        assert r.status_code == 422 and "reasonCodes" in fields(r)
        r = await api.post(reasons, json={"status": "REJECTED", "reasonCodes": ["POLICY_DECLINE"]}, headers=admin)
        assert r.status_code == 403, r.text  # the workflow's validator: admins do not decide credit
        collector = await driver.staff_headers("COLLECTION_EXECUTIVE")
        r = await api.post(reasons, json={"status": "REJECTED", "reasonCodes": ["POLICY_DECLINE"]}, headers=collector)
        assert r.status_code == 403
        assert history_rows(db, loan) == rows and audit_rows(db, loan, "loan.status.correct") == []

        # the correction: the workflow's reject update, with the brand's reasons
        body = {"status": "REJECTED", "reasonCodes": ["policy_decline", "DOCS_MISSING"], "remarks": "stale payslips"}
        r = await api.post(reasons, json=body, headers=sm)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["via"]) == ("REJECTED", "reject")
        with db.unit_of_work() as s:
            assert s.get_one(Loan, loan).status == "REJECTED"
            last = s.scalars(
                select(LoanStatusHistory)
                .where(LoanStatusHistory.loan_id == loan)
                .order_by(LoanStatusHistory.seq.desc())
            ).first()
            assert (last.to_status, last.action) == ("REJECTED", "REJECT")
            assert "POLICY_DECLINE" in str(last.details)
        [row] = audit_rows(db, loan, "loan.status.correct")
        assert row.before["status"] == "UNDER_REVIEW" and row.after["via"] == "reject"
        assert row.after["reason"] == "POLICY_DECLINE; DOCS_MISSING; stale payslips"
        r = await api.post(status, json={"status": "CANCELLED", "reason": "x"}, headers=sm)
        assert r.status_code == 409 and "terminal" in r.json()["message"]
    finally:
        await driver.close()


async def test_corrections_refused_before_the_workflow_and_the_disbursed_amount(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    base = f"/api/v1/partner/brand/{b}/loans"
    api = driver.api
    try:
        held, _ = _loan(db, b, "NEEDS_ATTENTION")
        _history(
            db,
            held,
            (None, "APPLIED", None, "applied", None),
            ("AGREEMENT_SIGNED", "NEEDS_ATTENTION", "HOLD", "disbursal: account closed", {"step": "disbursal"}),
        )
        foreign, _ = _loan(db, other["brand_id"], "NEEDS_ATTENTION")
        ops = await driver.staff_headers("LOAN_EXECUTIVE")
        r = await api.post(f"{base}/{held}/status", json={"status": "APPLIED", "reason": "retry"}, headers=ops)
        assert r.status_code == 409 and "AGREEMENT_SIGNED, REJECTED" in r.json()["message"], r.text
        r = await api.post(f"{base}/{foreign}/status", json={"status": "REJECTED", "reason": "x"}, headers=ops)
        assert r.status_code == 404
        r = await api.post(f"{base}/{held}/status", json={"status": "REJECTED", "reason": " "}, headers=ops)
        assert r.status_code == 422 and fields(r) == ["reason"]
        # this seeded loan has no workflow: the mapped update reaches none, and nothing is written
        r = await api.post(f"{base}/{held}/status", json={"status": "AGREEMENT_SIGNED", "reason": "fixed"}, headers=ops)
        assert r.status_code == 409, r.text
        assert audit_rows(db, held, "loan.status.correct") == []
        admin = await driver.staff_headers("ADMIN")
        r = await api.post(f"{base}/{held}/force-bypass-reports", json={"reason": "x"}, headers=admin)
        assert r.status_code == 409

        # the disbursed amount: IST dates of disbursed_at, both ends included; by product; paise
        with db.unit_of_work() as s:
            code = s.scalars(
                select(LoanProduct.code).where(LoanProduct.brand_id == b).order_by(LoanProduct.code)
            ).first()
        ist_day = datetime(2026, 3, 10, 18, 45, tzinfo=UTC)  # 11 March 00:15 IST
        _loan(db, b, "DISBURSED", disbursed_at=ist_day, net_disbursed=48_000_00)
        _loan(db, b, "COMPLETED", disbursed_at=ist_day - timedelta(days=1), net_disbursed=39_000_00)
        _loan(db, b, "DISBURSED", disbursed_at=ist_day + timedelta(days=30))
        _loan(db, other["brand_id"], "DISBURSED", disbursed_at=ist_day, net_disbursed=1_00)
        viewer = await driver.staff_headers("CREDIT_EXECUTIVE")

        async def total(**params: Any) -> dict:
            r = await api.get(f"{base}/disbursed-amount", headers=viewer, params=params)
            assert r.status_code == 200, r.text
            return r.json()

        got = await total(**{"from": "2026-03-11", "to": "2026-03-11"})
        assert (got["count"], got["netDisbursedPaise"], got["amountPaise"]) == (1, 48_000_00, 40_000_00)
        got = await total(**{"from": "2026-03-01", "to": "2026-03-31"}, productCode=code)
        assert (got["count"], got["netDisbursedPaise"]) == (2, 87_000_00)
        assert got["byProduct"] == [{"productCode": code, "count": 2, "netDisbursedPaise": 87_000_00}]
        got = await total()
        assert (got["count"], got["netDisbursedPaise"]) == (3, 127_000_00)  # no net recorded: its principal
        assert (await total(productCode="NONE"))["count"] == 0
        r = await api.get(f"{base}/disbursed-amount", headers=viewer, params={"from": "2026-04-01", "to": "2026-03-01"})
        assert r.status_code == 422 and fields(r) == ["from"]
        r = await api.get(f"{base}/disbursed-amount", headers=viewer, params={"to": "31-03-2026"})
        assert r.status_code == 422 and fields(r) == ["to"]
    finally:
        await driver.close()


async def _held(driver: Driver) -> tuple[dict[str, str], str, float]:
    """A signed loan whose penny drop before the transfer found another name: parked (NEEDS_ATTENTION) from
    AGREEMENT_SIGNED by its workflow. (the customer's headers, the loan id, the deadline)"""
    headers, j, _, deadline = await _begin(driver, random.randrange(10**6), random_account())
    await _signed(driver, headers, j, deadline)
    await driver.add_account(headers, _account("9999"), primary=True)  # the sandbox's bank holds another name
    await driver.staff_action("LOAN_EXECUTIVE", j.loan_id, "approve-disbursal")
    await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "NEEDS_ATTENTION", "the hold", deadline)
    return headers, j.loan_id, deadline


async def _awaiting_kfs(driver: Driver) -> tuple[dict[str, str], str, float]:
    """A loan sanctioned by the rules, its KFS not yet accepted (SANCTIONED)."""
    headers, j, _, deadline = await _begin(driver, random.randrange(10**6), random_account())
    await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "SANCTIONED", "the sanction", deadline)
    return headers, j.loan_id, deadline


def last_move(db, loan_id: str) -> LoanStatusHistory:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(
            select(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan_id).order_by(LoanStatusHistory.seq.desc())
        ).first()
        s.expunge(row)
        return row


async def test_corrections_resume_and_reject_a_hold_and_cancel_an_agreement(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The three corrections loan ops make through ``POST loans/{id}/status``, each the workflow's own update: a hold
    resumed to the status it was parked from (the step runs again: the loan is disbursed), a hold rejected, an
    agreement waiting for the KFS cancelled. Each moves the loan in the database through ``record_status``, with
    the staff member as the actor, and is audited once with the update used."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=120)
    base = f"/api/v1/partner/brand/{brand['brand_id']}/loans"
    api = driver.api
    try:
        ops = await driver.staff_headers("LOAN_EXECUTIVE")
        (resume_h, resumed, deadline), (_, rejected, _), (_, cancelled, _) = await asyncio.gather(
            _held(driver), _held(driver), _awaiting_kfs(driver)
        )
        collector = await driver.staff_headers("COLLECTION_EXECUTIVE")  # no correction for them: nothing moves
        r = await api.post(f"{base}/{rejected}/status", json={"status": "REJECTED", "reason": "x"}, headers=collector)
        assert r.status_code == 403 and audit_rows(db, rejected, "loan.status.correct") == []

        # a hold resumed: back to AGREEMENT_SIGNED, the disbursal step runs again and the transfer settles
        await driver.add_account(resume_h, random_account(), primary=True)  # the customer's own account again
        body = {"status": "AGREEMENT_SIGNED", "reason": "the customer corrected the account"}
        r = await api.post(f"{base}/{resumed}/status", json=body, headers=ops)
        assert r.status_code == 200, r.text
        assert r.json()["via"] == "resume_hold" and r.json()["status"] != "NEEDS_ATTENTION", r.json()
        with db.unit_of_work() as s:
            back = s.scalars(
                select(LoanStatusHistory)
                .where(LoanStatusHistory.loan_id == resumed, LoanStatusHistory.from_status == "NEEDS_ATTENTION")
                .order_by(LoanStatusHistory.seq)
            ).all()
            assert [(h.to_status, h.actor.split(":")[0]) for h in back] == [("AGREEMENT_SIGNED", "LOAN_EXECUTIVE")]
            assert back[0].reason == "the customer corrected the account"
        loan = await driver.wait_for(
            resume_h, resumed, lambda x: x["status"] in ("DISBURSED", "OVERDUE"), "the disbursal", deadline
        )
        assert loan["status"] == "DISBURSED"
        [row] = audit_rows(db, resumed, "loan.status.correct")
        assert row.before["status"] == "NEEDS_ATTENTION"
        assert (row.after["via"], row.after["requested"]) == ("resume_hold", "AGREEMENT_SIGNED")

        # a hold rejected
        r = await api.post(
            f"{base}/{rejected}/status", json={"status": "REJECTED", "reason": "account holder mismatch"}, headers=ops
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["via"]) == ("REJECTED", "reject_hold")
        move = last_move(db, rejected)
        assert (move.from_status, move.to_status, move.actor.split(":")[0]) == (
            "NEEDS_ATTENTION",
            "REJECTED",
            "LOAN_EXECUTIVE",
        )
        with db.unit_of_work() as s:
            assert s.get_one(Loan, rejected).status == "REJECTED"
        [row] = audit_rows(db, rejected, "loan.status.correct")
        assert (row.after["status"], row.after["via"], row.after["reason"]) == (
            "REJECTED",
            "reject_hold",
            "account holder mismatch",
        )

        # an agreement waiting for the KFS cancelled
        r = await api.post(
            f"{base}/{cancelled}/status", json={"status": "CANCELLED", "reason": "customer withdrew"}, headers=ops
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["via"]) == ("CANCELLED", "cancel_agreement")
        move = last_move(db, cancelled)
        assert (move.from_status, move.to_status) == ("SANCTIONED", "CANCELLED")
        with db.unit_of_work() as s:
            assert s.get_one(Loan, cancelled).status == "CANCELLED"
        [row] = audit_rows(db, cancelled, "loan.status.correct")
        assert row.before["status"] == "SANCTIONED" and row.after["via"] == "cancel_agreement"
        # a terminal loan takes no further correction
        r = await api.post(f"{base}/{cancelled}/status", json={"status": "REJECTED", "reason": "x"}, headers=ops)
        assert r.status_code == 409
    finally:
        await driver.close()
