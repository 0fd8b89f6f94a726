"""The repayment schedule engine: one loan's terms in, every installment out, exact to the paisa.

Conventions (Apache Fineract's loan product options; see ``domain.product``):

* Due dates: the first is ``first_due`` or one period after disbursal; the rest follow the first every
  ``repay_every`` × frequency. Monthly dates keep the first due date's day of month, clamped to the month's
  end (31 Jan → 28/29 Feb → 31 Mar). A date on a brand non-repayment date (holiday) moves to the next
  working day, and the following period starts from the moved date (interest follows the real days).
* Periodic rate (SAME_AS_REPAYMENT_PERIOD): annual/12 × N for N-monthly; annual × 7N / days-in-year for
  N-weekly; annual × N / days-in-year for N-daily (ACTUAL days-in-year counts 365 here; 364 makes a week
  exactly 1/52 of a year). A period whose real length differs from the regular one (broken first period,
  holiday shift) is charged the periodic rate pro rata to its days: periodic × days / regular days.
* DAILY interest: balance × annual × days / days-in-year, where ACTUAL days-in-year splits each period
  over the calendar years it spans (366 in a leap year), and a 30-day month counts days 30/360-style.
* EQUAL_INSTALLMENTS solves the EMI with the periodic rate, P·r·(1+r)^n / ((1+r)^n − 1), rounded
  half-up to ``in_multiples_of``; EQUAL_PRINCIPAL spreads principal evenly (largest remainder). FLAT
  computes interest once on the original principal for the whole term and spreads it evenly.
* Grace on principal: the first G periods are interest only and the EMI amortises over n − G.
  Grace on interest: no interest is due in the first G periods; it is carried and falls due with the first
  installment after the grace.
* Every amount is rounded half-up to the paisa; the last installment takes whatever balance is left, so
  principal parts sum to the principal exactly.
* The daily-rate bullet (``daily_rate``): simple interest principal × rate × days, one repayment.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from domain.errors import ValidationError
from domain.money import round_paise, split_largest_remainder
from domain.product import (
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    InterestCalc,
    InterestMethod,
    LoanTerms,
    Schedule,
    ScheduleRow,
)

HUNDRED = Decimal(100)


# ----------------------------------------------------------------------------------------- dates
def add_months(moment: date, months: int, day: int | None = None) -> date:
    """Same (or the given) day-of-month ``months`` later, clamped to the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(day or moment.day, calendar.monthrange(year, month)[1]))


def _step(start: date, k: int, every: int, frequency: Frequency) -> date:
    if frequency == Frequency.MONTHS:
        return add_months(start, every * k)
    return start + timedelta(days=every * k * (7 if frequency == Frequency.WEEKS else 1))


def next_working_day(day: date, holidays: frozenset[date]) -> date:
    """The day itself, or the first later day that is not a brand non-repayment date."""
    guard = 0
    while day in holidays:
        day += timedelta(days=1)
        guard += 1
        if guard > 366:
            raise ValidationError("non-repayment dates cover a whole year", field="holidays")
    return day


def regular_due_dates(terms: LoanTerms) -> list[date]:
    """Due dates before the holiday shift: the first, then every period after it."""
    if terms.first_due is not None:
        return [_step(terms.first_due, k, terms.repay_every, terms.frequency) for k in range(terms.installments)]
    # stepping from the disbursal date each time keeps its day of month (31 Jan → 28 Feb → 31 Mar)
    return [_step(terms.disbursed_on, k + 1, terms.repay_every, terms.frequency) for k in range(terms.installments)]


def due_dates_for(terms: LoanTerms) -> list[date]:
    return [next_working_day(d, terms.holidays) for d in regular_due_dates(terms)]


def due_dates(
    start: datetime, count: int, repay_every: int, unit: str, compress_seconds: int | None = None
) -> list[datetime]:
    """Wall-clock due moments for the workflow's timers. ``compress_seconds`` (demo products only) makes
    every period last that many seconds while the maths still treats it as a calendar period."""
    if compress_seconds:
        return [start + timedelta(seconds=compress_seconds * k) for k in range(1, count + 1)]
    return [
        datetime.combine(_step(start.date(), k, repay_every, Frequency(unit)), start.timetz())
        for k in range(1, count + 1)
    ]


