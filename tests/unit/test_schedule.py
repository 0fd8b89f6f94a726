"""The schedule engine against published numbers, its laws, and numpy-financial."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import schedule as S
from domain.errors import ValidationError
from domain.product import (
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    InterestCalc,
    InterestMethod,
    LoanTerms,
    parse_enum,
)

D = Decimal


def terms(**kw) -> LoanTerms:  # noqa: ANN003
    base = dict(principal=1_00_000_00, annual_rate=D(12), installments=12, disbursed_on=date(2026, 1, 1))
    base.update(kw)
    return LoanTerms(**base)  # type: ignore[arg-type]


def test_reference_example_emi_in_whole_rupees() -> None:
    # ₹5,000 at 12% p.a., 18 monthly installments, installment in multiples of ₹1 (the schedule preview
    # example of this project's specification; standard EMI maths: 5000·0.01·1.01^18/(1.01^18−1) = 304.91 → 305).
    s = S.generate(terms(principal=5_000_00, installments=18, disbursed_on=date(2022, 11, 1), in_multiples_of=100))
    first = s.rows[0]
    assert (s.emi, first.due_date, first.days) == (305_00, date(2022, 12, 1), 30)
    assert (first.principal, first.interest, first.total, first.balance) == (255_00, 50_00, 305_00, 4745_00)
    assert s.rows[-1].balance == 0 and s.total_principal == 5_000_00
    assert all(r.total == 305_00 for r in s.rows[:-1])


def test_textbook_emi_table() -> None:
    # ₹1,00,000 at 12% for 12 months: EMI ₹8,884.88 (any EMI table); month 1 interest ₹1,000.00,
    # principal ₹7,884.88; month 2 interest 1% of 92,115.12 = ₹921.15.
    s = S.generate(terms())
    assert s.emi == 8_884_88
    assert (s.rows[0].interest, s.rows[0].principal) == (1_000_00, 7_884_88)
    assert s.rows[1].interest == 921_15
    assert s.total_principal == 1_00_000_00


def test_flat_rate_textbook() -> None:
    # Flat 10% p.a. on ₹1,00,000 for 12 months: interest ₹10,000, installment ₹9,166.67 (flat-rate tables).
    s = S.generate(terms(annual_rate=D(10), interest_method=InterestMethod.FLAT))
    assert s.total_interest == 10_000_00
    assert s.rows[0].total == 9_166_67
    assert s.total_principal == 1_00_000_00 and s.rows[-1].balance == 0


def test_equal_principal_reducing_interest() -> None:
    # ₹1,20,000 at 12%, 12 months, equal principal: ₹10,000 principal each; interest 1,200, 1,100 … 100,
    # total ₹7,800 (declining-balance equal-principal tables).
    s = S.generate(terms(principal=1_20_000_00, amortization=Amortization.EQUAL_PRINCIPAL))
    assert [r.principal for r in s.rows] == [10_000_00] * 12
    assert [r.interest for r in s.rows] == [k * 100_00 for k in range(12, 0, -1)]
    assert s.total_interest == 7_800_00


def test_daily_rate_bullet() -> None:
    # "1% per day" short-term loan: ₹10,000 for 30 days → ₹3,000 interest, one repayment of ₹13,000.
    s = S.generate(
        terms(
            principal=10_000_00,
            annual_rate=D(0),
            installments=1,
            repay_every=30,
            frequency=Frequency.DAYS,
            daily_rate=D(1),
        )
    )
    assert len(s.rows) == 1
    assert (s.rows[0].days, s.rows[0].interest, s.rows[0].total) == (30, 3_000_00, 13_000_00)


def test_month_end_dates_keep_the_disbursal_day() -> None:
    s = S.generate(terms(disbursed_on=date(2026, 1, 31), installments=3))
    assert [r.due_date for r in s.rows] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_holiday_moves_due_date_and_daily_interest_follows_real_days() -> None:
    base = terms(interest_calc=InterestCalc.DAILY, days_in_year=DaysInYear.D365, installments=3)
    plain = S.generate(base)
    shifted = S.generate(replace(base, holidays=frozenset({date(2026, 2, 1), date(2026, 2, 2)})))
    assert shifted.rows[0].due_date == date(2026, 2, 3)
    assert (shifted.rows[0].days, shifted.rows[1].days) == (33, 26)
    # 33 days of 12%/365 on ₹1,00,000 = ₹1,084.93; the unshifted month is 31 days = ₹1,019.18
    assert shifted.rows[0].interest == 1_084_93 and plain.rows[0].interest == 1_019_18
    assert shifted.total_principal == 1_00_000_00


def test_broken_first_period_is_charged_pro_rata() -> None:
    s = S.generate(terms(first_due=date(2026, 2, 15), installments=6))
    # 45 days where a regular period is 31: 1% × 45/31 on ₹1,00,000 = ₹1,451.61
    assert s.rows[0].days == 45 and s.rows[0].interest == 1_451_61
    assert s.rows[1].due_date == date(2026, 3, 15)


def test_grace_on_principal_and_interest() -> None:
    s = S.generate(terms(grace_principal=2))
    assert [r.principal for r in s.rows[:2]] == [0, 0]
    assert s.rows[0].interest == 1_000_00
    g = S.generate(terms(grace_interest=2))
    assert [r.interest for r in g.rows[:2]] == [0, 0]
    assert g.rows[2].interest > 2_000_00  # carried interest falls due after the grace


def test_thirty_day_months_and_360_day_year() -> None:
    s = S.generate(
        terms(
            interest_calc=InterestCalc.DAILY,
            days_in_year=DaysInYear.D360,
            days_in_month=DaysInMonth.D30,
            installments=2,
        )
    )
    assert s.rows[0].interest == 1_000_00  # 30/360 of 12% = exactly 1%


def test_weekly_and_multi_month_frequencies() -> None:
    weekly = S.generate(terms(frequency=Frequency.WEEKS, installments=4, days_in_year=DaysInYear.D364))
    assert [r.days for r in weekly.rows] == [7] * 4
    assert weekly.rows[0].interest == round(1_00_000_00 * 12 * 7 / 100 / 364)
    quarterly = S.generate(terms(repay_every=3, installments=4))
    assert quarterly.rows[1].due_date == date(2026, 7, 1) and quarterly.rows[0].interest == 3_000_00


def test_prepayment_reduce_tenure_and_reduce_emi() -> None:
    s = S.generate(terms())
    shorter = S.prepay(s, 3, 20_000_00, S.PrepaymentMode.REDUCE_TENURE)
    assert shorter.rows[0].number == 4 and len(shorter.rows) < 9
    assert all(r.total == s.emi for r in shorter.rows[:-1]) and shorter.rows[-1].total <= s.emi
    assert shorter.total_principal == s.rows[2].balance - 20_000_00
    lower = S.prepay(s, 3, 20_000_00, S.PrepaymentMode.REDUCE_EMI)
    assert len(lower.rows) == 9 and lower.emi < s.emi
    assert lower.rows[0].due_date == s.rows[3].due_date
    with pytest.raises(ValidationError) as err:
        S.prepay(s, 3, s.rows[2].balance, S.PrepaymentMode.REDUCE_EMI)
    assert err.value.field == "amount"


def test_foreclosure_on_any_date() -> None:
    s = S.generate(terms(days_in_year=DaysInYear.D365))
    quote = S.foreclosure_amount(s, 2, date(2026, 3, 16), charge_percent=D(2))
    balance = s.rows[1].balance
    assert quote["principal"] == balance
    assert quote["interest"] == round(D(balance) * D("0.12") * 15 / 365)
    assert quote["charge"] == round(D(balance) * D("0.02"))
    assert quote["total"] == quote["principal"] + quote["interest"] + quote["charge"]


def test_reschedule_from_outstanding() -> None:
    s = S.generate(terms())
    new = S.reschedule(s, 4, first_due=date(2026, 8, 10), installments=10, annual_rate=D(14))
    assert new.rows[0].number == 5 and new.rows[0].due_date == date(2026, 8, 10)
    assert new.total_principal == s.rows[3].balance and len(new.rows) == 10


OPTIONS = st.fixed_dictionaries(
    {
        "principal": st.integers(1_000_00, 5_00_00_000_00),
        "annual_rate": st.decimals(0, 60, places=2),
        "installments": st.integers(1, 60),
        "repay_every": st.integers(1, 3),
        "frequency": st.sampled_from(list(Frequency)),
        "interest_method": st.sampled_from(list(InterestMethod)),
        "amortization": st.sampled_from(list(Amortization)),
        "interest_calc": st.sampled_from(list(InterestCalc)),
        "days_in_year": st.sampled_from(list(DaysInYear)),
        "days_in_month": st.sampled_from(list(DaysInMonth)),
        "in_multiples_of": st.sampled_from([1, 100, 1000, 10000]),
    }
)


@settings(max_examples=300, deadline=None)
@given(OPTIONS, st.integers(0, 2))
def test_schedule_laws_for_every_option(opts: dict, grace: int) -> None:
    grace = min(grace, opts["installments"] - 1)
    s = S.generate(terms(**opts, grace_principal=grace))
    assert s.total_principal == opts["principal"]
    balances = [opts["principal"]] + [r.balance for r in s.rows]
    assert all(a >= b for a, b in zip(balances, balances[1:], strict=False))
    assert balances[-1] == 0
    assert all(r.principal >= 0 and r.interest >= 0 and r.total == r.principal + r.interest + r.fees for r in s.rows)


@settings(max_examples=200, deadline=None)
@given(st.integers(1_000_00, 1_00_00_000_00), st.decimals(1, 40, places=2), st.integers(2, 360))
def test_emi_and_split_match_numpy_financial(principal: int, rate: D, n: int) -> None:
    s = S.generate(terms(principal=principal, annual_rate=rate, installments=n))
    r = float(rate) / 1200
    assert abs(s.emi - float(npf.pmt(r, n, -principal))) <= 0.5 + 1e-6 * principal
    for k in (1, n // 2 or 1):
        assert abs(s.rows[k - 1].interest - float(npf.ipmt(r, k, n, -principal))) <= 1 + n


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"principal": -5}, "principal"),
        ({"principal": 0}, "principal"),
        ({"installments": 0}, "installments"),
        ({"annual_rate": D(1001)}, "annual_rate"),
        ({"annual_rate": D(-1)}, "annual_rate"),
        ({"grace_principal": 12}, "grace_principal"),
        ({"in_multiples_of": 0}, "in_multiples_of"),
        ({"first_due": date(2025, 12, 31)}, "first_due"),
    ],
)
def test_bad_terms_name_the_field(kw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        terms(**kw)
    assert err.value.field == field


def test_unknown_option_and_float_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        parse_enum(InterestMethod, "COMPOUND", "interest_method")
    assert err.value.field == "interest_method"
    assert parse_enum(Frequency, "months", "frequency") == Frequency.MONTHS
    with pytest.raises(TypeError):
        terms(principal=1000.5)
    with pytest.raises(TypeError):
        terms(annual_rate=12.5)


@settings(max_examples=200, deadline=None)
@given(OPTIONS, st.integers(0, 2))
def test_fast_path_equals_general_path(opts: dict, grace: int) -> None:
    """Regular schedules take a fast path; a holiday after the last due date forces the general one,
    which must give the same schedule to the paisa and to the day."""
    grace = min(grace, opts["installments"] - 1)
    plain = terms(**opts, grace_principal=grace)
    forced = replace(plain, holidays=frozenset({date(2200, 1, 1)}))
    fast, general = S.generate(plain), S.generate(forced)
    assert fast.emi == general.emi
    assert list(fast.rows) == list(general.rows)
