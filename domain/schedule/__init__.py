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

The package, by seam:

* ``domain.schedule.dates``: due dates, regular and after the holiday shift (``regular_due_dates``,
  ``due_calendar``, ``due_dates_for``), ``add_months``, and the workflow's wall-clock due moments (``due_dates``);
* ``domain.schedule.rates``: the periodic rate, day counts, DAILY interest and the EMI (``periodic_rate``,
  ``periodic_rate_ratio``, ``day_count``, ``daily_interest``, ``emi``);
* ``domain.schedule.engine``: the schedule itself (``generate``): the regular fast path, the general path
  (holidays, broken periods, grace, DAILY, EQUAL_PRINCIPAL), FLAT and the daily-rate bullet;
* ``domain.schedule.changes``: changes to a running loan (``PrepaymentMode``, ``prepay``, ``foreclosure_amount``,
  ``reschedule``, ``reamortize``).

``domain.schedule`` re-exports every public name, and the product's terms and schedule types
(``domain.product``): import from it, as before the split.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.holidays import next_working_day  # the name earlier code imported from here
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
from domain.schedule.changes import (
    HUNDRED,
    PrepaymentMode,
    foreclosure_amount,
    prepay,
    reamortize,
    reschedule,
)
from domain.schedule.dates import (
    add_months,
    due_calendar,
    due_dates,
    due_dates_for,
    regular_due_dates,
)
from domain.schedule.engine import generate
from domain.schedule.rates import (
    daily_interest,
    day_count,
    emi,
    emi_amount,
    periodic_rate,
    periodic_rate_ratio,
)
