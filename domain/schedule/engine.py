"""The schedule engine: ``generate``, one loan's terms in, every installment out, exact to the paisa (see
``domain.schedule`` for the conventions: EQUAL_INSTALLMENTS / EQUAL_PRINCIPAL / FLAT, grace on principal and on
interest, half-up rounding to the paisa, the last installment taking the balance left).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain import holidays
from domain.errors import ValidationError
from domain.money import split_largest_remainder
from domain.product import (
    Amortization,
    InterestCalc,
    InterestMethod,
    LoanTerms,
    Schedule,
    ScheduleRows,
)
from domain.schedule.dates import _merges, due_calendar, due_dates_for
from domain.schedule.rates import _half_up, _ratio, _year_fraction, emi, periodic_rate_ratio


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
