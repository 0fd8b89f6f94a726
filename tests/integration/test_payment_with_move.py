"""A payment that clears a loan's arrears carries the move back to DISBURSED (status-with-payment-v1): record_payment
writes both in one transaction, each once, against the real database. A payment id stored before (a run whose
payment committed before it took the patch, retried) still gets its move recorded, and is not credited again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities
from activities.storage import LocalStorage
from db.models import Loan, LoanStatusHistory, PaymentTransaction, RepaymentInstallment
from domain.status import LoanStatus
from tests.integration.test_link_no_longer_due import _applied_loan
from workflows.contracts import PaymentEvent, PaymentPart, PaymentRecord, StatusChange

SEQ = 900  # far past the moves the loan's own workflow records meanwhile


def _state(db, loan_id: str) -> tuple[int, int, list[tuple[int, str]]]:  # noqa: ANN001
    """(payment rows, total collected in paise, (seq, to_status) of the moves recorded at SEQ or later)."""
    with db.unit_of_work() as s:
        payments = len(s.scalars(select(PaymentTransaction.id).where(PaymentTransaction.loan_id == loan_id)).all())
        collected = s.scalars(select(Loan.total_collected).where(Loan.id == loan_id)).one()
        moves = s.execute(
            select(LoanStatusHistory.seq, LoanStatusHistory.to_status).where(
                LoanStatusHistory.loan_id == loan_id, LoanStatusHistory.seq >= SEQ
            )
        ).all()
        return payments, collected or 0, sorted((m[0], m[1]) for m in moves)


async def overdue_loan(app, brand, sandbox, db, storage_dir, renderer) -> tuple[str, LoanActivities]:  # noqa: ANN001
    """A loan with one OVERDUE installment of 100 rupees principal and 10 interest, and the loan activities on the
    test's database."""
    loan_id = await _applied_loan(app, sandbox, brand)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=datetime.now(UTC), principal=100_00,
                                   interest=10_00, total=110_00, balance_after=0, status="OVERDUE"))  # fmt: skip
    return loan_id, LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)


async def test_the_move_is_recorded_with_the_payment_once_even_for_a_payment_stored_before(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    loan_id, activities = await overdue_loan(app, brand, sandbox, db, storage_dir, renderer)
    env = ActivityEnvironment()
    before = _state(db, loan_id)[1]
    plain = PaymentRecord(
        loan_id, PaymentEvent("pay_move_1", 110_00), [(1, 10_00, 100_00)], 0, 0, None,
        parts=[PaymentPart(1, 0, 0, 10_00, 100_00)],
    )  # fmt: skip
    move = StatusChange(loan_id, SEQ, LoanStatus.OVERDUE, LoanStatus.DISBURSED, "arrears cleared")

    await env.run(activities.record_payment, plain)  # stored before the patch: no move with it
    assert _state(db, loan_id) == (1, before + 110_00, [])

    carrying = replace(plain, status_change=move)  # the same payment, retried under the patch
    await env.run(activities.record_payment, carrying)
    await env.run(activities.record_payment, carrying)  # and once more: nothing twice
    assert _state(db, loan_id) == (1, before + 110_00, [(SEQ, "DISBURSED")])

    second = replace(carrying, payment=PaymentEvent("pay_move_2", 5_00), status_change=replace(move, seq=SEQ + 1))
    await env.run(activities.record_payment, second)  # a new payment with its move: both, in one transaction
    assert _state(db, loan_id) == (2, before + 115_00, [(SEQ, "DISBURSED"), (SEQ + 1, "DISBURSED")])
