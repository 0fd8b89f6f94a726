"""The bank statement given ahead (``acceptsAhead`` in ``GET /api/v1/web/loans/{id}?include=kyc``, api/web/kyc_view.py):
over the real API, Temporal, PostgreSQL and the sandbox's statement analysis.

The KYC progress offers the statement upload while the steps before it run; the borrower uploads it while their loan
still waits for the Aadhaar OTP; the statement's first attempt reads that upload at once (kyc-read-on-upload-v1: its
analysis is stored before the OTP is given, and the step is never waited for); once the OTP is verified the lookups
run and the loan is decided. A brand that takes statements through an Account Aggregator offers nothing
ahead: its step asks for the AA consent itself."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text, update

from db.models import Brand, BsaReport, Loan
from los.demo import SANDBOX_AADHAAR_OTP, Driver, demo_aadhaar, demo_identity, demo_statement_pdf
from los.seed import FULL_KYC, seed_brand
from tests.conftest import eventually
from tests.integration.test_loan_long_poll import applied_loan
from workflows.contracts import LoanWorkflowInput


@pytest.fixture
def kyc_brand(db, sandbox) -> dict:  # noqa: ANN001
    code = f"k{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Ahead {code}", period_seconds=2, kyc_steps=FULL_KYC)


async def test_the_statement_uploaded_ahead_is_read_when_its_turn_comes(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan_id = await applied_loan(driver)
        kyc = (await driver.loan(headers, loan_id, kyc=True))["kyc"]
        assert kyc["waitingFor"] == "AADHAAR" and kyc["acceptsAhead"] == ["BANK_STATEMENT"]
        assert kyc["inputsReceived"] == 0

        # uploaded while the loan waits for the OTP: the offer is taken up, the workflow has the input
        files = {"file": ("statement.pdf", demo_statement_pdf(), "application/pdf")}
        uploaded = await driver._ok(
            await driver.api.post("/api/v1/web/bank/upload-statement", headers=headers, files=files)
        )
        assert uploaded["status"] == "ANALYSIS_REQUESTED"

        async def received() -> dict | None:
            kyc = (await driver.loan(headers, loan_id, kyc=True))["kyc"]
            return kyc if kyc["inputsReceived"] == 1 else None

        kyc = await eventually(received, timeout=30)
        assert kyc["waitingFor"] == "AADHAAR" and kyc["acceptsAhead"] == []
        assert "BANK_STATEMENT" not in kyc["results"]

        # read on its upload: the sandbox's analysis is stored while the OTP is still awaited
        def analysed() -> tuple[str, str] | None:
            with db.unit_of_work() as session:
                row = session.execute(
                    select(BsaReport.status, BsaReport.source).where(BsaReport.loan_id == loan_id)
                ).first()
                return (row.status, row.source) if row else None

        assert await eventually(analysed, timeout=30) == ("COMPLETED", "UPLOAD")
        assert (await driver.loan(headers, loan_id, kyc=True))["kyc"]["waitingFor"] == "AADHAAR"

        # the OTP: the steps after it run, the statement's first attempt reads the upload, the loan is decided
        aadhaar = {"aadhaarNumber": demo_aadhaar()}
        await driver._ok(await driver.api.post("/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json=aadhaar))
        otp = {"otp": SANDBOX_AADHAAR_OTP}
        submitted = await driver.api.post("/api/v1/web/kyc/submit-aadhaar-otp", headers=headers, json=otp)
        verified = await driver._ok(submitted)
        assert verified["status"] == "VERIFIED"

        async def decided() -> dict | None:
            loan = await driver.loan(headers, loan_id)
            return loan if loan["status"] != "APPLIED" else None

        loan = await eventually(decided, timeout=60)
        assert loan["status"] in {"SANCTIONED", "UNDER_REVIEW"}, loan["statusHistory"]
        with db.unit_of_work() as session:
            workflow_id = session.scalars(select(Loan.workflow_id).where(Loan.id == loan_id)).one()
        history = await app.client.get_workflow_handle(workflow_id).fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
        ]
        statement = [a for a in scheduled if a.activity_type.name == "kyc_bank_statement"]
        assert len(statement) == 1  # read at its first attempt: the step never waited for the borrower
        names = [a.activity_type.name for a in scheduled]
        assert names.index("kyc_bank_statement") < names.index("aadhaar_answered")  # before the OTP's handoff
        # the customer's first loan (the API said so in the workflow's input): no earlier KYC results looked for
        started = history.events[0].workflow_execution_started_event_attributes
        (inp,) = await app.client.data_converter.decode(started.input.payloads, [LoanWorkflowInput])
        assert inp.first_loan is True
        local = [
            json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
            for e in history.events
            if e.HasField("marker_recorded_event_attributes")
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ]
        assert "kyc_pan" in local and "kyc_reuse_lookup" not in local
    finally:
        await driver.close()


async def test_a_brand_on_the_account_aggregator_offers_no_statement_ahead(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    with db.unit_of_work() as session:
        brand = session.scalars(select(Brand).where(Brand.code == kyc_brand["brand_code"])).one()
        session.execute(update(Brand).where(Brand.id == brand.id).values(config={**brand.config, "aa_enabled": True}))
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan_id = await applied_loan(driver)
        kyc = (await driver.loan(headers, loan_id, kyc=True))["kyc"]
        assert kyc["waitingFor"] == "AADHAAR" and kyc["acceptsAhead"] == []
    finally:
        await driver.close()


async def test_a_statement_older_than_the_brand_allows_is_not_read_and_a_new_one_is_asked_for(
    app, kyc_brand, sandbox, db
) -> None:  # noqa: ANN001
    """A statement the borrower uploaded before applying (kept, no loan yet) but more than ``statementMaxAgeDays``
    (30) ago: the progress offers a new one ahead, and the statement step, its turn come with no new upload, does not
    analyse the old one but waits for a recent one, saying why; the new upload is the one analysed."""
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        old = await driver.upload_statement(headers)
        assert old["status"] == "SAVED"  # no loan yet: kept for later
        with db.unit_of_work() as session:
            session.execute(
                text("UPDATE customer_documents SET created_at = now() - interval '31 days' WHERE id = :id"),
                {"id": old["id"]},
            )
        loan_id = (
            await driver._ok(
                await driver.api.post(
                    "/api/v1/web/loans",
                    json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"},
                    headers=headers,
                )
            )
        )["id"]

        async def kyc_where(check: Any) -> dict | None:
            kyc = (await driver.loan(headers, loan_id, kyc=True)).get("kyc") or {}
            return kyc if check(kyc) else None

        kyc = await eventually(lambda: kyc_where(lambda k: k.get("waitingFor") == "AADHAAR"), timeout=60)
        assert kyc["acceptsAhead"] == ["BANK_STATEMENT"]  # the old one does not count
        await driver.aadhaar_otp(headers)
        kyc = await eventually(lambda: kyc_where(lambda k: k.get("waitingFor") == "BANK_STATEMENT"), timeout=60)
        assert "more than 30 days ago" in kyc["notes"]["BANK_STATEMENT"], kyc["notes"]
        with db.unit_of_work() as session:
            assert session.scalars(select(BsaReport.id).where(BsaReport.loan_id == loan_id)).first() is None

        new = await driver.upload_statement(headers)
        loan = await driver.wait_for(
            headers, loan_id, lambda x: x["status"] != "APPLIED", "a decision", time.monotonic() + 60
        )
        assert loan["status"] in {"SANCTIONED", "UNDER_REVIEW"}, loan["statusHistory"]
        with db.unit_of_work() as session:
            read = session.scalars(select(BsaReport.document_id).where(BsaReport.loan_id == loan_id)).all()
        assert read == [new["id"]]
    finally:
        await driver.close()
