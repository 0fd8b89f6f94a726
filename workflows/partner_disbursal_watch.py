"""The partner disbursal watch: a Temporal Schedule (``partner-disbursal-watch``, created when the worker starts, in
the UI's Schedules page, pausable there) runs this workflow every few minutes, overlapping runs skipped.

A loan booked with a partner lender (``workflows.partner_routing``) is disbursed by the loan's own transfer; the
partner then disburses it on its side and confirms with its UTR, by its signed callback or when asked. This run
opens a case for each newly disbursed partner-booked loan and, for each case whose partner has not confirmed within
its DISBURSAL SLA (or whose recheck time has come), asks the partner's status API through its adapter, one activity
per case so each shows in the UI (``activities.partners.partner_disbursal_check``): the answer is recorded, the first
check past the SLA marks the breach and alerts loan ops, the partner's settings decide when it is asked again and
when it is escalated to the brand's admins (``domain.partners.disbursal``). A UTR is taken once, whoever brings it
first. It changes no loan's workflow: the partner's disbursal is the partner's record (``partner_disbursals``).

When the partner answers that its disbursal FAILED, or that it has no such disbursal, the run re-sends the
disbursal request through the partner's adapter once per case (``partner_disbursal_resend``: idempotent under the
partner's own reference field, recorded on the case, loan ops alerted; ``domain.partners.resend``). Runs recorded
before this (patch :data:`RESEND_PATCH`) replay without it.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.partners import (
        DisbursalChecked,
        DisbursalDue,
        DisbursalResend,
        DisbursalResent,
        PartnerActivities,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT

SCHEDULE_ID = "partner-disbursal-watch"
RESEND_PATCH = "partner-disbursal-resend-v1"  # a failed or lost disbursal's request re-sent once per case
CHECK_TIMEOUT = timedelta(seconds=30)  # one status call to the partner and two short transactions
# A few tries, then the run moves on: the next run asks again (a run retrying forever would hold back the schedule).
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=["NotFound"],
)


@workflow.defn
class PartnerDisbursalWatchWorkflow:
    """One watch run; answers how many cases it asked about, and how many were confirmed, newly breached, newly
    escalated and (``resent``, from :data:`RESEND_PATCH`) re-sent to the partner."""

    @workflow.run
    async def run(self) -> dict:
        due: list[DisbursalDue] = await workflow.execute_activity_method(
            PartnerActivities.partner_disbursals_due,
            workflow.now(),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Partner disbursals past their SLA",
        )
        counts = {"asked": 0, "confirmed": 0, "breached": 0, "escalated": 0}
        resend = workflow.patched(RESEND_PATCH)
        if resend:
            counts["resent"] = 0
        for case in due:
            if resend:
                case = dataclasses.replace(case, resend=True)
            try:
                checked: DisbursalChecked = await workflow.execute_activity_method(
                    PartnerActivities.partner_disbursal_check,
                    case,
                    start_to_close_timeout=CHECK_TIMEOUT,
                    retry_policy=CHECK_RETRY,
                    summary=f"Ask {case.partner_code} about loan {case.loan_id[:8]}",
                )
            except ActivityError:
                workflow.logger.warning("partner disbursal case %s not checked this run", case.case_id)
                continue  # the next run asks again
            counts["asked"] += 1
            counts["confirmed"] += checked.recorded and checked.state == "CONFIRMED"
            counts["breached"] += checked.breach_now
            counts["escalated"] += checked.escalate_now
            if resend and checked.resend_reason:
                counts["resent"] += await self._resend(case, checked.resend_reason)
        return counts

    async def _resend(self, case: DisbursalDue, reason: str) -> bool:
        """Re-send the case's disbursal request (best effort: a partner that cannot be asked is asked again, under
        the same reference, by the run that next finds the case failed). Whether the partner took it."""
        try:
            resent: DisbursalResent = await workflow.execute_activity_method(
                PartnerActivities.partner_disbursal_resend,
                DisbursalResend(case.case_id, case.loan_id, case.partner_code, reason),
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
                summary=f"Re-send {case.partner_code}'s disbursal of loan {case.loan_id[:8]}",
            )
        except ActivityError:
            workflow.logger.warning("partner disbursal case %s not re-sent this run", case.case_id)
            return False
        return resent.status == "ACCEPTED"
