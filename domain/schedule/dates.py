"""Due dates (see ``domain.schedule`` for the conventions): the first is ``first_due`` or one period after
disbursal, the rest follow it every ``repay_every`` × frequency, a monthly date keeping the first's day of month
(clamped to the month's end); then the product's holiday strategy (``domain.holidays``) moves those on a
non-repayment date. Also the workflow's wall-clock due moments (``due_dates``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain import holidays
from domain.product import Frequency, HolidayStrategy, LoanTerms

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_length(year: int, month0: int) -> int:
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month0]


def add_months(moment: date, months: int, day: int | None = None) -> date:
    """Same (or the given) day-of-month ``months`` later, clamped to the month's last day."""
    index = moment.month - 1 + months
    year, month0 = moment.year + index // 12, index % 12
    return date(year, month0 + 1, min(day or moment.day, _month_length(year, month0)))


def _steps(start: date, first_k: int, count: int, every: int, frequency: Frequency) -> list[date]:
    """``start`` stepped first_k, first_k+1, … periods (the hot path of long schedules)."""
    if frequency != Frequency.MONTHS:
        ordinal, span = start.toordinal(), every * (7 if frequency == Frequency.WEEKS else 1)
        return [date.fromordinal(ordinal + span * k) for k in range(first_k, first_k + count)]
    year, month0, day = start.year, start.month - 1, start.day
    out = []
    for k in range(first_k, first_k + count):
        index = month0 + every * k
        y, m0 = year + index // 12, index % 12
        length = _MONTH_DAYS[m0] if m0 != 1 else _month_length(y, 1)
        out.append(date(y, m0 + 1, day if day <= length else length))
    return out


def regular_due_dates(terms: LoanTerms) -> list[date]:
    """Due dates before the holiday shift: the first, then every period after it."""
    if terms.first_due is not None:
        return _steps(terms.first_due, 0, terms.installments, terms.repay_every, terms.frequency)
    # stepping from the disbursal date each time keeps its day of month (31 Jan → 28 Feb → 31 Mar)
    return _steps(terms.disbursed_on, 1, terms.installments, terms.repay_every, terms.frequency)


def _merges(terms: LoanTerms) -> bool:
    return terms.holiday_strategy != HolidayStrategy.LEGACY_NEXT_WORKING_DAY


def due_calendar(terms: LoanTerms) -> holidays.DueCalendar:
    """Due dates after the product's holiday strategy (``domain.holidays``), one per installment of the
    terms, with each period's regular length; equal neighbours are installments to merge."""

    def steps(start: date, count: int) -> list[date]:
        return _steps(start, 1, count, terms.repay_every, terms.frequency)

    return holidays.shift_due_dates(
        regular_due_dates(terms), terms.disbursed_on, terms.holidays, terms.holiday_strategy, steps
    )


def due_dates_for(terms: LoanTerms) -> list[date]:
    """The schedule's due dates (strictly increasing; merged installments appear once)."""
    dates = due_calendar(terms).dates
    return sorted(set(dates)) if len(set(dates)) < len(dates) else dates


def due_dates(
    start: datetime, count: int, repay_every: int, unit: str, compress_seconds: int | None = None
) -> list[datetime]:
    """Wall-clock due moments for the workflow's timers. ``compress_seconds`` (demo products only) makes
    every period last that many seconds while the maths still treats it as a calendar period."""
    if compress_seconds:
        return [start + timedelta(seconds=compress_seconds * k) for k in range(1, count + 1)]
    return [datetime.combine(d, start.timetz()) for d in _steps(start.date(), 1, count, repay_every, Frequency(unit))]
