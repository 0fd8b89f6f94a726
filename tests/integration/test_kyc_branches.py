"""Branches of the KYC phase and the BRE, each driven end to end: real API over HTTP, the loan's Temporal
workflow, PostgreSQL and the provider sandbox."""

from __future__ import annotations

import json
import random
from datetime import date

from sqlalchemy import select

from db.models import (
    AaConsent,
    Brand,
    BsaReport,
    BureauReport,
    Customer,
    CustomerDocument,
    LoanDecision,
    ProviderCall,
    WebhookEvent,
)
from domain.kyc import age_on
from los.demo import Driver, demo_identity
from sandbox import scenarios
from tests.conftest import eventually
from tests.integration import test_kyc_pipeline
from tests.integration.test_kyc_pipeline import _apply, _brand_config, _wait

kyc_brand = test_kyc_pipeline.kyc_brand  # the same brand fixture: full pipeline, seeded BRE rules


def _bre(db, brand_id: str, **rules) -> None:  # noqa: ANN001, ANN003
    """Change some of the brand's hard rules, keeping the others."""
    with db.unit_of_work() as s:
        brand = s.get_one(Brand, brand_id)
        brand.config = {**brand.config, "bre": {**brand.config["bre"], **rules}}


async def _decided(driver: Driver, headers: dict, loan_id: str) -> dict:
    return await _wait(driver, headers, loan_id, lambda x: x["status"] != "APPLIED")


def _decisions(db, loan_id: str) -> dict[str, LoanDecision]:  # noqa: ANN001
    with db.unit_of_work() as s:
        return {d.stage: d for d in s.scalars(select(LoanDecision).where(LoanDecision.loan_id == loan_id))}


def _rule(decision: LoanDecision, rule: str) -> dict:
    return next(r for r in decision.details if r["rule"] == rule)


def _calls(db, loan_id: str, kind: str) -> list[ProviderCall]:  # noqa: ANN001
    with db.unit_of_work() as s:
        return list(s.scalars(select(ProviderCall).where(ProviderCall.loan_id == loan_id, ProviderCall.kind == kind)))


def _with_active_loans(pan: str, loans: int) -> str:
    """The sandbox bureau reports ``int(pan[6]) % 3`` active loans besides the credit card."""
    return pan[:6] + str(loans) + pan[7:]


async def test_bre_rejects_more_active_loans_than_the_maximum(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN"])
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        # two active loans at the bureau against a maximum of two: the limit itself is allowed
        _bre(db, kyc_brand["brand_id"], max_active_loans=2)
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, _with_active_loans(pan, 2))
        final = await _decided(driver, headers, loan["id"])
        assert final["status"] in ("UNDER_REVIEW", "SANCTIONED", "AGREEMENT_PENDING"), final["statusReason"]
        bre = _decisions(db, loan["id"])["BRE"]
        assert bre.outcome == "PASS"
        rule = _rule(bre, "MAX_ACTIVE_LOANS")
        assert (rule["outcome"], rule["observed"], rule["limit"]) == ("PASS", 2, 2)

        # the same bureau file against a maximum of one: rejected by that rule alone, before the evaluation
        _bre(db, kyc_brand["brand_id"], max_active_loans=1)
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, _with_active_loans(pan, 2))
        final = await _decided(driver, headers, loan["id"])
        assert final["status"] == "REJECTED"
        assert final["statusReason"] == "BRE_MAX_ACTIVE_LOANS: 2 active loans exceed maximum 1"
        stages = _decisions(db, loan["id"])
        assert set(stages) == {"KYC", "BRE"}  # the KYC results recorded, then the BRE: no evaluation
        bre = stages["BRE"]
        assert bre.outcome == "FAIL"
        assert [r["rule"] for r in bre.details if r["outcome"] == "FAIL"] == ["MAX_ACTIVE_LOANS"]
        rule = _rule(bre, "MAX_ACTIVE_LOANS")
        assert (rule["observed"], rule["limit"], rule["passed"]) == (2, 1, False)
        (pull,) = _calls(db, loan["id"], "BUREAU")
        assert pull.outcome == "PULLED" and pull.provider == "cibil"
        with db.unit_of_work() as s:
            report = s.scalars(select(BureauReport).where(BureauReport.loan_id == loan["id"])).one()
            assert report.report["active_loans"] == 2
    finally:
        await driver.close()


