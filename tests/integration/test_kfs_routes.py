"""The borrower's Key Fact Statement and agreement through the real API, workflow and database: no KFS before the
sanction (409), the KFS of the sanctioned loan as JSON (its hash, validity, the brand's disclosures) and as a PDF,
a stale hash refused with nothing changed, another customer's loan not found, no agreement before one exists;
then the acceptance reaches the workflow, the agreement (the KFS as its annex) is sent for eSign, and the
borrower and staff download the same PDF with its SHA-256."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import date, datetime

from sqlalchemy import select

from activities.documents import render_html
from api.web.kfs import LoanKfs
from db.kfs import agreement_context
from db.models import Brand, LoanAgreement, LoanStatusHistory
from domain.kfs import kfs_hash
from los.demo import Driver, demo_identity
from workflows.options import IST

DISCLOSED = {
    "lender_legal_name": "Test Finance Private Limited",
    "grievance_officer": "A. Sharma, grievance@test.example",
    "nodal_officer": "R. Iyer, nodal@test.example",
    "recovery_policy_url": "https://test.example/recovery-agents",
    "partner_name": "Test LSP",
}


async def _applied(driver: Driver, scenario: str = "auto") -> tuple[dict[str, str], str]:
    """A registered customer with a loan applied for on PL-MONTHLY (its KYC not yet answered)."""
    phone, pan = demo_identity(0, scenario)
    headers = await driver.register(phone)
    r = await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers)
    assert r.status_code == 200, r.text
    await driver.profile(headers)
    body = {"amount": "60000", "tenure": 6, "productCode": "PL-MONTHLY"}
    r = await driver.api.post("/api/v1/web/loans", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return headers, r.json()["id"]


def _disclose(db, brand: dict) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.get_one(Brand, brand["brand_id"])
        row.config = {**row.config, **DISCLOSED}


async def _sanctioned(driver: Driver, headers: dict[str, str], loan_id: str) -> None:
    await driver.complete_kyc(headers, loan_id, time.monotonic() + 120)
    deadline = time.monotonic() + 120
    loan = await driver.wait_for(
        headers, loan_id, lambda x: x["status"] not in ("APPLIED", "UNDER_REVIEW"), "sanction", deadline
    )
    assert loan["status"] == "SANCTIONED", loan["status"]


async def test_kfs_before_acceptance(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _disclose(db, brand)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        headers, loan_id = await _applied(driver)
        base = f"/api/v1/web/loans/{loan_id}"
        staff_url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan_id}/agreement"

        # Before the sanction: no KFS (409 naming the status); no agreement (404).
        early = await api.get(f"{base}/kfs", headers=headers)
        assert early.status_code == 409 and "APPLIED" in early.text, early.text
        assert (await api.post(f"{base}/kfs/accept", json={"kfsHash": "0" * 64}, headers=headers)).status_code == 409
        assert (await api.get(f"{base}/agreement", headers=headers)).status_code == 404

        # Another customer of the brand finds none of it.
        stranger = await driver.register(demo_identity(1, "auto")[0])
        assert (await api.get(f"{base}/kfs", headers=stranger)).status_code == 404
        assert (await api.get(f"{base}/kfs?format=pdf", headers=stranger)).status_code == 404
        assert (await api.post(f"{base}/kfs/accept", json={"kfsHash": "0" * 64}, headers=stranger)).status_code == 404
        assert (await api.get(f"{base}/agreement", headers=stranger)).status_code == 404
        assert (await api.post(f"{base}/agreement/resend", headers=stranger)).status_code == 404
        assert (await api.get(f"/api/v1/web/loans/{loan_id[:-1]}x/kfs", headers=headers)).status_code == 404

        await _sanctioned(driver, headers, loan_id)

        # The KFS as JSON: its model, its hash, today's issue, its validity, the brand's disclosures.
        r = await api.get(f"{base}/kfs", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        LoanKfs.model_validate(body, by_alias=True, by_name=False)
        kfs = body["kfs"]
        assert body["kfsHash"] == kfs_hash(kfs) and body["loanId"] == loan_id == kfs["loan_account_no"]
        assert body["issuedOn"] == datetime.now(IST).date().isoformat() == kfs["issued_on"]
        assert body["validUntil"] == kfs["valid_until"] > body["issuedOn"] and body["accepted"] is None
        assert kfs["sanctioned_amount_paise"] == 60_000_00 and len(kfs["repayment_schedule"]) == 6
        assert kfs["disclosures"]["lender_legal_name"] == DISCLOSED["lender_legal_name"]
        assert kfs["disclosures"]["nodal_officer"] == DISCLOSED["nodal_officer"]
        assert (await api.get(f"{base}/kfs", headers=headers)).json()["kfsHash"] == body["kfsHash"]  # stable

        # ... and printed.
        pdf = await api.get(f"{base}/kfs", params={"format": "pdf"}, headers=headers)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        assert pdf.headers["x-kfs-hash"] == body["kfsHash"]
        assert pdf.headers["x-content-sha256"] == hashlib.sha256(pdf.content).hexdigest()
        assert (await api.get(f"{base}/kfs", params={"format": "doc"}, headers=headers)).status_code == 422

        # A stale or malformed hash is refused, and nothing changes.
        stale = await api.post(f"{base}/kfs/accept", json={"kfsHash": "0" * 64}, headers=headers)
        assert stale.status_code == 409 and "the KFS changed; fetch it again" in stale.text, stale.text
        bad = await api.post(f"{base}/kfs/accept", json={"kfsHash": "not-a-hash"}, headers=headers)
        assert bad.status_code == 422
        with db.unit_of_work() as s:
            assert not s.scalars(
                select(LoanStatusHistory).where(
                    LoanStatusHistory.loan_id == loan_id, LoanStatusHistory.action == "KFS_ACCEPTED"
                )
            ).all()
        assert (await driver.loan(headers, loan_id))["status"] == "SANCTIONED"

        # What the agreement renders: the same KFS as its annex, the brand's names, the borrower masked.
        with db.unit_of_work() as s:
            context = agreement_context(s, loan_id, date.fromisoformat(body["issuedOn"]))
        assert context["kfs"] == kfs and context["kfs_hash"] == body["kfsHash"] and context["kfs_accepted"] is None
        assert context["lender_legal_name"] == DISCLOSED["lender_legal_name"] and context["logo_url"] is None
        assert "XXXXX" in context["pan_masked"] and len(context["schedule"]) == 6
        html = render_html("agreement.html", context)
        assert body["kfsHash"] in html and DISCLOSED["lender_legal_name"] in html

        # No agreement yet: 404 for the borrower and for staff.
        assert (await api.get(f"{base}/agreement", headers=headers)).status_code == 404
        staff = await driver.staff_headers("CREDIT_EXECUTIVE")
        assert (await api.get(staff_url, headers=staff)).status_code == 404

    finally:
        await driver.close()


async def test_kfs_acceptance_and_agreement_download(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _disclose(db, brand)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        headers, loan_id = await _applied(driver)
        base = f"/api/v1/web/loans/{loan_id}"
        staff_url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan_id}/agreement"
        staff = await driver.staff_headers("CREDIT_EXECUTIVE")
        await _sanctioned(driver, headers, loan_id)
        body = (await api.get(f"{base}/kfs", headers=headers)).json()

        # The acceptance reaches the workflow (LoanWorkflow.accept_kfs) and is recorded in the history.
        accepted = await api.post(f"{base}/kfs/accept", json={"kfsHash": body["kfsHash"]}, headers=headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["kfsHash"] == body["kfsHash"]
        again = (await api.get(f"{base}/kfs", headers=headers)).json()
        assert again["accepted"]["kfsHash"] == body["kfsHash"] and again["accepted"]["issuedOn"] == body["issuedOn"]

        # The agreement goes out for eSign with the accepted KFS as its annex; both parties download it.
        loan = await driver.wait_for(
            headers,
            loan_id,
            lambda x: (x["status"] == "AGREEMENT_PENDING" and x["agreement"]) or x["status"] == "NEEDS_ATTENTION",
            "eSign link",
            time.monotonic() + 120,
        )
        assert loan["status"] == "AGREEMENT_PENDING", (loan["status"], loan.get("statusReason"))
        mine = await api.get(f"{base}/agreement", headers=headers)
        assert mine.status_code == 200 and mine.content.startswith(b"%PDF")
        assert mine.headers["x-content-sha256"] == hashlib.sha256(mine.content).hexdigest()
        theirs = await api.get(staff_url, headers=staff)
        assert theirs.status_code == 200 and theirs.content == mine.content
        assert theirs.headers["x-content-sha256"] == mine.headers["x-content-sha256"]
        with db.unit_of_work() as s:
            agreement = s.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan_id)).one()
            assert agreement.sha256 == mine.headers["x-content-sha256"] and agreement.kfs_hash == body["kfsHash"]
        foreign = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{uuid.uuid4()}/agreement"
        assert (await api.get(foreign, headers=staff)).status_code == 404
    finally:
        await driver.close()
