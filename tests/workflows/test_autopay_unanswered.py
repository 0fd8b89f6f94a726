"""An autopay charge the gateway never answered (autopay-charge-unanswered-v1), driven through the real LoanWorkflow
with stub activities in virtual time: ``charge_mandate`` fails past its retries (an outage at the debit hour). The
loan's workflow goes on; the debit is taken as sent with its outcome unknown and looked up at the gateway by its
receipt, like any debit whose outcome does not arrive. Before the patch the ActivityError failed the workflow: a
payment waiting in it was lost, and every later payment found no workflow to credit it."""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from tests.workflows.stubs import (
    StubActivities,
    loan_input,
    patch_markers,
    policy,
    record_if_asked,
    running_loan,
    terms,
)
from tests.workflows.test_money_in import _mandate_active
from workflows.contracts import MandateDebitCheck, MandateDebitResult, PaymentEvent
from workflows.loan import LoanWorkflow
from workflows.options import AUTOPAY_CHARGE_UNANSWERED_PATCH


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


def _unanswered() -> ApplicationError:
    """What the charge's activity ends with once its retries are spent on a gateway that does not answer."""
    return ApplicationError("razorpay: HTTP 503: gateway unavailable", type="ProviderError", non_retryable=True)


async def test_an_unanswered_charge_is_looked_up_and_its_captured_payment_credited(env) -> None:  # noqa: ANN001
    """The charge at 09:00 IST gets no answer past its retries. The loan's workflow keeps running; six hours after
    the charge it asks the gateway by the debit's receipt (``find_mandate_debit``), which had taken it: the captured
    payment is credited as its webhook would have been, the debit recorded CAPTURED, and no second debit goes."""
    stubs = StubActivities(debit_answers=[_unanswered()])
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(minutes=1))
        (charge,) = await stubs.wait_calls("charge_mandate", 1)
        stubs.debit_checks.append(
            MandateDebitCheck("debit-1-1", payment=PaymentEvent("pay_d1", charge.amount, mode="EMANDATE",
                                                                 purpose="INSTALLMENT", mandate_debit_id="debit-1-1"))
        )  # fmt: skip
        await run.sleep_until(debit_at + timedelta(hours=5, minutes=59))
        assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert stubs.of("find_mandate_debit") == []  # not yet: the gateway's own answer may still come
        await run.sleep_until(debit_at + timedelta(hours=6, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]
        (paid,) = await stubs.wait_calls("record_payment", 1)
        assert paid.payment.payment_id == "pay_d1" and paid.parts[0].number == 1
        assert stubs.of("record_debit_outcome")[-1] == MandateDebitResult("debit-1-1", "CAPTURED")
        await run.sleep_until(debit_at + timedelta(days=5))
        assert len(stubs.of("charge_mandate")) == 1 and len(stubs.of("notify_mandate_debit")) == 1
        assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING
        history = await run.handle.fetch_history()
        assert patch_markers(history).count(AUTOPAY_CHARGE_UNANSWERED_PATCH) == 1
        replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None, replayed.replay_failure
        await record_if_asked(env, run, "autopay_charge_unanswered")


async def test_an_unanswered_charge_the_gateway_has_nothing_for_is_recorded_failed_and_tried_again(env) -> None:  # noqa: ANN001
    """The charge gets no answer, and the gateway has no payment for its receipt either: the debit's row is recorded
    FAILED ("the gateway did not answer the charge"), that try is over, and the next try (one retry, two days
    apart) gets its own pre-debit notice and debit, which is answered as usual."""
    stubs = StubActivities(debit_answers=[_unanswered()])
    loan_policy = policy(autopay_retries=1, autopay_retry_days=2, reminder_days=3)
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None), loan_policy)) as run:
        _, debit_at = await _mandate_active(run, stubs)
        await run.sleep_until(debit_at + timedelta(hours=6, minutes=1))
        assert stubs.of("find_mandate_debit") == ["debit-1-1"]
        (outcome,) = await stubs.wait_calls("record_debit_outcome", 1)
        assert outcome == MandateDebitResult("debit-1-1", "FAILED", "the gateway did not answer the charge")
        await run.sleep_until(debit_at + timedelta(days=2, hours=1))
        notices = await stubs.wait_calls("notify_mandate_debit", 2)
        assert (notices[1].installment_no, notices[1].attempt) == (1, 2)
        assert notices[1].charge_at - debit_at >= timedelta(days=2)  # the brand's spacing after a failed try
        await run.sleep_until(notices[1].charge_at + timedelta(minutes=1))
        charges = await stubs.wait_calls("charge_mandate", 2)
        assert (charges[1].installment_no, charges[1].attempt) == (1, 2)
        assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING
