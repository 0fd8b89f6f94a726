"""Rates and day counts (see ``domain.schedule`` for the conventions): the periodic rate of a regular period as
an exact fraction, 30/360 and actual day counts, DAILY interest (ACTUAL days-in-year split over the calendar
years a period spans) and the EMI, P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up to ``in_multiples_of`` paise.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from domain.errors import ValidationError
from domain.product import DaysInMonth, DaysInYear, Frequency, LoanTerms


def _year_days(terms: LoanTerms) -> int:
    return {DaysInYear.D360: 360, DaysInYear.D364: 364}.get(terms.days_in_year, 365)


def _ratio(value: Decimal) -> tuple[int, int]:
    num, den = value.as_integer_ratio()
    return num, den


def periodic_rate_ratio(terms: LoanTerms) -> tuple[int, int]:
    """Rate per regular repayment period as an exact fraction (numerator, denominator)."""
    num, den = _ratio(terms.annual_rate)
    den *= 100
    if terms.frequency == Frequency.MONTHS:
        return num * terms.repay_every, den * 12
    days = terms.repay_every * (7 if terms.frequency == Frequency.WEEKS else 1)
    return num * days, den * _year_days(terms)


def periodic_rate(terms: LoanTerms) -> Decimal:
    """Rate per regular repayment period as a Decimal fraction (not a percent)."""
    num, den = periodic_rate_ratio(terms)
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(num) / Decimal(den)


def day_count(start: date, end: date, days_in_month: DaysInMonth) -> int:
    """Days from ``start`` to ``end``: actual, or 30/360 (each month 30 days) when days-in-month is 30."""
    if days_in_month == DaysInMonth.D30:
        d1, d2 = min(start.day, 30), end.day
        if d2 == 31 and d1 == 30:
            d2 = 30
        return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)
    return (end - start).days


def _year_fraction(terms: LoanTerms, start: date, end: date) -> tuple[int, int]:
    """The period as an exact fraction of a year under the product's day count."""
    if terms.days_in_year != DaysInYear.ACTUAL or terms.days_in_month == DaysInMonth.D30:
        return day_count(start, end, terms.days_in_month), _year_days(terms)
    if start.year == end.year or (end.year == start.year + 1 and end.month == 1 and end.day == 1):
        return (end - start).days, 366 if calendar.isleap(start.year) else 365
    num, den, cursor = 0, 1, start
    while cursor < end:  # split at year ends: each day earns 1/365 or 1/366 of a year
        stop = min(end, date(cursor.year + 1, 1, 1))
        year = 366 if calendar.isleap(cursor.year) else 365
        num, den = num * year + (stop - cursor).days * den, den * year
        cursor = stop
    return num, den


def daily_interest(balance: int, terms: LoanTerms, start: date, end: date) -> Decimal:
    """Interest in paise (unrounded) on ``balance`` from ``start`` to ``end`` at the annual rate, DAILY."""
    a_num, a_den = _ratio(terms.annual_rate)
    y_num, y_den = _year_fraction(terms, start, end)
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(balance * a_num * y_num) / Decimal(a_den * 100 * y_den)


def _half_up(num: int, den: int) -> int:
    """num/den rounded half-up to an integer (num ≥ 0, den > 0), in integer arithmetic."""
    return (2 * num + den) // (2 * den)


# ----------------------------------------------------------------------------------------- EMI
def emi(principal: int, rate: Decimal, count: int, multiple: int = 1) -> int:
    """Equated installment in paise, P·r·(1+r)^n / ((1+r)^n − 1), rounded half-up to ``multiple`` paise."""
    if count <= 0:
        raise ValidationError("at least one installment is required", field="installments")
    with localcontext() as ctx:
        ctx.prec = 50
        if rate == 0:
            exact = Decimal(principal) / count
        else:
            growth = (1 + rate) ** count
            exact = Decimal(principal) * rate * growth / (growth - 1)
        return int((exact / multiple).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * multiple


emi_amount = emi  # the name earlier code used
