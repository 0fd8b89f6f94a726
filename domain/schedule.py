"""Repayment schedules.

Convention (walking-skeleton depth; the full Fineract option set extends this module):
declining balance, equal installments (EMI). The periodic rate is the annual rate divided by the
number of periods in a year (12 for monthly, 365/N for every-N-days), i.e. interest calculation
"same as repayment period". EMI and each period's interest are rounded half-up to the paisa; the last
installment absorbs the rounding so principal parts sum exactly to the principal.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from domain.errors import ValidationError
from domain.money import round_paise

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Installment:
    number: int
    due_at: datetime
    principal: int  # paise
    interest: int  # paise
    total: int  # paise
    balance_after: int  # paise

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "due_at": self.due_at.isoformat(),
            "principal": self.principal,
            "interest": self.interest,
            "total": self.total,
            "balance_after": self.balance_after,
        }


def periodic_rate(annual_rate_bps: int, repay_every: int, unit: str) -> Decimal:
    """Rate per repayment period as an exact Decimal fraction."""
    if annual_rate_bps < 0 or annual_rate_bps > 100_000:
        raise ValidationError("annual rate must be between 0% and 1000%", field="annual_rate_bps")
    annual = Decimal(annual_rate_bps) / BPS
    if unit == "MONTHS":
        return annual * repay_every / 12
    if unit == "WEEKS":
        return annual * repay_every * 7 / 365
    if unit == "DAYS":
        return annual * repay_every / 365
    raise ValidationError(f"unknown repayment unit {unit!r}", field="repay_unit")


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month ``months`` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_dates(
    start: datetime, count: int, repay_every: int, unit: str, compress_seconds: int | None = None
) -> list[datetime]:
    """Due moments of ``count`` installments after ``start``.

    ``compress_seconds`` (demo products only) makes every period last that many seconds of wall time
    while the interest maths still treats it as one ``repay_every``×``unit`` period.
    """
    if compress_seconds:
        return [start + timedelta(seconds=compress_seconds * k) for k in range(1, count + 1)]
    if unit == "MONTHS":
        return [add_months(start, repay_every * k) for k in range(1, count + 1)]
    step = timedelta(days=repay_every * (7 if unit == "WEEKS" else 1))
    return [start + step * k for k in range(1, count + 1)]


def emi_amount(principal: int, rate: Decimal, count: int) -> int:
    """Equated installment in paise: P·r·(1+r)^n / ((1+r)^n − 1), half-up to the paisa."""
    if rate == 0:
        return -(-principal // count)
    with localcontext() as ctx:
        ctx.prec = 40
        growth = (1 + rate) ** count
        return round_paise(Decimal(principal) * rate * growth / (growth - 1))


def build_schedule(
    principal: int, annual_rate_bps: int, dates: list[datetime], repay_every: int = 1, unit: str = "MONTHS"
) -> list[Installment]:
    """Equal-installment declining-balance schedule for ``principal`` paise over ``dates``."""
    if isinstance(principal, float) or principal <= 0:
        raise ValidationError("principal must be a positive number of paise", field="principal")
    if not dates:
        raise ValidationError("at least one installment is required", field="installments")
    rate = periodic_rate(annual_rate_bps, repay_every, unit)
    count = len(dates)
    emi = emi_amount(principal, rate, count)
    balance = principal
    rows: list[Installment] = []
    for number, due in enumerate(dates, start=1):
        interest = round_paise(Decimal(balance) * rate)
        if number == count:
            part = balance
        else:
            part = min(balance, max(emi - interest, 0))
        balance -= part
        rows.append(Installment(number, due, part, interest, part + interest, balance))
    return rows
