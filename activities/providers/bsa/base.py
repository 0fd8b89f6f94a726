"""Bank statement analysis (BSA): a statement PDF in, the lender's view of the account out — salary
credits, EMI debits, bounces, average balance. The Account Aggregator kind returns the same report.
Amounts are integer paise, dates ``datetime.date``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from activities.providers.base import ProviderConfig, ProviderError


@dataclass(frozen=True)
class SalaryCredit:
    on: date
    amount: int
    narration: str = ""


@dataclass(frozen=True)
class EmiDebit:
    on: date
    amount: int
    lender: str = ""


@dataclass(frozen=True)
class Bounce:
    on: date
    amount: int
    reason: str = ""


@dataclass(frozen=True)
class BsaReport:
    """One analysed account. ``source`` is UPLOAD (a statement) or AA (Account Aggregator data)."""

    report_id: str
    vendor: str
    source: str
    account_holder: str | None
    bank_name: str | None
    account_number_masked: str | None
    period_from: date | None
    period_to: date | None
    salary_credits: tuple[SalaryCredit, ...]
    emi_debits: tuple[EmiDebit, ...]
    bounces: tuple[Bounce, ...]
    average_balance: int
    raw: dict

    @property
    def average_salary(self) -> int:
        """Mean of the salary credits, in paise (0 when there are none), rounded down."""
        if not self.salary_credits:
            return 0
        return sum(c.amount for c in self.salary_credits) // len(self.salary_credits)

    @property
    def monthly_emi(self) -> int:
        """EMI obligations per month: total EMI debits over the months they span (FOIR input)."""
        if not self.emi_debits:
            return 0
        months = {(d.on.year, d.on.month) for d in self.emi_debits}
        return sum(d.amount for d in self.emi_debits) // len(months)

    @property
    def bounce_count(self) -> int:
        return len(self.bounces)

    def summary(self) -> dict:
        """JSON-ready digest (e.g. ``BsaReport.summary`` in the database)."""
        return {
            "vendor": self.vendor,
            "source": self.source,
            "period": [
                self.period_from.isoformat() if self.period_from else None,
                self.period_to.isoformat() if self.period_to else None,
            ],
            "salary_credits": [{"date": c.on.isoformat(), "amount": c.amount} for c in self.salary_credits],
            "average_salary": self.average_salary,
            "emi_debits": [{"date": d.on.isoformat(), "amount": d.amount, "lender": d.lender} for d in self.emi_debits],
            "monthly_emi": self.monthly_emi,
            "bounces": [{"date": b.on.isoformat(), "amount": b.amount, "reason": b.reason} for b in self.bounces],
            "average_balance": self.average_balance,
        }


class BsaProvider(Protocol):
    async def analyse_statement(
        self, *, pdf: bytes, reference_id: str, idempotency_key: str, password: str | None = None
    ) -> BsaReport: ...


async def poll_until_ready(
    fetch: Callable[[], Awaitable[dict]], ready: Callable[[dict], bool], *, config: ProviderConfig
) -> dict:
    """Vendors analyse asynchronously: fetch until ``ready`` (``poll_attempts`` times, default 10, every
    ``poll_interval_seconds``, default 1 s). Still not ready → ``ProviderError`` (the activity retries; the
    upload is idempotent by key, so a retry re-finds the same statement)."""
    attempts = int(config.options.get("poll_attempts", 10))
    interval = float(config.options.get("poll_interval_seconds", 1.0))
    for attempt in range(attempts):
        body = await fetch()
        if ready(body):
            return body
        if attempt < attempts - 1:
            await asyncio.sleep(interval)
    raise ProviderError(f"{config.vendor}: analysis not ready after {attempts} polls", vendor=config.vendor)
