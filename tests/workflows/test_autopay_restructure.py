"""Autopay across a restructure, driven through the real LoanWorkflow with stub activities in virtual time: the
installments of a restructured schedule reuse the numbers from the first unpaid one, and each gets autopay tries of
its own (autopay-restructure-tries-v1)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest_asyncio
from temporalio.worker import Replayer

from tests.workflows.stubs import BRAND_ID, StubActivities, loan_input, patch_markers, policy, running_loan, terms
from tests.workflows.test_collections import HEAD_2, MANAGER, _day_end, action
from tests.workflows.test_money_in import _first_try_failed
from workflows.contracts import PaymentFailure, RestructureProposal
from workflows.loan import LoanWorkflow
from workflows.options import AUTOPAY_LATER_INSTALLMENTS_PATCH, AUTOPAY_RESTRUCTURE_TRIES_PATCH, IST


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


async def test_a_restructured_installment_gets_its_own_tries_and_autopay_goes_on(env) -> None:  # noqa: ANN001
    """Installment 1's only try (no retries) fails and it falls overdue; a restructure approved by a second person
    rolls it into a new schedule whose first installment is number 1 again. That installment gets a pre-debit notice
    and a debit of its own (attempt 2: its own debit row and notice key) on its new due date, for what it owes; once
    that one try fails too, it gets no third, and autopay goes on to the new installment 2 on its due date.

    Before autopay-restructure-tries-v1 the new installment 1 counted its number's spent try: it was never debited,
    and, as autopay does not go past an installment it has not tried, nor was any later one."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        await _first_try_failed(run, stubs)
        due = stubs.of("record_disbursal")[0].installments[0].due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=10)))
        await run.until_status("OVERDUE")
        await run.update("propose_restructure", RestructureProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, "salary cut", installments=3,
        ))  # fmt: skip
        await run.update("approve_restructure", action(HEAD_2))
        (approved,) = [d for d in stubs.of("record_servicing_decision") if d.status == "APPROVED"]
        first, second = approved.payload["rescheduled"][:2]
        assert first["number"] == 1 and second["number"] == 2

        def debit_at(row: dict) -> datetime:  # 09:00 IST on the installment's due date
            return datetime.combine(date.fromisoformat(row["dueDate"]), time(9), IST)

        await run.sleep_until(debit_at(first) - timedelta(hours=47))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        owed = first["principal"] + first["interest"] + first["fees"] + first["penal"]
        assert (notices[1].installment_no, notices[1].attempt) == (1, 2)
        assert notices[1].charge_at == debit_at(first) and notices[1].amount == owed
        await run.sleep_until(debit_at(first) + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 2)
        assert (charges[1].installment_no, charges[1].attempt, charges[1].amount) == (1, 2, owed)
        await run.signal("payment_failed", PaymentFailure("pay_f2", "razorpay", owed, "insufficient funds",
                                                          mandate_debit_id="debit-1-2"))  # fmt: skip
        await stubs.wait_calls("record_debit_outcome", 2)
        # its one try is spent: no third try of installment 1; installment 2 of the new schedule is debited
        await run.sleep_until(debit_at(second) + timedelta(minutes=1))
        await stubs.wait_calls("charge_mandate", 3)
        debits = [(n.installment_no, n.attempt) for n in stubs.of("notify_mandate_debit")]
        assert debits == [(1, 1), (1, 2), (2, 1)]
        assert stubs.of("charge_mandate")[2].charge_at == debit_at(second)
        keys = [n.key.split(":", 1)[1] for n in stubs.of("send_notice") if n.event == "MANDATE_DEBIT_NOTICE"]
        assert keys == ["debit-notice:1:1", "debit-notice:1:2", "debit-notice:2:1"]  # each debit told once
        history = await run.handle.fetch_history()
        markers = patch_markers(history)
        assert markers.count(AUTOPAY_RESTRUCTURE_TRIES_PATCH) == 1
        assert AUTOPAY_LATER_INSTALLMENTS_PATCH in markers
        replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None, replayed.replay_failure
