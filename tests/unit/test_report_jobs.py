"""The master-report email job's stored state (reports/jobs.py): a new job is QUEUED with the answer's keys; the
state is read back per brand (another brand's id finds nothing); keys of the process's own are never answered; and
the workflow's failure reason names the innermost cause."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from activities.storage import LocalStorage
from reports import CATALOGUE, jobs
from reports.base import Range
from workflows.report_email import _reason, workflow_id

BRAND = "00000000-0000-0000-0000-00000000000b"
OTHER = "00000000-0000-0000-0000-00000000000c"
SPAN = Range(date(2025, 3, 1), date(2025, 3, 31))
PUBLIC = {"jobId", "report", "fromDate", "toDate", "email", "state", "rows", "url", "error", "createdAt", "finishedAt"}


def test_a_job_is_stored_queued_and_read_back_by_its_brand_only(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    state = jobs.new_state(CATALOGUE["master-report"], SPAN, "j1", "admin@brand.example")
    assert set(state) == PUBLIC and state["state"] == jobs.QUEUED and state["rows"] is None
    assert (state["fromDate"], state["toDate"]) == ("2025-03-01", "2025-03-31")
    jobs.write_state(storage, BRAND, {**state, "_note": "internal"})
    assert jobs.read_state(storage, BRAND, "j1") == state  # the internal key is not answered
    assert jobs.read_state(storage, OTHER, "j1") is None
    assert jobs.read_state(storage, BRAND, "j2") is None
    jobs.write_state(storage, BRAND, {**state, "state": jobs.SENT, "rows": 3})
    assert jobs.read_state(storage, BRAND, "j1")["state"] == jobs.SENT  # type: ignore[index]


def test_the_workflow_id_and_the_failure_reason() -> None:
    assert workflow_id("abc") == "report-email-abc"
    cause = ApplicationError("no report type 'x'", type="NotFound", non_retryable=True)
    error = ActivityError(
        "activity error",
        scheduled_event_id=1,
        started_event_id=2,
        identity="w",
        activity_type="build_report_file",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    error.__cause__ = cause
    assert _reason(error) == "NotFound: no report type 'x'"
