"""Annual Percentage Rate (APR) the way RBI's Key Facts Statement computes it, in exact ``Decimal``.

Source: RBI circular "Key Facts Statement (KFS) for Loans & Advances" (RBI/2024-25/18,
DOR.STR.REC.13/13.03.00/2024-25, 15 April 2024). Para 3(c): APR is the annual cost of credit to the
borrower, interest *and all other charges*. Annex B (illustration of the APR computation): row 7, net
disbursed amount = sanctioned amount − all fees/charges (payable to the RE and to third parties through the
RE); row 9, "Annual Percentage Rate – effective annualized interest rate … computed on net disbursed
amount using IRR approach and reducing balance method".

Annualisation. RBI's KFS illustration (sanctioned ₹20,000; 24 monthly instalments of ₹970; total interest
₹3,274; charges ₹400 = processing ₹160 + insurance ₹240; net disbursed ₹19,600; APR 17.07%, figures as
reproduced in public KFS templates, e.g. the ONDC/beckn lending KFS sample) is matched to the paisa by a
15% p.a. EMI schedule (EMI ₹969.73, interest ₹3,273.58) whose monthly IRR on +₹19,600 at t0, × 12, is
17.07%: a *nominal* annual rate. The annually compounded rate, (1 + monthly IRR)^12 − 1, would be 18.47%,
which is not RBI's figure. So:

* ``AprMethod.PERIODIC`` (used for regular schedules: every due date one repayment period after the last,
  counted from disbursal, no broken period): periodic IRR × periods per year, where periods per year
  is 12/N for N-monthly and days-in-year/(7N) or days-in-year/N for N-weekly/N-daily, the same split the
  schedule engine uses for its periodic rate. A standard EMI schedule with no charges therefore has
  APR == the nominal rate (up to paisa rounding).
* ``AprMethod.DAY_COUNT`` (used for irregular dates: a broken first period, holiday-shifted due dates, a
  daily-rate bullet loan): the same nominal convention measured in actual days. Each flow at t days from
  disbursal is discounted by (1 + j/m)^(−m·t/365), m = periods per year of the product; the APR is j.
  For a single repayment (bullet) m = 365/t, which reduces to the simple annualisation
  (repaid/net − 1) × 365/t. The XIRR function also offers the Excel/pyxirr *effective* convention
  (1 + R)^(−t/365) (``periods_per_year=None``); it is not the RBI APR, it is there for cross-checks.

Solver: Newton's method safeguarded by bisection (Numerical Recipes' ``rtsafe``) on a bracket found by a
fixed scan, in a 60-digit decimal context, stopping when a step is below 1e-40: deterministic, no floats.
The APR is returned as a percent quantized to 0.01 ROUND_HALF_UP (``apr``); ``apr_exact`` keeps 30
significant digits.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from domain.charges import UpfrontCharges
from domain.errors import ValidationError
from domain.product import DaysInYear, Frequency, LoanTerms, Schedule, parse_enum

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")
_PREC = 60
_TOL = Decimal("1e-40")
_MAX_ITER = 500
_SIGNIFICANT = 30
# bracket scan, per-period (or per-unit) rates; the first sign change at or above 0 wins, then below 0
_GRID = tuple(
    Decimal(s)
    for s in (
        "-0.999999",
        "-0.99",
        "-0.9",
        "-0.5",
        "-0.2",
        "-0.05",
        "0",
        "0.001",
        "0.005",
        "0.01",
        "0.02",
        "0.05",
        "0.1",
        "0.2",
        "0.5",
        "1",
        "2",
        "5",
        "10",
        "100",
        "1000",
        "1000000",
    )
)


class AprMethod(StrEnum):
    AUTO = "AUTO"  # PERIODIC for a regular schedule, DAY_COUNT otherwise
    PERIODIC = "PERIODIC"
    DAY_COUNT = "DAY_COUNT"


# ------------------------------------------------------------------------------------------ inputs
def _flow(value: object, field: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use int paise or Decimal")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationError("cash flows must be int paise or Decimal", field=field)
    result = Decimal(value)
    if not result.is_finite():
        raise ValidationError("cash flows must be finite", field=field)
    return result


def _check_flows(flows: Sequence[Decimal]) -> None:
    if len(flows) < 2:
        raise ValidationError("need at least two cash flows", field="cash_flows")
    if not any(f > 0 for f in flows) or not any(f < 0 for f in flows):
        raise ValidationError("cash flows need both an inflow and an outflow", field="cash_flows")


def _round_sig(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _SIGNIFICANT
        return +value


# ------------------------------------------------------------------------------------------ solver
def _value_and_slope(x: Decimal, flows: Sequence[Decimal], exponents: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Σ cₖ(1+x)^(−eₖ) and its derivative in x (the caller holds the decimal context)."""
    base = 1 + x
    log_base = base.ln()
    value = Decimal(0)
    slope = Decimal(0)
    for c, e in zip(flows, exponents, strict=True):
        if c == 0:
            continue
        discounted = c * (base**-e if e == e.to_integral_value() else (-e * log_base).exp())
        value += discounted
        slope -= e * discounted
    return value, slope / base


