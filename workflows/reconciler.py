"""The transfer reconciler: a Temporal Schedule (``reconcile-transfers``, created when the worker starts, in the UI's
Schedules page) runs this workflow every few minutes.

It finds transfers pending at the bank past their brand's ``transfer_sla_seconds`` with no callback, asks each
bank's status API (one activity per transfer, at the bank that holds it), and signals the loan's workflow
``disbursal_settled`` with what the bank said (SUCCESS with its UTR, or FAILED with its reason). The loan takes the
first word on a transfer, so a callback arriving later changes nothing; a transfer the bank still has pending is
asked about again next run. A lost bank webhook no longer leaves a loan in DISBURSAL_PENDING for ever.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.outcomes import TransferStatus
    from workflows.contracts import DisbursalEvent, StaleTransfer
    from workflows.heartbeats import TRANSFER_HEARTBEAT
    from workflows.options import DB_RETRY, DB_TIMEOUT, PROVIDER_RETRY, PROVIDER_TIMEOUT

from workflows.loan import LoanWorkflow

SCHEDULE_ID = "reconcile-transfers"
SETTLED = {"SUCCESS": TransferStatus.SUCCESS, "FAILED": TransferStatus.FAILED}


@workflow.defn
class ReconcileTransfersWorkflow:
    """One reconciliation run; answers how many transfers it asked about and how many it settled."""

    @workflow.run
    async def run(self) -> dict:
        stale: list[StaleTransfer] = await workflow.execute_activity_method(
            LoanActivities.find_stale_transfers,
            workflow.now(),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Transfers pending past their SLA",
        )
        settled = 0
        for transfer in stale:
            try:
                check = await workflow.execute_activity_method(
                    LoanActivities.check_transfer,
                    transfer,
                    start_to_close_timeout=PROVIDER_TIMEOUT,
                    retry_policy=PROVIDER_RETRY,
                    schedule_to_close_timeout=timedelta(minutes=2),
                    heartbeat_timeout=TRANSFER_HEARTBEAT,
                    summary=f"Ask {transfer.provider} about transfer {transfer.transfer_id}",
                )
            except ActivityError:
                workflow.logger.warning("status of transfer %s not known this run", transfer.transfer_id)
                continue  # the next run asks again
            if check.state not in SETTLED:
                continue
            event = DisbursalEvent(
                transfer.transfer_id,
                SETTLED[check.state],
                check.utr,
                f"reconciler:{transfer.transfer_id}",
                check.reason,
                "reconciler",
            )
            try:
                await workflow.get_external_workflow_handle(f"loan-{transfer.loan_id}").signal(
                    LoanWorkflow.disbursal_settled, event
                )
                settled += 1
            except ApplicationError:
                workflow.logger.warning("loan %s no longer takes signals", transfer.loan_id)
        return {"asked": len(stale), "settled": settled}
