"""Autopay's tries, driven through the real LoanWorkflow with stub activities in virtual time: the installments of a
restructured schedule reuse the numbers from the first unpaid one, and each gets autopay tries of its own
(autopay-restructure-tries-v1); a captured debit that left its installment part unpaid spaces the next try as a
failed one does (autopay-capture-spaces-retry-v1)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest_asyncio
from temporalio.worker import Replayer

from tests.workflows.stubs import BRAND_ID, StubActivities, loan_input, patch_markers, policy, running_loan, terms
from tests.workflows.test_collections import HEAD_2, MANAGER, _day_end, action
from tests.workflows.test_money_in import _debit_instant, _first_try_failed, _mandate_active
from workflows.contracts import MandateDebitCheck, MandateEvent, PaymentEvent, PaymentFailure, RestructureProposal
from workflows.loan import LoanWorkflow
from workflows.options import (
    AUTOPAY_CAPTURE_SPACES_RETRY_PATCH,
    AUTOPAY_LATER_INSTALLMENTS_PATCH,
    AUTOPAY_RESTRUCTURE_TRIES_PATCH,
    IST,
)


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


def debit_at(row: dict) -> datetime:
    """When a rescheduled installment (a row of the restructure's ``rescheduled``) is debited: 09:00 IST on its due
    date."""
    return datetime.combine(date.fromisoformat(row["dueDate"]), time(9), IST)


async def _restructured(run, stubs: StubActivities, installments: int = 3) -> list[dict]:  # noqa: ANN001
    """A restructure over ``installments`` installments proposed by one person and approved by another; the new
    schedule's rows (numbered from 1 again when installment 1 was unpaid)."""
    await run.update("propose_restructure", RestructureProposal(
        MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, "salary cut", installments=installments,
    ))  # fmt: skip
    await run.update("approve_restructure", action(HEAD_2))
    (approved,) = [d for d in stubs.of("record_servicing_decision") if d.status == "APPROVED"]
    rows = approved.payload["rescheduled"]
    assert [row["number"] for row in rows] == list(range(1, installments + 1))
    return rows


async def _both_tries_failed(run, stubs: StubActivities) -> None:  # noqa: ANN001
    """With one retry: the mandate ACTIVE, installment 1 notified and charged on its due date and again after its
    retry interval, and both debits failed (the gateway's ``payment.failed``, each outcome recorded)."""
    _, first_at = await _mandate_active(run, stubs)
    await run.sleep_until(first_at - timedelta(hours=47))
    for attempt in (1, 2):
        (*_, notice) = await stubs.wait_calls("notify_mandate_debit", attempt)
        await run.sleep_until(notice.charge_at + timedelta(minutes=1))
        (*_, charge) = await stubs.wait_calls("charge_mandate", attempt)
        assert (charge.installment_no, charge.attempt) == (1, attempt)
        await _fail(run, stubs, f"debit-1-{attempt}", charge.amount, attempt)


async def _failure_notices(stubs: StubActivities, count: int) -> list:
    """The PAYMENT_FAILED notices, once there are ``count`` (each goes after its debit's outcome is recorded)."""

    def notices() -> list:
        return [n for n in stubs.of("send_notice") if n.event == "PAYMENT_FAILED"]

    await stubs.wait_for(lambda: len(notices()) >= count, f"{count} failure notices")
    return notices()


def _debits(stubs: StubActivities) -> list[tuple[int, int]]:
    return [(n.installment_no, n.attempt) for n in stubs.of("notify_mandate_debit")]


async def _fail(run, stubs: StubActivities, debit_id: str, amount: int, outcomes: int) -> None:  # noqa: ANN001
    """The gateway's payment.failed for ``debit_id``, recorded (the ``outcomes``-th debit outcome)."""
    await run.signal("payment_failed", PaymentFailure(f"pay_{debit_id}", "razorpay", amount, "insufficient funds",
                                                      mandate_debit_id=debit_id))  # fmt: skip
    await stubs.wait_calls("record_debit_outcome", outcomes)


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
        first, second, _ = await _restructured(run, stubs)
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


async def test_a_restructure_cancels_a_notified_debit_and_each_new_installment_counts_its_own_tries(env) -> None:  # noqa: ANN001
    """One retry two days apart. Installment 1's two tries bounce; installment 2's debit is notified, and before it is
    charged a restructure is approved. That notified debit is not charged (its notice named the old installment's
    date): its row is recorded FAILED with the reason. The new installment 1 gets two tries of its own, attempts 3
    and 4, the borrower told after the first that it will be retried; the new installment 2 is debited as attempt 2,
    never on the notified debit's row again (attempt 1), with its own notice."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        await _both_tries_failed(run, stubs)
        inst2 = stubs.of("record_disbursal")[0].installments[1]
        await run.sleep_until(_debit_instant(inst2) - timedelta(hours=47))
        await stubs.wait_calls("notify_mandate_debit", 3)
        assert _debits(stubs)[2] == (2, 1)
        first, second, _ = await _restructured(run, stubs)
        cancelled = stubs.of("record_debit_outcome")[-1]
        assert (cancelled.debit_id, cancelled.status) == ("debit-2-1", "FAILED") and "restructured" in cancelled.reason
        await run.sleep_until(_debit_instant(inst2) + timedelta(hours=1))
        assert len(stubs.of("charge_mandate")) == 2  # the notified debit of the old installment 2 was not charged
        await run.sleep_until(debit_at(first) + timedelta(minutes=1))
        (*_, charge) = await stubs.wait_calls("charge_mandate", 3)
        assert (charge.installment_no, charge.attempt, charge.charge_at) == (1, 3, debit_at(first))
        await _fail(run, stubs, "debit-1-3", charge.amount, 4)
        failed = await _failure_notices(stubs, 3)
        assert failed[-1].values["retry"] is True  # one retry left under the new schedule
        await run.sleep_until(debit_at(first) + timedelta(days=2, hours=1))
        (*_, notice) = await stubs.wait_calls("notify_mandate_debit", 5)
        await run.sleep_until(notice.charge_at + timedelta(minutes=1))
        (*_, charge) = await stubs.wait_calls("charge_mandate", 4)
        assert (charge.installment_no, charge.attempt) == (1, 4)
        await _fail(run, stubs, "debit-1-4", charge.amount, 5)
        failed = await _failure_notices(stubs, 4)
        assert failed[-1].values["retry"] is False  # its tries are spent
        await run.sleep_until(debit_at(second) + timedelta(minutes=1))
        (*_, charge) = await stubs.wait_calls("charge_mandate", 5)
        assert (charge.installment_no, charge.attempt, charge.charge_at) == (2, 2, debit_at(second))
        assert _debits(stubs) == [(1, 1), (1, 2), (2, 1), (1, 3), (1, 4), (2, 2)]
        keys = [n.key.split(":", 1)[1] for n in stubs.of("send_notice") if n.event == "MANDATE_DEBIT_NOTICE"]
        assert len(keys) == 6 and len(set(keys)) == 6  # each debit told, once


async def test_a_debit_notified_for_an_installment_a_shorter_restructure_removes_is_not_charged(env) -> None:  # noqa: ANN001
    """Installment 1's only try bounced and installment 2's debit is notified when a restructure into one installment
    is approved: installment 2 is gone, and its notified debit is not charged (its row recorded FAILED); the new
    installment 1 is debited on its own due date."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        await _first_try_failed(run, stubs)
        inst2 = stubs.of("record_disbursal")[0].installments[1]
        await run.sleep_until(_debit_instant(inst2) - timedelta(hours=47))
        await stubs.wait_calls("notify_mandate_debit", 2)
        (only,) = await _restructured(run, stubs, installments=1)
        cancelled = stubs.of("record_debit_outcome")[-1]
        assert (cancelled.debit_id, cancelled.status) == ("debit-2-1", "FAILED") and "restructured" in cancelled.reason
        await run.sleep_until(debit_at(only) + timedelta(minutes=1))
        (*_, charge) = await stubs.wait_calls("charge_mandate", 2)
        assert (charge.installment_no, charge.attempt, charge.charge_at) == (1, 2, debit_at(only))
        assert _debits(stubs) == [(1, 1), (2, 1), (1, 2)]


async def test_a_restructure_debits_nothing_while_a_debit_of_the_installment_may_still_be_captured(env) -> None:  # noqa: ANN001
    """Installment 1's debit is still processing at the bank after every look-up (it may yet be captured), and the
    loan is restructured: the new installment 1 is not debited on its due date. Once that debit's failure arrives,
    it gets its own try."""
    stubs = StubActivities(debit_checks=[MandateDebitCheck("debit-1-1", pending=True)] * 4)
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        _, first_at = await _mandate_active(run, stubs)
        await run.sleep_until(first_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        await run.sleep_until(first_at + timedelta(days=12, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"] * 4
        await run.until_status("OVERDUE")
        first, *_ = await _restructured(run, stubs)
        await run.sleep_until(debit_at(first) + timedelta(hours=2))
        assert _debits(stubs) == [(1, 1)] and len(stubs.of("charge_mandate")) == 1
        await _fail(run, stubs, "debit-1-1", charge.amount, 1)
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert (notices[1].installment_no, notices[1].attempt) == (1, 2)
        await run.sleep_until(notices[1].charge_at + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 2)
        assert (charges[1].installment_no, charges[1].attempt) == (1, 2)


async def test_a_debit_dropped_as_its_mandate_is_cancelled_leaves_the_next_mandate_a_row_and_notice_of_its_own(
    env,  # noqa: ANN001
) -> None:
    """Installment 1's debit is notified on mandate 1, which the borrower cancels before the charge: that debit is not
    charged, its row recorded FAILED with the reason. A new mandate becomes ACTIVE: installment 1 gets a new notice
    and a debit of its own on mandate 2 (attempt 2, its only try still: no retries), charged at least 24 hours after
    that notice. Before autopay-dropped-debit-frees-attempt-v1 the next try reused the dropped row (mandate 1's, so
    its charge failed) and sent no notice."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        _, first_at = await _mandate_active(run, stubs)
        await run.sleep_until(first_at - timedelta(hours=47))
        await stubs.wait_calls("notify_mandate_debit", 1)
        await run.signal("mandate_updated", MandateEvent("mandate-1", "CANCELLED"))
        (dropped,) = await stubs.wait_calls("record_debit_outcome", 1)
        assert (dropped.debit_id, dropped.status) == ("debit-1-1", "FAILED")
        assert dropped.reason == "the mandate is CANCELLED before the charge: not charged"
        await run.sleep_until(first_at + timedelta(hours=1))
        assert stubs.of("charge_mandate") == []
        registered_at = await env.get_current_time()
        await run.signal("mandate_updated", MandateEvent("mandate-2", "ACTIVE", "token_2"))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert (notices[1].mandate_id, notices[1].installment_no, notices[1].attempt) == ("mandate-2", 1, 2)
        assert notices[1].charge_at - registered_at >= timedelta(hours=24)  # told at once, charged a day later
        await run.sleep_until(notices[1].charge_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        assert (charge.mandate_id, charge.attempt) == ("mandate-2", 2)
        keys = [n.key.split(":", 1)[1] for n in stubs.of("send_notice") if n.event == "MANDATE_DEBIT_NOTICE"]
        assert keys == ["debit-notice:1:1", "debit-notice:1:2"]


async def test_a_captured_debit_that_left_its_installment_part_unpaid_spaces_the_next_try(env) -> None:  # noqa: ANN001
    """Installment 1's two tries (one retry, two days apart) bounce. Installment 2's debit is captured on its due date,
    and the waterfall gives that money to installment 1's arrears first, so installment 2 is still unpaid. Its next
    try (attempt 2) is charged ``autopay_retry_days`` after the capture, as after a failed try, with its notice at
    least 24 hours before. Before autopay-capture-spaces-retry-v1 it was charged a day after the capture: two EMIs in
    about two days from a borrower who had just bounced one."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        await _both_tries_failed(run, stubs)
        inst2 = stubs.of("record_disbursal")[0].installments[1]
        second = _debit_instant(inst2)
        await run.sleep_until(second + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 3)
        assert (charges[2].installment_no, charges[2].attempt) == (2, 1)
        emi = inst2.principal + inst2.interest
        assert charges[2].amount == emi
        captured_at = await env.get_current_time()
        await run.signal(
            "payment_received", PaymentEvent("pay_d21", emi, mode="EMANDATE", mandate_debit_id="debit-2-1")
        )
        (paid,) = await stubs.wait_calls("record_payment", 1)
        assert paid.parts[0].number == 1, "installment 1's arrears first"
        assert sum(p.penal + p.fees + p.interest + p.principal for p in paid.parts if p.number == 2) < emi
        await run.sleep_until(captured_at + timedelta(days=2, hours=1))
        notices = await stubs.wait_calls("notify_mandate_debit", 4)
        assert (notices[3].installment_no, notices[3].attempt) == (2, 2)
        assert notices[3].charge_at - captured_at >= timedelta(days=2)  # the brand's spacing, not a day
        await run.sleep_until(notices[3].charge_at + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 4)
        assert (charges[3].installment_no, charges[3].attempt) == (2, 2) and 0 < charges[3].amount <= emi
        assert AUTOPAY_CAPTURE_SPACES_RETRY_PATCH in patch_markers(await run.handle.fetch_history())
