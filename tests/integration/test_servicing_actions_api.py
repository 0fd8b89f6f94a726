"""The servicing decisions over HTTP on a real overdue loan (API, worker, PostgreSQL, Temporal, the sandbox): each
refusal is the status the docs promise — a role without the permission 403, the same person on both sides 403,
above the role's limit 403, a loan not yet at the write-off DPD 409, bad input 422 naming the field — and writes
nothing; then the decisions a lender takes in turn: a penal waiver within the limit, a settlement approved by a
second person, rejected, and a restructure approved by another."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import AuditLog, Restructure, Settlement, Waiver
from los.demo import Driver
from los.demo_collections import _begin, _overdue
from tests.integration.test_offline_payments import credited_offline


@pytest.fixture
def demo_brand(db, sandbox) -> dict:  # noqa: ANN001
    from los.seed import seed_brand

    code = f"s{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Servicing {code}", period_seconds=5)


async def _call(driver: Driver, role: str, method: str, path: str, body: Any = None) -> Any:
    headers = await driver.staff_headers(role)
    url = f"/api/v1/partner/brand/{driver._brand_id}{path}"
    return await driver.api.request(method, url, headers=headers, json=body)


def _count(db, model: Any, loan_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.loan_id == loan_id))


async def test_servicing_decisions_refuse_as_documented_and_write_nothing(app, demo_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, _, deadline = await _begin(driver, 1)
        await _overdue(driver, headers, j, deadline)
        loan = f"/collection/{j.loan_id}"
        outstanding = (await driver.partner("COLLECTION_MANAGER", "GET", f"/loans/{j.loan_id}/foreclosure-quote"))[
            "total"
        ]
        # a quote's date is YYYY-MM-DD text: a number (read as Unix seconds) or a date-time is refused, naming ``on``
        for on in ("1797724800", "2026-12-20T00:00:00Z"):
            resp = await _call(driver, "COLLECTION_MANAGER", "GET", f"/loans/{j.loan_id}/foreclosure-quote?on={on}")
            assert resp.status_code == 422 and "YYYY-MM-DD" in resp.text and '"on"' in resp.text, (on, resp.text)

        # a collection executive may not propose (no collections.manage): the guard's 403
        resp = await _call(driver, "COLLECTION_EXECUTIVE", "POST", f"{loan}/settlement", {"amount": 100, "reason": "x"})
        assert resp.status_code == 403, resp.text
        # bad input: the field named (pydantic), and the workflow's own check of the amount
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/settlement", {"amount": -1, "reason": "x"})
        assert resp.status_code == 422 and "amount" in resp.text, resp.text
        resp = await _call(
            driver, "COLLECTION_MANAGER", "POST", f"{loan}/settlement", {"amount": outstanding * 2, "reason": "x"}
        )
        assert resp.status_code == 422 and "outstanding" in resp.text, resp.text
        # refused inside the workflow, and still named field by field as the API's own checks are
        assert [e["field"] for e in resp.json()["errors"]] == ["amount"], resp.text
        assert resp.json()["message"].startswith("amount"), resp.text
        assert _count(db, Settlement, j.loan_id) == 0

        # the head proposes, and may not approve their own proposal (maker-checker)
        amount = outstanding // 2
        resp = await _call(
            driver, "COLLECTION_HEAD", "POST", f"{loan}/settlement", {"amount": amount, "reason": "hardship"}
        )
        assert resp.status_code == 201, resp.text
        sid = resp.json()["id"]
        resp = await _call(driver, "COLLECTION_HEAD", "POST", f"{loan}/settlement/approve", {})
        assert resp.status_code == 403 and "maker-checker" in resp.text, resp.text
        # a collection manager may not approve at all
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/settlement/approve", {})
        assert resp.status_code == 403, resp.text
        # a second proposal while one is open: 409
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/settlement", {"amount": 100, "reason": "x"})
        assert resp.status_code == 409, resp.text
        # a write-off before the brand's writeOffDpd (180): 409 naming it; not by a manager: 403
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/writeoff", {"reason": "gone"})
        assert resp.status_code == 403, resp.text
        resp = await _call(driver, "ADMIN", "POST", f"{loan}/writeoff", {"reason": "gone"})
        assert resp.status_code == 409 and "180" in resp.text, resp.text
        # rejecting needs a reason; the admin rejects it (a different person from the proposer)
        resp = await _call(driver, "ADMIN", "POST", f"{loan}/settlement/reject", {})
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"] == [{"field": "reason", "reason": "a rejection needs a reason"}], resp.text
        assert resp.json()["message"] == "reason: a rejection needs a reason", resp.text
        resp = await _call(driver, "ADMIN", "POST", f"{loan}/settlement/reject", {"reason": "too low"})
        assert resp.status_code == 200 and resp.json()["result"] == "REJECTED", resp.text
        (row,) = await driver.partner("COLLECTION_MANAGER", "GET", f"{loan}/settlements")
        assert (row["id"], row["status"], row["decidedBy"] is not None) == (sid, "REJECTED", True)
        assert (row["reason"], row["decisionReason"]) == ("hardship", "too low")  # the proposer's and the decider's

        # the head's settlement limit (brand settings) below the waiver: the head is refused, an admin approves
        admin = await driver.staff_headers("ADMIN")
        url = f"/api/v1/partner/brand/{driver._brand_id}/settings/brand"
        put = await driver.api.put(
            url, headers=admin, json={"collections": {"settlementLimits": {"COLLECTION_HEAD": 1}}}
        )
        assert put.status_code == 200, put.text
        resp = await _call(
            driver, "COLLECTION_MANAGER", "POST", f"{loan}/settlement", {"amount": amount, "reason": "y"}
        )
        assert resp.status_code == 201, resp.text
        resp = await _call(driver, "COLLECTION_HEAD", "POST", f"{loan}/settlement/approve", {})
        assert resp.status_code == 403 and "limit of ₹0.01 (1 paise)" in resp.text, resp.text
        resp = await _call(driver, "ADMIN", "POST", f"{loan}/settlement/approve", {"reason": "board approved"})
        assert resp.status_code == 200 and resp.json()["result"] == "APPROVED", resp.text
        rows = await driver.partner("COLLECTION_MANAGER", "GET", f"{loan}/settlements")
        assert [r["status"] for r in rows] == ["APPROVED", "REJECTED"]
        assert (rows[0]["decisionReason"], rows[0]["collected"]) == ("board approved", 0)
        # money credited after the approval counts towards it, and the open settlement says how much so far
        await credited_offline(driver, j.loan_id, amount="100.00")
        rows = await driver.partner("COLLECTION_MANAGER", "GET", f"{loan}/settlements")
        assert (rows[0]["status"], rows[0]["collected"]) == ("APPROVED", 100_00)
        with db.unit_of_work() as s:
            actions = set(s.scalars(select(AuditLog.action).where(AuditLog.entity_id == j.loan_id)))
        assert {"collection.propose_settlement", "collection.approve_settlement", "collection.reject_settlement"} <= (
            actions
        )
        assert _count(db, Waiver, j.loan_id) == 0 and _count(db, Restructure, j.loan_id) == 0
    finally:
        await driver.close()


async def test_a_restructure_needs_a_second_person_and_brings_the_loan_current(app, demo_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, _, deadline = await _begin(driver, 2)
        await _overdue(driver, headers, j, deadline)
        loan = f"/collection/{j.loan_id}"
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/restructure", {"reason": "salary cut"})
        assert resp.status_code == 422 and "(neither was given)" in resp.text, resp.text  # neither a count nor an EMI
        assert [e["field"] for e in resp.json()["errors"]] == ["installments"], resp.text
        both = {"installments": 6, "emi": 10_000_00, "reason": "salary cut"}
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/restructure", both)
        assert resp.status_code == 422 and "(not both)" in resp.text, resp.text
        resp = await _call(
            driver, "COLLECTION_MANAGER", "POST", f"{loan}/restructure", {"installments": 6, "reason": "salary cut"}
        )
        assert resp.status_code == 201, resp.text
        rid = resp.json()["id"]
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/restructure/approve", {})
        assert resp.status_code == 403, resp.text
        resp = await _call(driver, "COLLECTION_HEAD", "POST", f"{loan}/restructure/approve", {})
        assert resp.status_code == 200 and resp.json()["id"] == rid, resp.text
        (row,) = await driver.partner("COLLECTION_MANAGER", "GET", f"{loan}/restructures")
        assert (row["status"], row["installments"]) == ("APPROVED", 6)
        end = time.monotonic() + 20
        detail: dict = {}
        while time.monotonic() < end:
            detail = await driver.partner("COLLECTION_MANAGER", "GET", f"/loans/{j.loan_id}")
            if detail.get("status") == "DISBURSED" and detail.get("assetClass") == "NPA":
                break
            await asyncio.sleep(0.2)
        assert detail.get("status") == "DISBURSED", detail.get("status")  # the arrears now fall due later
        assert detail.get("assetClass") == "NPA"  # restructured: NPA for the specified period (RBI 2019)
    finally:
        await driver.close()


async def test_a_penal_waiver_answers_its_id_and_is_listed(app, demo_brand, sandbox, db) -> None:  # noqa: ANN001
    """The overdue demo loan owes its ₹500 penal charge. More than that is refused by the workflow, naming ``amount``
    in ``errors[]``; ₹200 is waived: the answer is WAIVED with the waiver's id, which ``GET waivers`` lists with the
    installment it came off, the reason and who waived it."""
    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, _, deadline = await _begin(driver, 3)
        await _overdue(driver, headers, j, deadline)
        loan = f"/collection/{j.loan_id}"
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/waiver", {"amount": 500_01, "reason": "x"})
        assert resp.status_code == 422, resp.text
        assert [e["field"] for e in resp.json()["errors"]] == ["amount"], resp.text
        assert "more than the unpaid penal charges of ₹500.00" in resp.json()["message"], resp.text
        assert _count(db, Waiver, j.loan_id) == 0

        body = {"amount": 200_00, "reason": "bank's outage on the due date"}
        resp = await _call(driver, "COLLECTION_MANAGER", "POST", f"{loan}/waiver", body)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert (answer["result"], answer["status"], answer["loanId"]) == ("WAIVED", "OVERDUE", j.loan_id)
        assert answer["id"] and uuid.UUID(answer["id"])
        (listed,) = await driver.partner("COLLECTION_MANAGER", "GET", f"{loan}/waivers")
        manager = {u["role"]: u["id"] for u in demo_brand["staff"]}["COLLECTION_MANAGER"]
        assert (listed["id"], listed["amountPaise"], listed["installments"]) == (answer["id"], 200_00, {"1": 200_00})
        assert (listed["reason"], listed["staffId"]) == ("bank's outage on the due date", manager)
        assert listed["createdAt"]
    finally:
        await driver.close()
