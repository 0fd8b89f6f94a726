"""A backdated payment's penal charges reversed (value-dated-penal-v1) against the real database: record_payment
posts the reversal (Dr PENAL_CHARGES_WAIVED / Cr PENAL_CHARGES_RECEIVABLE) and takes the charge off the installment
in the payment's own transaction, before the parts are applied; the installment ends PAID with nothing receivable;
a retried record writes nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.loan.servicing_decisions import receivables
from db.models import LedgerEntry, LedgerTransaction, PaymentTransaction, RepaymentInstallment
from domain.ledger.accounts import PENAL_WAIVED
from tests.integration.test_payment_with_move import overdue_loan
from workflows.contracts import PaymentEvent, PaymentPart, PaymentRecord, PenalLevy


async def test_a_backdated_payment_reverses_its_penal_once_in_its_own_transaction(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    loan_id, activities = await overdue_loan(app, brand, sandbox, db, storage_dir, renderer)
    env = ActivityEnvironment()
    await env.run(activities.levy_penal, PenalLevy(loan_id, 1, 5_00, "penal:1:flat", "installment 1 overdue"))
    with db.unit_of_work() as s:
        assert receivables(s, loan_id)["penal"] == 5_00

    record = PaymentRecord(
        loan_id, PaymentEvent("pay_backdated_1", 110_00, mode="EMANDATE", mandate_debit_id="debit-1-1"),
        [(1, 10_00, 100_00)], 0, 0, None, parts=[PaymentPart(1, 0, 0, 10_00, 100_00)], penal_reversed=[(1, 5_00)],
    )  # fmt: skip
    await env.run(activities.record_payment, record)
    await env.run(activities.record_payment, record)  # retried: nothing twice

    with db.unit_of_work() as s:
        inst = s.scalars(
            select(RepaymentInstallment).where(
                RepaymentInstallment.loan_id == loan_id, RepaymentInstallment.installment_no == 1
            )
        ).one()
        assert (inst.penal, inst.status) == (0, "PAID")
        assert receivables(s, loan_id)["penal"] == 0
        waived = s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerTransaction.loan_id == loan_id, LedgerEntry.account == PENAL_WAIVED)
        )
        assert waived == 5_00
        unbalanced = s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerTransaction.loan_id == loan_id)
        )
        assert unbalanced == 0
        payments = s.scalars(select(PaymentTransaction).where(PaymentTransaction.loan_id == loan_id)).all()
        assert [(p.amount, p.penal_part) for p in payments] == [(110_00, 0)]
