"""The daily portfolio snapshot: a Temporal Schedule (``portfolio-snapshot``, created when the worker starts, in the
UI's Schedules page) runs this workflow every day at 00:30 IST, after the loans' day-end has run at 00:00.

It snapshots every active brand's portfolio summary (AUM, PAR 30/60/90, GNPA, the month to date's disbursals,
collections and collection efficiency) as of the day that just ended, one activity per brand. A day already
snapshotted is left as it was, so a run repeated (a retry, a schedule caught up, a manual run) writes nothing twice.
Started by hand with a date (``YYYY-MM-DD``) it snapshots that day instead. See docs/dashboards.md.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.portfolio import PortfolioActivities, SnapshotRequest
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST

SCHEDULE_ID = "portfolio-snapshot"
# 00:30 IST (IST has no daylight saving): the loans' day-end runs at 00:00 IST, their activities within minutes.
RUN_AT_UTC = (19, 0)
SNAPSHOT_TIMEOUT = timedelta(minutes=2)  # one brand's figures: a few aggregate queries


def day_ended(now: datetime) -> date:
    """The IST date whose day-end has run last at ``now``: yesterday in India."""
    return now.astimezone(IST).date() - timedelta(days=1)


@workflow.defn
class PortfolioSnapshotWorkflow:
    """One snapshot run; answers the day, how many brands it went through and how many snapshots it wrote."""

    @workflow.run
    async def run(self, as_of: str | None = None) -> dict:
        day = date.fromisoformat(as_of) if as_of else day_ended(workflow.now())
        brands: list[str] = await workflow.execute_activity_method(
            PortfolioActivities.portfolio_brands,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Active brands",
        )
        written = 0
        for brand_id in brands:
            if await workflow.execute_activity_method(
                PortfolioActivities.snapshot_portfolio,
                SnapshotRequest(brand_id, day.isoformat()),
                start_to_close_timeout=SNAPSHOT_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Portfolio snapshot of brand {brand_id} for {day.isoformat()}",
            ):
                written += 1
        return {"asOf": day.isoformat(), "brands": len(brands), "written": written}
