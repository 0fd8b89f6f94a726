"""Staff reminders' dispatch: a Temporal Schedule (``reminder-dispatch``, created when the worker starts, in the UI's
Schedules page, pausable there) runs this workflow every minute, overlapping runs skipped.

One activity claims the due PENDING reminders (a bounded batch), sends each on its channel through the messaging layer
and marks it SENT or FAILED (``activities.reminders``). A backlog larger than a batch drains over the next runs. See
docs/operations.md, "Staff reminders".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reminders import DispatchResult, ReminderActivities

SCHEDULE_ID = "reminder-dispatch"
EVERY = timedelta(minutes=1)
DISPATCH_TIMEOUT = timedelta(minutes=5)  # a batch of sends, each with vendor failover
# a few tries, then the run ends: the next minute's run claims what is still due (a run retrying forever would
# hold back the schedule, whose overlapping runs are skipped)
DISPATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3
)


@workflow.defn
class ReminderDispatchWorkflow:
    """One dispatch run; answers how many reminders it claimed, sent and failed."""

    @workflow.run
    async def run(self) -> dict:
        result: DispatchResult = await workflow.execute_activity_method(
            ReminderActivities.dispatch_due_reminders,
            start_to_close_timeout=DISPATCH_TIMEOUT,
            retry_policy=DISPATCH_RETRY,
            summary="Due staff reminders",
        )
        return {"claimed": result.claimed, "sent": result.sent, "failed": result.failed}
