"""Credit bureau reports (CIBIL, Equifax): one interface, each vendor's format mapped onto it.
Amounts are integer paise; DPD history is days past due per month, most recent month first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class BureauAccount:
    account_type: str  # PERSONAL_LOAN / CREDIT_CARD / HOME_LOAN / AUTO_LOAN / CONSUMER_LOAN / ...
    lender: str
    status: str  # ACTIVE / CLOSED
    sanctioned_amount: int
    current_balance: int
    overdue_amount: int
    opened_on: date | None
    dpd_history: tuple[int, ...]  # last 12 months, most recent first
    account_number: str | None = None  # masked

    @property
    def max_dpd_12m(self) -> int:
        return max(self.dpd_history[:12], default=0)


@dataclass(frozen=True)
class BureauReport:
    score: int
    raw: dict
    report_id: str | None = None
    accounts: tuple[BureauAccount, ...] = ()
    active_loans: int = 0
    enquiries_30d: int = 0
    bureau: str | None = None

    @property
    def max_dpd_12m(self) -> int:
        return max((a.max_dpd_12m for a in self.accounts), default=0)

    @property
    def total_overdue(self) -> int:
        return sum(a.overdue_amount for a in self.accounts)


class BureauProvider(Protocol):
    async def pull(self, pan: str, name: str | None, idempotency_key: str) -> BureauReport: ...
