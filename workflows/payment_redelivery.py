"""The payment redelivery: a Temporal Schedule (``payment-redelivery``, created when the worker starts, in the UI's
Schedules page, pausable there) runs this workflow every ``LOS_PAYMENT_REDELIVERY_EVERY_SECONDS`` (five minutes by
default; 0 switches it off), overlapping runs skipped.

The webhook intake stores a gateway's payment event, then signals the loan's workflow, then marks the event
delivered (``api.webhooks.intake``). If the signal cannot be sent (the workflow engine down: the gateway is answered
503) or the API stops between the two, the gateway's own retries deliver it: Razorpay retries a webhook not answered
2xx for 24 hours, Cashfree and Paytring a few times. A payment whose every retry failed would stay stored and
never credited. This run finds such events (matched to a loan, received between ``LOOKBACK`` and ``GRACE`` ago,
still undelivered: ``undelivered_payments``) and does what the intake would have done:

- a loan whose workflow runs is signalled ``payment_received`` with the payment as stored
  (``webhook_events.signal_arg``), then the event is marked delivered;
- a loan in a terminal status, or whose workflow no longer runs, keeps the money as its credit balance (a recovery
  when written off), as the intake keeps it;
- a payment whose reference (UTR, UPI RRN) is an APPROVED offline payment's is parked for ops, as the intake parks it.

Nothing is doubled: the loan's workflow applies a payment id once (a repeat signal is ignored), a credit balance
is recorded once per gateway payment id, and an event whose payment was already credited, or told to its loan by
another event of it, is only marked delivered. A gateway retry arriving while this runs is harmless for the same
reasons. ``GRACE`` leaves the intake's own path (and the gateway's first retries) time to finish; ``LOOKBACK``
bounds the window (events stored before ``signal_arg`` existed are not taken). Docs: docs/money-in.md
("Payments never lost"), docs/operations.md ("Scheduled jobs").
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from workflows.contracts import RedeliveryWindow, UndeliveredPayment
    from workflows.options import DB_RETRY, DB_TIMEOUT

from workflows.loan import LoanWorkflow

SCHEDULE_ID = "payment-redelivery"
GRACE = timedelta(minutes=15)  # younger events are left to the intake and the gateway's first retries
LOOKBACK = timedelta(days=7)  # older events are not taken (ops find them by the query in docs/money-in.md)
BATCH = 200  # events a run takes at most; the next run takes the rest
GIVE_UP_AFTER = 5  # failures in a row that end a run (the database down): the next run tries again
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
        due: list[UndeliveredPayment] = await workflow.execute_activity_method(
            LoanActivities.undelivered_payments,
            RedeliveryWindow(since=now - LOOKBACK, before=now - GRACE, limit=BATCH),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Payment events never delivered",
        )
        delivered = kept = failed = in_a_row = 0
        for undelivered in due:
            if in_a_row >= GIVE_UP_AFTER:
                break
            try:
                if await self._signalled(undelivered):
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
    async def _signalled(undelivered: UndeliveredPayment) -> bool:
        """Signal the loan's workflow the payment, as the intake does; False when no running loan takes it: the loan
        has ended, its workflow no longer runs (or never ran), or the payment is an APPROVED offline payment's twin."""
        if undelivered.loan_terminal or undelivered.offline_twin is not None or not undelivered.workflow_id:
            return False
        try:
            await workflow.get_external_workflow_handle(undelivered.workflow_id).signal(
                LoanWorkflow.payment_received, undelivered.payment
            )
        except ApplicationError:  # the loan's workflow has finished, or was never started
            return False
        return True