async def test_bre_rejects_an_applicant_above_the_maximum_age(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN"])
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    today = date.today()
    try:
        # a date of birth given in the personal details is kept over the PAN's (maximum age 60 as seeded)
        born = date(1950, 6, 1)
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        await driver._ok(
            await driver.api.post(
                "/api/v1/web/personal-details/update", headers=headers, json={"dateOfBirth": born.isoformat()}
            )
        )
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            )
        )
        final = await _decided(driver, headers, loan["id"])
        age = age_on(born, today)
        assert final["status"] == "REJECTED"
        assert final["statusReason"] == f"BRE_MAX_AGE: age {age} above maximum 60"
        bre = _decisions(db, loan["id"])["BRE"]
        assert bre.outcome == "FAIL" and [r["rule"] for r in bre.details if not r["passed"]] == ["MAX_AGE"]
        assert (_rule(bre, "MAX_AGE")["observed"], _rule(bre, "MAX_AGE")["limit"]) == (age, 60)
        assert _rule(bre, "MIN_AGE")["outcome"] == "PASS"
        with db.unit_of_work() as s:
            assert s.scalars(select(Customer.dob).where(Customer.phone == phone)).one() == born

        # no declared date of birth: the PAN answer's (1990-01-15) is stored and the rules read it
        _bre(db, kyc_brand["brand_id"], max_age=35)
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, pan)
        final = await _decided(driver, headers, loan["id"])
        age = age_on(date.fromisoformat(scenarios.DOB), today)
        assert age > 35
        assert final["status"] == "REJECTED"
        assert final["statusReason"] == f"BRE_MAX_AGE: age {age} above maximum 35"
        assert _rule(_decisions(db, loan["id"])["BRE"], "MAX_AGE")["observed"] == age
        (call,) = _calls(db, loan["id"], "PAN")
        assert call.outcome == "VERIFIED"
        with db.unit_of_work() as s:
            assert s.scalars(select(Customer.dob).where(Customer.phone == phone)).one() == date.fromisoformat(
                scenarios.DOB
            )
    finally:
        await driver.close()


async def test_mobile_linked_to_another_pan(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN", "MOBILE"], mobile_pan_must_match=True)
    _bre(db, kyc_brand["brand_id"], rejection_duration_days=None)  # the rejected customer applies again below
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        # the sandbox links every phone to a PAN made from its digits: a random PAN is someone else's
        phone, pan = demo_identity(0, "auto")
        linked = scenarios.mobile_pan(phone)["pan"]
        assert linked != pan
        headers, loan = await _apply(driver, phone, pan)
        final = await _decided(driver, headers, loan["id"])
        assert final["status"] == "REJECTED"
        assert final["statusReason"] == "KYC_MOBILE: mobile number is linked to another PAN"
        (call,) = _calls(db, loan["id"], "MOBILE")
        assert call.outcome == "NO_MATCH" and call.provider == "digitap"
        assert linked in json.dumps(call.response)
        assert _decisions(db, loan["id"]) == {} and _calls(db, loan["id"], "BUREAU") == []

        # the phone's own PAN matches: the step passes with the flag on
        own_phone = f"98{random.randrange(10**4):04d}5{random.randrange(10**3):03d}"  # score 780 at the bureau
        headers2, loan2 = await _apply(driver, own_phone, scenarios.mobile_pan(own_phone)["pan"])
        final = await _decided(driver, headers2, loan2["id"])
        assert final["status"] in ("UNDER_REVIEW", "SANCTIONED", "AGREEMENT_PENDING"), final["statusReason"]
        (call,) = _calls(db, loan2["id"], "MOBILE")
        assert call.outcome == "MATCH"

        # with the flag off the first customer's mismatch is only recorded, and the application goes on
        _brand_config(db, kyc_brand["brand_id"], mobile_pan_must_match=False)
        again = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            )
        )
        final = await _decided(driver, headers, again["id"])
        assert final["status"] in ("UNDER_REVIEW", "SANCTIONED", "AGREEMENT_PENDING"), final["statusReason"]
        (call,) = _calls(db, again["id"], "MOBILE")
        assert call.outcome == "NO_MATCH"
        assert _decisions(db, again["id"])["BRE"].outcome == "PASS"
    finally:
        await driver.close()