# ----------------------------------------------------------------------------------------- rates
def _year_days(terms: LoanTerms) -> int:
    return {DaysInYear.D360: 360, DaysInYear.D364: 364}.get(terms.days_in_year, 365)


def periodic_rate(terms: LoanTerms) -> Decimal:
    """Rate per regular repayment period as a fraction (not a percent)."""
    annual = terms.annual_rate / HUNDRED
    if terms.frequency == Frequency.MONTHS:
        return annual * terms.repay_every / 12
    days = terms.repay_every * (7 if terms.frequency == Frequency.WEEKS else 1)
    return annual * days / _year_days(terms)


def day_count(start: date, end: date, days_in_month: DaysInMonth) -> int:
    """Days from ``start`` to ``end``: actual, or 30/360 (each month 30 days) when days-in-month is 30."""
    if days_in_month == DaysInMonth.D30:
        d1, d2 = min(start.day, 30), end.day
        if d2 == 31 and d1 == 30:
            d2 = 30
        return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)
    return (end - start).days


def daily_interest(balance: int, terms: LoanTerms, start: date, end: date) -> Decimal:
    """Interest in paise (unrounded) on ``balance`` from ``start`` to ``end`` at the annual rate, DAILY."""
    annual = terms.annual_rate / HUNDRED
    if terms.days_in_year != DaysInYear.ACTUAL or terms.days_in_month == DaysInMonth.D30:
        return Decimal(balance) * annual * day_count(start, end, terms.days_in_month) / _year_days(terms)
    total = Decimal(0)
    cursor = start
    while cursor < end:  # split the period at year ends: each day earns 1/365 or 1/366 of a year
        year_end = date(cursor.year + 1, 1, 1)
        stop = min(end, year_end)
        total += Decimal(balance) * annual * (stop - cursor).days / (366 if calendar.isleap(cursor.year) else 365)
        cursor = stop
    return total


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


