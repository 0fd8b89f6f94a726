"""domain.servicing: dues, a payment's parts applied, penal charges accrued (RBI penal charges, 18 Aug 2023)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.allocation import (
    AllocationConfig,
    Bucket,
    Component,
    InstallmentAllocation,
    InstallmentDue,
    Processing,
)
from domain.charges import PenalBasis, PenalChargeSpec
from domain.servicing import (
    apply_parts,
    dated_dues,
    flat_penal_on_overdue,
    payable_dues,
    penal_accruals,
    penal_after_value_date,
)


@dataclass
class Inst:
    number: int
    due_date: date | None
    principal: int
    interest: int
    fees: int = 0
    penal: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    fees_paid: int = 0
    penal_paid: int = 0
    overdue: bool = False
    penal_accrued_to: date | None = None

    @property
    def paid(self) -> bool:
        return (
            self.principal_paid >= self.principal
            and self.interest_paid >= self.interest
            and self.fees_paid >= self.fees
            and self.penal_paid >= self.penal
        )


TODAY = date(2026, 5, 10)
PERCENT = PenalChargeSpec(PenalBasis.PERCENT_PER_ANNUM, annual_percent=Decimal("24"))
FLAT = PenalChargeSpec(PenalBasis.FLAT_PER_OCCURRENCE, flat=500_00)


def schedule() -> list[Inst]:
    return [
        Inst(1, date(2026, 3, 31), 8_000_00, 2_000_00, principal_paid=8_000_00, interest_paid=2_000_00),  # paid
        Inst(2, date(2026, 4, 30), 8_100_00, 1_900_00, penal=100_00, interest_paid=900_00, overdue=True),
        Inst(3, None, 8_200_00, 1_800_00),  # a demo product's installment: no calendar date
    ]


def test_dues_leave_out_what_is_paid_and_date_the_undated_today() -> None:
    dues = payable_dues(schedule(), TODAY)
    assert dues == [
        InstallmentDue(2, date(2026, 4, 30), 8_100_00, 1_000_00, 0, 100_00),
        InstallmentDue(3, TODAY, 8_200_00, 1_800_00, 0, 0),
    ]
    assert [d.number for d in dated_dues(schedule())] == [2]  # DPD counts calendar due dates only


def test_a_payments_parts_are_added_to_their_installments() -> None:
    insts = schedule()
    parts = [
        InstallmentAllocation(
            2, date(2026, 4, 30), Bucket.OVERDUE, penal=100_00, interest=1_000_00, principal=8_100_00
        ),
        InstallmentAllocation(3, TODAY, Bucket.CURRENT, interest=500_00),
    ]
    apply_parts(insts, parts)
    assert insts[1].paid and (insts[1].penal_paid, insts[1].interest_paid) == (100_00, 1_900_00)
    assert (insts[2].interest_paid, insts[2].principal_paid) == (500_00, 0) and not insts[2].paid


def test_penal_accrues_simple_on_principal_and_interest_since_last_computed() -> None:
    insts = schedule()
    [accrual] = penal_accruals(insts, TODAY, PERCENT)
    # 10 days from the due date on 8,100 + 1,000 overdue (never on the penal already levied): 24% × 10/365
    assert (accrual.number, accrual.overdue, accrual.days) == (2, 9_100_00, 10)
    assert accrual.amount == 59_84  # 910000 paise × 0.24 × 10 / 365 = 5983.56… paise → half-up: ₹59.84
    assert accrual.key == "penal:2:2026-04-30:2026-05-10" and accrual.reason == "10 day(s) on 910000 paise overdue"
    insts[1].penal_accrued_to = TODAY
    assert penal_accruals(insts, TODAY, PERCENT) == []  # nothing twice for the same days
    assert penal_accruals(insts, date(2026, 5, 11), PERCENT)[0].days == 1


def test_penal_basis_decides_which_charge_applies() -> None:
    insts = schedule()
    assert penal_accruals(insts, TODAY, FLAT) == [] and penal_accruals(insts, TODAY, None) == []
    assert flat_penal_on_overdue(insts[1], FLAT) == 500_00
    assert flat_penal_on_overdue(insts[1], PERCENT) == 0 and flat_penal_on_overdue(insts[1], None) == 0


def test_a_parked_payments_payload_keeps_its_date_as_text() -> None:
    """A payment the loan dated (``PaymentEvent.paid_on``) is parked with its payload as JSON: the date as ISO text,
    an absurd amount as text, no NUL."""
    import dataclasses
    import json
    from datetime import date

    from db.receipts import _jsonable
    from workflows.contracts import PaymentEvent

    event = PaymentEvent("pay\x00x", 10**22, "razorpay", paid_on=date(2026, 12, 1))
    payload = _jsonable(dataclasses.asdict(event))
    assert json.loads(json.dumps(payload)) == {
        **payload,
        "payment_id": "payx",
        "amount": str(10**22),
        "paid_on": "2026-12-01",
    }


# ----------------------------------------------------------------- a backdated payment's penal charges
def _due(number: int, due: date, penal: int = 500_00, **kw: int) -> Inst:
    return Inst(number, due, 9_000_00, 1_000_00, penal=penal, overdue=True, **kw)


def test_a_debit_value_dated_on_the_due_date_reverses_the_penal_levied_after_it() -> None:
    insts = [_due(1, date(2026, 5, 5)), Inst(2, date(2026, 6, 5), 9_000_00, 900_00)]
    assert penal_after_value_date(insts, date(2026, 5, 5), 10_000_00, TODAY) == [(1, 500_00)]
    assert insts[0].penal == 500_00  # nothing changed in place


def test_a_payment_short_of_the_installment_reverses_nothing() -> None:
    insts = [_due(1, date(2026, 5, 5))]
    assert penal_after_value_date(insts, date(2026, 5, 5), 9_999_99, TODAY) == []


def test_an_installment_late_on_the_value_date_keeps_its_penal_and_takes_the_money_first() -> None:
    late, current = _due(1, date(2026, 4, 5), penal=300_00), _due(2, date(2026, 5, 5))
    # enough for the late one with its charge, and the current one: only the current one's charge goes
    assert penal_after_value_date([late, current], date(2026, 5, 5), 20_300_00, TODAY) == [(2, 500_00)]
    # the late one's charge is paid first: without it the current installment is short, its charge stands
    assert penal_after_value_date([late, current], date(2026, 5, 5), 20_000_00, TODAY) == []


def test_an_installment_the_waterfall_leaves_short_keeps_its_penal() -> None:
    """Three installments overdue today, one payment of one installment value-dated the first's due date: the
    brand's vertical waterfall pays every overdue installment's interest before any principal, so the first is left
    short: nothing is reversed (a walk oldest first would have reversed its charge and left it short, overdue)."""
    insts = [_due(1, date(2026, 3, 5)), _due(2, date(2026, 4, 5)), _due(3, date(2026, 5, 5))]
    assert penal_after_value_date(insts, date(2026, 3, 5), 10_000_00, TODAY) == []
    horizontal = AllocationConfig(processing=Processing.HORIZONTAL)  # installment by installment: the first clears
    assert penal_after_value_date(insts, date(2026, 3, 5), 10_000_00, TODAY, horizontal) == [(1, 500_00)]


def test_a_reversal_that_would_leave_another_installment_short_is_dropped_until_none_does() -> None:
    """Two installments overdue since the value date, one payment of 11,000: with both charges reversed the
    waterfall (vertical) clears the first and not the second, whose charge then stands; allocated again with it,
    the first is 500 short too, so neither is reversed (one allocation pass would have reversed the first)."""
    insts = [_due(1, date(2026, 3, 5)), _due(2, date(2026, 4, 5))]
    assert penal_after_value_date(insts, date(2026, 3, 5), 11_000_00, TODAY) == []
    assert penal_after_value_date(insts, date(2026, 3, 5), 11_500_00, TODAY) == [(1, 500_00)]


def test_an_installment_this_payment_pays_nothing_of_keeps_its_charge() -> None:
    """Principal and interest paid late by another payment, the charge left (a brand whose waterfall takes penal
    last): a backdated paisa pays none of the installment, so it reverses nothing."""
    settled = _due(1, date(2026, 5, 5), principal_paid=9_000_00, interest_paid=1_000_00)
    late_penal_last = AllocationConfig(
        overdue_order=(Component.FEES, Component.INTEREST, Component.PRINCIPAL, Component.PENAL)
    )
    assert penal_after_value_date([settled], date(2026, 5, 5), 1, TODAY, late_penal_last) == []
    demo = Inst(1, None, 9_000_00, 1_000_00, penal=500_00, overdue=True)  # no calendar due date: never
    assert penal_after_value_date([demo], date(2026, 5, 5), 10_000_00, TODAY) == []


def test_penal_already_paid_is_never_reversed() -> None:
    part_paid = _due(1, date(2026, 5, 5), penal_paid=200_00)
    assert penal_after_value_date([part_paid], date(2026, 5, 5), 10_000_00, TODAY) == [(1, 300_00)]


def test_a_payment_value_dated_after_the_due_date_or_an_installment_not_yet_overdue_reverses_nothing() -> None:
    assert penal_after_value_date([_due(1, date(2026, 5, 5))], date(2026, 5, 6), 10_500_00, TODAY) == []
    # a charge carried onto an installment not due yet (a restructure moves unpaid penal forward) is not reversed
    carried = Inst(1, date(2026, 7, 5), 9_000_00, 1_000_00, penal=800_00)
    assert penal_after_value_date([carried], date(2026, 5, 5), 10_000_00, TODAY) == []
