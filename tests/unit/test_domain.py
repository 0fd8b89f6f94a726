"""Domain maths, no I/O. Golden numbers say where they come from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import ledger, rules
from domain.errors import ValidationError
from domain.lifecycle import can_move
from domain.money import format_inr, split_largest_remainder, to_paise, to_rupees
from domain.repayment import Due, allocate
from domain.status import LoanStatus


def test_money_is_exact_and_refuses_float() -> None:
    assert to_paise("1234.565") == 123457  # half-up
    assert to_paise(Decimal("0.01")) == 1
    assert to_rupees(123457) == Decimal("1234.57")
    assert format_inr(1_23_45_678_90) == "₹1,23,45,678.90"
    with pytest.raises(TypeError):
        to_paise(10.5)  # type: ignore[arg-type]


@given(total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 1000), min_size=1, max_size=20))
def test_largest_remainder_sums_back(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = weights + [1]
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)


@given(
    amount=st.integers(1, 10**9),
    dues=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 10**8)), min_size=0, max_size=24),
)
def test_allocation_conserves_money(amount: int, dues: list[tuple[int, int]]) -> None:
    result = allocate(amount, [Due(i + 1, a, b) for i, (a, b) in enumerate(dues)])
    assert result.interest + result.principal + result.excess == amount
    for part in result.parts:
        interest_due, principal_due = dues[part.number - 1]
        assert part.interest <= interest_due and part.principal <= principal_due
    txn = ledger.repayment(amount, result)
    assert sum(leg.amount for leg in txn.legs) == 0


def test_allocation_order_interest_then_principal_oldest_first() -> None:
    result = allocate(1500, [Due(2, 100, 1000), Due(1, 200, 1000)])
    assert [(p.number, p.interest, p.principal) for p in result.parts] == [(1, 200, 1000), (2, 100, 200)]
    assert result.excess == 0


def test_unbalanced_ledger_transaction_is_impossible() -> None:
    with pytest.raises(ValueError):
        ledger.Transaction("BAD", (ledger.Leg("A", 100), ledger.Leg("B", -99)))


def test_decision_bands() -> None:
    policy = rules.CreditPolicy(min_credit_score=650, auto_sanction_score=750)
    assert rules.decide(649, policy).decision == rules.Decision.REJECT
    assert rules.decide(650, policy).decision == rules.Decision.MANUAL_REVIEW
    assert rules.decide(750, policy).decision == rules.Decision.AUTO_SANCTION
    assert "BRE_MIN_CREDIT_SCORE" in rules.decide(600, policy).reason


@pytest.mark.parametrize("pan", ["ABCDE1234", "abcde12345", "1BCDE1234F", ""])
def test_bad_pan(pan: str) -> None:
    with pytest.raises(ValidationError) as err:
        rules.normalise_pan(pan)
    assert err.value.field == "pan"


def test_pan_and_phone_normalised() -> None:
    assert rules.normalise_pan(" abcde1234f ") == "ABCDE1234F"
    assert rules.normalise_phone("+919876543210") == "9876543210"
    with pytest.raises(ValidationError):
        rules.normalise_phone("12345")


def test_application_bounds_name_the_field() -> None:
    bounds = rules.ProductBounds(5_000_00, 5_00_000_00, 1, 24)
    with pytest.raises(ValidationError) as err:
        rules.check_application(4_999_99, 6, bounds)
    assert err.value.field == "amount"
    with pytest.raises(ValidationError) as err:
        rules.check_application(10_000_00, 25, bounds)
    assert err.value.field == "tenure"
    rules.check_application(10_000_00, 24, bounds)


def test_status_moves() -> None:
    assert can_move(LoanStatus.UNDER_REVIEW, LoanStatus.SANCTIONED)
    assert not can_move(LoanStatus.APPLIED, LoanStatus.DISBURSED)
    assert not can_move(LoanStatus.COMPLETED, LoanStatus.OVERDUE)
