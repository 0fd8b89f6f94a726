"""An advance to principal when nothing is left to re-amortise (domain.servicing.advance_as_principal): every unpaid
installment overdue or part-paid. A compressed-time product (the demo's: each "month" a few seconds) has
installments whose due instant has passed (flagged overdue) while their calendar due date, which the waterfall's
buckets read, is still ahead: the waterfall gives an advance and no installment is untouched. The advance pays their
principal, the last first; what is left is a credit balance; nothing is lost (the workflow failed on it before)."""

from __future__ import annotations

from datetime import date, datetime

from domain.allocation import allocate_payment
from domain.servicing import advance_as_principal, apply_parts, payable_dues, untouched_future
from workflows.contracts import InstallmentState

TODAY = date(2026, 3, 10)


def _loan() -> list[InstallmentState]:
    """Three installments of ₹10,000 principal and ₹500 interest, due by the calendar in April, May and June: the
    first paid, the other two past their due instants already (compressed time), so none is untouched."""
    rows = [
        InstallmentState(n, datetime(2026, 1, 1), 10_000_00, 500_00, due_date=date(2026, n + 3, 5)) for n in (1, 2, 3)
    ]
    rows[0].principal_paid, rows[0].interest_paid = rows[0].principal, rows[0].interest
    rows[1].overdue = rows[2].overdue = True
    return rows


def test_no_untouched_installment_is_left_to_reamortise() -> None:
    assert untouched_future(_loan()) == []


def test_the_waterfall_can_still_give_an_advance_there() -> None:
    insts = _loan()
    result = allocate_payment(15_000_00, TODAY, payable_dues(insts, TODAY))
    assert result.advance_principal > 0  # the June installment is future by the calendar: the case to cover


def test_the_advance_pays_principal_last_installment_first_and_conserves_money() -> None:
    insts = _loan()
    parts, left = advance_as_principal(insts, 12_000_00, TODAY)
    assert [(p.number, p.principal, p.interest) for p in parts] == [(3, 10_000_00, 0), (2, 2_000_00, 0)]
    assert sum(p.principal for p in parts) + left == 12_000_00 and left == 0
    apply_parts(insts, parts)
    assert insts[2].principal_paid == insts[2].principal and insts[1].principal_paid == 2_000_00


def test_more_than_the_principal_left_is_returned_as_a_credit_balance() -> None:
    insts = _loan()
    parts, left = advance_as_principal(insts, 25_000_00, TODAY)
    assert sum(p.principal for p in parts) == 20_000_00 and left == 5_000_00
    apply_parts(insts, parts)
    assert all(i.principal_paid == i.principal for i in insts)
