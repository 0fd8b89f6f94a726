"""Loans through the real API, worker, Temporal dev server, PostgreSQL and sandbox (in-process API)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from db.models import (
    BureauReport,
    Disbursal,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanAgreement,
    LoanStatusHistory,
    PaymentTransaction,
    RepaymentInstallment,
)
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS


@pytest.fixture
def monthly_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand of its own whose compressed month is 5 s, not the shared fixture's 2: this test pins the exact
    status history, so each installment's link must be paid before it falls due even on a slow, busy machine (one
    late payment adds OVERDUE, a penal charge and its ledger transaction)."""
    code = f"t{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Test {code}", period_seconds=5, esign_expiry_seconds=600)


async def test_auto_sanctioned_loan_runs_to_completion(app, monthly_brand, sandbox, db) -> None:  # noqa: ANN001
    brand = monthly_brand
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(0, "auto"), amount=60_000, tenure=3)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED"
    assert journey.installments_paid == 3

    with db.unit_of_work() as s:
        loan = s.get_one(Loan, journey.loan_id)
        assert loan.status == "COMPLETED" and loan.outstanding_principal == 0 and loan.closed_at is not None
        history = [
            h.to_status
            for h in s.scalars(
                select(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan.id).order_by(LoanStatusHistory.seq)
            )
        ]
        assert history == [
            "APPLIED",
            "SANCTIONED",
            "SANCTIONED",  # the borrower accepted the KFS
            "AGREEMENT_PENDING",
            "AGREEMENT_SIGNED",
            "DISBURSAL_PENDING",
            "DISBURSED",
            "COMPLETED",
        ]
        # the KFS accepted is the one the agreement carries; the signed PDF is kept apart from the unsigned one
        kfs_row = s.scalars(
            select(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan.id, LoanStatusHistory.seq == 2)
        ).one()
        agreement = s.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).one()
        assert kfs_row.action == "KFS_ACCEPTED" and kfs_row.details["kfsHash"] == agreement.kfs_hash
        assert agreement.status == "SIGNED" and agreement.signed_storage_key and agreement.signed_sha256
        assert agreement.signed_sha256 != agreement.sha256
        signed_sha256, docket = agreement.signed_sha256, agreement.docket_id
        # the transfer named the verified account (never its number) and its rail
        (transfer,) = s.scalars(select(Disbursal).where(Disbursal.loan_id == loan.id)).all()
        assert (transfer.status, transfer.mode, transfer.ifsc) == ("SETTLED", "IMPS", "HDFC0001234")
        assert transfer.account_last4 and transfer.sent_at and transfer.utr == loan.disbursal_utr
        rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan.id)).all()
        assert len(rows) == 3 and all(r.status == "PAID" for r in rows)
        assert sum(r.principal for r in rows) == 60_000_00
        collected = s.scalar(select(func.sum(PaymentTransaction.amount)).where(PaymentTransaction.loan_id == loan.id))
        assert collected == loan.total_collected == sum(r.total for r in rows) == journey.total_collected
        # the ledger balances per transaction and the receivable is back to zero
        sums = s.execute(
            select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan.id)
            .group_by(LedgerEntry.transaction_id)
        ).all()
        assert len(sums) == 4 and all(total == 0 for _, total in sums)
        receivable = s.scalar(
            select(func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan.id, LedgerEntry.account == "LOAN_PRINCIPAL_RECEIVABLE")
        )
        assert receivable == 0
        agreement = s.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).one()
        assert agreement.status == "SIGNED" and agreement.signed_at is not None
        assert s.scalars(select(BureauReport).where(BureauReport.loan_id == loan.id)).one().score == 780

    desc = await app.client.get_workflow_handle(journey.workflow_id).describe()
    attrs = desc.typed_search_attributes
    assert attrs.get(LOAN_STATUS) == "COMPLETED"
    assert attrs.get(BRAND_ID) == brand["brand_id"]
    assert attrs.get(LOAN_AMOUNT) == 60_000_00
    # the executed agreement went to the borrower's email as it was signed, and the disbursal notice after it
    emails = httpx.get(f"{sandbox.url}/sendgrid/messages", params={"to": "demo.customer@example.com"}).json()
    mine = {m["custom_args"].get("reference"): m for m in emails}
    (attached,) = mine[f"{journey.loan_id}:agreement:{docket}"]["attachments"]
    assert attached["sha256"] == signed_sha256 and attached["type"] == "application/pdf"
    assert "UTR" in mine[f"{journey.loan_id}:disbursed"]["content"][0]["value"]


async def test_low_score_is_rejected_by_the_bre(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(1, "reject"))
    finally:
        await driver.close()
    assert journey.status == "REJECTED"
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, journey.loan_id)
        assert loan.status_reason.startswith("BRE_MIN_BUREAU_SCORE")
        assert (
            s.scalar(
                select(func.count()).select_from(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan.id)
            )
            == 0
        )
    desc = await app.client.get_workflow_handle(journey.workflow_id).describe()
    assert desc.typed_search_attributes.get(LOAN_STATUS) == "REJECTED"


async def test_pan_failing_kyc_is_rejected(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, pan = demo_identity(2, "auto")
    try:
        journey = await driver.journey(phone, pan[:-1] + "X")
    finally:
        await driver.close()
    assert journey.status == "REJECTED"
    with db.unit_of_work() as s:
        assert s.get_one(Loan, journey.loan_id).status_reason.startswith("KYC_PAN")


@pytest.mark.parametrize("loans", [2])
async def test_status_search_attribute_finds_exactly_the_disbursed_loans(app, brand, sandbox, loans) -> None:  # noqa: ANN001
    """Loans on the monthly product stop at DISBURSED (first installment a month away)."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    ids = []
    try:
        for i in range(loans):
            phone, pan = demo_identity(i, "auto")
            headers = await driver.register(phone)
            await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
            await driver.profile(headers)  # the salary account the money goes to
            loan = await driver._ok(
                await driver.api.post(
                    "/api/v1/web/loans",
                    json={"amount": "20000", "tenure": 6, "productCode": "PL-MONTHLY"},
                    headers=headers,
                )
            )
            loan_id = loan["id"]
            await eventually(lambda h=headers, i=loan_id: _has_status(driver, h, i, "SANCTIONED"))
            await driver.accept_kfs(headers, loan_id)
            detail = await eventually(lambda h=headers, i=loan_id: _agreement_ready(driver, h, i))
            await driver.sandbox.post(detail["agreement"]["signingUrl"])
            await eventually(lambda h=headers, i=loan_id: _has_status(driver, h, i, "AGREEMENT_SIGNED"))
            await driver.staff_action("LOAN_EXECUTIVE", loan_id, "approve-disbursal")
            await eventually(lambda h=headers, i=loan_id: _has_status(driver, h, i, "DISBURSED"))
            ids.append(loan["workflowId"])
    finally:
        await driver.close()
    query = f"LoanStatus='DISBURSED' AND BrandId='{brand['brand_id']}'"

    async def listed() -> set[str]:
        return {w.id async for w in app.client.list_workflows(query)}

    assert await eventually(lambda: _same(listed, set(ids)))


async def _same(listed, expected):  # noqa: ANN001
    return (await listed()) == expected


async def _agreement_ready(driver, headers, loan_id):  # noqa: ANN001
    loan = await driver.loan(headers, loan_id)
    return loan if loan["status"] == "AGREEMENT_PENDING" and loan["agreement"] else None


async def _has_status(driver, headers, loan_id, status):  # noqa: ANN001
    return (await driver.loan(headers, loan_id))["status"] == status
