"""Brand settings and platform administration through the real API and database: every change is validated
(422 naming the field, nothing written), unique where it must be (409), brand-scoped (404), guarded (403),
audited with before/after, and takes effect where the lending flow reads it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from activities.providers import ProviderConfig
from db.models import (
    AuditLog,
    BlocklistEntry,
    Brand,
    BrandNonRepaymentDate,
    BrandStatusReason,
    BureauReport,
    Customer,
    EvaluationItem,
    LoanProduct,
    PartnerUnavailabilityDate,
)
from domain import kyc
from los.demo import Driver, demo_aadhaar, demo_identity
from los.seed import STATUS_REASONS, seed_brand
from tests.conftest import eventually


class Settings:
    """One brand's settings API as a given role of that brand."""

    def __init__(self, driver: Driver, brand_id: str, role: str = "ADMIN"):
        self.driver, self.brand_id, self.role = driver, brand_id, role

    async def call(self, method: str, path: str, *, role: str | None = None, **kw: Any) -> httpx.Response:
        headers = await self.driver.staff_headers(role or self.role)
        url = f"/api/v1/partner/brand/{self.brand_id}/settings{path}"
        return await self.driver.api.request(method, url, headers=headers, **kw)

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


@pytest.fixture
def other_brand(db, sandbox) -> dict:  # noqa: ANN001
    return seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")


def _staff_id(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def _audits(db, brand_id: str, action: str) -> list[AuditLog]:  # noqa: ANN001
    with db.unit_of_work() as s:
        query = select(AuditLog).where(AuditLog.brand_id == brand_id, AuditLog.action == action)
        return list(s.scalars(query.order_by(AuditLog.created_at)))


def _audit_count(db, brand_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.brand_id == brand_id))


def _config(db, brand_id: str) -> dict:  # noqa: ANN001
    with db.unit_of_work() as s:
        return dict(s.get_one(Brand, brand_id).config)


def _rows(db, model, **where: Any) -> list[dict]:  # noqa: ANN001
    """The rows as plain dicts, to compare before and after a refused change."""
    with db.unit_of_work() as s:
        query = select(model).filter_by(**where).order_by(model.id)
        return [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in s.scalars(query)]


async def _apply(driver: Driver, pan: str) -> tuple[dict, dict]:
    phone, _ = demo_identity(0, "auto")
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

    return headers, await eventually(decided, timeout=60)


