"""Bureau refresh of active loans: a Temporal Schedule (``bureau-refresh``, created when the worker starts, in the UI's
Schedules page, pausable there) runs this workflow every day at 02:00 IST, away from the bureaus' busy hours.

For each active brand, one activity picks the active loans (disbursed, not closed) whose latest bureau report is
older than the brand's ``opsJobs.bureauRefreshDays``, the oldest first and at most ``opsJobs.bureauBatch``; then one
activity per loan pulls its report again, stores it once per loan and day and raises an early warning to staff when
it got worse (``activities.ops_jobs_bureau``; the rule is ``domain.ops_jobs.deterioration``). Started by hand with a
brand id it looks at that brand only. See docs/operations.md, "Scheduled jobs".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ops_jobs import BrandRun, BureauRefreshRequest, BureauRefreshResult, OpsJobActivities
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST, PROVIDER_TIMEOUT

SCHEDULE_ID = "bureau-refresh"
RUN_AT_UTC = (20, 30)  # 02:00 IST
FIND_TIMEOUT = timedelta(minutes=1)
PULL_TIMEOUT = PROVIDER_TIMEOUT * 3  # every bureau of the brand tried in turn
# a few tries (the bureaus down), then the loan is counted failed and the run goes on: it is still due tomorrow
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=4
)


@workflow.defn
class BureauRefreshWorkflow:
    """One run; answers how many brands it went through, loans it refreshed, warnings raised, refusals and steps
    that failed (a loan closed meanwhile is in none of them)."""

    @workflow.run
    async def run(self, brand_id: str | None = None) -> dict:
        now = workflow.now()
        brands: list[str] = (
            [brand_id]
            if brand_id
            else await workflow.execute_activity_method(
                OpsJobActivities.ops_job_brands,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary="Active brands",
            )
        )
        out = {"brands": len(brands), "refreshed": 0, "warnings": 0, "refused": 0, "failed": 0}
        for brand in brands:
            day = now.astimezone(IST).date().isoformat()
            try:
                loans: list[str] = await workflow.execute_activity_method(
                    OpsJobActivities.bureau_refresh_due,
                    BrandRun(brand, now.isoformat(), day),
                    start_to_close_timeout=FIND_TIMEOUT,
                    retry_policy=STEP_RETRY,
                    summary=f"Loans due for a bureau refresh in brand {brand}",
                )
            except ActivityError:
                out["failed"] += 1
                continue
            for loan_id in loans:
                try:
                    result: BureauRefreshResult = await workflow.execute_activity_method(
                        OpsJobActivities.refresh_bureau,
                        BureauRefreshRequest(brand, loan_id, day),
                        start_to_close_timeout=PULL_TIMEOUT,
                        retry_policy=STEP_RETRY,
                        summary=f"Bureau refresh of loan {loan_id}",
                    )
                except ActivityError:
                    out["failed"] += 1
                    continue
                if result.outcome == "REFUSED":
                    out["refused"] += 1
                elif result.outcome != "SKIPPED":
                    out["refreshed"] += 1
                    out["warnings"] += result.outcome == "WARNING"
        return out
