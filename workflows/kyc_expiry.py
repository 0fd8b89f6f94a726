"""Periodic updation of KYC: a Temporal Schedule (``kyc-expiry``, created when the worker starts, in the UI's Schedules
page, pausable there) runs this workflow every day at 10:30 IST, when customers may be messaged.

RBI Master Direction - Know Your Customer (KYC) Direction, 2016 (as amended), para 38: KYC is updated at least every
2 years for high-risk customers, 8 for medium-risk and 10 for low-risk. For each active brand, one activity finds the
customers with an active loan whose KYC falls due within the brand's notice window or is past due
(``domain.ops_jobs``), then one activity per customer marks them (audit row), tells them (SMS) and tells staff,
once per customer, due date and stage (``activities.ops_jobs_kyc``). Started by hand with a brand id it looks at that
brand only. See docs/operations.md, "Scheduled jobs".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ops_jobs import BrandRun, OpsJobActivities, ReKycItem
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST

SCHEDULE_ID = "kyc-expiry"
RUN_AT_UTC = (5, 0)  # 10:30 IST
FIND_TIMEOUT = timedelta(minutes=2)  # one brand's active customers and their KYC decisions
MARK_TIMEOUT = timedelta(minutes=2)  # one SMS with vendor failover
# a few tries, then the step is counted failed and the run goes on: tomorrow's run finds the customer again
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)


@workflow.defn
class KycExpiryWorkflow:
    """One run; answers how many brands it went through, customers it marked and steps that failed."""

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
        marked = failed = 0
        for brand in brands:
            run = BrandRun(brand, now.isoformat(), now.astimezone(IST).date().isoformat())
            try:
                due: list[ReKycItem] = await workflow.execute_activity_method(
                    OpsJobActivities.rekyc_due_customers,
                    run,
                    start_to_close_timeout=FIND_TIMEOUT,
                    retry_policy=STEP_RETRY,
                    summary=f"Customers due for re-KYC in brand {brand}",
                )
            except ActivityError:
                failed += 1
                continue
            for item in due:
                try:
                    await workflow.execute_activity_method(
                        OpsJobActivities.mark_rekyc_due,
                        item,
                        start_to_close_timeout=MARK_TIMEOUT,
                        retry_policy=STEP_RETRY,
                        summary=f"Re-KYC {item.stage} on {item.due_on}: customer {item.customer_id}",
                    )
                    marked += 1
                except ActivityError:
                    failed += 1
        return {"brands": len(brands), "marked": marked, "failed": failed}
