"""The repayment schedule engine: one loan's terms in, every installment out, exact to the paisa.

Conventions (Apache Fineract's loan product options; see ``domain.product``):

* Due dates: the first is ``first_due`` or one period after disbursal; the rest follow the first every
  ``repay_every`` × frequency. Monthly dates keep the first due date's day of month, clamped to the month's
  end (31 Jan → 28/29 Feb → 31 Mar). A date on a brand non-repayment date (holiday) moves as the product's
  ``holiday_strategy`` says (``domain.holidays``: by default to the next working day, extending the term when
  that meets the next due date; or merging colliding installments), and the following period starts from the
  moved date (interest follows the real days). Due dates are strictly increasing; no period is 0 days.
* Periodic rate (SAME_AS_REPAYMENT_PERIOD): annual/12 × N for N-monthly; annual × 7N / days-in-year for
  N-weekly; annual × N / days-in-year for N-daily (ACTUAL days-in-year counts 365 here; 364 makes a week
  exactly 1/52 of a year). A period whose real length differs from the regular one (broken first period,
  holiday shift) is charged the periodic rate pro rata to its days: periodic × days / regular days.
* DAILY interest: balance × annual × days / days-in-year, where ACTUAL days-in-year splits each period
  over the calendar years it spans (366 in a leap year), and a 30-day month counts days 30/360-style.
* EQUAL_INSTALLMENTS solves the EMI with the periodic rate, P·r·(1+r)^n / ((1+r)^n − 1), rounded
  half-up to ``in_multiples_of``; EQUAL_PRINCIPAL charges principal ÷ n (half-up to the paisa) per
  installment and the last takes the rest, as Fineract does. FLAT
  computes interest once on the original principal for the whole term and spreads it evenly.
* Grace on principal: the first G periods are interest only and the EMI amortises over n − G.
  Grace on interest: no interest is due in the first G periods; it is carried and falls due with the first
  installment after the grace.
* Every amount is rounded half-up to the paisa; the last installment takes whatever balance is left, so
  principal parts sum to the principal exactly.
* ACTUAL days-in-year means the real length of each calendar year (366 in a leap year), each day counted
  in the year it falls in. Fineract's older (cumulative) engine reads ACTUAL as a fixed 365: use 365 to
  reproduce its schedules. Fineract's newer (progressive) engine also solves the EMI from each period's
  own daily rate; this engine solves it from the nominal periodic rate (see tests/unit/test_fineract_vectors.py).
* The daily-rate bullet (``daily_rate``): simple interest principal × rate × days, one repayment.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from domain import holidays
from domain.errors import ValidationError
from domain.holidays import next_working_day  # noqa: F401  (the name earlier code imported from here)
from domain.money import round_paise, split_largest_remainder
from domain.product import (
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    HolidayStrategy,
    InterestCalc,
    InterestMethod,
    LoanTerms,
    Schedule,
    ScheduleRows,
)

HUNDRED = Decimal(100)


# ----------------------------------------------------------------------------------------- dates
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


# ----------------------------------------------------------------------------------------- rates
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


# ----------------------------------------------------------------------------------------- engine
def generate(terms: LoanTerms, *, fixed_emi: int | None = None, first_number: int = 1) -> Schedule:
    """The full schedule for ``terms``. ``fixed_emi`` keeps a given installment (reduce-tenure
    prepayment); ``first_number`` numbers the rows of a schedule that continues an older one.

    Exact integer arithmetic throughout: every rate is an exact fraction of integers, every interest
    amount is rounded half-up to the paisa once, from the exact value."""
    if terms.daily_rate is not None:
        return _bullet(terms, first_number)
    if (
        terms.interest_method == InterestMethod.DECLINING_BALANCE
        and not terms.holidays
        and terms.interest_calc == InterestCalc.SAME_AS_REPAYMENT_PERIOD
        and terms.first_due is None
        and terms.grace_interest == 0
    ):
        return _regular(terms, fixed_emi, first_number)
    n = terms.installments
    plan = due_calendar(terms)
    dates, regular_days = plan.dates, plan.regular_days
    prev = [terms.disbursed_on, *dates[:-1]]
    days = [(d - s).days for d, s in zip(dates, prev, strict=True)]
    fees = [terms.installment_fee] * n
    r_num, r_den = periodic_rate_ratio(terms)

    if terms.interest_method == InterestMethod.FLAT:
        return _flat(terms, dates, days, fees, r_num, r_den, first_number)

    amortizing = n - terms.grace_principal
    rate = Decimal(r_num) / Decimal(r_den)
    installment = fixed_emi if fixed_emi is not None else emi(terms.principal, rate, amortizing, terms.in_multiples_of)
    equal_principal = (
        _equal_principal_parts(terms.principal, amortizing)
        if terms.amortization == Amortization.EQUAL_PRINCIPAL
        else None
    )

    principal_col: list[int] = []
    interest_col: list[int] = []
    balance_col: list[int] = []
    balance = terms.principal
    carried = Fraction(0)
    daily = terms.interest_calc == InterestCalc.DAILY
    a_num, a_den = _ratio(terms.annual_rate)
    for k in range(n):
        # exact accrued interest of the period as num/den
        if daily:
            y_num, y_den = _year_fraction(terms, prev[k], dates[k])
            num, den = balance * a_num * y_num, a_den * 100 * y_den
        elif days[k] == regular_days[k]:
            num, den = balance * r_num, r_den
        else:
            num, den = balance * r_num * days[k], r_den * regular_days[k]
        if k < terms.grace_interest:
            carried += Fraction(num, den)
            interest = 0
        elif carried:
            total = Fraction(num, den) + carried
            interest, carried = _half_up(total.numerator, total.denominator), Fraction(0)
        else:
            interest = _half_up(num, den)

        if k == n - 1:
            principal = balance
        elif k < terms.grace_principal:
            principal = 0
        elif equal_principal is not None:
            principal = min(balance, equal_principal[k - terms.grace_principal])
        else:
            principal = installment - interest
            principal = balance if principal > balance else (principal if principal > 0 else 0)
        balance -= principal
        principal_col.append(principal)
        interest_col.append(interest)
        balance_col.append(balance)
    if equal_principal is not None:
        g = min(terms.grace_principal, n - 1)
        installment = principal_col[g] + interest_col[g]
    return Schedule(
        terms,
        holidays.merged_rows(
            first_number, dates, days, principal_col, interest_col, fees, balance_col, merge=_merges(terms)
        ),
        installment,
    )


def _equal_principal_parts(principal: int, count: int) -> list[int]:
    """EQUAL_PRINCIPAL as Fineract does it: principal ÷ n rounded half-up to the paisa for every installment
    but the last, which takes what is left (never more than the balance)."""
    part = _half_up(principal, count)
    parts, left = [], principal
    for _ in range(count - 1):
        step = min(part, left)
        parts.append(step)
        left -= step
    return [*parts, left]


def _calendar(terms: LoanTerms) -> tuple[list[date], list[int]]:
    """Due dates and the days of each period (holiday-shifted)."""
    dates = due_dates_for(terms)
    ordinals = [terms.disbursed_on.toordinal()] + [d.toordinal() for d in dates]
    return dates, [b - a for a, b in zip(ordinals, ordinals[1:], strict=False)]


def _regular(terms: LoanTerms, fixed_emi: int | None, first_number: int) -> Schedule:
    """The common case, fast: declining balance, whole regular periods, no holidays, no broken period.
    Every period is charged exactly the periodic rate, so the amounts do not depend on the calendar and
    the dates are worked out only when read. Same conventions and results as the general path."""
    n = terms.installments
    r_num, r_den = periodic_rate_ratio(terms)
    grace = terms.grace_principal
    amortizing = n - grace
    principal_col: list[int] = []
    interest_col: list[int] = []
    balance_col: list[int] = []
    add_p, add_i, add_b = principal_col.append, interest_col.append, balance_col.append
    balance = terms.principal
    two_num, two_den = 2 * r_num, 2 * r_den
    for _ in range(grace):
        add_p(0)
        add_i((balance * two_num + r_den) // two_den)
        add_b(balance)
    if terms.amortization == Amortization.EQUAL_PRINCIPAL:
        for part in _equal_principal_parts(balance, amortizing):
            add_i((balance * two_num + r_den) // two_den)
            balance -= part
            add_p(part)
            add_b(balance)
        g = min(grace, n - 1)
        installment = principal_col[g] + interest_col[g]
    else:
        installment = (
            fixed_emi
            if fixed_emi is not None
            else emi(terms.principal, Decimal(r_num) / Decimal(r_den), amortizing, terms.in_multiples_of)
        )
        for _ in range(amortizing - 1):
            interest = (balance * two_num + r_den) // two_den
            principal = installment - interest
            if principal > balance:
                principal = balance
            elif principal < 0:
                principal = 0
            balance -= principal
            add_p(principal)
            add_i(interest)
            add_b(balance)
        add_i((balance * two_num + r_den) // two_den)
        add_p(balance)
        add_b(0)
    rows = ScheduleRows(
        first_number,
        lambda: _calendar(terms),
        None,
        principal_col,
        interest_col,
        [terms.installment_fee] * n,
        balance_col,
    )
    return Schedule(terms, rows, installment)


def _flat(
    terms: LoanTerms, dates: list[date], days: list[int], fees: list[int], r_num: int, r_den: int, first_number: int
) -> Schedule:
    """FLAT: interest = principal × periodic rate × n, charged evenly (largest remainder);
    EQUAL_INSTALLMENTS rounds the installment to ``in_multiples_of`` and the last absorbs the difference."""
    n = terms.installments
    amortizing = n - terms.grace_principal
    total_interest = _half_up(terms.principal * r_num * n, r_den)
    interest_col = split_largest_remainder(total_interest, [1] * n)
    principal_parts = [0] * terms.grace_principal + split_largest_remainder(terms.principal, [1] * amortizing)
    level = None
    if terms.amortization == Amortization.EQUAL_INSTALLMENTS:
        m = terms.in_multiples_of
        level = _half_up(terms.principal + total_interest, n * m) * m
    principal_col, balance_col = [], []
    balance = terms.principal
    for k in range(n):
        if k == n - 1:
            principal = balance
        elif level is not None and k >= terms.grace_principal:
            principal = min(balance, max(level - interest_col[k], 0))
        else:
            principal = principal_parts[k]
        balance -= principal
        principal_col.append(principal)
        balance_col.append(balance)
    g = min(terms.grace_principal, n - 1)
    return Schedule(
        terms,
        holidays.merged_rows(
            first_number, dates, days, principal_col, interest_col, fees, balance_col, merge=_merges(terms)
        ),
        principal_col[g] + interest_col[g],
    )


def _bullet(terms: LoanTerms, first_number: int) -> Schedule:
    """Daily-rate bullet loan: one repayment of principal + principal × daily rate × days (simple interest,
    half-up to the paisa), as short-term Indian lenders quote it ("1% per day")."""
    if terms.installments != 1:
        raise ValidationError("a daily-rate loan has exactly one installment", field="installments")
    assert terms.daily_rate is not None
    due = due_calendar(terms).dates[0]
    days = (due - terms.disbursed_on).days
    d_num, d_den = _ratio(terms.daily_rate)
    interest = _half_up(terms.principal * d_num * days, d_den * 100)
    rows = ScheduleRows(first_number, [due], [days], [terms.principal], [interest], [terms.installment_fee], [0])
    return Schedule(terms, rows, terms.principal + interest)


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


def reamortize(
    terms: LoanTerms,
    *,
    balance: int,
    anchor: date,
    next_due: date,
    remaining: int,
    current_emi: int,
    mode: PrepaymentMode | str,
    first_number: int,
) -> Schedule:
    """The rest of a loan after an advance payment to principal: ``balance`` outstanding from ``anchor``
    (the last settled due date), next due on ``next_due``, at most ``remaining`` installments.
    REDUCE_TENURE keeps ``current_emi`` and drops installments from the end; REDUCE_EMI keeps the count."""
    if balance <= 0:
        raise ValidationError("nothing left to re-amortise", field="balance")
    mode = PrepaymentMode(mode)
    rest = replace(
        terms,
        principal=balance,
        installments=remaining,
        disbursed_on=anchor,
        first_due=next_due,
        grace_principal=0,
        grace_interest=0,
    )
    if mode == PrepaymentMode.REDUCE_EMI:
        return generate(rest, first_number=first_number)
    count = _installments_for(balance, periodic_rate(rest), current_emi, remaining)
    return generate(replace(rest, installments=count), fixed_emi=current_emi, first_number=first_number)
