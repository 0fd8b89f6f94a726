"""Money in, driven through the real LoanWorkflow with stub activities in virtual time: reminders, autopay debits
after a pre-debit notice (and the fallback when one fails), failed payments, foreclosure, the cooling-off exit,
receipts and accruals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest_asyncio

from domain.status import LoanStatus
from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    LoanRun,
    StubActivities,
    loan_input,
    patch_markers,
    policy,
    record_if_asked,
    running_loan,
    terms,
    to_agreement_signed,
)
from workflows.contracts import (
    ClosureRecord,
    InstallmentState,
    MandateDebitCheck,
    MandateDebitResult,
    MandateEvent,
    PaymentEvent,
    PaymentFailure,
    PaymentRecord,
    ServicingState,
)
from workflows.options import (
    AUTOPAY_LATER_INSTALLMENTS_PATCH,
    CONTACT_HOURS_PATCH,
    FORECLOSURE_INTEREST_CREDIT_PATCH,
    IST,
)


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


async def _disbursed(run: LoanRun) -> None:
    await to_agreement_signed(run)
    await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
    await run.settle("TR-1", "SUCCESS", "UTR0009")
    await run.stubs.wait_calls("ensure_payment_link", 1)


def _events(stubs: StubActivities) -> list[str]:
    return [n.event for n in stubs.of("send_notice")]


async def _mandate_active(run, stubs: StubActivities) -> tuple[InstallmentState, datetime]:  # noqa: ANN001
    """The disbursed loan's mandate confirmed ACTIVE: its first installment and that installment's debit instant
    (09:00 IST on the due date)."""
    await _disbursed(run)
    await run.signal("mandate_updated", MandateEvent("mandate-1", "ACTIVE", "token_1"))
    await stubs.wait_calls("record_mandate_event", 1)
    inst = stubs.of("record_disbursal")[0].installments[0]
    return inst, _debit_instant(inst)


def _debit_instant(inst: InstallmentState) -> datetime:
    """When ``inst``'s autopay debit goes: 09:00 IST on its due date."""
    return inst.due_at.astimezone(IST).replace(hour=9) - timedelta(days=1)


async def test_reminders_autopay_notice_a_day_ahead_and_a_failed_debit_falls_back_and_retries(env) -> None:  # noqa: ANN001
    """A real monthly loan with an ACTIVE mandate: the pre-debit notice goes 48 h before the 09:00 IST debit on the
    due date (NPCI: at least 24 h), the debit is charged for the installment; it fails, the borrower is told, the
    link stays, and a new debit goes ``autopay_retry_days`` later after its own notice; its payment settles it."""
    stubs = StubActivities(debit_answers=[MandateDebitResult("debit-1-1", "SENT")])
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        inst, debit_at = await _mandate_active(run, stubs)
        assert inst.due_date is not None and debit_at.date() == inst.due_date
        await run.sleep_until(debit_at - timedelta(hours=47))
        (notice,) = await stubs.wait_calls("notify_mandate_debit", 1)
        assert notice.charge_at == debit_at and notice.amount == inst.principal + inst.interest
        assert "MANDATE_DEBIT_NOTICE" in _events(stubs) and "DUE_REMINDER" not in _events(stubs)
        assert stubs.of("charge_mandate") == []  # not before its time
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        assert charge.attempt == 1 and charge.charge_at - notice.charge_at == timedelta(0)
        # the gateway's payment.failed for that debit
        await run.signal("payment_failed", PaymentFailure("pay_f1", "razorpay", charge.amount, "insufficient funds",
                                                          mandate_debit_id="debit-1-1"))  # fmt: skip
        await stubs.wait_for(lambda: "PAYMENT_FAILED" in _events(stubs), "the failure told")
        outcome = await stubs.wait_calls("record_debit_outcome", 1)
        assert outcome[0] == MandateDebitResult("debit-1-1", "FAILED", "insufficient funds")
        # the retry: two days after the failure, with its own notice at least a day before
        await run.sleep_until(debit_at + timedelta(days=2, hours=1))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert notices[1].attempt == 2 and notices[1].charge_at - debit_at >= timedelta(days=2)
        assert notices[1].charge_at - notices[0].charge_at >= timedelta(hours=24)
        await run.sleep_until(notices[1].charge_at + timedelta(minutes=1))
        await stubs.wait_calls("charge_mandate", 2)
        await run.signal("payment_received", PaymentEvent("pay_d2", charge.amount, mode="EMANDATE",
                                                          mandate_debit_id="debit-1-2"))  # fmt: skip
        await stubs.wait_calls("issue_receipt", 1)  # after the payment and its debit's outcome
        assert stubs.of("record_debit_outcome")[-1] == MandateDebitResult("debit-1-2", "CAPTURED")
        assert stubs.of("issue_receipt")[0].payment_id == "pay_d2"
        assert stubs.of("accrue_interest")[0].amounts == [(1, inst.interest)]  # unpaid at its period's end


