"""Staff inactivity alerts: a Temporal Schedule (``staff-inactivity-alerts``, created when the worker starts, in the
UI's Schedules page, pausable there) runs this workflow every day at 09:00 IST, as the working day starts.

For each active brand, one activity finds the staff last seen (signed in or active) more than the brand's
``opsJobs.inactivityDays`` ago, then one activity per staff member notifies the brand's admins, once per spell of
inactivity (``activities.ops_jobs``; the rule is ``domain.ops_jobs.is_inactive``). Started by hand with a brand id it
looks at that brand only. See docs/operations.md, "Scheduled jobs".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ops_jobs import BrandRun, InactiveStaff, OpsJobActivities
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST

SCHEDULE_ID = "staff-inactivity-alerts"
RUN_AT_UTC = (3, 30)  # 09:00 IST
STEP_TIMEOUT = timedelta(minutes=1)
# a few tries, then the step is counted failed and the run goes on: tomorrow's run finds what is left (a step
# retrying for ever would hold back the schedule, whose overlapping runs are skipped)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)


@workflow.defn
class InactivityAlertsWorkflow:
    """One run; answers how many brands it went through, staff it found inactive, alerts it wrote and steps that
    failed (a failed step is left for the next run)."""

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
        found = alerts = failed = 0
        for brand in brands:
            run = BrandRun(brand, now.isoformat(), now.astimezone(IST).date().isoformat())
            try:
                staff: list[InactiveStaff] = await workflow.execute_activity_method(
                    OpsJobActivities.inactive_staff,
                    run,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STEP_RETRY,
                    summary=f"Inactive staff of brand {brand}",
                )
            except ActivityError:
                failed += 1
                continue
            found += len(staff)
            for who in staff:
                try:
                    alerts += await workflow.execute_activity_method(
                        OpsJobActivities.alert_inactive_staff,
                        who,
                        start_to_close_timeout=STEP_TIMEOUT,
                        retry_policy=STEP_RETRY,
                        summary=f"Inactivity alert for staff {who.staff_id} ({who.days} days)",
                    )
                except ActivityError:
                    failed += 1
        return {"brands": len(brands), "inactive": found, "alerts": alerts, "failed": failed}
