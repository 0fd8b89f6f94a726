"""The receipt sweep: a Temporal Schedule (``receipt-sweep``, created when the worker starts, in the UI's Schedules
page, pausable there) runs this workflow every ``LOS_RECEIPT_SWEEP_EVERY_SECONDS`` (five minutes by default; 0
switches it off), overlapping runs skipped.

Every credited payment gets a receipt. A loan's workflow issues the receipt of each payment it applies. Money that
reaches a loan no workflow applies is recorded without one: a payment after the loan closed (its credit balance)
or after it was written off (a recovery), kept by the webhook intake or an offline approval, and a recovery the
workflow itself books as the loan is written off. So is a payment whose receipt its loan gave up on (storage down
for long), and every payment of a loan on the path from before receipts. This run asks for the credited payments
collected between ``LOOKBACK`` and ``GRACE`` ago that still have no stored receipt (``payments_without_receipt``)
and issues each receipt with the borrower's PAYMENT_RECEIVED notice (``issue_receipt_and_notify``, the activity the
loan's workflow runs, with the same notice key, dated the day the money came).

Nothing is doubled: a receipt keeps its number once issued (the payment's row is locked while it is numbered), and
a notice is logged once per key, so one the loan already sent is not sent again. The log stops a second send only
once the first has finished, so ``GRACE`` is longer than the loan's own receipt step can last: the two do not run
at once unless a loan's follow-up work waited in its queue for longer than that. ``LOOKBACK`` bounds the window, so
a new deployment does not message borrowers about payments from long ago. Docs: docs/money-in.md ("Receipts"),
docs/operations.md ("Scheduled jobs").
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from workflows.contracts import ReceiptNotice, ReceiptSweepWindow, UnreceiptedPayment
    from workflows.options import DB_RETRY, DB_TIMEOUT, NOTICE_TIMEOUT

SCHEDULE_ID = "receipt-sweep"
# A payment this recent is left to its loan's own workflow: longer than the loan's own receipt step can take
# (RECEIPT_RETRY: 20 tries of at most a minute each, about half an hour), so the two do not send the notice at once.
GRACE = timedelta(hours=1)
LOOKBACK = timedelta(days=3)  # older payments are not swept (those before receipts existed)
BATCH = 200  # receipts a run issues at most; the next run takes the rest
GIVE_UP_AFTER = 5  # failures in a row that end a run (storage or the database down): the next run tries again
# a few tries, then the payment is left for the next run (a run retrying forever would hold back the schedule,
# whose overlapping runs are skipped)
RECEIPT_TRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3
)


@workflow.defn
class ReceiptSweepWorkflow:
    """One sweep; answers how many receipts it issued and how many it left for the next run
    (``{"issued": n, "failed": m}``)."""

    @workflow.run
    async def run(self) -> dict:
        now = workflow.now()
        due: list[UnreceiptedPayment] = await workflow.execute_activity_method(
            LoanActivities.payments_without_receipt,
            ReceiptSweepWindow(since=now - LOOKBACK, before=now - GRACE, limit=BATCH),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Credited payments without a receipt",
        )
        issued = failed = in_a_row = 0
        for payment in due:
            if in_a_row >= GIVE_UP_AFTER:
                break
            # the request the loan's own workflow sends (workflows.money_in), with its notice key; dated the day the
            # money came, not the day the sweep ran
            key = f"{payment.loan_id}:paid:{payment.gateway}:{payment.payment_id}"
            values = {"amount": payment.amount, "paymentId": payment.payment_id, "paidOn": payment.collected_on}
            try:
                await workflow.execute_activity_method(
                    LoanActivities.issue_receipt_and_notify,
                    ReceiptNotice(payment.loan_id, payment.gateway, payment.payment_id, key, values),
                    start_to_close_timeout=NOTICE_TIMEOUT,
                    retry_policy=RECEIPT_TRIES,
                    summary=f"Receipt and notice for {payment.payment_id[:40]}",
                )
                issued += 1
                in_a_row = 0
            except ActivityError as exc:
                workflow.logger.warning("receipt for %s not issued: %s", payment.payment_id, exc.cause)
                failed += 1
                in_a_row += 1
        return {"issued": issued, "failed": failed}
