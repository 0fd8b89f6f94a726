"""The payment redelivery's workflow (workflows/payment_redelivery.py) against stub activities and a stand-in loan
workflow: a payment whose loan's workflow runs is signalled ``payment_received`` as stored, then marked delivered;
one whose loan has ended, whose workflow does not run, or whose reference is an APPROVED offline payment's is kept
(never signalled); one the running loan refuses (its signal limit) is left for the next run; a failure is passed over
and five in a row end the run. The real stack's side:
tests/integration/test_payment_redelivery.py."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from los.settings import Settings
from los.temporal import data_converter
from tests.workflows.stubs import StubActivities
from workflows.contracts import PaymentEvent, UndeliveredPayment
from workflows.payment_redelivery import BATCH, GIVE_UP_AFTER, GRACE, LOOKBACK, PaymentRedeliveryWorkflow


@workflow.defn(name="StandInLoan", sandboxed=False)  # its module imports the stubs
class StandInLoan:
    """Takes ``payment_received`` as the loan's workflow does, and answers what it was sent."""

    def __init__(self) -> None:
        self.payments: list[PaymentEvent] = []

    @workflow.run
    async def run(self) -> list[PaymentEvent]:
        await workflow.wait_condition(lambda: False)
        return self.payments

    @workflow.signal
    def payment_received(self, event: PaymentEvent) -> None:
        self.payments.append(event)

    @workflow.query
    def received(self) -> list[PaymentEvent]:
        return self.payments


def _due(payment_id: str, workflow_id: str | None, terminal: bool = False, twin: str | None = None):  # noqa: ANN202
    payment = PaymentEvent(payment_id, 2_500_00, "cashfree", "link_1", "UPI", "RRN1", "INSTALLMENT")
    return UndeliveredPayment(f"row-{payment_id}", payment, "loan-1", workflow_id, terminal, twin)


def _ids(payments: list[UndeliveredPayment]) -> list[str]:
    return [u.payment.payment_id for u in payments]


async def _run(env, queue: str) -> dict:  # noqa: ANN001
    return await env.client.execute_workflow(
        PaymentRedeliveryWorkflow.run, id=f"payment-redelivery-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def test_a_running_loan_is_signalled_and_the_others_keep_the_money(env) -> None:  # noqa: ANN001
    queue = f"redelivery-{uuid.uuid4().hex[:8]}"
    loan_id = f"loan-standin-{uuid.uuid4().hex[:8]}"
    due = [
        _due("pay_run", loan_id),
        _due("pay_ended", loan_id, terminal=True),  # its workflow still runs, but the loan has ended: not signalled
        _due("pay_gone", f"loan-never-started-{uuid.uuid4().hex[:8]}"),
        _due("pay_none", None),
        _due("pay_twin", loan_id, twin="offline-1"),
    ]
    stubs = StubActivities(undelivered=due)
    # no time skipping: nothing here waits on a timer, and a skip while the client waits for the run's result went
    # on to the stand-in's own ten-year run timeout (it had timed out by the time it was terminated)
    with env.auto_time_skipping_disabled():
        async with Worker(
            env.client, task_queue=queue, workflows=[PaymentRedeliveryWorkflow, StandInLoan], activities=stubs.all()
        ):
            loan = await env.client.start_workflow(StandInLoan.run, id=loan_id, task_queue=queue)
            assert await _run(env, queue) == {"delivered": 1, "kept": 4, "failed": 0}
            assert await loan.query(StandInLoan.received) == [due[0].payment]  # as stored, every field
            await loan.terminate()
    assert _ids(stubs.of("mark_payment_delivered")) == ["pay_run"]
    assert _ids(stubs.of("keep_undelivered_payment")) == ["pay_ended", "pay_gone", "pay_none", "pay_twin"]
    (window,) = stubs.of("undelivered_payments")
    assert (window.before - window.since, window.limit) == (LOOKBACK - GRACE, BATCH)


async def test_failures_are_passed_over_and_five_in_a_row_end_the_run(env) -> None:  # noqa: ANN001
    queue = f"redelivery-{uuid.uuid4().hex[:8]}"
    gone = [_due(f"pay_{i}", None) for i in range(GIVE_UP_AFTER + 3)]
    failing = frozenset({"pay_0"} | {f"pay_{i}" for i in range(2, 2 + GIVE_UP_AFTER)})
    stubs = StubActivities(undelivered=gone, failing_keeps=set(failing))
    async with Worker(env.client, task_queue=queue, workflows=[PaymentRedeliveryWorkflow], activities=stubs.all()):
        assert await _run(env, queue) == {"delivered": 0, "kept": 1, "failed": 1 + GIVE_UP_AFTER}
    # pay_0 failed and was passed over; the two after the fifth failure in a row are left for the next run
    assert _ids(stubs.of("keep_undelivered_payment")) == ["pay_1"]


async def test_a_signal_the_running_loan_refuses_leaves_the_payment_for_the_next_run() -> None:
    """A loan whose workflow runs but refuses the signal (here its signal limit, reached: a dev server allowing one
    signal per run) is neither marked delivered nor kept as credit balance: the money stays with its running loan,
    and the event waits for the next run."""
    from tests.conftest import dev_server_args

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=data_converter(Settings()),
        dev_server_extra_args=[*dev_server_args(), "--dynamic-config-value", "history.maximumSignalsPerExecution=1"],
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        queue = f"redelivery-{uuid.uuid4().hex[:8]}"
        loan_id = f"loan-standin-{uuid.uuid4().hex[:8]}"
        first, refused = _due("pay_first", loan_id), _due("pay_refused", loan_id)
        stubs = StubActivities(undelivered=[refused])
        async with Worker(
            env.client, task_queue=queue, workflows=[PaymentRedeliveryWorkflow, StandInLoan], activities=stubs.all()
        ):
            loan = await env.client.start_workflow(StandInLoan.run, id=loan_id, task_queue=queue)
            await loan.signal(StandInLoan.payment_received, first.payment)  # the run's one signal
            assert await _run(env, queue) == {"delivered": 0, "kept": 0, "failed": 1}
            assert await loan.query(StandInLoan.received) == [first.payment]
            await loan.terminate()
        assert stubs.of("mark_payment_delivered") == [] and stubs.of("keep_undelivered_payment") == []
    finally:
        await env.shutdown()
