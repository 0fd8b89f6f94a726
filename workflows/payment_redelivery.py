"""The payment redelivery: a Temporal Schedule (``payment-redelivery``, created when the worker starts, in the UI's
Schedules page, pausable there) runs this workflow every ``LOS_PAYMENT_REDELIVERY_EVERY_SECONDS`` (five minutes by
default; 0 switches it off), overlapping runs skipped.

The webhook intake stores a gateway's payment event, then signals the loan's workflow, then marks the event
delivered (``api.webhooks.intake``). If the signal cannot be sent (the workflow engine down: the gateway is answered
503) or the API stops between the two, the gateway's own retries deliver it, for a while: Razorpay retries a webhook not
answered 2xx with exponential backoff for 24 hours after the event, then disables the webhook
(https://razorpay.com/docs/webhooks/best-practices); Cashfree's default policy retries three times, 2, 10 and 30
minutes apart (https://www.cashfree.com/docs/api-reference/webhooks/reliability-and-operations). A payment whose
every retry failed would stay stored and never credited: an outage of the workflow engine of an hour loses Cashfree's.
This run finds such events (matched to a loan, received between ``LOOKBACK`` and ``GRACE`` ago, still undelivered:
``undelivered_payments``) and does what the intake would have done:

- a loan whose workflow runs is signalled ``payment_received`` with the payment as stored
  (``webhook_events.signal_arg``), then the event is marked delivered;
- a loan in a terminal status, or whose workflow no longer runs, keeps the money as its credit balance (a recovery
  when written off), as the intake keeps it;
- a payment whose reference (UTR, UPI RRN) is an APPROVED offline payment's is parked for ops, as the intake parks it.

Nothing is doubled: the loan's workflow applies a payment id once (a repeat signal is ignored), a credit balance
is recorded once per gateway payment id, and an event whose payment is kept already (credited, or parked for ops) is
only marked delivered. A gateway retry arriving while this runs is harmless for the same reasons. A payment is
redelivered dated the IST day its event was received, not the day of the run. A signal the running loan refuses (its
signal limit) leaves the payment for the next run, as does an activity's failure; five activity failures in a row
end the run (the database down). ``GRACE`` leaves the intake's own path (and the gateway's first retries) time to
finish; ``LOOKBACK`` bounds the window (events stored before ``signal_arg`` existed are not taken). Docs:
docs/money-in.md ("Payments never lost"), docs/operations.md ("Scheduled jobs").
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from workflows.contracts import RedeliveryWindow, UndeliveredPayment
    from workflows.options import DB_TIMEOUT

from workflows.loan import LoanWorkflow

SCHEDULE_ID = "payment-redelivery"
GRACE = timedelta(minutes=15)  # younger events are left to the intake and the gateway's first retries
LOOKBACK = timedelta(days=7)  # older events are not taken: ops find them by the query in docs/money-in.md
BATCH = 200  # events a run takes at most; the next run takes the rest
GIVE_UP_AFTER = 5  # activities failing in a row that end a run (the database down): the next run tries again
# The failure a signal to a workflow that is not running (finished, or never started) ends with (the SDK's core).
NOT_FOUND = "ExternalWorkflowExecutionNotFound"
# a few tries, then the event is left for the next run (a run retrying forever would hold back the schedule, whose
# overlapping runs are skipped)
REDELIVERY_TRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3
)


@workflow.defn
class PaymentRedeliveryWorkflow:
    """One run; answers how many payments it signalled to their loans, kept otherwise (credit balance, recovery,
    parked) and left for the next run: ``{"delivered": n, "kept": k, "failed": m}``."""

    @workflow.run
    async def run(self) -> dict:
        now = workflow.now()
        try:
            due: list[UndeliveredPayment] = await workflow.execute_activity_method(
                LoanActivities.undelivered_payments,
                RedeliveryWindow(since=now - LOOKBACK, before=now - GRACE, limit=BATCH),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=REDELIVERY_TRIES,
                summary="Payment events never delivered",
            )
        except ActivityError as exc:  # the database down: the next run asks again
            workflow.logger.warning("undelivered payment events not read: %s", exc)
            return {"delivered": 0, "kept": 0, "failed": 0}
        delivered = kept = failed = in_a_row = 0
        for undelivered in due:
            if in_a_row >= GIVE_UP_AFTER:
                break
            try:
                signalled = await self._signal(undelivered)
            except ApplicationError as exc:  # the loan runs but took no signal (its signal limit): the next run tries
                workflow.logger.warning("payment %s not signalled: %s", undelivered.payment.payment_id, exc)
                failed += 1
                continue
            try:
                if signalled:
                    await workflow.execute_activity_method(
                        LoanActivities.mark_payment_delivered,
                        undelivered,
                        start_to_close_timeout=DB_TIMEOUT,
                        retry_policy=REDELIVERY_TRIES,
                        summary=f"Delivered {undelivered.payment.payment_id[:40]}",
                    )
                    delivered += 1
                else:
                    await workflow.execute_activity_method(
                        LoanActivities.keep_undelivered_payment,
                        undelivered,
                        start_to_close_timeout=DB_TIMEOUT,
                        retry_policy=REDELIVERY_TRIES,
                        summary=f"Kept {undelivered.payment.payment_id[:40]}",
                    )
                    kept += 1
                in_a_row = 0
            except ActivityError as exc:
                workflow.logger.warning("payment %s left for the next run: %s", undelivered.payment.payment_id, exc)
                failed += 1
                in_a_row += 1
        return {"delivered": delivered, "kept": kept, "failed": failed}

    @staticmethod
    async def _signal(undelivered: UndeliveredPayment) -> bool:
        """Signal the loan's workflow the payment, as the intake does; False when no running loan takes it: the loan
        has ended, its workflow is not running (finished, or never started), or the payment is an APPROVED offline
        payment's twin. Any other refusal of the signal is raised (``ApplicationError``): the loan runs, and the
        money is not kept elsewhere on its account."""
        if undelivered.loan_terminal or undelivered.offline_twin is not None or not undelivered.workflow_id:
            return False
        try:
            await workflow.get_external_workflow_handle(undelivered.workflow_id).signal(
                LoanWorkflow.payment_received, undelivered.payment
            )
        except ApplicationError as exc:
            if exc.type == NOT_FOUND:
                return False
            raise
        return True