def _round_multiple(value: Decimal | int, multiple: int) -> int:
    return int((Decimal(value) / multiple).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * multiple


# ----------------------------------------------------------------------------------------- engine
def generate(terms: LoanTerms, *, fixed_emi: int | None = None, first_number: int = 1) -> Schedule:
    """The full schedule for ``terms``. ``fixed_emi`` keeps a given installment (reduce-tenure
    prepayment); ``first_number`` numbers the rows of a schedule that continues an older one."""
    if terms.daily_rate is not None:
        return _bullet(terms, first_number)
    dates = due_dates_for(terms)
    regular = regular_due_dates(terms)
    starts = [terms.disbursed_on] + dates[:-1]
    n = terms.installments
    rate = periodic_rate(terms)
    amortizing = n - terms.grace_principal

    if terms.interest_method == InterestMethod.FLAT:
        return _flat(terms, dates, starts, rate, first_number)

    installment = fixed_emi if fixed_emi is not None else emi(terms.principal, rate, amortizing, terms.in_multiples_of)
    equal_principal = (
        split_largest_remainder(terms.principal, [1] * amortizing)
        if terms.amortization == Amortization.EQUAL_PRINCIPAL
        else []
    )

    rows: list[ScheduleRow] = []
    balance = terms.principal
    carried_interest = Decimal(0)
    for k in range(n):
        start, due = starts[k], dates[k]
        days = (due - start).days
        if terms.interest_calc == InterestCalc.DAILY:
            accrued = daily_interest(balance, terms, start, due)
        else:
            regular_start = terms.disbursed_on if k == 0 else regular[k - 1]
            regular_days = (
                (_step(regular_start, 1, terms.repay_every, terms.frequency) - regular_start).days
                if k == 0 and terms.first_due is not None
                else (regular[k] - regular_start).days
            )
            accrued = Decimal(balance) * rate * Decimal(days) / Decimal(regular_days or 1)
        if k < terms.grace_interest:
            carried_interest += accrued
            interest = 0
        else:
            interest = round_paise(accrued + carried_interest)
            carried_interest = Decimal(0)

        if k == n - 1:
            principal = balance
        elif k < terms.grace_principal:
            principal = 0
        elif terms.amortization == Amortization.EQUAL_PRINCIPAL:
            principal = min(balance, equal_principal[k - terms.grace_principal])
        else:
            principal = min(balance, max(installment - interest, 0))
        balance -= principal
        fees = terms.installment_fee
        rows.append(
            ScheduleRow(first_number + k, due, days, principal, interest, fees, principal + interest + fees, balance)
        )
    return Schedule(
        terms,
        tuple(rows),
        installment
        if terms.amortization == Amortization.EQUAL_INSTALLMENTS
        else rows[min(terms.grace_principal, n - 1)].principal + rows[min(terms.grace_principal, n - 1)].interest,
    )


def _flat(terms: LoanTerms, dates: list[date], starts: list[date], rate: Decimal, first_number: int) -> Schedule:
    """FLAT: interest = principal × periodic rate × n, charged evenly; EQUAL_INSTALLMENTS rounds the
    installment to ``in_multiples_of`` and lets the last absorb the difference."""
    n = terms.installments
    amortizing = n - terms.grace_principal
    total_interest = round_paise(Decimal(terms.principal) * rate * n)
    interest_parts = split_largest_remainder(total_interest, [1] * n)
    principal_parts = [0] * terms.grace_principal + split_largest_remainder(terms.principal, [1] * amortizing)
    if terms.amortization == Amortization.EQUAL_INSTALLMENTS:
        level = _round_multiple(Decimal(terms.principal + total_interest) / n, terms.in_multiples_of)
    rows: list[ScheduleRow] = []
    balance = terms.principal
    interest_left = total_interest
    for k in range(n):
        interest = interest_parts[k] if k != n - 1 else interest_left
        if terms.amortization == Amortization.EQUAL_INSTALLMENTS and k >= terms.grace_principal and k != n - 1:
            principal = min(balance, max(level - interest, 0))
        else:
            principal = principal_parts[k] if k != n - 1 else balance
        interest_left -= interest
        balance -= principal
        fees = terms.installment_fee
        rows.append(
            ScheduleRow(
                first_number + k,
                dates[k],
                (dates[k] - starts[k]).days,
                principal,
                interest,
                fees,
                principal + interest + fees,
                balance,
            )
        )
    return Schedule(
        terms,
        tuple(rows),
        rows[min(terms.grace_principal, n - 1)].principal + rows[min(terms.grace_principal, n - 1)].interest,
    )


def _bullet(terms: LoanTerms, first_number: int) -> Schedule:
    """Daily-rate bullet loan: one repayment of principal + principal × daily rate × days (simple interest,
    half-up to the paisa), as short-term Indian lenders quote it ("1% per day")."""
    if terms.installments != 1:
        raise ValidationError("a daily-rate loan has exactly one installment", field="installments")
    assert terms.daily_rate is not None
    due = next_working_day(
        terms.first_due or _step(terms.disbursed_on, 1, terms.repay_every, terms.frequency), terms.holidays
    )
    days = (due - terms.disbursed_on).days
    interest = round_paise(Decimal(terms.principal) * terms.daily_rate / HUNDRED * days)
    fees = terms.installment_fee
    row = ScheduleRow(first_number, due, days, terms.principal, interest, fees, terms.principal + interest + fees, 0)
    return Schedule(terms, (row,), terms.principal + interest)


# ----------------------------------------------------------------------------------------- changes
class PrepaymentMode(StrEnum):
    REDUCE_EMI = "REDUCE_EMI"
    REDUCE_TENURE = "REDUCE_TENURE"


def _remaining_terms(
    schedule: Schedule, paid: int, balance: int, installments: int, first_due: date | None = None
) -> LoanTerms:
    """Terms for the rest of a loan: the outstanding balance from the last paid due date."""
    terms = schedule.terms
    anchor = schedule.rows[paid - 1].due_date if paid else terms.disbursed_on
    next_due = first_due or (schedule.rows[paid].due_date if paid < len(schedule.rows) else None)
    return replace(
        terms,
        principal=balance,
        installments=installments,
        disbursed_on=anchor,
        first_due=next_due,
        grace_principal=max(0, terms.grace_principal - paid),
        grace_interest=max(0, terms.grace_interest - paid),
    )


def _check_paid(schedule: Schedule, paid: int) -> int:
    if not 0 <= paid < len(schedule.rows):
        raise ValidationError(
            f"installments paid must be between 0 and {len(schedule.rows) - 1}", field="installments_paid"
        )
    return schedule.rows[paid - 1].balance if paid else schedule.terms.principal


def prepay(schedule: Schedule, installments_paid: int, amount: int, mode: PrepaymentMode) -> Schedule:
    """Part-prepayment of ``amount`` paise on the due date of installment ``installments_paid`` (after it is
    paid). REDUCE_EMI keeps the remaining count and lowers the EMI; REDUCE_TENURE keeps the EMI and
    shortens the loan (the last installment is smaller). The new schedule continues the old numbering."""
    if isinstance(amount, float):
        raise TypeError("amount: float is not allowed in money code")
    balance = _check_paid(schedule, installments_paid)
    if amount <= 0 or amount >= balance:
        raise ValidationError(
            "prepayment must be positive and less than the outstanding principal (use foreclosure to close the loan)",
            field="amount",
        )
    remaining = len(schedule.rows) - installments_paid
    new_balance = balance - amount
    if mode == PrepaymentMode.REDUCE_EMI:
        return generate(
            _remaining_terms(schedule, installments_paid, new_balance, remaining), first_number=installments_paid + 1
        )
    if mode != PrepaymentMode.REDUCE_TENURE:
        raise ValidationError(f"unknown prepayment mode {mode!r}", field="mode")
    terms = _remaining_terms(schedule, installments_paid, new_balance, remaining)
    rate = periodic_rate(terms)
    count = _installments_for(new_balance, rate, schedule.emi, remaining)
    return generate(replace(terms, installments=count), fixed_emi=schedule.emi, first_number=installments_paid + 1)


def _installments_for(balance: int, rate: Decimal, installment: int, ceiling: int) -> int:
    """Fewest installments of at most ``installment`` that repay ``balance`` at ``rate``."""
    if rate == 0:
        return max(1, min(ceiling, math.ceil(balance / installment)))
    with localcontext() as ctx:
        ctx.prec = 50
        ratio = 1 - Decimal(balance) * rate / installment
        if ratio <= 0:
            return ceiling
        exact = -(ratio.ln() / (1 + rate).ln())
    return max(1, min(ceiling, math.ceil(exact - Decimal("1e-12"))))


def foreclosure_amount(
    schedule: Schedule, installments_paid: int, on: date, *, unpaid_dues: int = 0, charge_percent: Decimal = Decimal(0)
) -> dict[str, int]:
    """What closes the loan on ``on``: outstanding principal, interest accrued DAILY (the product's day
    count) from the last due date (or disbursal) to ``on``, unpaid earlier dues, and a foreclosure charge
    as a percent of the outstanding principal (0 for floating-rate individual loans under RBI's rules)."""
    if isinstance(unpaid_dues, float) or isinstance(charge_percent, float):
        raise TypeError("float is not allowed in money code")
    balance = _check_paid(schedule, installments_paid) if installments_paid < len(schedule.rows) else 0
    since = schedule.rows[installments_paid - 1].due_date if installments_paid else schedule.terms.disbursed_on
    if on < since:
        raise ValidationError("foreclosure date is before the last paid due date", field="on")
    if not Decimal(0) <= charge_percent <= HUNDRED:
        raise ValidationError("charge percent must be between 0 and 100", field="charge_percent")
    interest = round_paise(daily_interest(balance, schedule.terms, since, on)) if balance else 0
    charge = round_paise(Decimal(balance) * charge_percent / HUNDRED)
    return {
        "principal": balance,
        "interest": interest,
        "unpaid_dues": unpaid_dues,
        "charge": charge,
        "total": balance + interest + unpaid_dues + charge,
    }


def reschedule(
    schedule: Schedule,
    installments_paid: int,
    *,
    first_due: date,
    installments: int,
    annual_rate: Decimal | None = None,
) -> Schedule:
    """A new schedule for the outstanding principal after ``installments_paid``: new due dates starting at
    ``first_due``, a new count and optionally a new rate (interest for the gap follows the real days)."""
    balance = _check_paid(schedule, installments_paid)
    anchor = schedule.rows[installments_paid - 1].due_date if installments_paid else schedule.terms.disbursed_on
    if first_due <= anchor:
        raise ValidationError("the new first due date must be after the last paid due date", field="first_due")
    terms = _remaining_terms(schedule, installments_paid, balance, installments, first_due)
    if annual_rate is not None:
        terms = replace(terms, annual_rate=annual_rate)
    return generate(terms, first_number=installments_paid + 1)