# ------------------------------------------------------------------------------------------- brand config
async def test_brand_config(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    try:
        current = await api.ok("GET", "/brand")
        assert current["config"]["minCreditScore"] == 650 and "providers" not in current["config"]
        assert current["effective"]["allocationRole"] == "CREDIT_EXECUTIVE"  # the code's default, not set

        providers = _config(db, brand["brand_id"])["providers"]
        changed = await api.ok(
            "PUT",
            "/brand",
            json={
                "name": "Renamed Finance",
                "minCreditScore": 700,
                "kycSteps": ["PAN", "BANK_ACCOUNT"],
                "bre": {"maxDpd": 60, "minAge": 21},
                "camRequired": True,
            },
        )
        assert changed["name"] == "Renamed Finance" and changed["config"]["bre"] == {"maxDpd": 60, "minAge": 21}
        again = await api.ok("PUT", "/brand", json={"bre": {"maxDpd": 30}, "camRequired": None})
        assert again["config"]["bre"] == {"maxDpd": 30, "minAge": 21}  # nested keys merge too
        assert "camRequired" not in again["config"] and again["effective"]["camRequired"] is False
        stored = _config(db, brand["brand_id"])
        assert stored["min_credit_score"] == 700 and stored["kyc_steps"] == ["PAN", "BANK_ACCOUNT"]
        assert stored["bre"] == {"max_dpd": 30, "min_age": 21} and "cam_required" not in stored
        assert stored["providers"] == providers  # untouched by a partial update
        assert (await api.ok("GET", "/brand"))["config"]["minCreditScore"] == 700
        # where customers see it
        listed = (await driver.api.get("/api/v1/web/brands")).json()
        assert next(b for b in listed if b["id"] == brand["brand_id"])["name"] == "Renamed Finance"

        audits = _audits(db, brand["brand_id"], "settings.brand.update")
        assert audits[0].before["minCreditScore"] == 650 and audits[0].after["minCreditScore"] == 700
        assert audits[0].before["name"] == f"Test {brand['brand_code']}" and audits[0].actor_role == "ADMIN"
        assert audits[1].before["camRequired"] is True and audits[1].after["camRequired"] is None

        # refusals: nothing written, nothing audited
        audit_count = _audit_count(db, brand["brand_id"])
        for body, field in [
            ({"minCreditScore": 950}, "minCreditScore"),
            ({"kycSteps": ["AADHAAR", "PAN"]}, "kycSteps"),
            ({"kycSteps": ["PAN", "SELFIE"]}, "kycSteps"),
            ({"kycSteps": ["PAN", "RETINA"]}, "kycSteps"),
            ({"providers": {}}, "providers"),
            ({"autoSanctionScore": 690}, "autoSanctionScore"),  # below the minimum score 700
            ({"bre": {"minAge": 40, "maxAge": 30}}, "bre.maxAge"),
            ({"bre": {"maxDpd": -1}}, "bre.maxDpd"),
            ({"allocationRole": "SUPER_ADMIN"}, "allocationRole"),
            ({"autoSanctionThreshold": 40}, "manualReviewThreshold"),  # manual review (50) above auto-sanction
            ({"evaluationVersion": "V3"}, "evaluationVersion"),
            ({"paymentAllocation": {"overdueOrder": ["PENAL", "FEES"]}}, "paymentAllocation.overdueOrder"),
            ({"name": "   "}, "name"),
        ]:
            await api.refused(422, "PUT", "/brand", field, json=body)
        assert _config(db, brand["brand_id"]) == stored
        assert _audit_count(db, brand["brand_id"]) == audit_count

        # a role without settings permissions, another brand's admin, another brand's id
        await api.refused(403, "GET", "/brand", role="CREDIT_EXECUTIVE")
        await api.refused(403, "PUT", "/brand", role="CREDIT_EXECUTIVE", json={"minCreditScore": 600})
        await Settings(other, brand["brand_id"]).refused(404, "PUT", "/brand", json={"minCreditScore": 600})
        await Settings(driver, other_brand["brand_id"]).refused(404, "GET", "/brand")
        assert _config(db, brand["brand_id"]) == stored
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- loan rules
RULE = {
    "code": "SAL-ADV",
    "name": "Salary advance",
    "minAmount": 10_000_00,
    "maxAmount": 50_000_00,
    "minTenure": 1,
    "maxTenure": 6,
    "annualRateBps": 1800,
    "charges": {"upfront": [{"name": "Processing fee", "percent": "1.5", "kfs_head": "PROCESSING_FEE"}]},
}


async def test_loan_rules(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    preview = f"/api/v1/web/products/SAL-ADV/emi-preview?brand={brand['brand_code']}&amount=20000&tenure=3"
    try:
        assert {r["code"] for r in await api.ok("GET", "/loan-rules")} == {"DEMO-FAST", "PL-MONTHLY"}
        created = await api.ok("POST", "/loan-rules", json=RULE)
        assert created["annualRateBps"] == 1800 and created["isActive"] and created["repayUnit"] == "MONTHS"
        assert any(r["id"] == created["id"] for r in await api.ok("GET", "/loan-rules"))
        # takes effect: customers see the product and its EMI preview
        listed = (await driver.api.get("/api/v1/web/brands")).json()
        products = next(b for b in listed if b["id"] == brand["brand_id"])["products"]
        assert any(p["code"] == "SAL-ADV" and p["maxAmountPaise"] == 50_000_00 for p in products)
        shown = await driver._ok(await driver.api.get(preview))
        assert shown["product"]["annualRateBps"] == 1800 and shown["charges"][0]["name"] == "Processing fee"

        updated = await api.ok("PUT", f"/loan-rules/{created['id']}", json={**RULE, "annualRateBps": 2000})
        assert updated["annualRateBps"] == 2000
        assert (await driver._ok(await driver.api.get(preview)))["product"]["annualRateBps"] == 2000
        # the holiday strategy: the default until the brand picks one, then the preview uses it
        assert updated["holidayStrategy"] == "NEXT_WORKING_DAY_EXTEND_TERM"
        merged = {**RULE, "annualRateBps": 2000, "holidayStrategy": "NEXT_WORKING_DAY_MERGE"}
        assert (await api.ok("PUT", f"/loan-rules/{created['id']}", json=merged))["holidayStrategy"] == merged[
            "holidayStrategy"
        ]
        assert (await driver._ok(await driver.api.get(preview)))["product"]["holidayStrategy"] == merged[
            "holidayStrategy"
        ]

        # refusals change nothing
        rules_before = _rows(db, LoanProduct, brand_id=brand["brand_id"])
        for body, field in [
            ({**RULE, "code": "NEW", "minAmount": 60_000_00}, "maxAmount"),
            ({**RULE, "code": "NEW", "minTenure": 7}, "maxTenure"),
            ({**RULE, "code": "NEW", "annualRateBps": 6000}, "annualRateBps"),
            ({**RULE, "code": "NEW", "repayUnit": "YEARS"}, "repayUnit"),
            ({**RULE, "code": "NEW", "interestMethod": "COMPOUND"}, "interestMethod"),
            ({**RULE, "code": "NEW", "charges": {"bogus": 1}}, "charges.bogus"),
            (
                {**RULE, "code": "NEW", "charges": {"upfront": [{"name": "Fee", "percent": "x"}]}},
                "charges.upfront.0.percent",
            ),
            ({**RULE, "code": "NEW", "dailyRate": "1"}, "dailyRate"),  # 365% a year
            ({**RULE, "code": "NEW", "gracePrincipal": 1}, "gracePrincipal"),  # no installment left at tenure 1
            ({**RULE, "code": "new rule"}, "code"),
            ({**RULE, "code": "NEW", "surprise": True}, "surprise"),
            ({**RULE, "code": "NEW", "holidayStrategy": "MOVE_SOMEWHERE"}, "holidayStrategy"),
        ]:
            await api.refused(422, "POST", "/loan-rules", field, json=body)
        await api.refused(422, "PUT", f"/loan-rules/{created['id']}", "maxAmount", json={**RULE, "maxAmount": 1})
        await api.refused(409, "POST", "/loan-rules", "code", json={**RULE, "code": "DEMO-FAST"})
        await api.refused(409, "PUT", f"/loan-rules/{created['id']}", "code", json={**RULE, "code": "PL-MONTHLY"})
        await api.refused(403, "POST", "/loan-rules", role="CREDIT_EXECUTIVE", json={**RULE, "code": "NEW"})
        with db.unit_of_work() as s:
            foreign = s.scalars(select(LoanProduct.id).where(LoanProduct.brand_id == other_brand["brand_id"])).first()
        await api.refused(404, "PUT", f"/loan-rules/{foreign}", json=RULE)
        await api.refused(404, "DELETE", f"/loan-rules/{foreign}")
        await api.refused(404, "DELETE", "/loan-rules/not-an-id")
        assert _rows(db, LoanProduct, brand_id=brand["brand_id"]) == rules_before
        assert all(r["is_active"] for r in _rows(db, LoanProduct, brand_id=other_brand["brand_id"]))

        assert (await api.ok("DELETE", f"/loan-rules/{created['id']}"))["isActive"] is False
        assert (await driver.api.get(preview)).status_code == 404  # no longer offered

        create, update, deactivate = (
            _audits(db, brand["brand_id"], f"settings.loan_rule.{a}") for a in ("create", "update", "deactivate")
        )
        assert create[0].entity_id == created["id"] and create[0].after["code"] == "SAL-ADV"
        assert update[0].before == {"annualRateBps": 1800} and update[0].after == {"annualRateBps": 2000}
        assert deactivate[0].before == {"isActive": True} and deactivate[0].after == {"isActive": False}
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------------- evaluation items
ITEM = {"name": "Bureau 700", "metric": "bureau.score", "comparator": ">=", "threshold": 700, "weight": 2}


async def test_evaluation_items(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    try:
        item = await api.ok("POST", "/evaluation-items", json=ITEM)
        assert item["version"] == "V1" and item["threshold"] == "700" and item["hardReject"] is False
        assert [i["name"] for i in await api.ok("GET", "/evaluation-items?version=V1")] == ["Bureau 700"]
        v2 = await api.ok("POST", "/evaluation-items", json={**ITEM, "version": "V2", "threshold": "720"})
        assert [i["id"] for i in await api.ok("GET", "/evaluation-items?version=V2")] == [v2["id"]]

        changed = await api.ok("PUT", f"/evaluation-items/{item['id']}", json={**ITEM, "weight": 5})
        assert changed["weight"] == 5

        items_before = _rows(db, EvaluationItem, brand_id=brand["brand_id"])
        await api.refused(409, "POST", "/evaluation-items", "name", json={**ITEM, "name": "bureau 700"})
        await api.refused(409, "PUT", f"/evaluation-items/{v2['id']}", "name", json={**ITEM, "name": "Bureau 700"})
        for body, field in [
            ({**ITEM, "name": "X", "metric": "bureau.magic"}, "metric"),
            ({**ITEM, "name": "X", "comparator": "=>"}, "comparator"),
            ({**ITEM, "name": "X", "threshold": "high"}, "threshold"),  # >= needs a number
            ({**ITEM, "name": "X", "weight": -1}, "weight"),
            ({**ITEM, "name": "X", "weight": 1.5}, "weight"),
            ({**ITEM, "name": "X", "version": "V9"}, "version"),
        ]:
            await api.refused(422, "POST", "/evaluation-items", field, json=body)
        # the brand evaluates with V1: its only V1 item cannot go while V2 items exist (decisions would fail)
        await api.refused(422, "DELETE", f"/evaluation-items/{item['id']}", "id")
        await api.refused(
            422,
            "PUT",
            "/evaluation-items",
            "items.1.name",
            json={"version": "V1", "items": [ITEM, {**ITEM, "name": "BUREAU 700"}]},
        )
        await api.refused(422, "PUT", "/evaluation-items", "items", json={"version": "V1", "items": []})
        await api.refused(403, "POST", "/evaluation-items", role="CREDIT_EXECUTIVE", json={**ITEM, "name": "X"})
        foreign = await Settings(other, other_brand["brand_id"]).ok("POST", "/evaluation-items", json=ITEM)
        await api.refused(404, "PUT", f"/evaluation-items/{foreign['id']}", json=ITEM)
        await api.refused(404, "DELETE", f"/evaluation-items/{foreign['id']}")
        await Settings(other, brand["brand_id"]).refused(404, "GET", "/evaluation-items")
        assert _rows(db, EvaluationItem, brand_id=brand["brand_id"]) == items_before

        # replace the whole V1 set in one go
        new_set = [
            {"name": "Score", "metric": "bureau.score", "comparator": ">=", "threshold": "650", "hardReject": True},
            {"name": "Salary", "metric": "kyc.bsa_avg_salary", "comparator": ">=", "threshold": 2_500_000},
        ]
        replaced = await api.ok("PUT", "/evaluation-items", json={"version": "V1", "items": new_set})
        assert [i["name"] for i in replaced] == ["Score", "Salary"]
        assert {i["name"] for i in await api.ok("GET", "/evaluation-items?version=V1")} == {"Score", "Salary"}
        # the brand's config and its items move together: V2 needs V2 items, which exist
        assert (await api.ok("PUT", "/brand", json={"evaluationVersion": "V2"}))["config"]["evaluationVersion"] == "V2"
        deleted = await api.ok("DELETE", f"/evaluation-items/{replaced[1]['id']}")
        assert deleted["deleted"] and len(await api.ok("GET", "/evaluation-items?version=V1")) == 1

        audit = _audits(db, brand["brand_id"], "settings.evaluation_items.replace")[0]
        assert [i["name"] for i in audit.before["items"]] == ["Bureau 700"]
        assert [i["name"] for i in audit.after["items"]] == ["Score", "Salary"]
        update = _audits(db, brand["brand_id"], "settings.evaluation_item.update")[0]
        assert update.before == {"weight": 2} and update.after == {"weight": 5}
        assert _audits(db, brand["brand_id"], "settings.evaluation_item.delete")[0].before["name"] == "Salary"
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- status reasons
async def test_status_reasons(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    dropdown = f"/api/v1/partner/brand/{brand['brand_id']}/status-reasons?appliesTo=REJECTED"
    try:
        assert len(await api.ok("GET", "/status-reasons")) == len(STATUS_REASONS)
        body = {"code": "INCOME_UNVERIFIED", "label": "Income could not be verified", "statuses": ["REJECTED"]}
        created = await api.ok("POST", "/status-reasons", json=body)
        assert created["isActive"] and created["statuses"] == ["REJECTED"]
        # what sanction staff pick from when rejecting
        headers = await driver.staff_headers("SANCTION_HEAD")
        assert "INCOME_UNVERIFIED" in [r["code"] for r in (await driver.api.get(dropdown, headers=headers)).json()]
        # a decision no reason is for: refused, naming the parameter (not an empty list that looks like "none set")
        wrong = await driver.api.get(dropdown.replace("REJECTED", "APPROVED"), headers=headers)
        assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["appliesTo"], wrong.text

        changed = await api.ok(
            "PUT", f"/status-reasons/{created['id']}", json={**body, "statuses": ["REJECTED", "SEND_BACK"]}
        )
        assert changed["statuses"] == ["REJECTED", "SEND_BACK"]

        reasons_before = _rows(db, BrandStatusReason, brand_id=brand["brand_id"])
        for bad, field in [
            ({**body, "code": "income_unverified2"}, "code"),
            ({**body, "code": "X"}, "code"),
            ({**body, "code": "NEW_ONE", "statuses": ["APPROVED"]}, "statuses.0"),
            ({**body, "code": "NEW_ONE", "statuses": ["REJECTED", "REJECTED"]}, "statuses.1"),
            ({**body, "code": "NEW_ONE", "statuses": []}, "statuses"),
            ({**body, "code": "NEW_ONE", "label": ""}, "label"),
        ]:
            await api.refused(422, "POST", "/status-reasons", field, json=bad)
        await api.refused(409, "POST", "/status-reasons", "code", json={**body, "code": "POLICY_DECLINE"})
        await api.refused(
            409, "PUT", f"/status-reasons/{created['id']}", "code", json={**body, "code": "POLICY_DECLINE"}
        )
        await api.refused(403, "POST", "/status-reasons", role="CREDIT_EXECUTIVE", json={**body, "code": "NEW_ONE"})
        with db.unit_of_work() as s:
            foreign = s.scalars(
                select(BrandStatusReason.id).where(BrandStatusReason.brand_id == other_brand["brand_id"])
            ).first()
        await api.refused(404, "PUT", f"/status-reasons/{foreign}", json=body)
        await api.refused(404, "DELETE", f"/status-reasons/{foreign}")
        assert _rows(db, BrandStatusReason, brand_id=brand["brand_id"]) == reasons_before

        assert (await api.ok("DELETE", f"/status-reasons/{created['id']}"))["isActive"] is False
        assert "INCOME_UNVERIFIED" not in [r["code"] for r in (await driver.api.get(dropdown, headers=headers)).json()]

        assert _audits(db, brand["brand_id"], "settings.status_reason.create")[0].after["code"] == "INCOME_UNVERIFIED"
        update = _audits(db, brand["brand_id"], "settings.status_reason.update")[0]
        assert update.before == {"statuses": ["REJECTED"]} and update.after == {"statuses": ["REJECTED", "SEND_BACK"]}
        assert _audits(db, brand["brand_id"], "settings.status_reason.deactivate")[0].after == {"isActive": False}
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------------- blocklist
async def test_blocklist_and_the_bre(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    try:
        _, pan = demo_identity(0, "auto")
        blocked = await api.ok("POST", "/blocklist", json={"kind": "PAN", "value": pan.lower(), "reason": "fraud ring"})
        assert blocked["value"] == pan
        aadhaar = demo_aadhaar()
        hashed = await api.ok("POST", "/blocklist", json={"kind": "AADHAAR", "value": aadhaar})
        key = app.settings.field_key()
        assert hashed["value"] == kyc.aadhaar_hash(aadhaar, key) and aadhaar not in json.dumps(hashed)
        phone = await api.ok("POST", "/blocklist", json={"kind": "PHONE", "value": "+919876543210"})
        assert phone["value"] == "9876543210"

        page = await api.ok("GET", "/blocklist?limit=2")
        assert page["total"] == 3 and len(page["items"]) == 2
        assert [e["id"] for e in (await api.ok("GET", "/blocklist?kind=PAN"))["items"]] == [blocked["id"]]
        assert [e["id"] for e in (await api.ok("GET", f"/blocklist?search={aadhaar}"))["items"]] == [hashed["id"]]
        assert [e["id"] for e in (await api.ok("GET", f"/blocklist?search={pan[:6]}"))["items"]] == [blocked["id"]]
        # numbers that pass the Aadhaar checksum but are not 12 digits are plain searches, not errors
        for term in ("0", "9876543201"):
            assert (await api.ok("GET", f"/blocklist?search={term}"))["total"] >= 0

        entries_before = _rows(db, BlocklistEntry, brand_id=brand["brand_id"])
        for bad in [
            {"kind": "PAN", "value": "ABC123"},
            {"kind": "PHONE", "value": "12345"},
            {"kind": "AADHAAR", "value": "234567890123"},  # fails the Verhoeff check
        ]:
            body = await api.refused(422, "POST", "/blocklist", "value", json=bad)
            assert "234567890123" not in json.dumps(body)
        await api.refused(422, "POST", "/blocklist", "kind", json={"kind": "EMAIL", "value": "x@y.z"})
        await api.refused(409, "POST", "/blocklist", "value", json={"kind": "PAN", "value": pan})
        await api.refused(409, "POST", "/blocklist", "value", json={"kind": "AADHAAR", "value": aadhaar})
        await api.refused(403, "POST", "/blocklist", role="CREDIT_EXECUTIVE", json={"kind": "DEVICE", "value": "d1"})
        foreign = await Settings(other, other_brand["brand_id"]).ok(
            "POST", "/blocklist", json={"kind": "PAN", "value": pan}
        )
        await api.refused(404, "DELETE", f"/blocklist/{foreign['id']}")
        assert _rows(db, BlocklistEntry, brand_id=brand["brand_id"]) == entries_before
        assert len(_rows(db, BlocklistEntry, brand_id=other_brand["brand_id"])) == 1

        # takes effect: an application with the blocked PAN is refused by the BRE
        _, loan = await _apply(driver, pan)
        assert loan["status"] == "REJECTED" and "BLOCKLIST" in loan["statusReason"], loan

        assert (await api.ok("DELETE", f"/blocklist/{blocked['id']}"))["deleted"]
        assert (await api.ok("GET", "/blocklist?kind=PAN"))["total"] == 0
        created = _audits(db, brand["brand_id"], "settings.blocklist.create")
        assert [a.after["kind"] for a in created] == ["PAN", "AADHAAR", "PHONE"]
        assert all(aadhaar not in json.dumps(a.after) for a in created)
        assert _audits(db, brand["brand_id"], "settings.blocklist.delete")[0].before["value"] == pan
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- providers
async def test_vendor_credentials_in_options_are_masked_and_kept(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """A credential among a vendor's options (ICICI's client private key) is shown masked like an API key; the list
    sent back as shown keeps it; a new one typed replaces it. Identifiers (the corporate id) are shown as they are."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    try:
        stored = {c.vendor: c for c in ProviderConfig.configured(_config(db, brand["brand_id"]), "disbursal")}
        private = stored["icici"].options["client_private_key"]
        shown = await api.ok("GET", "/providers")
        assert private not in json.dumps(shown) and "PRIVATE KEY" not in json.dumps(shown)
        icici = next(v for v in shown["disbursal"]["vendors"] if v["vendor"] == "icici")
        assert icici["options"]["client_private_key"].startswith("****")
        assert icici["options"]["corp_id"] == stored["icici"].options["corp_id"]  # an identifier, not a secret
        vendors = [{k: v for k, v in x.items() if k != "primary"} for x in shown["disbursal"]["vendors"]]
        await api.ok("PUT", "/providers/disbursal", json={"vendors": vendors})
        kept = {c.vendor: c for c in ProviderConfig.configured(_config(db, brand["brand_id"]), "disbursal")}
        assert kept["icici"].options["client_private_key"] == private
        vendors[1]["options"] = {**vendors[1]["options"], "client_private_key": "a-new-key-pem-0000"}
        await api.ok("PUT", "/providers/disbursal", json={"vendors": vendors})
        now = {c.vendor: c for c in ProviderConfig.configured(_config(db, brand["brand_id"]), "disbursal")}
        assert now["icici"].options["client_private_key"] == "a-new-key-pem-0000"
    finally:
        await driver.close()


async def test_providers(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    try:
        shown = await api.ok("GET", "/providers")
        bureau = shown["bureau"]
        assert bureau["available"] == ["cibil", "equifax"]
        assert [(v["vendor"], v["primary"]) for v in bureau["vendors"]] == [("cibil", True), ("equifax", False)]
        assert bureau["vendors"][0]["apiKey"] == "****-key" and "sandbox-" not in json.dumps(shown)

        # equifax first; its secrets kept since not re-sent, cibil's sent back as shown (masked) kept too
        cibil = {k: v for k, v in bureau["vendors"][0].items() if k != "primary"}
        changed = await api.ok(
            "PUT", "/providers/bureau", json={"vendors": [{"vendor": "equifax"}, cibil], "primary": "equifax"}
        )
        assert [(v["vendor"], v["primary"]) for v in changed["bureau"]["vendors"]] == [
            ("equifax", True),
            ("cibil", False),
        ]
        config = _config(db, brand["brand_id"])
        assert ProviderConfig.from_brand(config, "bureau").vendor == "equifax"
        assert {c.vendor: c.api_key for c in ProviderConfig.configured(config, "bureau")} == {
            "equifax": "sandbox-equifax-key",
            "cibil": "sandbox-cibil-key",
        }
        rotated = await api.ok(
            "PUT",
            "/providers/bureau",
            json={"vendors": [{"vendor": "equifax", "apiKey": "sandbox-equifax-rotated-1234"}, {"vendor": "cibil"}]},
        )
        assert rotated["bureau"]["vendors"][0]["apiKey"] == "****1234"
        assert ProviderConfig.from_brand(_config(db, brand["brand_id"]), "bureau").api_key.endswith("rotated-1234")

        # a new webhook secret: the old one is still accepted for the overlap, shown masked, then not at all
        from activities.providers.signing import previous_secret

        old_secret = ProviderConfig.from_brand(_config(db, brand["brand_id"]), "bureau").webhook_secret
        rotated = await api.ok(
            "PUT",
            "/providers/bureau",
            json={"vendors": [{"vendor": "equifax", "webhookSecret": "whsec-new-secret-5678"}, {"vendor": "cibil"}]},
        )
        shown_equifax = rotated["bureau"]["vendors"][0]
        assert shown_equifax["webhookSecret"] == "****5678" and shown_equifax["previousSecret"].startswith("****")
        assert old_secret not in json.dumps(rotated) and shown_equifax["previousSecretUntil"]
        now_config = ProviderConfig.from_brand(_config(db, brand["brand_id"]), "bureau")
        assert now_config.webhook_secret == "whsec-new-secret-5678" and previous_secret(now_config) == old_secret
        await api.ok(
            "PUT",
            "/providers/bureau",
            json={
                "vendors": [
                    {"vendor": "equifax", "webhookSecret": "whsec-newer-secret-9012", "secretOverlapHours": 0},
                    {"vendor": "cibil"},
                ]
            },
        )
        latest = ProviderConfig.from_brand(_config(db, brand["brand_id"]), "bureau")
        assert latest.previous_secret == "whsec-new-secret-5678" and previous_secret(latest) is None  # window closed

        # takes effect: the bureau is pulled from the new primary (the sandbox accepts any key)
        _, pan = demo_identity(0, "auto")
        _, loan = await _apply(driver, pan)
        with db.unit_of_work() as s:
            assert s.scalars(select(BureauReport.provider).where(BureauReport.loan_id == loan["id"])).one() == "equifax"

        # a kind removed, then re-added without its URL
        assert (await api.ok("PUT", "/providers/aa", json={"vendors": []}))["aa"]["vendors"] == []
        assert "aa" not in _config(db, brand["brand_id"])["providers"]
        stored = _config(db, brand["brand_id"])
        audit_count = _audit_count(db, brand["brand_id"])
        for kind, bad, field in [
            ("aa", {"vendors": [{"vendor": "finduit"}]}, "vendors.0.baseUrl"),
            ("bureau", {"vendors": [{"vendor": "experian", "baseUrl": "http://x"}]}, "vendors.0.vendor"),
            ("bureau", {"vendors": [{"vendor": "cibil"}, {"vendor": "cibil"}]}, "vendors.1.vendor"),
            ("bureau", {"vendors": [{"vendor": "cibil", "active": False}], "primary": "cibil"}, "primary"),
            ("bureau", {"vendors": [{"vendor": "cibil"}], "primary": "equifax"}, "primary"),
            ("bureau", {"vendors": [{"vendor": "cibil", "baseUrl": "ftp://x"}]}, "vendors.0.baseUrl"),
            ("bureau", {"vendors": [{"vendor": "cibil", "options": {"api_key": "x"}}]}, "vendors.0.options.api_key"),
            # a new URL for a configured vendor: its key is not carried to the new host, nor the masked one
            ("bureau", {"vendors": [{"vendor": "cibil", "baseUrl": "https://elsewhere.example"}]}, "vendors.0.apiKey"),
            (
                "bureau",
                {"vendors": [{"vendor": "cibil", "baseUrl": "https://elsewhere.example", "apiKey": "****-key"}]},
                "vendors.0.apiKey",
            ),
            ("crypto", {"vendors": []}, "kind"),
        ]:
            await api.refused(422, "PUT", f"/providers/{kind}", field, json=bad)
        await api.refused(403, "PUT", "/providers/aa", role="CREDIT_EXECUTIVE", json={"vendors": []})
        await Settings(other, brand["brand_id"]).refused(404, "PUT", "/providers/aa", json={"vendors": []})
        await api.refused(403, "GET", "/providers", role="CREDIT_EXECUTIVE")
        assert _config(db, brand["brand_id"]) == stored and _audit_count(db, brand["brand_id"]) == audit_count

        audits = _audits(db, brand["brand_id"], "settings.providers.update")
        assert audits[0].entity_id == "bureau" and audits[0].before["vendors"][0]["vendor"] == "cibil"
        assert audits[1].after["secretsChanged"] == ["equifax"]
        assert not any("sandbox-" in json.dumps([a.before, a.after]) for a in audits)  # never a secret
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- days off, holidays
async def test_unavailability_and_holidays(app, brand, other_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = Driver(app.api.url, sandbox.url, other_brand["brand_code"])
    api = Settings(driver, brand["brand_id"])
    executive = _staff_id(brand, "LOAN_EXECUTIVE")
    today = datetime.now(UTC).date()
    try:
        # a new customer goes to the brand's loan executive...
        phone, _ = demo_identity(0, "auto")
        await driver.register(phone)
        with db.unit_of_work() as s:
            assert s.scalars(select(Customer.assigned_to).where(Customer.phone == phone)).one() == executive

        day_off = await api.ok(
            "POST", "/unavailability-dates", json={"staffId": executive, "day": today.isoformat(), "reason": "leave"}
        )
        assert day_off["staffEmail"].startswith("loan.executive@") and day_off["day"] == today.isoformat()
        listed = await api.ok("GET", f"/unavailability-dates?staffId={executive}&from={today}&to={today}")
        assert [d["id"] for d in listed] == [day_off["id"]]
        assert await api.ok("GET", f"/unavailability-dates?from={today + timedelta(days=1)}") == []
        # ...but not on their day off
        phone, _ = demo_identity(0, "auto")
        await driver.register(phone)
        with db.unit_of_work() as s:
            assert s.scalars(select(Customer.assigned_to).where(Customer.phone == phone)).one() is None

        days_before = _rows(db, PartnerUnavailabilityDate, staff_id=executive)
        outsider = _staff_id(other_brand, "LOAN_EXECUTIVE")
        await api.refused(409, "POST", "/unavailability-dates", "day", json={"staffId": executive, "day": str(today)})
        await api.refused(
            422, "POST", "/unavailability-dates", "staffId", json={"staffId": outsider, "day": str(today)}
        )
        await api.refused(422, "POST", "/unavailability-dates", "staffId", json={"staffId": "me", "day": str(today)})
        await api.refused(422, "POST", "/unavailability-dates", "day", json={"staffId": executive, "day": "2025-02-30"})
        await api.refused(422, "GET", f"/unavailability-dates?from={today}&to={today - timedelta(days=1)}", "to")
        await api.refused(
            403,
            "POST",
            "/unavailability-dates",
            role="CREDIT_EXECUTIVE",
            json={"staffId": executive, "day": "2030-01-01"},
        )
        foreign = await Settings(other, other_brand["brand_id"]).ok(
            "POST", "/unavailability-dates", json={"staffId": outsider, "day": str(today)}
        )
        await api.refused(404, "DELETE", f"/unavailability-dates/{foreign['id']}")
        assert _rows(db, PartnerUnavailabilityDate, staff_id=executive) == days_before
        assert len(_rows(db, PartnerUnavailabilityDate, staff_id=outsider)) == 1
        assert (await api.ok("DELETE", f"/unavailability-dates/{day_off['id']}"))["deleted"]
        assert await api.ok("GET", "/unavailability-dates") == []

        # a non-repayment date on the first due date moves it to the next day
        preview = f"/api/v1/web/products/PL-MONTHLY/emi-preview?brand={brand['brand_code']}&amount=20000&tenure=3"
        first_due = date.fromisoformat((await driver._ok(await driver.api.get(preview)))["installments"][0]["due_date"])
        holiday = await api.ok("POST", "/holidays", json={"day": first_due.isoformat(), "reason": "Diwali"})
        moved = (await driver._ok(await driver.api.get(preview)))["installments"][0]["due_date"]
        assert moved == (first_due + timedelta(days=1)).isoformat()
        assert [h["id"] for h in await api.ok("GET", f"/holidays?from={first_due}&to={first_due}")] == [holiday["id"]]

        holidays_before = _rows(db, BrandNonRepaymentDate, brand_id=brand["brand_id"])
        await api.refused(409, "POST", "/holidays", "day", json={"day": first_due.isoformat()})
        await api.refused(422, "POST", "/holidays", "day", json={"day": "tomorrow"})
        await api.refused(422, "POST", "/holidays", "reason", json={"day": "2030-01-01", "reason": "x" * 201})
        await api.refused(403, "POST", "/holidays", role="CREDIT_EXECUTIVE", json={"day": "2030-01-01"})
        foreign = await Settings(other, other_brand["brand_id"]).ok("POST", "/holidays", json={"day": "2030-01-01"})
        await api.refused(404, "DELETE", f"/holidays/{foreign['id']}")
        assert _rows(db, BrandNonRepaymentDate, brand_id=brand["brand_id"]) == holidays_before
        assert (await api.ok("DELETE", f"/holidays/{holiday['id']}"))["deleted"]
        assert (await driver._ok(await driver.api.get(preview)))["installments"][0]["due_date"] == first_due.isoformat()

        assert _audits(db, brand["brand_id"], "settings.unavailability.create")[0].after["staffId"] == executive
        assert _audits(db, brand["brand_id"], "settings.unavailability.delete")[0].before["day"] == str(today)
        assert _audits(db, brand["brand_id"], "settings.holiday.create")[0].after["reason"] == "Diwali"
        assert _audits(db, brand["brand_id"], "settings.holiday.delete")[0].before["day"] == first_due.isoformat()
    finally:
        await driver.close()
        await other.close()


# ------------------------------------------------------------------------------------------- platform admin
async def test_admin_brands_and_settings(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        root = await driver.staff_headers("SUPER_ADMIN")
        admin = await driver.staff_headers("ADMIN")
        code = f"n{uuid.uuid4().hex[:7]}"
        for method, path in [
            ("GET", "/api/v1/admin/brands"),
            ("POST", "/api/v1/admin/brands"),
            ("GET", "/api/v1/admin/settings"),
            ("PUT", f"/api/v1/admin/settings/brand/{brand['brand_id']}"),
            ("PUT", f"/api/v1/admin/brands/{brand['brand_id']}"),
        ]:
            resp = await driver.api.request(method, path, headers=admin, json={"code": code, "name": "X"})
            assert resp.status_code == 403, resp.text
        with db.unit_of_work() as s:
            assert s.scalars(select(Brand).where(Brand.code == code)).first() is None

        resp = await driver.api.post("/api/v1/admin/brands", headers=root, json={"code": code, "name": "New Lender"})
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["isActive"] and created["config"]["minCreditScore"] == 650
        listed = (await driver.api.get("/api/v1/admin/brands", headers=root)).json()
        assert any(b["id"] == created["id"] and b["code"] == code for b in listed)
        with db.unit_of_work() as s:
            new = s.get_one(Brand, created["id"])
            assert new.config["providers"] == {}  # nothing points anywhere yet
            codes = set(s.scalars(select(BrandStatusReason.code).where(BrandStatusReason.brand_id == new.id)))
            assert codes == {r[0] for r in STATUS_REASONS}
        # its settings are reachable (a super admin works in every brand)
        new_api = Settings(driver, created["id"], role="SUPER_ADMIN")
        assert len(await new_api.ok("GET", "/status-reasons")) == len(STATUS_REASONS)
        summary = next(
            b for b in (await driver.api.get("/api/v1/admin/settings", headers=root)).json() if b["code"] == code
        )
        assert summary["providers"] == {} and summary["config"]["kycSteps"] == ["PAN"]
        seeded = next(
            b
            for b in (await driver.api.get("/api/v1/admin/settings", headers=root)).json()
            if b["id"] == brand["brand_id"]
        )
        assert seeded["providers"]["bureau"] == {"vendors": ["cibil", "equifax"], "primary": "cibil"}
        assert "sandbox-" not in json.dumps(seeded)

        brands_before = (await driver.api.get("/api/v1/admin/brands", headers=root)).json()
        for body, field in [({"code": code, "name": "Again"}, None), ({"code": "Bad Code", "name": "X"}, "code")]:
            resp = await driver.api.post("/api/v1/admin/brands", headers=root, json=body)
            assert resp.status_code == (409 if field is None else 422), resp.text
            if field:
                assert resp.json()["errors"][0]["field"] == field
        assert (await driver.api.get("/api/v1/admin/brands", headers=root)).json() == brands_before

        # the validated partial update, for any brand
        url = f"/api/v1/admin/settings/brand/{created['id']}"
        resp = await driver.api.put(url, headers=root, json={"minCreditScore": 720, "autoSanctionScore": 780})
        assert resp.status_code == 200 and resp.json()["config"]["minCreditScore"] == 720
        resp = await driver.api.put(url, headers=root, json={"minCreditScore": 800})  # above auto-sanction 780
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "minCreditScore"
        assert _config(db, created["id"])["min_credit_score"] == 720
        resp = await driver.api.put(f"/api/v1/admin/settings/brand/{uuid.uuid4()}", headers=root, json={})
        assert resp.status_code == 404

        # deactivation: its brand-scoped routes then answer 404
        resp = await driver.api.put(f"/api/v1/admin/brands/{created['id']}", headers=root, json={"isActive": False})
        assert resp.status_code == 200 and resp.json()["isActive"] is False
        await new_api.refused(404, "GET", "/brand")
        resp = await driver.api.put(f"/api/v1/admin/brands/{created['id']}", headers=root, json={"isActive": "maybe"})
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "isActive"

        assert _audits(db, created["id"], "admin.brand.create")[0].after["code"] == code
        update = _audits(db, created["id"], "admin.settings.brand.update")[0]
        assert update.before == {"minCreditScore": 650, "autoSanctionScore": 750}
        assert update.after == {"minCreditScore": 720, "autoSanctionScore": 780}
        deactivated = _audits(db, created["id"], "admin.brand.update")[0]
        assert deactivated.before == {"isActive": True} and deactivated.after == {"isActive": False}
        assert deactivated.actor_role == "SUPER_ADMIN"
    finally:
        await driver.close()
