"""The board's portfolio figures (domain/portfolio.py) against numbers worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.portfolio import (
    Billing,
    LoanDues,
    Position,
    ScheduledDue,
    VintageLoan,
    aum,
    collection_efficiency,
    gnpa,
    months_between,
    overall_collection_efficiency,
    par,
    percent,
    principal_interest_cleared_on,
    reached_dpd_on,
    vintage,
)

# A book of six loans (₹): 1,00,000 current; 50,000 at DPD 15; 40,000 at DPD 45; 30,000 at DPD 75; 20,000 at
# DPD 120 (NPA); 10,000 NPA after a restructure at DPD 0. Plus a closed and a written-off loan, off the book.
BOOK = [
    Position("DISBURSED", 1_00_000_00),
    Position("OVERDUE", 50_000_00, 15, "SMA-0"),
    Position("OVERDUE", 40_000_00, 45, "SMA-1"),
    Position("OVERDUE", 30_000_00, 75, "SMA-2"),
    Position("OVERDUE", 20_000_00, 120, "NPA"),
    Position("DISBURSED", 10_000_00, 0, "NPA"),
    Position("COMPLETED", 0),
    Position("WRITTEN_OFF", 25_000_00, 200, "NPA"),
]


def test_aum_is_principal_outstanding_of_loans_being_repaid() -> None:
    # 1,00,000 + 50,000 + 40,000 + 30,000 + 20,000 + 10,000 = 2,50,000
    assert aum(BOOK) == 2_50_000_00


def test_par_30_60_90() -> None:
    # PAR 30: 40,000 + 30,000 + 20,000 = 90,000 of 2,50,000 = 36 %
    p30 = par(BOOK, 30)
    assert (p30.loans, p30.principal, p30.percent) == (3, 90_000_00, Decimal("36.00"))
    # PAR 60: 30,000 + 20,000 = 50,000 → 20 %
    assert par(BOOK, 60).percent == Decimal("20.00")
    # PAR 90: 20,000 → 8 %; the written-off loan at DPD 200 is off the book
    p90 = par(BOOK, 90)
    assert (p90.loans, p90.principal, p90.percent) == (1, 20_000_00, Decimal("8.00"))


def test_par_counts_dpd_above_the_threshold_not_at_it() -> None:
    book = [Position("OVERDUE", 100, 30, "SMA-0"), Position("OVERDUE", 300, 31, "SMA-1")]
    assert par(book, 30).principal == 300 and par(book, 30).percent == Decimal("75.00")


def test_gnpa_is_npa_principal_over_aum() -> None:
    # 20,000 (DPD 120) + 10,000 (restructured, held NPA) = 30,000 of 2,50,000 = 12 %
    g = gnpa(BOOK)
    assert (g.loans, g.principal, g.percent) == (2, 30_000_00, Decimal("12.00"))


def test_ratios_of_an_empty_book_are_none() -> None:
    assert aum([]) == 0 and par([], 30).percent is None and gnpa([Position("COMPLETED", 0)]).percent is None


def test_percent_rounds_half_up_to_two_decimals() -> None:
    assert percent(1, 3) == Decimal("33.33")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(1, 8) == Decimal("12.50")
    assert percent(1, 80000) == Decimal("0.00")  # 0.00125 %
    assert percent(1, 40000) == Decimal("0.00") and percent(1, 400) == Decimal("0.25")
    with pytest.raises(TypeError):
        percent(1.0, 3)  # type: ignore[arg-type]


def test_current_collection_efficiency() -> None:
    # Three EMIs due in the month: ₹10,000 paid, ₹10,000 half paid, ₹5,000 unpaid →
    # collected 15,000 of 25,000 billed = 60 %
    ce = collection_efficiency([Billing(10_000_00, 10_000_00), Billing(10_000_00, 5_000_00), Billing(5_000_00, 0)])
    assert (ce.billed, ce.collected, ce.percent) == (25_000_00, 15_000_00, Decimal("60.00"))
    # 2 of 3 rupees: 66.67 %
    assert collection_efficiency([Billing(300, 200)]).percent == Decimal("66.67")
    # nothing billed: no ratio
    assert collection_efficiency([]).percent is None


def test_collection_efficiency_never_exceeds_100_percent() -> None:
    ce = collection_efficiency([Billing(1_000, 1_500), Billing(1_000, 0)])
    assert (ce.collected, ce.percent) == (1_000, Decimal("50.00"))


def test_months_between() -> None:
    assert months_between(date(2026, 1, 31), date(2026, 1, 1)) == 0
    assert months_between(date(2026, 1, 31), date(2026, 2, 1)) == 1
    assert months_between(date(2025, 11, 15), date(2026, 2, 10)) == 3


def test_reached_dpd_follows_the_day_end_convention() -> None:
    due = date(2026, 3, 31)
    # unpaid: DPD 31 at the day-end of 30 April (RBI's example: SMA-1 on 30 April)
    assert reached_dpd_on([(due, None)], 30, date(2026, 6, 1)) == date(2026, 4, 30)
    # not yet at the day-end of 29 April
    assert reached_dpd_on([(due, None)], 30, date(2026, 4, 29)) is None
    # paid on 30 April itself (before its day-end): never DPD 31
    assert reached_dpd_on([(due, date(2026, 4, 30))], 30, date(2026, 6, 1)) is None
    # paid on 1 May: it was DPD 31 at the day-end of 30 April
    assert reached_dpd_on([(due, date(2026, 5, 1))], 30, date(2026, 6, 1)) == date(2026, 4, 30)
    # NPA (DPD 91) at the day-end of 29 June, RBI's example; the earliest installment's crossing wins
    two = [(date(2026, 4, 30), None), (due, None)]
    assert reached_dpd_on(two, 90, date(2026, 12, 31)) == date(2026, 6, 29)


def test_vintage_curves_by_disbursal_month() -> None:
    # January cohort: four loans of ₹10,000, ₹20,000, ₹30,000, ₹40,000 (1,00,000).
    #   the ₹20,000 loan went 30+ on 20 Feb (month on book 1) and 90+ on 21 Apr (MOB 3);
    #   the ₹30,000 loan went 30+ on 5 Apr (MOB 3).
    # February cohort: one ₹50,000 loan, 30+ on 10 May (MOB 3, past as_of: not yet counted).
    jan = [
        VintageLoan(date(2026, 1, 5), 10_000_00, {30: None, 90: None}),
        VintageLoan(date(2026, 1, 10), 20_000_00, {30: date(2026, 2, 20), 90: date(2026, 4, 21)}),
        VintageLoan(date(2026, 1, 31), 30_000_00, {30: date(2026, 4, 5), 90: None}),
        VintageLoan(date(2026, 1, 20), 40_000_00, {30: None, 90: None}),
    ]
    feb = [VintageLoan(date(2026, 2, 1), 50_000_00, {30: date(2026, 5, 10), 90: None})]
    later = [VintageLoan(date(2026, 6, 1), 1_000_00, {30: None, 90: None})]  # after as_of: left out
    cohorts = vintage(jan + feb + later, date(2026, 4, 30))
    assert [c.month for c in cohorts] == ["2026-01", "2026-02"]
    january, february = cohorts
    assert (january.loans, january.principal) == (4, 1_00_000_00)
    thirty = [
        (p.months_on_book, p.loans, p.principal, p.percent_principal, p.percent_loans) for p in january.curves[30]
    ]
    assert thirty == [
        (0, 0, 0, Decimal("0.00"), Decimal("0.00")),
        (1, 1, 20_000_00, Decimal("20.00"), Decimal("25.00")),
        (2, 1, 20_000_00, Decimal("20.00"), Decimal("25.00")),
        (3, 2, 50_000_00, Decimal("50.00"), Decimal("50.00")),
    ]
    assert [p.percent_principal for p in january.curves[90]] == [Decimal("0.00")] * 3 + [Decimal("20.00")]
    # February: three months observed (MOB 0..2), nobody 30+ by 30 April
    assert [p.loans for p in february.curves[30]] == [0, 0, 0]


def test_overall_collection_efficiency_counts_opening_arrears_and_nets_paying_ahead() -> None:
    ce = overall_collection_efficiency(
        [
            LoanDues(billed_to_end=10_000, paid_before=0, paid_in_period=4_000),  # this period's EMI, part paid
            LoanDues(billed_to_end=30_000, paid_before=10_000, paid_in_period=15_000),  # 10,000 arrears + 10,000 EMI
            LoanDues(billed_to_end=10_000, paid_before=10_000, paid_in_period=0),  # paid ahead: nothing due
            LoanDues(billed_to_end=10_000, paid_before=0, paid_in_period=50_000),  # foreclosed: capped at its due
        ]
    )
    assert (ce.billed, ce.collected) == (10_000 + 20_000 + 0 + 10_000, 4_000 + 15_000 + 0 + 10_000)
    assert ce.percent == Decimal("72.50")
    paid_more_before = overall_collection_efficiency([LoanDues(10_000, 12_000, 1_000)])
    assert (paid_more_before.billed, paid_more_before.collected, paid_more_before.percent) == (0, 0, None)
    with pytest.raises(TypeError):
        LoanDues(1.5, 0, 0)  # type: ignore[arg-type]


def test_an_installment_counts_as_cleared_when_its_principal_and_interest_are_paid() -> None:
    due1, due2 = date(2026, 3, 1), date(2026, 4, 1)
    # principal and interest of the first EMI paid by two part payments (the second on 20 March), penal still owed:
    # cleared on 20 March though not paid in full; the second EMI part paid: not cleared
    schedule = [ScheduledDue(due1, 10_000, 10_000, None), ScheduledDue(due2, 10_000, 4_000, None)]
    payments = [(date(2026, 3, 5), 6_000), (date(2026, 3, 20), 4_000), (date(2026, 4, 3), 4_000)]
    cleared = principal_interest_cleared_on(schedule, payments)
    assert cleared == [(due1, date(2026, 3, 20)), (due2, None)]
    # so DPD never went above 30 for the first; the second (part paid) went above 30 on 1 May
    assert reached_dpd_on(cleared[:1], 30, date(2026, 6, 30)) is None
    assert reached_dpd_on(cleared, 30, date(2026, 6, 30)) == date(2026, 5, 1)
    # before the fix, the penal left unpaid kept the first EMI unpaid: above 30 on 31 March
    assert reached_dpd_on([(due1, None)], 30, date(2026, 6, 30)) == date(2026, 3, 31)
    # a payment recorded without its parts: the date it was paid in full stands in
    assert principal_interest_cleared_on([ScheduledDue(due1, 10_000, 10_000, date(2026, 3, 9))], []) == [
        (due1, date(2026, 3, 9))
    ]
    # part paid after the date it crossed, then in full: counted from its due date as before
    late = principal_interest_cleared_on([ScheduledDue(due1, 10_000, 10_000, None)], [(date(2026, 4, 15), 10_000)])
    assert reached_dpd_on(late, 30, date(2026, 6, 30)) == date(2026, 3, 31)
