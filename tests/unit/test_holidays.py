"""Due dates on non-repayment dates (domain.holidays): the product's strategy, never a 0-day period."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import schedule as S
from domain.errors import ValidationError
from domain.holidays import merge_collisions, next_working_day, previous_working_day
from domain.product import (
    PRODUCT_HOLIDAY_STRATEGIES,
    Amortization,
    DaysInYear,
    Frequency,
    HolidayStrategy,
    InterestCalc,
    InterestMethod,
    LoanTerms,
)

D = Decimal
EXTEND = HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM
MERGE = HolidayStrategy.NEXT_WORKING_DAY_MERGE


def rows(schedule: S.Schedule) -> list[tuple]:
    return [(r.due_date, r.days, r.principal, r.interest, r.total, r.balance) for r in schedule.rows]


# ------------------------------------------------------------------------------ the reproduced defects
# ₹10,000 at 24% p.a., 5 installments every 1 day from 1 Jan 2024, 3 Jan a brand holiday.
DAILY = LoanTerms(
    principal=10_000_00,
    annual_rate=D(24),
    installments=5,
    disbursed_on=date(2024, 1, 1),
    frequency=Frequency.DAYS,
    holidays=frozenset({date(2024, 1, 3)}),
)
# The same loan repaid weekly, the office closed 15–22 Jan 2024.
WEEKLY = replace(
    DAILY,
    frequency=Frequency.WEEKS,
    holidays=frozenset(date(2024, 1, 15) + timedelta(days=i) for i in range(8)),
)


def test_daily_loan_with_a_holiday_extends_the_term_by_default() -> None:
    """Method (the engine's stated conventions, SAME_AS_REPAYMENT_PERIOD, ACTUAL read as 365):
    daily rate r = 24% × 1/365 = 6/9125; EMI = P·r·(1+r)^5/((1+r)^5 − 1) = ₹2,003.9525… → ₹2,003.95.
    Due dates: 2 Jan; 3 Jan is a holiday → 4 Jan, which reaches the next regular date (4 Jan), so the rest of
    the term counts from 4 Jan: 5, 6, 7 Jan. Each period's interest = balance × r × days / 1 (regular = 1 day),
    half-up to the paisa; principal = EMI − interest; the last takes the balance:
      2 Jan 1 d: 10,00,000 × 6/9125 = 657.53 → 658 p;        principal 1,99,737; balance 8,00,263
      4 Jan 2 d: 8,00,263 × 6/9125 × 2 = 1,052.40 → 1,052 p;  principal 1,99,343; balance 6,00,920
      5 Jan 1 d: 6,00,920 × 6/9125 = 395.12 → 395 p;         principal 2,00,000; balance 4,00,920
      6 Jan 1 d: 4,00,920 × 6/9125 = 263.62 → 264 p;         principal 2,00,131; balance 2,00,789
      7 Jan 1 d: 2,00,789 × 6/9125 = 132.02 → 132 p;         principal 2,00,789 (the rest); total 2,00,921
    """
    s = S.generate(DAILY)
    assert DAILY.holiday_strategy == EXTEND
    assert s.emi == 2_003_95
    assert rows(s) == [
        (date(2024, 1, 2), 1, 1_997_37, 6_58, 2_003_95, 8_002_63),
        (date(2024, 1, 4), 2, 1_993_43, 10_52, 2_003_95, 6_009_20),
        (date(2024, 1, 5), 1, 2_000_00, 3_95, 2_003_95, 4_009_20),
        (date(2024, 1, 6), 1, 2_001_31, 2_64, 2_003_95, 2_007_89),
        (date(2024, 1, 7), 1, 2_007_89, 1_32, 2_009_21, 0),
    ]


def test_daily_loan_with_a_holiday_merged_when_the_product_says_so() -> None:
    """Same loan, NEXT_WORKING_DAY_MERGE: the dates would be 2, 4, 4, 5, 6 Jan; the two on 4 Jan become one.
    Amounts as for the unmerged dates (interest on real days: the 2-day period 2→4 Jan charges
    8,00,263 × 6/9125 × 2 = 1,052 p, the 0-day one nothing), then summed: principal 1,99,343 + 2,00,395 =
    3,99,738, interest 1,052 + 0, total 4,00,790, balance 4,00,525.
      5 Jan 1 d: 4,00,525 × 6/9125 = 263.36 → 263;  principal 2,00,132; balance 2,00,393
      6 Jan 1 d: 2,00,393 × 6/9125 = 131.77 → 132;  principal 2,00,393 (the rest); total 2,00,525
    """
    s = S.generate(replace(DAILY, holiday_strategy=MERGE))
    assert rows(s) == [
        (date(2024, 1, 2), 1, 1_997_37, 6_58, 2_003_95, 8_002_63),
        (date(2024, 1, 4), 2, 3_997_38, 10_52, 4_007_90, 4_005_25),
        (date(2024, 1, 5), 1, 2_001_32, 2_63, 2_003_95, 2_003_93),
        (date(2024, 1, 6), 1, 2_003_93, 1_32, 2_005_25, 0),
    ]
    assert [r.number for r in s.rows] == [1, 2, 3, 4]


def test_weekly_loan_across_an_office_closure_extends_the_term() -> None:
    """Method: weekly rate r = 24% × 7/365 = 42/9125; EMI = P·r·(1+r)^5/((1+r)^5 − 1) = ₹2,027.70.
    Regular dates 8, 15, 22, 29 Jan, 5 Feb. 15 Jan is closed → 23 Jan, past the next regular date (22 Jan),
    so the rest counts weeks from 23 Jan: 30 Jan, 6 Feb, 13 Feb (none closed). The 23 Jan period is 15 days
    where a regular one is 7, charged pro rata: balance × r × 15/7.
      8 Jan  7 d: 10,00,000 × 42/9125 = 4,602.74 → 4,603;        principal 1,98,167; balance 8,01,833
     23 Jan 15 d: 8,01,833 × 42/9125 × 15/7 = 7,908.49 → 7,908;  principal 1,94,862; balance 6,06,971
     30 Jan  7 d: 6,06,971 × 42/9125 = 2,793.73 → 2,794;         principal 1,99,976; balance 4,06,995
      6 Feb  7 d: 4,06,995 × 42/9125 = 1,873.28 → 1,873;         principal 2,00,897; balance 2,06,098
     13 Feb  7 d: 2,06,098 × 42/9125 = 948.61 → 949;             principal 2,06,098; total 2,07,047
    (Before the fix: 23 Jan twice, ₹4,055.40 due that day, the second installment a 0-day period.)"""
    s = S.generate(WEEKLY)
    assert s.emi == 2_027_70
    assert rows(s) == [
        (date(2024, 1, 8), 7, 1_981_67, 46_03, 2_027_70, 8_018_33),
        (date(2024, 1, 23), 15, 1_948_62, 79_08, 2_027_70, 6_069_71),
        (date(2024, 1, 30), 7, 1_999_76, 27_94, 2_027_70, 4_069_95),
        (date(2024, 2, 6), 7, 2_008_97, 18_73, 2_027_70, 2_060_98),
        (date(2024, 2, 13), 7, 2_060_98, 9_49, 2_070_47, 0),
    ]


def test_weekly_loan_across_an_office_closure_merged() -> None:
    """NEXT_WORKING_DAY_MERGE: 15 and 22 Jan both move to 23 Jan and become one installment of two EMIs'
    principal: 1,94,862 + 2,02,770 = 3,97,632 with 7,908 interest (15 days) = 4,05,540. Then 29 Jan (6 days,
    pro rata 6/7): 4,04,201 × 42/9125 × 6/7 = 1,594.65 → 1,595; 5 Feb: 2,03,026 × 42/9125 = 934.48 → 934."""
    s = S.generate(replace(WEEKLY, holiday_strategy=MERGE))
    assert rows(s) == [
        (date(2024, 1, 8), 7, 1_981_67, 46_03, 2_027_70, 8_018_33),
        (date(2024, 1, 23), 15, 3_976_32, 79_08, 4_055_40, 4_042_01),
        (date(2024, 1, 29), 6, 2_011_75, 15_95, 2_027_70, 2_030_26),
        (date(2024, 2, 5), 7, 2_030_26, 9_34, 2_039_60, 0),
    ]


def test_other_strategies_on_the_weekly_closure() -> None:
    # NEXT_REPAYMENT_DAY_MERGE: 15 and 22 Jan fall due with the next working regular date, 29 Jan.
    nxt = S.generate(replace(WEEKLY, holiday_strategy=HolidayStrategy.NEXT_REPAYMENT_DAY_MERGE))
    assert [(r.due_date, r.days) for r in nxt.rows] == [
        (date(2024, 1, 8), 7),
        (date(2024, 1, 29), 21),
        (date(2024, 2, 5), 7),
    ]
    # PREVIOUS_WORKING_DAY_MERGE: both move back to 14 Jan, the last working day before the closure.
    prev = S.generate(replace(WEEKLY, holiday_strategy=HolidayStrategy.PREVIOUS_WORKING_DAY_MERGE))
    assert [r.due_date for r in prev.rows] == [date(2024, 1, 8), date(2024, 1, 14), date(2024, 1, 29), date(2024, 2, 5)]
    # SAME_DAY: the closure does not move anything.
    same = S.generate(replace(WEEKLY, holiday_strategy=HolidayStrategy.SAME_DAY))
    assert [r.due_date for r in same.rows] == [date(2024, 1, 8) + timedelta(weeks=k) for k in range(5)]
    for s in (nxt, prev, same):
        assert s.total_principal == 10_000_00


def test_previous_working_day_never_before_disbursal() -> None:
    # 2 Jan is the first due date and a holiday; the day before is the disbursal date, so it moves forward.
    t = replace(DAILY, holidays=frozenset({date(2024, 1, 2)}), holiday_strategy="previous_working_day_merge")
    s = S.generate(t)
    assert [r.due_date for r in s.rows] == [date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5), date(2024, 1, 6)]
    # 1 → 3 Jan is 2 days: 10,00,000 × 6/9125 × 2 = 1,315.07 → 1,315 p on the first of the two merged
    # installments (principal 2,00,395 − 1,315 = 1,99,080), the second (0 days) 2,00,395 of principal.
    assert rows(s)[0] == (date(2024, 1, 3), 2, 3_994_75, 13_15, 4_007_90, 6_005_25)
    assert s.total_principal == 10_000_00


def test_strategy_names_are_validated() -> None:
    assert replace(DAILY, holiday_strategy="next_working_day_merge").holiday_strategy == MERGE
    assert replace(DAILY, holiday_strategy=None).holiday_strategy == EXTEND  # not chosen (a product not yet saved)
    with pytest.raises(ValidationError) as err:
        replace(DAILY, holiday_strategy="MOVE_SOMEWHERE")
    assert err.value.field == "holiday_strategy"


def test_bullet_follows_the_strategy() -> None:
    bullet = LoanTerms(
        principal=10_000_00,
        annual_rate=D(0),
        installments=1,
        disbursed_on=date(2024, 1, 1),
        repay_every=30,
        frequency=Frequency.DAYS,
        daily_rate=D(1),
        holidays=frozenset({date(2024, 1, 31)}),
    )
    assert S.generate(bullet).rows[0].due_date == date(2024, 2, 1)
    prev = replace(bullet, holiday_strategy=HolidayStrategy.PREVIOUS_WORKING_DAY_MERGE)
    # 29 days at 1% a day on ₹10,000 = ₹2,900
    assert (S.generate(prev).rows[0].due_date, S.generate(prev).rows[0].interest) == (date(2024, 1, 30), 2_900_00)


def test_working_day_helpers() -> None:
    days_off = frozenset({date(2024, 1, 3), date(2024, 1, 4)})
    assert next_working_day(date(2024, 1, 3), days_off) == date(2024, 1, 5)
    assert previous_working_day(date(2024, 1, 4), days_off, after=date(2024, 1, 1)) == date(2024, 1, 2)
    assert previous_working_day(date(2024, 1, 4), days_off, after=date(2024, 1, 2)) is None
    with pytest.raises(ValidationError):
        next_working_day(date(2024, 1, 1), frozenset(date(2024, 1, 1) + timedelta(days=i) for i in range(400)))
    merged = merge_collisions(
        [date(2024, 1, 2), date(2024, 1, 4), date(2024, 1, 4)], [[1, 2, 0], [10, 20, 30]], [90, 60, 30]
    )
    assert merged == ([date(2024, 1, 2), date(2024, 1, 4)], [[1, 2], [10, 50]], [90, 30])


# ------------------------------------------------------------------------------ the law, over random calendars
def _calendar_runs(terms: LoanTerms) -> st.SearchStrategy[frozenset[date]]:
    """Random holiday sets over the loan's span (and a little past it): scattered days and closures of up to
    40 days, so that moved dates often meet the next one."""
    start = terms.disbursed_on
    span = (S.regular_due_dates(terms)[-1] - start).days + 10
    run = st.tuples(st.integers(0, span), st.integers(1, 40))
    return st.tuples(st.sets(st.integers(0, span), max_size=max(1, span // 3)), st.lists(run, max_size=4)).map(
        lambda parts: frozenset(
            [start + timedelta(days=d) for d in parts[0]]
            + [start + timedelta(days=s + i) for s, length in parts[1] for i in range(length)]
        )
    )


LOANS = st.fixed_dictionaries(
    {
        "principal": st.integers(1_000_00, 50_00_000_00),
        "annual_rate": st.decimals(0, 60, places=2),
        "installments": st.integers(1, 36),
        "disbursed_on": st.dates(date(2023, 1, 1), date(2026, 12, 31)),
        "repay_every": st.integers(1, 3),
        "frequency": st.sampled_from(list(Frequency)),
        "interest_method": st.sampled_from(list(InterestMethod)),
        "amortization": st.sampled_from(list(Amortization)),
        "interest_calc": st.sampled_from(list(InterestCalc)),
        "days_in_year": st.sampled_from(list(DaysInYear)),
        "holiday_strategy": st.sampled_from(PRODUCT_HOLIDAY_STRATEGIES),
        "in_multiples_of": st.sampled_from([1, 100]),
        "installment_fee": st.sampled_from([0, 50_00]),
        "first_due_after": st.none() | st.integers(1, 60),  # days after disbursal: a broken first period
        "grace": st.integers(0, 2),
    }
)


def _terms(opts: dict) -> LoanTerms:
    opts = dict(opts)
    after, grace = opts.pop("first_due_after"), min(opts.pop("grace"), opts["installments"] - 1)
    first_due = opts["disbursed_on"] + timedelta(days=after) if after else None
    return LoanTerms(**opts, first_due=first_due, grace_principal=grace, grace_interest=grace)


@settings(max_examples=400, deadline=None)
@given(LOANS, st.data())
def test_never_a_zero_day_period(opts: dict, data: st.DataObject) -> None:
    """Whatever the holidays, frequency, tenure and strategy: strictly increasing due dates after disbursal,
    every period ≥ 1 day and equal to its real length, principal summing to the loan, no negative amount, the
    balance running down to zero; only SAME_DAY leaves a due date on a holiday; EXTEND_TERM and SAME_DAY keep
    the installment count, the MERGE strategies never add one."""
    terms = _terms(opts)
    terms = replace(terms, holidays=data.draw(_calendar_runs(terms)))
    s = S.generate(terms)
    dates = [r.due_date for r in s.rows]
    assert dates[0] > terms.disbursed_on
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    assert [r.days for r in s.rows] == [(d - p).days for d, p in zip(dates, [terms.disbursed_on, *dates], strict=False)]
    assert all(r.days >= 1 for r in s.rows)
    assert sum(r.principal for r in s.rows) == terms.principal
    assert all(r.interest >= 0 and r.principal >= 0 and r.fees >= 0 for r in s.rows)
    assert s.rows[-1].balance == 0
    assert [r.number for r in s.rows] == list(range(1, len(s.rows) + 1))
    if terms.holiday_strategy != HolidayStrategy.SAME_DAY:
        assert not any(d in terms.holidays for d in dates)
    if terms.holiday_strategy in (EXTEND, HolidayStrategy.SAME_DAY):
        assert len(s.rows) == terms.installments
    else:
        assert len(s.rows) <= terms.installments


@settings(max_examples=300, deadline=None)
@given(LOANS, st.data())
def test_without_a_collision_the_dates_are_the_plain_next_working_day(opts: dict, data: st.DataObject) -> None:
    """Existing loans keep their schedules: when moving each regular date to the next working day gives no
    collision (the rule before strategies existed), both next-working-day strategies give exactly that."""
    terms = _terms(opts)
    terms = replace(terms, holidays=data.draw(_calendar_runs(terms)))
    plain = [next_working_day(d, terms.holidays) for d in S.regular_due_dates(terms)]
    if any(a >= b for a, b in zip(plain, plain[1:], strict=False)):
        return
    extend = S.generate(replace(terms, holiday_strategy=EXTEND))
    merge = S.generate(replace(terms, holiday_strategy=MERGE))
    assert [r.due_date for r in extend.rows] == plain
    assert list(extend.rows) == list(merge.rows)


def test_legacy_strategy_keeps_the_schedule_loans_were_applied_with() -> None:
    """Loans applied for before holiday strategies existed carry none (``workflows.contracts.LoanTerms``
    defaults to LEGACY_NEXT_WORKING_DAY): their workflows must replay and keep the schedule their KFS showed,
    defect included — the daily loan of the report, two installments on 4 Jan, one of 0 days and 0 interest
    (values computed by the engine as it was before strategies; a random comparison of 600 loans agreed)."""
    terms = LoanTerms(
        principal=10_000_00,
        annual_rate=Decimal(24),
        installments=5,
        disbursed_on=date(2024, 1, 1),
        frequency=Frequency.DAYS,
        holidays=frozenset({date(2024, 1, 3)}),
        holiday_strategy=HolidayStrategy.LEGACY_NEXT_WORKING_DAY,
    )
    rows = [(r.due_date, r.days, r.interest) for r in S.generate(terms).rows]
    assert rows == [
        (date(2024, 1, 2), 1, 658),
        (date(2024, 1, 4), 2, 1052),
        (date(2024, 1, 4), 0, 0),
        (date(2024, 1, 5), 1, 263),
        (date(2024, 1, 6), 1, 132),
    ]
    assert HolidayStrategy.LEGACY_NEXT_WORKING_DAY not in PRODUCT_HOLIDAY_STRATEGIES