async def test_a_debit_captured_at_once_is_not_debited_again_before_its_payment_arrives(env) -> None:  # noqa: ANN001
    """The gateway answers a debit CAPTURED at once (a retried charge found its payment) while the payment's webhook
    is still on its way: the loan records the capture and waits for that payment, and the loop's later passes (the
    due date, reminders, the overdue day) start no second try; the payment then settles the installment."""
    stubs = StubActivities(
        debit_answers=[MandateDebitResult("debit-1-1", "CAPTURED")],
        debit_checks=[MandateDebitCheck("debit-1-1", pending=True)],  # its same-day look-up: not settled yet
    )
    loan_policy = policy(autopay_retries=2, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        (outcome,) = await stubs.wait_calls("record_debit_outcome", 1)
        assert outcome == MandateDebitResult("debit-1-1", "CAPTURED")
        await run.sleep_until(debit_at + timedelta(days=2))  # past the due date: the loop passed several times
        assert len(stubs.of("notify_mandate_debit")) == 1 and len(stubs.of("charge_mandate")) == 1  # no second try
        await run.signal("payment_received", PaymentEvent("pay_d1", charge.amount, mode="EMANDATE",
                                                          mandate_debit_id="debit-1-1"))  # fmt: skip
        await stubs.wait_calls("issue_receipt", 1)
        assert stubs.of("issue_receipt")[0].payment_id == "pay_d1"
        await run.sleep_until(debit_at + timedelta(days=3))
        assert len(stubs.of("charge_mandate")) == 1  # the installment is paid: nothing more to debit for it


async def test_a_debit_whose_webhook_never_came_is_found_captured_and_credited_not_debited_again(env) -> None:  # noqa: ANN001
    """A debit sent, and its ``payment.captured`` lost: six hours after the charge (15:00 IST on the due date, before
    the installment falls overdue) the loop wakes and asks the gateway (``find_mandate_debit``); the captured payment
    is credited as the webhook would have done, the debit recorded CAPTURED, and no second debit goes (before
    autopay-debit-check-v1 the try ended at its patience and the next try debited the borrower again)."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=2, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        inst, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        stubs.debit_checks.append(
            MandateDebitCheck("debit-1-1", payment=PaymentEvent("pay_d1", charge.amount, mode="EMANDATE",
                                                                 purpose="INSTALLMENT", mandate_debit_id="debit-1-1"))
        )  # fmt: skip
        await run.sleep_until(debit_at + timedelta(hours=5, minutes=59))
        assert stubs.of("find_mandate_debit") == []  # not yet
        await run.sleep_until(debit_at + timedelta(hours=6, minutes=1))  # the check's own wake, before the day-end
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]
        await stubs.wait_calls("issue_receipt", 1)
        assert stubs.of("issue_receipt")[0].payment_id == "pay_d1"
        assert stubs.of("record_debit_outcome")[-1] == MandateDebitResult("debit-1-1", "CAPTURED")
        assert stubs.of("mark_overdue") == [] and stubs.of("levy_penal") == []  # found before it fell due
        await run.sleep_until(debit_at + timedelta(days=9))
        assert len(stubs.of("charge_mandate")) == 1 and len(stubs.of("notify_mandate_debit")) == 1
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]
        # the lost webhook arrives after all (Razorpay retries for a day; ops may replay it): credited once
        await run.signal("payment_received", PaymentEvent("pay_d1", charge.amount, mode="EMANDATE",
                                                          mandate_debit_id="debit-1-1"))  # fmt: skip
        await run.sleep_until(debit_at + timedelta(days=9, hours=1))
        assert [r.payment_id for r in stubs.of("issue_receipt")] == ["pay_d1"]
        assert inst.number == 1


async def test_a_debit_still_processing_is_awaited_then_its_failure_is_a_failed_try(env) -> None:  # noqa: ANN001
    """The gateway says the debit is still processing at the bank: looked up again at its patience (4 days, the
    check's own wake at 09:00 IST); it failed: the borrower is told, the failure recorded, and the next try comes
    after the retry interval with its own notice."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        failure = PaymentFailure("pay_f1", "razorpay", charge.amount, "insufficient funds",
                                 mandate_debit_id="debit-1-1")  # fmt: skip
        stubs.debit_checks += [
            MandateDebitCheck("debit-1-1", pending=True),
            MandateDebitCheck("debit-1-1", failure=failure),
        ]
        await run.sleep_until(debit_at + timedelta(days=3, hours=23))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]  # the same day's look-up: still processing
        assert len(stubs.of("notify_mandate_debit")) == 1  # no second try meanwhile
        await run.sleep_until(debit_at + timedelta(days=4, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-1-1", "debit-1-1"]
        await stubs.wait_for(lambda: "PAYMENT_FAILED" in _events(stubs), "the failure told")
        assert MandateDebitResult("debit-1-1", "FAILED", "insufficient funds") in stubs.of("record_debit_outcome")
        await run.sleep_until(debit_at + timedelta(days=7))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert notices[1].attempt == 2


async def test_a_debit_confirmed_after_the_due_date_reverses_the_penal_levied_meanwhile(env) -> None:  # noqa: ANN001
    """An e-mandate debit presented on the due date and still processing at the bank at the same day's look-up: the
    installment falls overdue at midnight and is charged its penal charge. Captured at the next look-up (4 days on),
    value-dated the due date (the day Razorpay created the payment): the charge is reversed in the payment's record
    (value-dated-penal-v1), the whole debit pays the installment's principal and interest, nothing of it penal, and
    the loan is back to DISBURSED. Before the patch the penal charge was paid first from the debit and the
    installment was left short."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=1, autopay_retry_days=1, reminder_days=3,
                         penal={"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00})  # fmt: skip
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        inst, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        captured = PaymentEvent("pay_late", charge.amount, mode="EMANDATE", purpose="INSTALLMENT",
                                mandate_debit_id="debit-1-1", paid_on=inst.due_date)  # fmt: skip
        stubs.debit_checks += [
            MandateDebitCheck("debit-1-1", pending=True),
            MandateDebitCheck("debit-1-1", payment=captured),
        ]
        await run.sleep_until(debit_at + timedelta(days=1))
        (levy,) = await stubs.wait_calls("levy_penal", 1)  # overdue at midnight: the flat charge
        assert levy.installment_no == 1 and levy.amount == 500_00
        await run.sleep_until(debit_at + timedelta(days=4, minutes=1))
        (record,) = await stubs.wait_calls("record_payment", 1)
        assert record.payment.payment_id == "pay_late"
        assert record.penal_reversed == [(1, 500_00)]
        assert sum(p.penal for p in record.parts) == 0
        assert sum(p.principal + p.interest for p in record.parts) == charge.amount == inst.principal + inst.interest
        assert record.status_change is not None and record.status_change.to_status == "DISBURSED"
        assert record.excess == 0


async def _paid_four_days_late(env, payment: Callable[[InstallmentState], PaymentEvent]) -> PaymentRecord:  # noqa: ANN001
    """A monthly loan with a flat penal charge, its first installment four days overdue (the charge levied), then
    ``payment`` (built from that installment) signalled: what the loan recorded."""
    stubs = StubActivities()
    loan_policy = policy(penal={"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00})
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        await _disbursed(run)
        inst = stubs.of("record_disbursal")[0].installments[0]
        await run.sleep_until(inst.due_at + timedelta(days=4))
        await stubs.wait_calls("levy_penal", 1)
        await run.signal("payment_received", payment(inst))
        (record,) = await stubs.wait_calls("record_payment", 1)
        return record


async def test_a_debit_value_dated_after_the_installment_was_late_keeps_the_penal(env) -> None:  # noqa: ANN001
    """A debit value-dated two days after the due date (a retry), credited later: the installment was already late
    on its value date, so its penal charge stands and is paid first from the money; nothing is reversed."""
    record = await _paid_four_days_late(env, lambda inst: PaymentEvent(
        "pay_retry", inst.principal + inst.interest + 500_00, mode="EMANDATE", mandate_debit_id="debit-1-2",
        paid_on=inst.due_date + timedelta(days=2),
    ))  # fmt: skip
    assert record.penal_reversed == [] and sum(p.penal for p in record.parts) == 500_00


async def test_an_offline_payment_value_dated_the_due_date_keeps_the_penal(env) -> None:  # noqa: ANN001
    """An offline transfer value-dated the due date, approved days later: staff enter that date, so nothing is
    reversed; a waiver within the role's limit is how staff take the charge off."""
    record = await _paid_four_days_late(env, lambda inst: PaymentEvent(
        "neft-1", inst.principal + inst.interest, gateway="offline", mode="NEFT", paid_on=inst.due_date,
    ))  # fmt: skip
    assert record.penal_reversed == [] and sum(p.penal for p in record.parts) == 500_00


async def test_a_debit_the_gateway_has_no_payment_for_ends_its_try(env) -> None:  # noqa: ANN001
    """The gateway has no payment for the debit: that try is over at the look-up, and the next one goes after the
    retry interval."""
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=1, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        await stubs.wait_calls("charge_mandate", 1)
        await run.sleep_until(debit_at + timedelta(hours=7))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]
        await run.sleep_until(debit_at + timedelta(days=3))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert notices[1].attempt == 2 and notices[1].charge_at >= debit_at + timedelta(hours=6, days=1)


async def test_a_debit_still_processing_after_every_look_up_gets_no_second_debit(env) -> None:  # noqa: ANN001
    """Still processing at the bank after the last of its four look-ups (the same day, then at 4, 8 and 12 days):
    the try ends, but no further autopay try goes for that installment (the borrower could be debited twice); the
    link and reminders stay."""
    stubs = StubActivities(debit_checks=[MandateDebitCheck("debit-1-1", pending=True)] * 4)
    loan_policy = policy(autopay_retries=2, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        await stubs.wait_calls("charge_mandate", 1)
        await run.sleep_until(debit_at + timedelta(days=12, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"] * 4
        await run.sleep_until(debit_at + timedelta(days=20))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"] * 4  # no look-up left
        debits = [(n.installment_no, n.attempt) for n in stubs.of("notify_mandate_debit")]
        assert debits == [(1, 1)]  # installment 1 never debited again
        assert [r.installment_no for r in stubs.of("mark_overdue")][:1] == [1]  # unpaid: overdue, the link stays
        # nor is installment 2 debited on its due date: that debit of installment 1 may still be captured
        second = _debit_instant(stubs.of("record_disbursal")[0].installments[1])
        await run.sleep_until(second + timedelta(days=1))
        assert [(n.installment_no, n.attempt) for n in stubs.of("notify_mandate_debit")] == [(1, 1)]
        assert len(stubs.of("charge_mandate")) == 1


async def _first_try_failed(run, stubs: StubActivities):  # noqa: ANN001, ANN202
    """The mandate ACTIVE, installment 1 charged on its due date and that debit failed (the gateway's
    ``payment.failed``, its outcome recorded); the charge request."""
    _, debit_at = await _mandate_active(run, stubs)
    await run.sleep_until(debit_at + timedelta(minutes=1))
    (charge,) = await stubs.wait_calls("charge_mandate", 1)
    await run.signal("payment_failed", PaymentFailure("pay_f1", "razorpay", charge.amount, "insufficient funds",
                                                      mandate_debit_id="debit-1-1"))  # fmt: skip
    await stubs.wait_calls("record_debit_outcome", 1)
    return charge


async def test_a_later_installment_is_debited_on_its_own_due_date_once_an_earlier_ones_tries_are_spent(
    env,  # noqa: ANN001
) -> None:
    """Installment 1's only try (no retries) fails: it stays with the payment link and collections, and autopay goes
    on: installment 2 gets its own pre-debit notice 48 h before its due date and is debited on it, for its own
    amount (applied by the waterfall, oldest dues first). Before autopay-later-installments-v1 autopay stopped for
    good at installment 1."""
    stubs = StubActivities(debit_answers=[MandateDebitResult("debit-1-1", "SENT")])
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), loan_policy)) as run:
        await _first_try_failed(run, stubs)
        inst2 = stubs.of("record_disbursal")[0].installments[1]
        second = _debit_instant(inst2)
        await run.sleep_until(second - timedelta(hours=49))
        assert len(stubs.of("notify_mandate_debit")) == 1  # not before its own notice time
        await run.sleep_until(second - timedelta(hours=47))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert (notices[1].installment_no, notices[1].attempt) == (2, 1)
        assert notices[1].charge_at == second and notices[1].amount == inst2.principal + inst2.interest
        assert len(stubs.of("charge_mandate")) == 1  # not before its time
        await run.sleep_until(second + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 2)
        assert (charges[1].installment_no, charges[1].amount) == (2, inst2.principal + inst2.interest)
        markers = patch_markers(await run.handle.fetch_history())
        assert markers.count(AUTOPAY_LATER_INSTALLMENTS_PATCH) == 1  # asked once, as the mandate became ACTIVE


async def test_autopay_never_goes_past_a_debit_whose_outcome_is_unknown_until_the_outcome_arrives(env) -> None:  # noqa: ANN001
    """Installment 1's only try fails (autopay goes on), installment 2's debit is still processing at its fourth
    look-up: installment 3 is not debited on its due date, since that debit may still be captured. Its failure
    arriving late lifts the block: installment 3 gets its notice and debit."""
    stubs = StubActivities(debit_checks=[MandateDebitCheck("debit-2-1", pending=True)] * 4)
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=4, period_seconds=None), loan_policy)) as run:
        charge = await _first_try_failed(run, stubs)
        inst2, inst3 = stubs.of("record_disbursal")[0].installments[1:3]
        second, third = _debit_instant(inst2), _debit_instant(inst3)
        await run.sleep_until(second + timedelta(minutes=1))
        await stubs.wait_calls("charge_mandate", 2)
        await run.sleep_until(second + timedelta(days=12, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-2-1"] * 4  # every look-up: still processing
        await run.sleep_until(third + timedelta(hours=2))
        debits = [(n.installment_no, n.attempt) for n in stubs.of("notify_mandate_debit")]
        assert debits == [(1, 1), (2, 1)] and len(stubs.of("charge_mandate")) == 2  # installment 3 not debited
        # the bank's answer for installment 2's debit comes at last: it failed
        await run.signal("payment_failed", PaymentFailure("pay_f2", "razorpay", charge.amount, "insufficient funds",
                                                          mandate_debit_id="debit-2-1"))  # fmt: skip
        await stubs.wait_calls("record_debit_outcome", 2)
        await run.sleep_until(third + timedelta(days=1, hours=2))
        notices = await stubs.wait_calls("notify_mandate_debit", 3)
        assert (notices[2].installment_no, notices[2].attempt) == (3, 1)
        await run.sleep_until(notices[2].charge_at + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 3)
        assert charges[2].installment_no == 3


async def test_a_servicing_run_that_begins_with_an_active_mandate_asks_at_its_start(env) -> None:  # noqa: ANN001
    """A servicing run continued as new with an ACTIVE mandate (installment 1's only try failed, its outcome known)
    asks autopay-later-installments-v1 at its start, before any other step, so autopay goes on in that run:
    installment 2 gets its notice and debit. Without the ask each run after a continue-as-new would stop at 1."""
    now = await env.get_current_time()
    today = now.astimezone(IST).date()

    def inst(number: int, due: date) -> InstallmentState:
        ends = datetime.combine(due + timedelta(days=1), time(0), IST)  # overdue from the next IST midnight
        return InstallmentState(number, ends, 10_000_00, 1_000_00, overdue=due < today, due_date=due, days=30)

    installments = [inst(1, today - timedelta(days=3)), inst(2, today + timedelta(days=20))]
    state = ServicingState(
        installments, now - timedelta(days=40), mandate_id="mandate-1", debit_failures={"1": 1},
        debit_failed_at={"1": now - timedelta(days=3)}, debit_last_try={"0:1": ""}, accrual_since=now,
    )  # fmt: skip
    stubs = StubActivities()
    loan_policy = policy(autopay_retries=0, autopay_retry_days=1, reminder_days=3)
    inp = replace(
        loan_input(terms(tenure=2, period_seconds=None), loan_policy),
        status=LoanStatus.DISBURSED, status_seq=8, servicing=state,
    )  # fmt: skip
    async with running_loan(env, stubs, inp) as run:
        second = _debit_instant(installments[1])
        await run.sleep_until(second - timedelta(hours=47))
        (notice,) = await stubs.wait_calls("notify_mandate_debit", 1)
        assert (notice.installment_no, notice.attempt, notice.charge_at) == (2, 1, second)
        markers = patch_markers(await run.handle.fetch_history())
        assert markers.count(AUTOPAY_LATER_INSTALLMENTS_PATCH) == 1


async def test_a_foreclosure_payment_closes_the_loan_foreclosed(env) -> None:  # noqa: ANN001
    """A FORECLOSURE payment of the quote: the current period's interest cut to what accrued (nothing, on the
    disbursal day), later periods owe nothing, the loan COMPLETED and recorded FORECLOSED."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None))) as run:
        await _disbursed(run)
        quote = await run.handle.query("quote_foreclosure", str((await env.get_current_time()).astimezone(IST).date()))
        assert quote["principal"] == 60_000_00 and quote["total"] == 60_000_00 + quote["interest"]
        await run.signal("payment_received", PaymentEvent("pay_fc", quote["total"], purpose="FORECLOSURE"))
        result = await run.result()

    assert result.status == "COMPLETED"
    (payment,) = stubs.of("record_payment")
    assert payment.excess == 0 and payment.outstanding_principal == 0
    assert sum(p.principal for p in payment.parts) == 60_000_00
    assert [n for n, _, _ in payment.reshaped] == [1, 2, 3]  # every period closed early
    assert stubs.of("record_closure") == [ClosureRecord(run.loan_id, "FORECLOSED")]
    assert stubs.moves()[-1] == ("DISBURSED", "COMPLETED")


async def test_interest_paid_for_days_not_run_counts_towards_the_principal_at_foreclosure(env) -> None:  # noqa: ANN001
    """The first EMI paid on the day of disbursal, then the loan foreclosed that day: no day of interest was earned,
    so the EMI's interest is credited (the quote's ``interestCredit``), the foreclosure pays the principal less it,
    and the payment's record moves it from installment 1's interest paid to principal paid (foreclosure-interest-
    credit-v1, asked at the servicing run's start)."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None))) as run:
        await _disbursed(run)
        first = stubs.of("record_disbursal")[0].installments[0]
        await run.signal("payment_received", PaymentEvent("pay_emi", first.principal + first.interest))
        await stubs.wait_calls("record_payment", 1)
        quote = await run.handle.query("quote_foreclosure", str((await env.get_current_time()).astimezone(IST).date()))
        assert quote["interestCredit"] == first.interest > 0
        assert quote["total"] == 60_000_00 - first.principal - first.interest
        await run.signal("payment_received", PaymentEvent("pay_fc", quote["total"], purpose="FORECLOSURE"))
        result = await run.result()
        markers = patch_markers(await run.handle.fetch_history())

    assert result.status == "COMPLETED" and FORECLOSURE_INTEREST_CREDIT_PATCH in markers
    emi, closing = stubs.of("record_payment")
    assert [(p.number, p.interest, p.principal) for p in emi.parts] == [(1, first.interest, first.principal)]
    assert closing.interest_credited == [(1, -first.interest, 0), (2, 0, first.interest)]
    assert sum(p.interest for p in closing.parts) == 0 and closing.excess == 0
    assert sum(p.principal for p in closing.parts) + first.principal + first.interest == 60_000_00
    assert closing.outstanding_principal == 0
    assert stubs.of("record_closure") == [ClosureRecord(run.loan_id, "FORECLOSED")]


async def test_a_foreclosure_dated_before_a_due_date_now_past_is_applied_as_a_payment(env) -> None:  # noqa: ANN001
    """Money dated installment 1's due date, reaching the loan after that day ended: that day's quote leaves out
    what fell due since (the period's accrued interest, penal), so closing on it would book more than came. It is
    applied as a payment instead (foreclosure-interest-credit-v1 guards it): nothing reshaped, nothing credited."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None))) as run:
        await _disbursed(run)
        first = stubs.of("record_disbursal")[0].installments[0]
        await run.sleep_until(first.due_at + timedelta(days=1, hours=2))
        due_day = (first.due_at - timedelta(days=1)).astimezone(IST).date()  # due_at: the moment that day ends
        quote = await run.handle.query("quote_foreclosure", str(due_day))
        backdated = PaymentEvent("pay_neft", quote["total"], gateway="offline", purpose="PREPAYMENT", paid_on=due_day)
        await run.signal("payment_received", backdated)
        (payment,) = await stubs.wait_calls("record_payment", 1)
    assert payment.reshaped == [] and payment.interest_credited == []
    applied = sum(p.penal + p.fees + p.interest + p.principal for p in payment.parts)
    assert applied + payment.advance_principal + payment.excess == quote["total"]  # all of it, as a payment
    assert stubs.of("record_closure") == []


async def test_less_than_the_quote_is_a_part_prepayment(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None))) as run:
        await _disbursed(run)
        await run.signal("payment_received", PaymentEvent("pay_pp", 40_000_00, purpose="PREPAYMENT"))
        (payment,) = await stubs.wait_calls("record_payment", 1)
    assert payment.reshaped == [] and payment.rescheduled_from is not None  # re-amortised, not closed
    assert stubs.of("record_closure") == []


async def test_cooling_off_exit_closes_the_loan_cancelled(env) -> None:  # noqa: ANN001
    """Within the look-up period the principal plus the proportionate APR cost closes the loan CANCELLED."""
    stubs = StubActivities()
    loan_policy = policy(cooling_off_days=3, apr="26.5")
    async with running_loan(env, stubs, loan_input(terms(amount=50_000_00, tenure=3, period_seconds=None),
                                                   loan_policy)) as run:  # fmt: skip
        await _disbursed(run)
        await run.sleep_until((await env.get_current_time()) + timedelta(days=1))
        today = (await env.get_current_time()).astimezone(IST).date()
        offer = await run.handle.query("quote_cooling_off", str(today))
        assert offer["available"] and offer["principal"] == 50_000_00 and offer["aprCost"] > 0
        await run.signal("payment_received", PaymentEvent("pay_exit", offer["amount"], purpose="COOLING_OFF"))
        result = await run.result()

    assert result.status == "CANCELLED"
    (payment,) = stubs.of("record_payment")
    assert sum(p.principal for p in payment.parts) == 50_000_00
    assert sum(p.interest for p in payment.parts) == offer["aprCost"] and payment.excess == 0
    assert stubs.of("record_closure") == [ClosureRecord(run.loan_id, "COOLING_OFF_EXIT")]
    assert stubs.moves()[-1] == ("DISBURSED", "CANCELLED")


async def test_after_the_period_a_cooling_off_payment_is_an_ordinary_payment(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    loan_policy = policy(cooling_off_days=3, apr="26.5")
    async with running_loan(env, stubs, loan_input(terms(amount=50_000_00, tenure=3, period_seconds=None),
                                                   loan_policy)) as run:  # fmt: skip
        await _disbursed(run)
        await run.sleep_until((await env.get_current_time()) + timedelta(days=5))
        today = (await env.get_current_time()).astimezone(IST).date()
        assert not (await run.handle.query("quote_cooling_off", str(today)))["available"]
        await run.signal("payment_received", PaymentEvent("pay_late", 10_000_00, purpose="COOLING_OFF"))
        (payment,) = await stubs.wait_calls("record_payment", 1)
    assert payment.reshaped == [] and stubs.of("record_closure") == []


async def test_a_due_reminder_goes_before_the_due_date(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1, period_seconds=None), policy(reminder_days=3)))\
            as run:  # fmt: skip
        await _disbursed(run)
        (inst,) = stubs.of("record_disbursal")[0].installments
        assert inst.due_date is not None
        await run.sleep_until(inst.due_at - timedelta(days=3))  # three days before the day-end of the due date
        await stubs.wait_for(lambda: "DUE_REMINDER" in _events(stubs), "the reminder")
        reminder = next(n for n in stubs.of("send_notice") if n.event == "DUE_REMINDER")
        assert reminder.values["installment"] == 1 and reminder.values["dueDate"] == str(inst.due_date)
        assert "DUE_TODAY" not in _events(stubs)


async def test_an_overdue_notice_found_at_midnight_waits_for_8_ist(env) -> None:  # noqa: ANN001
    """RBI's window for contact about overdue dues (08:00–19:00 IST, domain.contact_hours): the 00:00 IST day-end run
    finds the installment unpaid and marks it overdue, but its OVERDUE notice is held (none at 07:59) and goes between
    08:00 and 08:30 IST (the loan's own minute), once, with the day's DPD and after the pass that makes the link it
    points at. The servicing run of this calendar product asked the patch (its marker)."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), policy())) as run:
        await _disbursed(run)
        inst = stubs.of("record_disbursal")[0].installments[0]
        midnight = inst.due_at  # 00:00 IST after the due date: the day-end run
        assert midnight.astimezone(IST).time() == time(0)
        await run.sleep_until(midnight + timedelta(minutes=1))
        (marked,) = await stubs.wait_calls("mark_overdue", 1)
        assert marked.installment_no == 1
        await run.sleep_until(midnight + timedelta(hours=7, minutes=59))
        assert "OVERDUE" not in _events(stubs)
        await run.sleep_until(midnight + timedelta(hours=8, minutes=31))
        await stubs.wait_for(lambda: "OVERDUE" in _events(stubs), "the overdue notice from 08:00 IST")
        (notice,) = [n for n in stubs.of("send_notice") if n.event == "OVERDUE"]
        assert notice.values["installment"] == 1 and notice.values["dpd"] == 1
        assert notice.values["amount"] == inst.principal + inst.interest
        names = stubs.names(money_in=True)
        assert names.index("send_notice", names.index("mark_overdue")) > names.index(
            "ensure_payment_link", names.index("mark_overdue")
        )  # the link first, then the notice that points at it
        await run.sleep_until(midnight + timedelta(hours=20))
        assert _events(stubs).count("OVERDUE") == 1  # sent once, not again at the next passes
        await record_if_asked(env, run, "overdue_notice_contact_hours")
        _, servicing = await run._histories()
    assert CONTACT_HOURS_PATCH in patch_markers(servicing)


async def test_a_later_installments_first_overdue_notice_is_held_and_sent_while_an_earlier_one_is_unpaid(
    env,  # noqa: ANN001
) -> None:
    """Installment 1 is a month overdue when installment 2 falls overdue at a 00:00 IST day-end: installment 2's own
    first OVERDUE notice (day 1) is held and goes from 08:00 IST, though the loop's pass looks first at installment
    1, which has no notice due that day."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=3, period_seconds=None), policy())) as run:
        await _disbursed(run)
        second = stubs.of("record_disbursal")[0].installments[1]
        await run.sleep_until(second.due_at + timedelta(minutes=1))
        await stubs.wait_for(lambda: any(m.installment_no == 2 for m in stubs.of("mark_overdue")), "2 overdue")
        assert not any(n.key.endswith(":overdue:2:1") for n in stubs.of("send_notice"))
        await run.sleep_until(second.due_at + timedelta(hours=8, minutes=31))
        await stubs.wait_for(
            lambda: any(n.key.endswith(":overdue:2:1") for n in stubs.of("send_notice")), "installment 2's notice"
        )
        (notice,) = [n for n in stubs.of("send_notice") if n.key.endswith(":overdue:2:1")]
        assert (notice.values["installment"], notice.values["dpd"]) == (2, 1)


async def test_an_overdue_notice_held_for_the_morning_is_dropped_if_the_installment_is_paid_first(env) -> None:  # noqa: ANN001
    """Held at the 00:00 IST day-end, the OVERDUE notice is not sent at 08:00 when the borrower paid at 03:00."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), policy())) as run:
        await _disbursed(run)
        inst = stubs.of("record_disbursal")[0].installments[0]
        await run.sleep_until(inst.due_at + timedelta(minutes=1))
        await stubs.wait_calls("mark_overdue", 1)
        await run.sleep_until(inst.due_at + timedelta(hours=3))
        link = stubs.of("ensure_payment_link")[-1]
        await run.pay("night_pay", link.amount)
        await stubs.wait_calls("record_payment", 1)
        await run.sleep_until(inst.due_at + timedelta(hours=9))
        assert "OVERDUE" not in _events(stubs)