async def test_account_aggregator_consent_revoked_after_approval(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN", "BANK_STATEMENT"], aa_enabled=True)
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, pan)
        await _wait(driver, headers, loan["id"], lambda x: (x.get("kyc") or {}).get("waitingFor") == "BANK_STATEMENT")
        with db.unit_of_work() as s:
            consent = s.scalars(select(AaConsent).where(AaConsent.loan_id == loan["id"])).one()
        assert consent.status == "PENDING" and consent.provider == "finduit"
        handle = consent.consent_handle

        # the data fetch keeps failing (at FINDUIT, and at CART, which failover asks next), so the approved
        # consent is revoked while the step is still trying to fetch
        for vendor, path in (
            ("finduit", f"/finduit/v1/consents/{handle}/fetch"),
            ("cart", f"/cart/aa/consent-requests/{handle}/data"),
        ):
            fault = {"vendor": vendor, "mode": "503", "times": 0, "path": path}
            (await driver.sandbox.post("/_faults", json=fault)).raise_for_status()
        try:
            (await driver.sandbox.post(consent.consent_url, params={"outcome": "APPROVED"})).raise_for_status()

            async def fetch_tried() -> bool:  # the step saw the approval and asked for the data
                faults = (await driver.sandbox.get("/_faults")).json()
                return any(f["vendor"] == "finduit" and f["hits"] for f in faults)

            await eventually(fetch_tried, timeout=30)
            with db.unit_of_work() as s:
                assert s.get_one(AaConsent, consent.id).status == "APPROVED"
            assert (await driver.loan(headers, loan["id"]))["status"] == "APPLIED"
            (await driver.sandbox.post(f"/finduit/v1/consents/{handle}/revoke")).raise_for_status()
        finally:
            for vendor in ("finduit", "cart"):
                (await driver.sandbox.delete("/_faults", params={"vendor": vendor})).raise_for_status()

        final = await _decided(driver, headers, loan["id"])
        assert final["status"] == "REJECTED"
        assert final["statusReason"] == "KYC_BANK_STATEMENT: account aggregator consent revoked"
        with db.unit_of_work() as s:
            assert s.get_one(AaConsent, consent.id).status == "REVOKED"
            assert s.scalars(select(BsaReport).where(BsaReport.loan_id == loan["id"])).first() is None
        assert _calls(db, loan["id"], "BSA") == [] and _decisions(db, loan["id"]) == {}

        def events() -> list[str] | None:
            with db.unit_of_work() as s:
                rows = s.scalars(
                    select(WebhookEvent).where(
                        WebhookEvent.loan_id == loan["id"], WebhookEvent.delivered_at.is_not(None)
                    )
                ).all()
                kinds = sorted(r.event_type for r in rows)
                return kinds if len(kinds) == 2 else None

        assert await eventually(events, timeout=15) == ["consent.approved", "consent.revoked"]
    finally:
        await driver.close()


