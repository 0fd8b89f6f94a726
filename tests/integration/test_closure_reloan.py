"""Closure certificates and reloans through the real API, worker, Temporal dev server, PostgreSQL, sandbox and
Chromium.

The closed loans are real loans of real customers (applied through the API, decided by their workflows); their
closure is then written on the row as the servicing phase leaves it (status, ``closedAs``, ``closedAt``,
``maxDpd``), since paying a loan to the end is the money-in suites' subject, not this one's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from temporalio.testing import ActivityEnvironment

from activities.documents import render_html
from activities.loan.closure_docs import ClosureDocActivities
from activities.storage import LocalStorage
from db.closure import certificate_context
from db.models import ClosureCertificate, Customer, CustomerMessage, Loan, LoanDecision, ProviderCall, ReloanOffer
from los.demo import Driver
from tests.conftest import eventually
from tests.integration.test_staff_and_webhooks import _apply
from workflows.contracts import CertificateRequest, ReloanRequest

ROLE = "LOAN_EXECUTIVE"


async def _rejected(driver: Driver) -> tuple[dict, dict]:
    """A customer whose application the workflow decided (REJECTED, its PAN verified and recorded)."""
    headers, loan = await _apply(driver, "reject")

    async def ended() -> dict | None:
        seen = await driver.loan(headers, loan["id"])
        return seen if seen["status"] == "REJECTED" else None

    return headers, await eventually(ended, timeout=60)


def _close(db, loan_id: str, status: str, closed_as: str | None, max_dpd: int = 0) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        s.execute(
            update(Loan)
            .where(Loan.id == loan_id)
            .values(status=status, closed_as=closed_as, closed_at=datetime.now(UTC), max_dpd=max_dpd)
        )


def _activities(app, db, storage_dir, renderer, http: httpx.AsyncClient) -> ClosureDocActivities:  # noqa: ANN001
    return ClosureDocActivities(
        db, http, LocalStorage(storage_dir), renderer, app.settings.api_url, app.settings.field_key()
    )


def _printed(db, loan_id: str) -> str:  # noqa: ANN001
    """The loan's current certificate as its template prints it (the PDF is that HTML through Chromium)."""
    with db.unit_of_work() as s:
        cert = s.scalars(
            select(ClosureCertificate)
            .where(ClosureCertificate.loan_id == loan_id)
            .order_by(ClosureCertificate.version.desc())
        ).first()
        return " ".join(render_html("noc.html", certificate_context(s, cert, datetime.now(UTC).date())).split())


def _messages(db, loan_id: str, event: str) -> list[str]:  # noqa: ANN001
    with db.unit_of_work() as s:
        return list(
            s.scalars(
                select(CustomerMessage.kind).where(CustomerMessage.loan_id == loan_id, CustomerMessage.event == event)
            ).all()
        )


