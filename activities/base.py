"""What every activity class shares: a unit of work run off the event loop, and a loan's context."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from db.models import Brand, Customer, Loan
from db.session import Database

T = TypeVar("T")


def is_row_id(value: object) -> bool:
    """Whether ``value`` is a row id (a UUID in its canonical 8-4-4-4-12 form, as PostgreSQL takes it): ids from a
    vendor's notes or a free-text column are checked before they reach a query."""
    text = str(value)
    try:
        return str(uuid.UUID(text)) == text.lower()  # the canonical form only (no braces, urn: or bare hex)
    except ValueError:
        return False


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
            row = session.execute(  # one round trip for the three rows
                select(Loan, Customer, Brand)
                .join(Customer, Customer.id == Loan.customer_id)
                .join(Brand, Brand.id == Loan.brand_id)
                .where(Loan.id == loan_id)
            ).first()
            if row is None:
                raise ApplicationError(f"loan {loan_id} not found", type="NotFound", non_retryable=True)
            return row[0], row[1], row[2]

        return load
