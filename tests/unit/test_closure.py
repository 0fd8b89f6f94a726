"""Foreclosure quotes and the cooling-off exit (domain.closure) on a real schedule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from domain import schedule
from domain.closure import close_schedule, cooling_off_days, cooling_off_exit, foreclosure_quote, settle_all
from domain.errors import ValidationError
from domain.servicing import apply_parts
from workflows.contracts import InstallmentState, LoanTerms

# ₹1,00,000 at 24% p.a. over 12 months, disbursed 1 Jan 2025 (EMI ₹9,455.96)
TERMS = LoanTerms(amount=100_000_00, tenure=12, annual_rate_bps=2400, holiday_strategy="SAME_DAY")
DISBURSED = date(2025, 1, 1)


def _installments() -> list[InstallmentState]:
    plan = schedule.generate(TERMS.schedule_terms(DISBURSED))
    return [
        InstallmentState(
            r.number, datetime(2025, 1, 1), r.principal, r.interest, due_date=r.due_date, days=r.days, fees=r.fees
        )
        for r in plan.rows
    ]


def _pay_first(insts: list[InstallmentState]) -> None:
    first = insts[0]
    first.principal_paid, first.interest_paid = first.principal, first.interest


def test_quote_mid_period_charges_interest_for_the_days_elapsed_only() -> None:
    insts = _installments()
    _pay_first(insts)
    second = insts[1]  # 1 Feb → 1 Mar 2025, 28 days
    on = date(2025, 2, 15)  # 14 of 28 days elapsed
    quote = foreclosure_quote(insts, on)
    outstanding = sum(i.principal for i in insts[1:])
    assert quote.principal == outstanding
    assert quote.current == 2
    assert quote.current_interest == round(second.interest * 14 / 28)
    assert quote.interest == quote.current_interest  # nothing overdue
    assert (quote.fees, quote.penal, quote.charge, quote.charge_gst) == (0, 0, 0, 0)
    assert quote.total == outstanding + quote.current_interest


def test_quote_adds_overdue_dues_and_the_products_charge_with_gst() -> None:
    insts = _installments()
    insts[0].penal = 500_00  # unpaid first installment, a penal charge levied
    on = date(2025, 2, 10)
    quote = foreclosure_quote(insts, on, charge_percent="2", gst_percent="18")
    assert quote.interest == insts[0].interest + quote.current_interest
    assert quote.penal == 500_00
    assert quote.charge == round(quote.principal * 2 / 100)
    assert quote.charge_gst == round(quote.charge * 18 / 100)


def test_closing_the_schedule_then_settling_all_pays_exactly_the_quote() -> None:
    insts = _installments()
    _pay_first(insts)
    on = date(2025, 2, 20)
    quote = foreclosure_quote(insts, on, charge_percent=Decimal("3"))
    close_schedule(insts, quote)
    parts = settle_all(insts, on)
    assert sum(p.total for p in parts) == quote.total
    apply_parts(insts, parts)
    assert all(i.paid for i in insts)


def test_quote_after_the_last_due_date_is_the_dues_alone_with_no_charge() -> None:
    """Past the last due date nothing is repaid before its time: the quote is what the waterfall takes for every
    due (the loan's workflow applies such a payment as an ordinary one), with no foreclosure charge."""
    insts = _installments()
    on = insts[-1].due_date
    assert on is not None
    for day in (on, date.fromordinal(on.toordinal() + 40)):
        quote = foreclosure_quote(insts, day, charge_percent="4", gst_percent="18")
        assert quote.current is None
        assert (quote.charge, quote.charge_gst) == (0, 0)
        assert quote.total == sum(i.principal + i.interest for i in insts)
    # a day before it, the last period is still to come: the charge stands
    before = foreclosure_quote(insts, date.fromordinal(on.toordinal() - 1), charge_percent="4", gst_percent="18")
    assert before.current == insts[-1].number and before.charge == round(before.principal * 4 / 100)


def test_quote_refuses_a_bad_percent() -> None:
    with pytest.raises(ValidationError) as err:
        foreclosure_quote(_installments(), date(2025, 1, 5), charge_percent="150")
    assert err.value.field == "charge_percent"
    with pytest.raises(TypeError):
        foreclosure_quote(_installments(), date(2025, 1, 5), charge_percent=2.0)  # type: ignore[arg-type]


def test_cooling_off_period_never_below_rbis_floor() -> None:
    assert cooling_off_days(None, 365) == 3
    assert cooling_off_days(1, 30) == 3  # a brand cannot go below 3 days for tenors of 7 days or more
    assert cooling_off_days(None, 5) == 1
    assert cooling_off_days(7, 365) == 7


def test_cooling_off_exit_is_principal_plus_proportionate_apr_and_closes_after_the_period() -> None:
    exit_ = cooling_off_exit(100_000_00, "26.5", date(2025, 1, 1), date(2025, 1, 3), 3)
    # ₹1,00,000 × 26.5% × 2/365 = ₹145.21
    assert (exit_.principal, exit_.apr_cost, exit_.amount, exit_.days_held) == (100_000_00, 145_21, 100_145_21, 2)
    assert exit_.last_day == date(2025, 1, 4)
    with pytest.raises(ValidationError) as err:
        cooling_off_exit(100_000_00, "26.5", date(2025, 1, 1), date(2025, 1, 5), 3)
    assert err.value.field == "on"


def test_interest_paid_for_days_not_yet_elapsed_counts_towards_the_principal() -> None:
    """An EMI paid before its due date, then the loan foreclosed before that date: interest is owed for the days
    the money was lent only. What was paid beyond them is credited (``interest_credit``): the quote is that much
    lower, and closing the schedule moves it from the period's interest paid to principal paid."""
    insts = _installments()
    _pay_first(insts)  # period 1 Jan → 1 Feb 2025 (31 days) paid in full on its 10th day
    first = insts[0]
    on = date(2025, 1, 15)  # 14 of its 31 days elapsed
    earned = round(Decimal(first.interest) * 14 / 31)
    plain = foreclosure_quote(insts, on)
    quote = foreclosure_quote(insts, on, charge_percent="2", credit_unearned=True)
    assert plain.interest_credit == 0 and plain.total == sum(i.principal for i in insts[1:])
    assert quote.interest_credit == first.interest - earned > 0
    assert (quote.current, quote.current_interest, quote.interest) == (2, 0, 0)  # period 2 has not begun
    assert quote.total == quote.principal - quote.interest_credit + quote.charge + quote.charge_gst
    assert quote.charge == round((quote.principal - quote.interest_credit) * Decimal("0.02"))  # on what is still owed
    assert quote.as_dict()["interestCredit"] == quote.interest_credit
    moves = close_schedule(insts, quote)
    assert moves == [(1, -quote.interest_credit, 0), (2, 0, quote.interest_credit)]
    assert (first.interest, first.interest_paid) == (earned, earned) and first.paid
    parts = settle_all(insts, on)
    assert sum(p.total for p in parts) == quote.total
    apply_parts(insts, parts)
    assert all(i.paid for i in insts)
    assert sum(i.interest_paid for i in insts) == earned  # the days lent, nothing more
    assert sum(i.principal_paid for i in insts) == TERMS.amount


def test_a_part_payment_to_interest_on_the_day_of_disbursal_is_credited_in_full() -> None:
    """₹1,000 paid on the day of disbursal went to installment 1's interest; foreclosed that day, no day of
    interest was earned: the whole ₹1,000 counts towards the principal."""
    insts = _installments()
    insts[0].interest_paid = 1_000_00
    quote = foreclosure_quote(insts, DISBURSED, credit_unearned=True)
    assert (quote.current, quote.current_interest, quote.interest_credit) == (1, 0, 1_000_00)
    assert quote.total == TERMS.amount - 1_000_00
    assert close_schedule(insts, quote) == [(1, -1_000_00, 1_000_00)]
    parts = settle_all(insts, DISBURSED)
    assert sum(p.total for p in parts) == quote.total
    apply_parts(insts, parts)
    assert sum(i.interest_paid for i in insts) == 0 and sum(i.principal_paid for i in insts) == TERMS.amount