async def test_certificate_issued_once_regenerated_and_downloaded_by_its_borrower_only(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _rejected(driver)
        other, other_loan = await _rejected(driver)
        await driver.staff_headers(ROLE)
        # a loan not closed: no certificate, and staff cannot make one (409 naming the status)
        refused = await driver.api.post(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/generate-ndc",
            headers=await driver.staff_headers(ROLE),
        )
        assert refused.status_code == 409 and "REJECTED" in refused.json()["message"], refused.text
        missing = await driver.api.get(f"/api/v1/web/loans/{loan['id']}/noc", headers=headers)
        assert missing.status_code == 404

        _close(db, loan["id"], "COMPLETED", "REPAID")
        async with httpx.AsyncClient(timeout=30) as http:
            acts = _activities(app, db, storage_dir, renderer, http)
            first = await ActivityEnvironment().run(acts.issue_closure_certificate, CertificateRequest(loan["id"]))
            again = await ActivityEnvironment().run(acts.issue_closure_certificate, CertificateRequest(loan["id"]))
        assert first == again and first["version"] == 1 and first["kind"] == "NO_DUES"
        assert first["certificateNo"].startswith(f"NOC/{brand['brand_code'].upper()}/")
        assert first["certificateNo"].endswith("/000001")
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).where(ClosureCertificate.loan_id == loan["id"])) == 1
        assert _messages(db, loan["id"], "NOC_ISSUED").count("sms") == 1  # told once, for all the retries

        pdf = await driver.api.get(f"/api/v1/web/loans/{loan['id']}/noc", headers=headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["x-certificate-no"] == first["certificateNo"]
        # another customer never sees it, and the other customer's loan has none
        assert (await driver.api.get(f"/api/v1/web/loans/{loan['id']}/noc", headers=other)).status_code == 404
        assert (await driver.api.get(f"/api/v1/web/loans/{other_loan['id']}/noc", headers=other)).status_code == 404

        regenerated = await driver.partner(ROLE, "POST", f"/loans/{loan['id']}/generate-ndc")
        assert regenerated["version"] == 2 and regenerated["kind"] == "NO_DUES" and regenerated["sent"]
        assert regenerated["certificateNo"].endswith("/000002")
        pdf = await driver.api.get(f"/api/v1/web/loans/{loan['id']}/noc", headers=headers)
        assert pdf.headers["x-certificate-version"] == "2"
        assert pdf.headers["x-certificate-no"] == regenerated["certificateNo"]
        staff_pdf = await driver.api.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/ndc",
            headers=await driver.staff_headers(ROLE),
        )
        assert staff_pdf.status_code == 200 and staff_pdf.content == pdf.content

        # a settled loan's certificate says so
        _close(db, other_loan["id"], "SETTLED", None)
        settled = await driver.partner(ROLE, "POST", f"/loans/{other_loan['id']}/generate-ndc")
        assert settled["kind"] == "SETTLED" and settled["version"] == 1
        letter = _printed(db, other_loan["id"])
        assert "settled, not paid in full" in letter and "reported to the credit information companies as" in letter
        assert "No Dues" not in letter and settled["certificateNo"] in letter
        noc = _printed(db, loan["id"])
        assert "No Dues and No Objection Certificate" in noc and "no objection" in noc and "released" in noc
        assert "₹25,000.00" in noc and regenerated["certificateNo"] in noc and "(version 2)" in noc

        # the lists
        done = await driver.partner("CREDIT_EXECUTIVE", "GET", "/completed")
        assert [(i["id"], i["certificateNo"]) for i in done["items"]] == [(loan["id"], regenerated["certificateNo"])]
        with db.unit_of_work() as s:
            borrower = s.get_one(Customer, s.get_one(Loan, loan["id"]).customer_id)
            name = borrower.full_name or borrower.pan_name
        assert name and done["items"][0]["customerName"] == name  # who, not only an id
        assert done["items"][0]["creditBalancePaise"] == 0
        assert (await driver.partner("CREDIT_EXECUTIVE", "GET", "/completed", params={"closedAs": "FORECLOSED"}))[
            "total"
        ] == 0
        assert [i["id"] for i in (await driver.partner("CREDIT_EXECUTIVE", "GET", "/completed/settled"))["items"]] == [
            other_loan["id"]
        ]
        assert (await driver.partner("CREDIT_EXECUTIVE", "GET", "/completed/writeoff"))["items"] == []
        # a filter that cannot match is refused naming it, not answered with an empty list
        lists = f"/api/v1/partner/brand/{brand['brand_id']}/completed"
        staff = await driver.staff_headers("CREDIT_EXECUTIVE")
        for params, field in (
            ({"closedAs": "BOGUS"}, "closedAs"),
            ({"closedFrom": "2026-12-10", "closedTo": "2026-12-01"}, "closedFrom"),
        ):
            r = await driver.api.get(lists, params=params, headers=staff)
            assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field], r.text
        future = await driver.partner("CREDIT_EXECUTIVE", "GET", "/completed", params={"closedFrom": "2099-01-01"})
        assert future["total"] == 0
    finally:
        await driver.close()


