"""Accounting of a loan being repaid: interest accrued at each period's end, and how the loan closed."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan import queries
from activities.loan.common import LoanBase
from db.models import Loan
from domain import ledger
from workflows.contracts import AccrualRecord, ClosureRecord


class AccountingActivities(LoanBase):
    @activity.defn
    async def accrue_interest(self, rec: AccrualRecord) -> None:
        """Post each installment's accrued interest (Dr INTEREST_RECEIVABLE / Cr INTEREST_INCOME) with value date
        ``rec.as_of``, once per installment (key ``accrual:<installment>``): the accrual basis beside the cash
        postings (docs/money-in.md, "Accounting")."""

        def write(session: Session) -> None:
            for number, amount in rec.amounts:
                if amount > 0:
                    key = f"loan-{rec.loan_id}:accrual:{number}"
                    queries.post_ledger(session, rec.loan_id, key, ledger.interest_accrual(amount), rec.as_of)

        await self._tx(write)

    @activity.defn
    async def record_closure(self, rec: ClosureRecord) -> None:
        """``loans.closed_as``: REPAID, FORECLOSED or COOLING_OFF_EXIT (set once; a retry writes the same)."""

        def write(session: Session) -> None:
            session.execute(update(Loan).where(Loan.id == rec.loan_id).values(closed_as=rec.closed_as))

        await self._tx(write)