async def test_account_aggregator_fault_retries_at_the_issuing_aggregator(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    """A consent lives at the aggregator that issued it: a passing fault there is retried there, never sent to
    another aggregator (which does not know the handle and would refuse it)."""
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN", "BANK_STATEMENT"], aa_enabled=True)
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, pan)
        await _wait(driver, headers, loan["id"], lambda x: (x.get("kyc") or {}).get("waitingFor") == "BANK_STATEMENT")
        with db.unit_of_work() as s:
            consent = s.scalars(select(AaConsent).where(AaConsent.loan_id == loan["id"])).one()
        path = f"/finduit/v1/consents/{consent.consent_handle}/fetch"
        fault = {"vendor": "finduit", "mode": "503", "times": 2, "path": path}
        (await driver.sandbox.post("/_faults", json=fault)).raise_for_status()
        try:
            (await driver.sandbox.post(consent.consent_url, params={"outcome": "APPROVED"})).raise_for_status()
            final = await _decided(driver, headers, loan["id"])
        finally:
            (await driver.sandbox.delete("/_faults", params={"vendor": "finduit"})).raise_for_status()
        assert final["status"] != "REJECTED", final["statusReason"]
        (bsa,) = _calls(db, loan["id"], "BSA")
        assert bsa.outcome == "COMPLETED" and bsa.provider == "finduit"
        with db.unit_of_work() as s:
            report = s.scalars(select(BsaReport).where(BsaReport.loan_id == loan["id"])).one()
            assert report.source == "AA"
    finally:
        await driver.close()


async def test_password_protected_bank_statement(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    _brand_config(db, kyc_brand["brand_id"], kyc_steps=["PAN", "BANK_STATEMENT"], aa_enabled=False)
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    protected = scenarios.sample_statement(PASSWORD="s3cret", SALARY=45000)

    async def upload(headers: dict, password: str | None = None) -> dict:
        files = {"file": ("statement.pdf", protected, "application/pdf")}
        data = {"password": password} if password is not None else None
        doc = await driver._ok(
            await driver.api.post("/api/v1/web/bank/upload-statement", headers=headers, files=files, data=data)
        )
        assert doc["status"] == "ANALYSIS_REQUESTED" and "password" not in json.dumps(doc).lower()
        return doc

    async def note(headers: dict, loan_id: str, words: str) -> dict:
        def waiting(x: dict) -> bool:
            kyc = x.get("kyc") or {}
            return kyc.get("waitingFor") == "BANK_STATEMENT" and words in (kyc.get("notes") or {}).get(
                "BANK_STATEMENT", ""
            )

        return await _wait(driver, headers, loan_id, waiting)

    try:
        phone, pan = demo_identity(0, "auto")
        headers, loan = await _apply(driver, phone, pan)
        await _wait(driver, headers, loan["id"], lambda x: (x.get("kyc") or {}).get("waitingFor") == "BANK_STATEMENT")

        # without its password the analysis refuses it; the loan is not refused, it waits for the password
        await upload(headers)
        await note(headers, loan["id"], "upload it again with its password")
        (call,) = _calls(db, loan["id"], "BANK_STATEMENT")
        assert (
            call.outcome == "REFUSED" and call.provider == "cart" and "PASSWORD_REQUIRED" in json.dumps(call.response)
        )
        # a wrong password: the same, asking for the right one
        await upload(headers, "wrong")
        await note(headers, loan["id"], "with the right password")
        assert (await driver.loan(headers, loan["id"]))["status"] == "APPLIED"

        # the right password: analysed, the step passes; the password was stored sealed, never in clear
        doc = await upload(headers, "s3cret")
        final = await _decided(driver, headers, loan["id"])
        assert final["status"] in ("UNDER_REVIEW", "SANCTIONED", "AGREEMENT_PENDING"), final["statusReason"]
        (bsa,) = _calls(db, loan["id"], "BSA")
        assert bsa.outcome == "COMPLETED" and bsa.provider == "cart"
        with db.unit_of_work() as s:
            report = s.scalars(select(BsaReport).where(BsaReport.loan_id == loan["id"])).one()
            assert report.source == "UPLOAD" and report.summary["avg_salary"] == 45_000_00
            stored = s.get_one(CustomerDocument, doc["id"])
            assert stored.password_sealed and "s3cret" not in stored.password_sealed
        # the upload validates the password's length like any field
        files = {"file": ("statement.pdf", protected, "application/pdf")}
        resp = await driver.api.post(
            "/api/v1/web/bank/upload-statement", headers=headers, files=files, data={"password": "p" * 101}
        )
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "password"
    finally:
        await driver.close()
