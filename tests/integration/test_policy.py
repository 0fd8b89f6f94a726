"""Credit-policy versions and simulation through the real API, workflow and database: publishing numbers the
brand's versions, a decision records the version it used and is re-explained with it, a stricter draft changes the
expected decisions, bad drafts are 422 naming the field, and another brand sees none of it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.models import AuditLog, LoanDecision, PolicySimulation
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually


@pytest.fixture
def other_brand(db, sandbox) -> dict:  # noqa: ANN001
    return seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")


class Policy:
    def __init__(self, driver: Driver, brand_id: str):
        self.driver, self.brand_id = driver, brand_id

    async def call(self, method: str, path: str, role: str = "ADMIN", **kw: Any) -> httpx.Response:
        headers = await self.driver.staff_headers(role)
        return await self.driver.api.request(
            method, f"/api/v1/partner/brand/{self.brand_id}{path}", headers=headers, **kw
        )

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = await self.call(method, path, **kw)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    async def refused(self, status: int, method: str, path: str, field: str | None = None, **kw: Any) -> dict:
        resp = await self.call(method, path, **kw)
        assert resp.status_code == status, resp.text
        body = resp.json()
        if field is not None:
            assert field in [e["field"] for e in body.get("errors", [])], body
        return body


async def _decided_loan(driver: Driver, scenario: str) -> dict:
    phone, pan = demo_identity(0, scenario)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "25000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
        )
    )

    async def decided():  # noqa: ANN202
        current = await driver.loan(headers, loan["id"])
        return current if current["status"] != "APPLIED" else None

    return await eventually(decided, timeout=60)


async def test_versions_decisions_explain_and_simulation(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api, intruder = Policy(driver, brand["brand_id"]), Policy(other, brand["brand_id"])
    try:
        # ---- versions
        assert await api.ok("GET", "/policy/versions") == []
        first = await api.ok("POST", "/policy/versions", json={"notes": "launch policy"})
        second = await api.ok("POST", "/policy/versions", json={})
        assert (first["version"], second["version"]) == (1, 2)
        assert first["notes"] == "launch policy" and "bre" in first["config"] and "evaluation" in first["config"]
        assert [v["version"] for v in await api.ok("GET", "/policy/versions")] == [2, 1]
        assert (await api.ok("GET", "/policy/versions/1"))["id"] == first["id"]
        await api.refused(404, "GET", "/policy/versions/9")
        await api.refused(422, "POST", "/policy/versions", field="colour", json={"colour": "red"})
        await api.refused(403, "POST", "/policy/versions", role="CREDIT_EXECUTIVE", json={})
        with db.unit_of_work() as s:
            actions = s.scalars(select(AuditLog.action).where(AuditLog.brand_id == brand["brand_id"])).all()
            assert actions.count("POLICY_VERSION_PUBLISHED") == 2

        # ---- a decision made after publishing records version 2
        auto = await _decided_loan(driver, "auto")
        review = await _decided_loan(driver, "review")
        with db.unit_of_work() as s:
            rows = s.scalars(select(LoanDecision).where(LoanDecision.loan_id.in_([auto["id"], review["id"]]))).all()
            credit = [r for r in rows if r.stage in ("BRE", "EVALUATION")]
            assert len(credit) == 4 and {r.policy_version for r in credit} == {2}

        # ---- explain: re-run with version 2 on the stored facts matches what was recorded
        for loan in (auto, review):
            explained = await api.ok("GET", f"/loans/{loan['id']}/decision/explain")
            assert explained["policyVersion"] == 2 and explained["configSource"] == "VERSION"
            assert explained["matches"], explained
            assert explained["rules"] and all(r["recorded"] == r["rerun"] for r in explained["rules"])
        assert explained["recorded"] == "MANUAL_REVIEW"
        await intruder.refused(404, "GET", f"/loans/{auto['id']}/decision/explain")

        # ---- simulate: a stricter minimum score rejects both
        sim = await api.ok(
            "POST", "/policy/simulate", json={"draft": {"bre": {"minBureauScore": 800}}, "sampleSize": 10}
        )
        result = sim["result"]
        assert result["sampleSize"] == 2 and result["changedCount"] == 2
        assert result["transitions"] == {"AUTO_SANCTION->REJECT": 1, "MANUAL_REVIEW->REJECT": 1}
        flipped = {f["name"]: f for c in result["changed"] for f in c["flipped"]}
        assert flipped["rule:MIN_BUREAU_SCORE"]["after"] == "FAIL"
        assert result["approvalRateBefore"] == "1.0000" and result["approvalRateAfter"] == "0.0000"
        assert result["expectedLossBefore"] > 0 and result["expectedLossAfter"] == 0
        assert (await api.ok("GET", f"/policy/simulations/{sim['id']}"))["result"] == result
        with db.unit_of_work() as s:
            assert s.get_one(PolicySimulation, sim["id"]).brand_id == brand["brand_id"]

        # a stricter evaluation item: the review loan's score fails a hard item
        items = [
            {"name": "Score 750", "metric": "bureau.score", "comparator": ">=", "threshold": 750, "hardReject": True}
        ]
        sim = await api.ok("POST", "/policy/simulate", json={"draft": {"evaluationItems": items}})
        assert sim["sampleSize"] == 500 and sim["result"]["transitions"]["MANUAL_REVIEW->REJECT"] == 1
        [changed] = sim["result"]["changed"]
        assert changed["applicationId"] == review["id"] and changed["stage"] == "EVALUATION"

        # ---- validation: 422 naming the field
        await api.refused(422, "POST", "/policy/simulate", field="sampleSize", json={"draft": {}, "sampleSize": 5001})
        body = await api.refused(422, "POST", "/policy/simulate", json={"draft": {"bre": {"minBureauScore": 100}}})
        assert any("minBureauScore" in e["field"] for e in body["errors"]), body
        bad = [{"name": "x", "metric": "bureau.colour", "comparator": ">=", "threshold": 1}]
        await api.refused(
            422,
            "POST",
            "/policy/simulate",
            field="draft.evaluationItems[0].metric",
            json={"draft": {"evaluationItems": bad}},
        )
        await api.refused(403, "POST", "/policy/simulate", role="CREDIT_EXECUTIVE", json={"draft": {}})

        # ---- isolation
        await intruder.refused(404, "GET", "/policy/versions")
        await intruder.refused(404, "POST", "/policy/versions", json={})
        await intruder.refused(404, "GET", f"/policy/simulations/{sim['id']}")
        await intruder.refused(404, "POST", "/policy/simulate", json={"draft": {}})
        assert await Policy(other, other_brand["brand_id"]).ok("GET", "/policy/versions") == []
        await Policy(other, other_brand["brand_id"]).refused(404, "GET", f"/policy/simulations/{sim['id']}")
    finally:
        await driver.close()
        await other.close()


async def test_simulation_limits_are_422_naming_the_field_and_store_nothing(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Policy(driver, brand["brand_id"])
    item = {"name": "Score", "metric": "bureau.score", "comparator": ">=", "threshold": 700}

    def stored() -> int:
        with db.unit_of_work() as s:
            rows = s.scalars(select(PolicySimulation.id).where(PolicySimulation.brand_id == brand["brand_id"]))
            return len(rows.all())

    try:
        for size in (0, -1, 5001, 10**9, "many", 2.5, None):
            body = await api.refused(
                422, "POST", "/policy/simulate", field="sampleSize", json={"draft": {}, "sampleSize": size}
            )
            assert [e["field"] for e in body["errors"]] == ["sampleSize"], (size, body)
        too_many = [{**item, "name": f"item {n}"} for n in range(51)]
        await api.refused(
            422,
            "POST",
            "/policy/simulate",
            field="draft.evaluationItems",
            json={"draft": {"evaluationItems": too_many}},
        )
        long_text = [{**item, "threshold": "x" * 201}]
        await api.refused(
            422,
            "POST",
            "/policy/simulate",
            field="draft.evaluationItems[0].threshold",
            json={"draft": {"evaluationItems": long_text}},
        )
        await api.refused(
            422, "POST", "/policy/simulate", field="draft.bre.colour", json={"draft": {"bre": {"colour": 1}}}
        )
        assert stored() == 0

        # the bounds themselves are accepted (a brand with no decision yet: an empty sample)
        for size in (1, 5000):
            sim = await api.ok("POST", "/policy/simulate", json={"draft": {}, "sampleSize": size})
            assert sim["sampleSize"] == size and sim["result"]["sampleSize"] == 0
        fifty = [{**item, "name": f"item {n}"} for n in range(50)]
        sim = await api.ok("POST", "/policy/simulate", json={"draft": {"evaluationItems": fifty}, "sampleSize": 1})
        assert stored() == 3
    finally:
        await driver.close()
