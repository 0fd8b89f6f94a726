"""What an advance to principal re-amortises, and from when.

- A loan whose schedule opens with a grace period (``GRACE_ADVANCE_PATCH``): the grace installment is one of nothing
  (no principal, no interest), paid from the start. Before the patch it was counted among the installments an advance
  re-amortises, so the new schedule started before its anchor, the schedule refused it, and the whole payment was
  parked: the installment it paid was left to fall overdue.
- A loan disbursed between midnight and 05:30 IST (``IST_ANCHOR_PATCH``): an advance with nothing settled before it
  re-amortises from the disbursal's IST date. Before the patch, from its UTC date, a day early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import schedule
from tests.workflows.stubs import (
    StubActivities,
    loan_input,
    patch_markers,
    running_loan,
    terms,
)
from tests.workflows.test_branches import _disbursed
from workflows.options import GRACE_ADVANCE_PATCH, IST


async def test_an_advance_after_a_grace_installment_is_credited_and_reamortises_what_is_unpaid(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    loan_terms = terms(amount=60_000_00, tenure=4, period_seconds=None, grace_principal=1, grace_interest=1)
    async with running_loan(env, stubs, loan_input(loan_terms)) as run:
        await _disbursed(run)
        grace, second, third, fourth = stubs.of("record_disbursal")[0].installments
        assert (grace.principal, grace.interest) == (0, 0)  # the grace period's installment of nothing
        link = stubs.of("ensure_payment_link")[0]
        assert link.installment_no == 2
        await run.pay("with_advance", link.amount + 100_00)
        await stubs.wait_calls("record_payment", 1)
        _, servicing = await run._histories()

    assert stubs.of("park_payment") == []  # credited, not parked
    (advance,) = stubs.of("record_payment")
    assert advance.advance_principal == 100_00 and advance.excess == 0
    assert [p.number for p in advance.parts] == [2]
    # only the installments still unpaid are re-amortised: from the third on, on their own due dates
    assert advance.rescheduled_from == 3
    assert [(i.number, i.due_at) for i in advance.rescheduled] == [(3, third.due_at), (4, fourth.due_at)]
    assert sum(i.principal for i in advance.rescheduled) == third.principal + fourth.principal - 100_00
    assert GRACE_ADVANCE_PATCH in patch_markers(servicing)


def test_an_advance_from_disbursal_anchors_on_the_ist_date_of_a_loan_disbursed_after_midnight_ist() -> None:
    """The loan workflow's own re-amortisation (``_reamortize``), on a loan disbursed at 02:00 IST with nothing
    settled: the new schedule runs from the disbursal's IST date; the UTC date, a day earlier, made its first period a
    day too long and its interest too high (what a run without the patch still does)."""
    from workflows.contracts import InstallmentState, ServicingState
    from workflows.loan import LoanWorkflow

    disbursed_at = datetime(2027, 3, 1, 20, 30, tzinfo=UTC)  # 02:00 IST on 2 March
    ist_day, utc_day = disbursed_at.astimezone(IST).date(), disbursed_at.date()
    assert ist_day == utc_day + timedelta(days=1)
    loan_terms = terms(amount=60_000_00, tenure=3, period_seconds=None)
    rows = schedule.generate(loan_terms.schedule_terms(ist_day)).rows
    first = rows[0]

    def reamortised(anchor_ist: bool) -> list[InstallmentState]:
        wf = LoanWorkflow.__new__(LoanWorkflow)
        wf.inp = loan_input(loan_terms)
        wf.advance_skips_paid, wf.anchor_ist = False, anchor_ist
        wf.servicing = ServicingState(wf._states(rows, disbursed_at), disbursed_at)
        number, new = wf._reamortize(10_000_00)
        assert number == 1
        return new

    def planned(anchor) -> list[tuple[int, int]]:  # noqa: ANN001
        plan = schedule.reamortize(
            loan_terms.schedule_terms(ist_day), balance=60_000_00 - 10_000_00, anchor=anchor,
            next_due=first.due_date, remaining=3, current_emi=first.principal + first.interest,
            mode="REDUCE_TENURE", first_number=1,
        )  # fmt: skip
        return [(r.principal, r.interest) for r in plan.rows]

    assert [(i.principal, i.interest) for i in reamortised(anchor_ist=True)] == planned(ist_day)
    assert [(i.principal, i.interest) for i in reamortised(anchor_ist=False)] == planned(utc_day)
    assert planned(ist_day)[0][1] < planned(utc_day)[0][1]  # a day's interest fewer in the first period
