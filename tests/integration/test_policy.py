"""Credit-policy versions and simulation through the real API, workflow and database: publishing numbers the
brand's versions, a decision records the version it used and is re-explained with it, a stricter draft changes the
expected decisions, bad drafts are 422 naming the field, and another brand sees none of it. A decision stores the
facts it built and simulation reads exactly those; a settings change gives the next decision a new version that
re-explains to its outcome; the blocklist is versioned and a decision is explained with its own version; a sample's
facts are read in a number of statements that does not grow with the sample."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, inspect, select

from activities.kyc.common import jsonable
from db.credit_policy import AUTO_NOTES
from db.models import AuditLog, BlocklistEntry, BureauReport, Customer, Loan, LoanDecision, PolicySimulation
from db.models.operations import CreditDecisionInput
from db.past_decisions import past_applications
from domain.credit_facts import CreditFacts
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


async def _decided_loan(driver: Driver, scenario: str, identity: tuple[str, str] | None = None) -> dict:
    phone, pan = identity or demo_identity(0, scenario)
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


def _inputs(db, loan_id: str) -> CreditDecisionInput:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalars(select(CreditDecisionInput).where(CreditDecisionInput.loan_id == loan_id)).one()


def _simulated_facts(db, brand_id: str, loan_id: str):  # noqa: ANN001, ANN202
    """The facts the simulation and explain read for the loan (db.past_decisions.past_applications)."""
    with db.unit_of_work() as s:
        [past] = past_applications(s, brand_id, loan_ids=[loan_id])
        return past


async def test_the_simulation_reads_the_facts_the_decision_stored(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Policy(driver, brand["brand_id"])
    try:
        loan = await _decided_loan(driver, "review")
        stored = _inputs(db, loan["id"])
        recorded = CreditFacts.from_json(stored.facts)
        with db.unit_of_work() as s:
            customer = s.get_one(Customer, loan["customerId"])
            rows = s.scalars(select(LoanDecision).where(LoanDecision.loan_id == loan["id"])).all()
            report = s.scalars(select(BureauReport).where(BureauReport.loan_id == loan["id"])).one()
            pan, phone = customer.pan, customer.phone
        # what was stored is what the rules observed
        assert recorded.bre_input.pan == pan and recorded.bre_input.phone == phone
        assert recorded.bre_input.bureau_score == report.score == recorded.facts["bureau.score"]
        [eval_row] = [r for r in rows if r.stage == "EVALUATION"]
        [bre_row] = [r for r in rows if r.stage == "BRE"]
        assert recorded.bre_input.application_date == bre_row.created_at.date()
        observed = {d["metric"]: d["observed"] for d in eval_row.details if d.get("metric")}
        assert observed and all(str(jsonable(recorded.facts.get(m))) == str(v) for m, v in observed.items()), observed
        by_rule = {d["rule"]: d for d in bre_row.details}
        assert by_rule["MIN_BUREAU_SCORE"]["outcome"] == "PASS"

        # the simulation's facts for the same application are the decision's, field for field
        past = _simulated_facts(db, brand["brand_id"], loan["id"])
        assert past.stored and past.application.bre_input == recorded.bre_input
        assert dict(past.application.facts) == dict(recorded.facts)

        # the customer's identifiers change afterwards: the decision's facts do not
        with db.unit_of_work() as s:
            changed = s.get_one(Customer, loan["customerId"])
            changed.phone, changed.device_id = "9000000099", "another-device"
        past = _simulated_facts(db, brand["brand_id"], loan["id"])
        assert past.application.bre_input == recorded.bre_input and past.application.bre_input.phone == phone
        assert dict(past.application.facts) == dict(recorded.facts)

        explained = await api.ok("GET", f"/loans/{loan['id']}/decision/explain")
        assert explained["factsSource"] == "STORED" and explained["matches"], explained
        sim = await api.ok("POST", "/policy/simulate", json={"draft": {}, "sampleSize": 5})
        assert sim["result"]["transitions"] == {"MANUAL_REVIEW->MANUAL_REVIEW": 1}, sim["result"]
    finally:
        await driver.close()


async def test_a_settings_change_is_the_next_decisions_version(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Policy(driver, brand["brand_id"])
    try:
        await api.ok("POST", "/policy/versions", json={"notes": "launch"})
        before = await _decided_loan(driver, "review")
        assert before["status"] != "REJECTED" and _inputs(db, before["id"]).policy_version == 1

        # the settings change after publishing: a score of 700 is no longer enough
        await api.ok("PUT", "/settings/brand", json={"bre": {"minBureauScore": 750}})
        after = await _decided_loan(driver, "review")
        assert after["status"] == "REJECTED"
        with db.unit_of_work() as s:
            rows = s.scalars(select(LoanDecision).where(LoanDecision.loan_id == after["id"])).all()
            assert {r.policy_version for r in rows if r.stage == "BRE"} == {2}
        versions = await api.ok("GET", "/policy/versions")
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[0]["publishedBy"] is None and versions[0]["notes"] == AUTO_NOTES
        assert versions[0]["config"]["bre"]["min_bureau_score"] == 750
        assert versions[1]["config"]["bre"]["min_bureau_score"] != 750

        # each decision re-explains to its own outcome with the version it recorded
        explained = await api.ok("GET", f"/loans/{after['id']}/decision/explain")
        assert (explained["policyVersion"], explained["configSource"]) == (2, "VERSION")
        assert explained["recorded"] == explained["rerun"] == "REJECT" and explained["matches"], explained
        explained = await api.ok("GET", f"/loans/{before['id']}/decision/explain")
        assert explained["policyVersion"] == 1 and explained["rerun"] == "MANUAL_REVIEW" and explained["matches"]

        # unchanged settings: the next decision records the same version, none is added
        again = await _decided_loan(driver, "auto")
        assert _inputs(db, again["id"]).policy_version == 2
        assert len(await api.ok("GET", "/policy/versions")) == 2
    finally:
        await driver.close()


async def test_the_blocklist_is_versioned_and_a_decision_explained_with_its_own(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Policy(driver, brand["brand_id"])
    try:
        first = (await api.ok("GET", "/settings/blocklist/versions"))["latest"]
        phone, pan = demo_identity(0, "auto")
        entry = await api.ok("POST", "/settings/blocklist", json={"kind": "PAN", "value": pan, "reason": "fraud"})
        changes = await api.ok("GET", "/settings/blocklist/versions")
        assert changes["latest"] == first + 1
        added = changes["items"][0]
        assert (added["version"], added["action"], added["kind"], added["value"]) == (first + 1, "ADD", "PAN", pan)
        assert added["changedBy"] is not None and added["createdAt"]

        blocked = await _decided_loan(driver, "auto", identity=(phone, pan))
        assert blocked["status"] == "REJECTED"
        assert _inputs(db, blocked["id"]).blocklist_version == first + 1

        # the entry goes: a new version; the decision is still explained with the blocklist it ran with
        await api.ok("DELETE", f"/settings/blocklist/{entry['id']}")
        changes = await api.ok("GET", "/settings/blocklist/versions")
        removed = changes["items"][0]
        assert (removed["version"], removed["action"], removed["value"]) == (first + 2, "REMOVE", pan)
        assert removed["changedBy"] == added["changedBy"]
        at_block = await api.ok("GET", f"/settings/blocklist/versions/{first + 1}")
        assert {"kind": "PAN", "value": pan} in at_block["entries"]
        now = await api.ok("GET", f"/settings/blocklist/versions/{first + 2}")
        assert {"kind": "PAN", "value": pan} not in now["entries"]
        await api.refused(404, "GET", f"/settings/blocklist/versions/{first + 3}")

        explained = await api.ok("GET", f"/loans/{blocked['id']}/decision/explain")
        assert explained["blocklistVersion"] == first + 1 and explained["matches"], explained
        assert explained["rerun"] == "REJECT"
        assert {r["name"]: r["rerun"] for r in explained["rules"]}["BLOCKLIST"] == "FAIL"
        sim = await api.ok("POST", "/policy/simulate", json={"draft": {}, "sampleSize": 5})
        assert sim["result"]["transitions"] == {"REJECT->REJECT": 1}, sim["result"]

        # a change made outside the routes is versioned too, with nobody named
        with db.unit_of_work() as s:
            s.add(BlocklistEntry(brand_id=brand["brand_id"], kind="PHONE", value="9000000042", reason="direct"))
        changes = await api.ok("GET", "/settings/blocklist/versions")
        assert changes["latest"] == first + 3 and changes["items"][0]["changedBy"] is None
        await api.refused(
            403, "POST", "/settings/blocklist", role="CREDIT_EXECUTIVE", json={"kind": "PAN", "value": pan}
        )
        assert (await api.ok("GET", "/settings/blocklist/versions"))["latest"] == first + 3
    finally:
        await driver.close()


def _clone(s, loan_id: str, n: int, with_inputs: bool) -> None:  # noqa: ANN001
    """Another decided application like ``loan_id`` (its loan, decision rows and stored inputs or bureau report),
    decided ``n`` seconds later."""

    def columns(row: Any, **changes: Any) -> dict[str, Any]:
        values = {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key != "id"}
        return {**values, **changes}

    loan = s.get_one(Loan, loan_id)
    copy = Loan(**columns(loan, workflow_id=f"{loan.workflow_id}-c{n}"))
    s.add(copy)
    s.flush()
    for row in s.scalars(select(LoanDecision).where(LoanDecision.loan_id == loan_id)):
        later = row.created_at + timedelta(seconds=n)
        key = f"{row.idempotency_key}-c{n}"
        s.add(LoanDecision(**columns(row, loan_id=copy.id, idempotency_key=key, created_at=later)))
    if with_inputs:
        stored = s.scalars(select(CreditDecisionInput).where(CreditDecisionInput.loan_id == loan_id)).one()
        key = f"{stored.idempotency_key}-c{n}"
        s.add(CreditDecisionInput(**columns(stored, loan_id=copy.id, idempotency_key=key)))
    else:  # decided before inputs were stored: the facts are rebuilt from its rows
        report = s.scalars(select(BureauReport).where(BureauReport.loan_id == loan_id)).one()
        s.add(BureauReport(**columns(report, loan_id=copy.id)))


async def test_a_samples_facts_take_the_same_statements_for_5_and_50(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        loan = await _decided_loan(driver, "review")
        with db.unit_of_work() as s:
            for n in range(1, 61):
                _clone(s, loan["id"], n, with_inputs=n % 2 == 0)
        # a decision made before facts were stored is rebuilt from its rows and still explains to its outcome
        with db.unit_of_work() as s:
            [rebuilt] = [p for p in past_applications(s, brand["brand_id"], limit=2) if not p.stored]
        explained = await Policy(driver, brand["brand_id"]).ok(
            "GET", f"/loans/{rebuilt.application.application_id}/decision/explain"
        )
        assert explained["factsSource"] == "REBUILT" and explained["matches"], explained
    finally:
        await driver.close()

    def statements(size: int) -> tuple[int, list]:
        count = 0

        def counted(*_: Any) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counted)
        try:
            with db.unit_of_work() as s:
                sample = past_applications(s, brand["brand_id"], limit=size)
        finally:
            event.remove(db.engine, "before_cursor_execute", counted)
        return count, sample

    five, small = statements(5)
    fifty, large = statements(50)
    assert (len(small), len(large)) == (5, 50)
    assert {p.stored for p in small} == {True, False}  # both kinds in each sample
    assert five == fifty <= 8, (five, fifty)
    # every clone re-decides as the original did, stored or rebuilt
    assert {p.application.recorded.value for p in large} == {"MANUAL_REVIEW"}
    assert len({p.application.bre_input.bureau_score for p in large}) == 1


def test_the_migration_makes_the_policy_tables_as_the_models_declare(db) -> None:  # noqa: ANN001
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    ours = {"blocklist_versions", "credit_decision_inputs"}
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(t in repr(d) for t in ours)] == []
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("credit_decision_inputs")}
    assert {"facts", "policy_version", "blocklist_version", "idempotency_key"} <= columns
