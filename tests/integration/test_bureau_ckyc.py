"""The borrower's CKYC number, from the KYC pipeline's CKYC step to the bureau file (docs/bureau-reporting.md): a
loan applied for through the real API on a brand whose KYC runs PAN and CKYC, the sandbox's Digitap twin answering
the CKYC search and download over HTTP; the matched record's 14-digit number kept on the customer; the loan, once
on the book, reported in the TUDF file with the CKYC number in its own ID segment after the PAN."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import select

from db.models import Brand, Customer, Loan
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually
from tests.unit.test_cic_format import id_segments
from workflows.options import IST

R = 100


async def test_the_ckyc_number_found_at_kyc_is_reported_to_the_cics(app, db, sandbox) -> None:  # noqa: ANN001
    code = f"c{uuid.uuid4().hex[:8]}"
    brand = seed_brand(db, sandbox.url, code=code, name=f"Ckyc {code}", period_seconds=2, kyc_steps=["PAN", "CKYC"])
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            )
        )

        async def decided():  # noqa: ANN202
            current = await driver.loan(headers, loan["id"], kyc=True)
            return current if current["status"] != "APPLIED" else None

        await eventually(decided, timeout=60)

        # the registry's number as the vendor's twin answers it: the CKYC identifier is 14 digits (CERSAI's KIN;
        # id type Z "CKYC Identifier, 14 digit number", https://developers.arthmate.com/docs/ckyc-api-reference-code)
        async with httpx.AsyncClient(base_url=sandbox.url) as vendor:
            found = (await vendor.post("/digitap/ckyc/search", json={"pan": pan, "id_type": "PAN"})).json()
        assert found["found"] is True
        kin = found["ckyc_number"]
        assert isinstance(kin, str) and len(kin) == 14 and kin.isdigit(), kin

        with db.unit_of_work() as s:
            customer = s.scalars(
                select(Customer).join(Loan, Loan.customer_id == Customer.id).where(Loan.id == loan["id"])
            ).one()
            assert customer.ckyc_number == kin
            # on the book since 1 Aug 2026, reported by the brand; the profile the format needs
            row = s.get_one(Loan, loan["id"])
            row.status, row.outstanding_principal, row.dpd, row.asset_class = "DISBURSED", 50_000 * R, 0, "STANDARD"
            row.disbursed_at = datetime(2026, 8, 1, 12, tzinfo=IST)
            row.created_at = row.disbursed_at - timedelta(days=1)
            customer.gender, customer.dob = customer.gender or "M", customer.dob or date(1990, 1, 1)
            # the twin's PANs draw their fourth letter from A–K; the format wants an individual's holder status
            customer.pan = customer.pan[:3] + "P" + customer.pan[4:]
            b = s.get_one(Brand, brand["brand_id"])
            b.config = {
                **(b.config or {}),
                "bureau_reporting": {"enabled": True, "memberCode": "NB00012345", "memberShortName": "Test NBFC"},
            }
            customer_pan = customer.pan

        staff = await driver.staff_headers("ADMIN")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/bureau-files"
        built = await driver.api.post(url, headers=staff, json={"kind": "INCREMENTAL", "referenceDate": "2026-08-09"})
        assert built.status_code == 200, built.text
        body = built.json()
        assert body["status"] == "VALIDATED" and body["records"] == 1, (body["recordErrors"], body["headerErrors"])
        content = await driver.api.get(f"{url}/{body['id']}/download", headers=staff)
        assert content.status_code == 200, content.text
    finally:
        await driver.close()

    record = content.text.splitlines()[1]
    assert id_segments(record) == [
        ("I01", {"01": "01", "02": customer_pan}),  # the PAN
        ("I02", {"01": "09", "02": kin}),  # the CKYC number
    ]


async def test_a_ckyc_record_below_the_threshold_keeps_no_number(app, db, sandbox) -> None:  # noqa: ANN001
    """A record in someone else's name (the twin's PANs ending M) fails the match: its number is not the
    applicant's and is not kept."""
    code = f"c{uuid.uuid4().hex[:8]}"
    brand = seed_brand(db, sandbox.url, code=code, name=f"Ckyc {code}", period_seconds=2, kyc_steps=["PAN", "CKYC"])
    with db.unit_of_work() as s:
        b = s.get_one(Brand, brand["brand_id"])
        b.config = {**(b.config or {}), "ckyc_match_threshold": 70}
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(1, "auto")
        pan = pan[:-1] + "M"
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            )
        )

        async def decided():  # noqa: ANN202
            current = await driver.loan(headers, loan["id"], kyc=True)
            return current if current["status"] != "APPLIED" else None

        final = await eventually(decided, timeout=60)
    finally:
        await driver.close()
    assert final["status"] == "REJECTED" and final["statusReason"].startswith("KYC_CKYC"), final
    with db.unit_of_work() as s:
        customer = s.scalars(
            select(Customer).join(Loan, Loan.customer_id == Customer.id).where(Loan.id == loan["id"])
        ).one()
        assert customer.ckyc_number is None