def _solve(flows: Sequence[Decimal], exponents: Sequence[Decimal]) -> Decimal:
    """The rate x > −1 with Σ cₖ(1+x)^(−eₖ) = 0: bracket by scan, then Newton safeguarded by bisection."""
    zero = _GRID.index(Decimal(0))
    values: dict[int, Decimal] = {}

    def value_at(i: int) -> Decimal:
        if i not in values:
            values[i] = _value_and_slope(_GRID[i], flows, exponents)[0]
        return values[i]

    bracket = None
    for i in [*range(zero, len(_GRID) - 1), *range(zero - 1, -1, -1)]:
        lo_value, hi_value = value_at(i), value_at(i + 1)
        if lo_value == 0:
            return _GRID[i]
        if hi_value == 0:
            return _GRID[i + 1]
        if (lo_value > 0) != (hi_value > 0):
            bracket = (i, i + 1)
            break
    if bracket is None:
        raise ValidationError("these cash flows have no internal rate of return", field="cash_flows")
    i, j = bracket
    # orient: f(neg) < 0 < f(pos)
    neg, pos = (_GRID[i], _GRID[j]) if values[i] < 0 else (_GRID[j], _GRID[i])
    x = (neg + pos) / 2
    dx_old = abs(pos - neg)
    dx = dx_old
    f, df = _value_and_slope(x, flows, exponents)
    for _ in range(_MAX_ITER):
        newton_out = df == 0 or ((x - pos) * df - f) * ((x - neg) * df - f) > 0
        if newton_out or abs(2 * f) > abs(dx_old * df):
            dx_old = dx
            dx = (pos - neg) / 2
            x = neg + dx
        else:
            dx_old = dx
            dx = f / df
            x = x - dx
        if abs(dx) < _TOL:
            return x
        f, df = _value_and_slope(x, flows, exponents)
        if f == 0:
            return x
        if f < 0:
            neg = x
        else:
            pos = x
    return x  # bracket has shrunk below any meaningful precision by now


def npv(rate: Decimal, flows: Sequence[int | Decimal]) -> Decimal:
    """Net present value Σ cₖ/(1+rate)^k of periodic flows (flow 0 undiscounted), 30 significant digits."""
    cs = [_flow(c, "cash_flows") for c in flows]
    rate = _flow(rate, "rate")
    if rate <= -1:
        raise ValidationError("rate must be above -100%", field="rate")
    with localcontext() as ctx:
        ctx.prec = _PREC
        value = _value_and_slope(rate, cs, [Decimal(k) for k in range(len(cs))])[0]
    return _round_sig(value)


def irr(flows: Sequence[int | Decimal]) -> Decimal:
    """Internal rate of return per period of equally spaced flows (flow k at the end of period k), as a
    fraction (0.01 = 1% per period), 30 significant digits. Same definition as ``numpy_financial.irr``.
    Flows with one sign change (a loan) have exactly one IRR; for others the first root found scanning up
    from 0% (then down) is returned; a rate outside −99.9999% … 10⁸% per period is refused
    (ValidationError on ``cash_flows``). Newton + bisection in Decimal, see the module docstring."""
    cs = [_flow(c, "cash_flows") for c in flows]
    _check_flows(cs)
    with localcontext() as ctx:
        ctx.prec = _PREC
        x = _solve(cs, [Decimal(k) for k in range(len(cs))])
    return _round_sig(x)


