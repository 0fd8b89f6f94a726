"""The master report built in the background and emailed as a link: one workflow per job, on the id
``report-email-<jobId>``, started by ``POST .../master-report/email`` (docs/reports.md, "Email job").

1. ``build_report_file``: the CSV streamed into a file and stored, heartbeating; a worker that dies mid-build misses
   its heartbeat (``BUILD_HEARTBEAT``) and the build runs again on a live worker, up to ``BUILD_RETRY``'s attempts.
2. ``email_report_link``: the file presigned and the link emailed (keyed by the job: never sent twice) → SENT, or
   FAILED when no email vendor took it.
3. A build or an email that still fails after its retries: ``fail_report_job`` records FAILED with the reason.

The job's state lives in a document the activities write (``reports.jobs``), which the API reads; ``state`` (a
query) answers the workflow's own view. Orchestration only: every side effect is an activity.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.report_email import ReportEmailActivities, ReportEmailInput, ReportFile

WORKFLOW_ID = "report-email-{job_id}"
BUILD_TIMEOUT = timedelta(minutes=30)  # one attempt at a year of a large book (100,000 rows take seconds)
BUILD_HEARTBEAT = timedelta(seconds=30)  # the activity beats every 5 s
BUILD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
EMAIL_TIMEOUT = timedelta(minutes=2)  # the presign and one email with failover across the brand's vendors
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
STATE_TIMEOUT = timedelta(seconds=30)
STATE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))


def workflow_id(job_id: str) -> str:
    """The workflow id of job ``job_id``."""
    return WORKFLOW_ID.format(job_id=job_id)


def _reason(exc: ActivityError) -> str:
    cause: BaseException | None = exc.cause or exc
    while getattr(cause, "cause", None) is not None:
        cause = cause.cause  # type: ignore[union-attr]
    kind = getattr(cause, "type", None) or type(cause).__name__
    return f"{kind}: {getattr(cause, 'message', None) or cause}"


@workflow.defn
class ReportEmailWorkflow:
    """One master-report email job; answers the job's final state (``reports.jobs.new_state``'s keys)."""

    def __init__(self) -> None:
        self._state = "QUEUED"
        self._rows: int | None = None
        self._error: str | None = None

    @workflow.run
    async def run(self, job: ReportEmailInput) -> dict[str, Any]:
        self._state = "RUNNING"
        try:
            file: ReportFile = await workflow.execute_activity_method(
                ReportEmailActivities.build_report_file,
                job,
                start_to_close_timeout=BUILD_TIMEOUT,
                heartbeat_timeout=BUILD_HEARTBEAT,
                retry_policy=BUILD_RETRY,
                summary=f"{job.report} {job.from_date} to {job.to_date}",
            )
            self._rows = file.rows
            final: dict[str, Any] = await workflow.execute_activity_method(
                ReportEmailActivities.email_report_link,
                args=[job, file],
                start_to_close_timeout=EMAIL_TIMEOUT,
                retry_policy=EMAIL_RETRY,
                summary=f"email to {job.email}",
            )
        except ActivityError as exc:
            final = await workflow.execute_activity_method(
                ReportEmailActivities.fail_report_job,
                args=[job, _reason(exc)],
                start_to_close_timeout=STATE_TIMEOUT,
                retry_policy=STATE_RETRY,
            )
        self._state, self._error = final.get("state", "FAILED"), final.get("error")
        return final

    @workflow.query
    def state(self) -> dict[str, Any]:
        """``{state, rows, error}`` as the workflow knows them (QUEUED, RUNNING, SENT or FAILED)."""
        return {"state": self._state, "rows": self._rows, "error": self._error}