async def test_reloans_by_staff_and_by_the_customer_reuse_kyc(app, brand, sandbox, db, storage_dir, renderer) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        # the customer's own reloan: an offer made at closure, taken up by applying; the PAN step is not run again
        headers, loan = await _rejected(driver)
        _close(db, loan["id"], "COMPLETED", "REPAID", max_dpd=3)
        async with httpx.AsyncClient(timeout=30) as http:
            acts = _activities(app, db, storage_dir, renderer, http)
            offer = await ActivityEnvironment().run(acts.offer_reloan, ReloanRequest(loan["id"]))
            assert offer == await ActivityEnvironment().run(acts.offer_reloan, ReloanRequest(loan["id"]))
        assert offer["amount"] == 30_000_00  # 25,000 rupees stepped up 20 %
        assert _messages(db, loan["id"], "RELOAN_OFFER").count("sms") == 1
        offers = (await driver.api.get("/api/v1/web/reloan-offers", headers=headers)).json()
        assert [(o["id"], o["amountPaise"], o["previousLoanId"]) for o in offers] == [
            (offer["offerId"], 30_000_00, loan["id"])
        ]
        new = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )

        async def kyc_recorded() -> list | None:
            with db.unit_of_work() as s:
                return s.scalar(
                    select(LoanDecision.details).where(LoanDecision.loan_id == new["id"], LoanDecision.stage == "KYC")
                )

        entries = await eventually(kyc_recorded, timeout=60)
        assert [(e["step"], e["status"], e["sourceLoanId"]) for e in entries] == [("PAN", "REUSED", loan["id"])]
        with db.unit_of_work() as s:
            assert s.get_one(Loan, new["id"]).previous_loan_id == loan["id"]
            row = s.get_one(ReloanOffer, offer["offerId"])
            assert (row.status, row.new_loan_id) == ("ACCEPTED", new["id"])
            kinds = s.scalars(select(ProviderCall.kind).where(ProviderCall.loan_id == new["id"])).all()
            assert "PAN" not in kinds  # verified on the first loan, not asked again
        assert (await driver.api.get("/api/v1/web/reloan-offers", headers=headers)).json() == []

        # staff start one for a customer whose loan closed in good standing (no offer yet)
        _, good = await _rejected(driver)
        _close(db, good["id"], "COMPLETED", "FORECLOSED")
        customer = good["customerId"]
        started = await driver.partner(ROLE, "POST", f"/customers/{customer}/reloan", json={"tenure": 3})
        assert started["amountPaise"] == 30_000_00 and started["status"] == "APPLIED"
        with db.unit_of_work() as s:
            assert s.get_one(Loan, started["id"]).previous_loan_id == good["id"]
            row = s.scalars(select(ReloanOffer).where(ReloanOffer.previous_loan_id == good["id"])).one()
            assert (row.status, row.new_loan_id) == ("ACCEPTED", started["id"])
        staff = await driver.staff_headers(ROLE)
        base = f"/api/v1/partner/brand/{brand['brand_id']}/customers"
        again = await driver.api.post(f"{base}/{customer}/reloan", json={"tenure": 3}, headers=staff)
        assert again.status_code == 409, again.text  # its loan is in progress, or its offer taken

        # not in good standing: 409 with the reason, nothing started
        _, bad = await _rejected(driver)
        _close(db, bad["id"], "COMPLETED", "REPAID", max_dpd=45)
        refused = await driver.api.post(f"{base}/{bad['customerId']}/reloan", json={"tenure": 3}, headers=staff)
        assert refused.status_code == 409 and "45 DPD" in refused.json()["message"], refused.text
        _close(db, bad["id"], "SETTLED", None)
        refused = await driver.api.post(f"{base}/{bad['customerId']}/reloan", json={"tenure": 3}, headers=staff)
        assert refused.status_code == 409 and "REPAID or FORECLOSED" in refused.json()["message"], refused.text
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).where(Loan.customer_id == bad["customerId"])) == 1
        missing = await driver.api.post(f"{base}/{brand['brand_id']}/reloan", json={"tenure": 3}, headers=staff)
        assert missing.status_code == 404
    finally:
        await driver.close()


async def test_a_statement_analysis_is_reused_no_longer_than_a_statement_is_read(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """An earlier loan's KYC results verified 40 days ago: within the brand's ``kycValidityDays`` (180) the PAN check
    is reused, but not the bank statement's analysis, older than ``statementMaxAgeDays`` (30), whose upload the step
    would no longer read either (``domain.reloan.kyc_validity_days``)."""
    from activities.kyc import KycActivities
    from workflows.contracts import KycStepRequest

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _rejected(driver)
        _close(db, loan["id"], "COMPLETED", "REPAID")
        old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        with db.unit_of_work() as s:
            row = s.scalars(
                select(LoanDecision).where(LoanDecision.loan_id == loan["id"], LoanDecision.stage == "KYC")
            ).one()
            (pan,) = [dict(e) for e in row.details]
            statement = {**pan, "step": "BANK_STATEMENT", "facts": {"bsa_avg_salary": 65_000_00}}
            row.details = [{**e, "verifiedAt": old} for e in (pan, statement)]
        new = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )
        async with httpx.AsyncClient(timeout=30) as http:
            kyc = KycActivities(db, http, None, app.settings.api_url, app.settings.field_key())
            found = await ActivityEnvironment().run(
                kyc.kyc_reuse_lookup, KycStepRequest(new["id"], brand["brand_id"], "REUSE", f"t-{new['id']}:reuse")
            )
        assert [(r.step, r.reference) for r in found] == [("PAN", loan["id"])]
    finally:
        await driver.close()