def xirr(
    dated_flows: Sequence[tuple[date, int | Decimal]],
    *,
    periods_per_year: Decimal | int | None = None,
    days_in_year: int = 365,
) -> Decimal:
    """Annual rate of return of flows on arbitrary dates, as a fraction, 30 significant digits.

    Time is actual days from the first flow's date, t/``days_in_year`` years (actual/365 fixed by default).
    ``periods_per_year=None``: the *effective* annual rate R with Σ c·(1+R)^(−t/365) = 0 (Excel XIRR,
    ``pyxirr.xirr``). ``periods_per_year=m``: the *nominal* annual rate j compounded m times a year,
    Σ c·(1+j/m)^(−m·t/365) = 0, the RBI KFS convention for irregular dates (see module docstring).
    """
    if not dated_flows:
        raise ValidationError("need at least two cash flows", field="cash_flows")
    if isinstance(days_in_year, bool) or not isinstance(days_in_year, int) or days_in_year <= 0:
        raise ValidationError("days in year must be a positive whole number", field="days_in_year")
    start = min(d for d, _ in dated_flows)
    cs = [_flow(c, "cash_flows") for _, c in dated_flows]
    _check_flows(cs)
    if periods_per_year is None:
        m = Decimal(1)
    else:
        m = _flow(periods_per_year, "periods_per_year")
        if m <= 0:
            raise ValidationError("periods per year must be positive", field="periods_per_year")
    with localcontext() as ctx:
        ctx.prec = _PREC
        exponents = [m * (d - start).days / days_in_year for d, _ in dated_flows]
        x = _solve(cs, exponents) * m
    return _round_sig(x)


# ------------------------------------------------------------------------------------ schedule → APR
def periods_per_year(terms: LoanTerms) -> Decimal:
    """Repayment periods in a year, matching the schedule engine's periodic rate: 12/N for N-monthly;
    days-in-year/(7N) for N-weekly and days-in-year/N for N-daily (ACTUAL counts 365, as the engine does)."""
    if terms.frequency == Frequency.MONTHS:
        return Decimal(12) / terms.repay_every
    year = {DaysInYear.D360: 360, DaysInYear.D364: 364}.get(terms.days_in_year, 365)
    days = terms.repay_every * (7 if terms.frequency == Frequency.WEEKS else 1)
    with localcontext() as ctx:
        ctx.prec = _PREC
        return Decimal(year) / days


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def regular_due_date(terms: LoanTerms, k: int) -> date:
    """The k-th (1-based) regular due date counted from disbursal, month ends clamped (31 Jan → 28 Feb)."""
    if terms.frequency == Frequency.MONTHS:
        return _add_months(terms.disbursed_on, terms.repay_every * k)
    step = terms.repay_every * (7 if terms.frequency == Frequency.WEEKS else 1)
    return terms.disbursed_on + timedelta(days=step * k)


def is_regular(schedule: Schedule) -> bool:
    """True when every installment falls exactly one period after the previous one, counted from disbursal
    (no broken first period, no holiday shift, not a daily-rate bullet)."""
    terms = schedule.terms
    if terms.first_due is not None or terms.daily_rate is not None:
        return False
    return all(row.due_date == regular_due_date(terms, k) for k, row in enumerate(schedule.rows, start=1))


def net_disbursed_of(charges: UpfrontCharges | int) -> int:
    if isinstance(charges, UpfrontCharges):
        return charges.net_disbursed
    if isinstance(charges, float):
        raise TypeError("net_disbursed: float is not allowed in money code, use int paise")
    if isinstance(charges, bool) or not isinstance(charges, int) or charges <= 0:
        raise ValidationError("net disbursed amount must be a positive number of paise", field="net_disbursed")
    return charges


