"""The ``bureau-files`` schedule as a :class:`los.schedules.ScheduledJob`, for ``worker.SCHEDULED_JOBS``: daily at
01:00 IST, :class:`workflows.bureau_files.BureauFilesWorkflow` builds the CIC files when the day that ended is one of
RBI's reference dates (docs/bureau-reporting.md). Here rather than in the workflow's module: workflows do not import
``los`` (tests/unit/test_layers.py)."""

from __future__ import annotations

from los.schedules import ScheduledJob
from workflows.bureau_files import RUN_AT_UTC, SCHEDULE_ID, BureauFilesWorkflow

BUREAU_FILES_JOB = ScheduledJob(
    SCHEDULE_ID,
    BureauFilesWorkflow.run,
    at_utc=RUN_AT_UTC,
    description="the CIC submission files on RBI's reference dates (9th, 16th, 23rd, month end), 01:00 IST",
)
