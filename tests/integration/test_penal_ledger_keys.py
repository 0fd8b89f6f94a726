"""Penal charges of different loans never collide in the ledger: the workflow's key names the installment and the
days, the activity adds the loan (``ledger_transactions.idempotency_key`` is unique across every loan). Found by the
month-end storm benchmark: every loan's first installment charged the same day posted only once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities
from activities.storage import LocalStorage
from db.models import LedgerTransaction, RepaymentInstallment
from los.demo import Driver, demo_identity
from workflows.contracts import PenalLevy


async def test_the_same_penal_key_on_two_loans_posts_twice_and_once_each(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001, E501
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    loans = []
    try:
        for n in (0, 1):
            phone, pan = demo_identity(n, "auto")
            headers = await driver.register(phone)
            await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
            await driver.profile(headers)
            body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            loans.append(
                (await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers)))["id"]
            )
    finally:
        await driver.close()
    with db.unit_of_work() as s:
        for loan_id in loans:
            s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=datetime.now(UTC), principal=100_00,
                                       interest=10_00, total=110_00, balance_after=0))  # fmt: skip
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()
    for loan_id in loans:
        for _ in range(2):  # a retried activity posts nothing twice
            await env.run(activities.levy_penal, PenalLevy(loan_id, 1, 500_00, "penal:1:flat", "delayed payment"))
    with db.unit_of_work() as s:
        for loan_id in loans:
            inst = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan_id)).one()
            assert inst.penal == 500_00
            kinds = s.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.loan_id == loan_id)).all()
            assert kinds == ["PENAL_CHARGE"]