def schedule_cash_flows(schedule: Schedule, charges: UpfrontCharges | int) -> list[tuple[date, int]]:
    """The borrower's cash flows in paise: + net disbursed on the disbursal date, then − (principal +
    interest + fees) of each installment on its due date. ``charges`` is the upfront charges result (its
    principal must be the schedule's) or the net disbursed amount itself."""
    if not isinstance(schedule, Schedule) or not schedule.rows:
        raise ValidationError("a schedule with at least one installment is needed", field="schedule")
    if isinstance(charges, UpfrontCharges) and charges.principal != schedule.terms.principal:
        raise ValidationError("the charges were computed for a different principal", field="charges")
    net = net_disbursed_of(charges)
    flows = [(schedule.terms.disbursed_on, net)]
    flows += [(row.due_date, -(row.principal + row.interest + row.fees)) for row in schedule.rows]
    return flows


def apr_exact(
    schedule: Schedule,
    charges: UpfrontCharges | int,
    *,
    method: AprMethod | str = AprMethod.AUTO,
    days_in_year: int = 365,
) -> Decimal:
    """The APR in percent, unrounded (30 significant digits), of ``schedule`` on the net disbursed amount.

    RBI KFS circular (15 April 2024) Annex B: IRR of the flows on the net disbursed amount, reducing
    balance, annualised nominally (periodic IRR × periods per year). PERIODIC treats installment k as
    exactly k periods after disbursal; DAY_COUNT uses actual days (``days_in_year`` a year) with the
    product's compounding frequency, or 365/t for a single repayment; AUTO picks PERIODIC for a regular
    schedule (``is_regular``) and DAY_COUNT otherwise. Installment fees in the schedule count as charges.
    """
    method = AprMethod(parse_enum(AprMethod, method, "method"))
    flows = schedule_cash_flows(schedule, charges)
    terms = schedule.terms
    if method == AprMethod.AUTO:
        method = AprMethod.PERIODIC if is_regular(schedule) else AprMethod.DAY_COUNT
    if method == AprMethod.PERIODIC:
        rate = irr([c for _, c in flows]) * periods_per_year(terms)
    else:
        if len(schedule.rows) == 1:
            days = (schedule.rows[0].due_date - terms.disbursed_on).days
            if days <= 0:
                raise ValidationError("the repayment must fall after disbursal", field="schedule")
            with localcontext() as ctx:
                ctx.prec = _PREC
                m = Decimal(days_in_year) / days
        else:
            m = periods_per_year(terms)
        rate = xirr(flows, periods_per_year=m, days_in_year=days_in_year)
    return _round_sig(rate * HUNDRED)


def quantize_apr(percent: Decimal) -> Decimal:
    """A percent to the 2 decimal places the KFS shows, ROUND_HALF_UP."""
    return percent.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def apr(
    schedule: Schedule,
    charges: UpfrontCharges | int,
    *,
    method: AprMethod | str = AprMethod.AUTO,
    days_in_year: int = 365,
) -> Decimal:
    """The KFS APR in percent, 2 decimal places ROUND_HALF_UP (e.g. ``Decimal("17.07")``); see
    ``apr_exact`` for the convention (RBI KFS circular of 15 April 2024, Annex B)."""
    return quantize_apr(apr_exact(schedule, charges, method=method, days_in_year=days_in_year))


def apr_of_periodic_flows(flows: Sequence[int | Decimal], periods_in_year: Decimal | int) -> Decimal:
    """APR in percent (unrounded) of equally spaced flows: IRR per period × ``periods_in_year`` × 100, the
    RBI KFS Annex B annualisation (monthly IRR × 12 for monthly instalments)."""
    m = _flow(periods_in_year, "periods_in_year")
    if m <= 0:
        raise ValidationError("periods per year must be positive", field="periods_in_year")
    return _round_sig(irr(flows) * m * HUNDRED)


__all__ = [
    "AprMethod",
    "apr",
    "apr_exact",
    "apr_of_periodic_flows",
    "irr",
    "is_regular",
    "net_disbursed_of",
    "npv",
    "periods_per_year",
    "quantize_apr",
    "regular_due_date",
    "schedule_cash_flows",
    "xirr",
]
