"""What every activity class shares: a unit of work run off the event loop, and a loan's context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from db.models import Brand, Customer, Loan
from db.session import Database

T = TypeVar("T")


class DbActivities:
    db: Database

    async def _tx(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one transaction on a worker thread (the database driver is synchronous)."""

        def run() -> T:
            with self.db.unit_of_work() as session:
                return fn(session)

        return await asyncio.to_thread(run)

    @staticmethod
    def _context(loan_id: str) -> Callable[[Session], tuple[Loan, Customer, Brand]]:
        """The loan, its customer and its brand; a missing loan is not retried."""

        def load(session: Session) -> tuple[Loan, Customer, Brand]:
            loan = session.get(Loan, loan_id)
            if loan is None:
                raise ApplicationError(f"loan {loan_id} not found", type="NotFound", non_retryable=True)
            return loan, session.get_one(Customer, loan.customer_id), session.get_one(Brand, loan.brand_id)

        return load
