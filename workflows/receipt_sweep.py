"""The receipt sweep: a Temporal Schedule (``receipt-sweep``, created when the worker starts, in the UI's Schedules
page, pausable there) runs this workflow every ``LOS_RECEIPT_SWEEP_EVERY_SECONDS`` (five minutes by default; 0
switches it off), overlapping runs skipped.

Every credited payment gets a receipt. A loan's workflow issues the receipt of each payment it applies. Money that
reaches a loan no workflow applies is recorded without one: a payment after the loan closed (its credit balance)
or after it was written off (a recovery), kept by the webhook intake or an offline approval, or by the workflow
itself as the loan ends. So is a payment whose receipt its loan gave up on (storage down for long). This run asks
for the credited payments collected between ``LOOKBACK`` and ``GRACE`` ago that still have no stored receipt
(``payments_without_receipt``) and issues each receipt with the borrower's PAYMENT_RECEIVED notice
(``issue_receipt_and_notify``, the activity the loan's workflow runs, with the same notice key).

Nothing is doubled: a receipt keeps its number once issued, and a notice is logged once per key, so a loan whose
own receipt lands while the sweep issues it sends one notice. ``GRACE`` leaves the loans' workflows time to issue
their own first (a due-date storm queues them for minutes); ``LOOKBACK`` bounds the window, so a new deployment
does not message borrowers about payments from long ago that predate receipts. Docs: docs/money-in.md
("Receipts"), docs/operations.md ("Scheduled jobs").
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
GRACE = timedelta(minutes=10)  # a payment this recent is left to its loan's own workflow
LOOKBACK = timedelta(days=3)  # older payments are not swept (those before receipts existed)
BATCH = 200  # receipts a run issues at most; the next run takes the rest
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
        issued = failed = 0
        for payment in due:
            # the request the loan's own workflow sends (workflows.money_in), with its notice key
            key = f"{payment.loan_id}:paid:{payment.gateway}:{payment.payment_id}"
            values = {"amount": payment.amount, "paymentId": payment.payment_id}
            try:
                await workflow.execute_activity_method(
                    LoanActivities.issue_receipt_and_notify,
                    ReceiptNotice(payment.loan_id, payment.gateway, payment.payment_id, key, values),
                    start_to_close_timeout=NOTICE_TIMEOUT,
                    retry_policy=RECEIPT_TRIES,
                    summary=f"Receipt and notice for {payment.payment_id[:40]}",
                )
                issued += 1
            except ActivityError as exc:
                workflow.logger.warning("receipt for %s not issued: %s", payment.payment_id, exc.cause)
                failed += 1
        return {"issued": issued, "failed": failed}
