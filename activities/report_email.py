"""The master-report email job's activities (``workflows/report_email.py``, docs/reports.md "Email job").

- ``build_report_file``: the job RUNNING, the report's CSV streamed from a server-side cursor into a temporary file
  and stored (``reports.jobs.build_file``), heartbeating every ``HEARTBEAT_EVERY`` with the rows read so far, so a
  worker that dies mid-build is noticed after the workflow's heartbeat timeout and the build runs again elsewhere
  (the file is written whole under the same key: a second build replaces the first).
- ``email_report_link``: the stored file presigned for ``LINK_DAYS`` days and the link emailed through the
  messaging layer (the brand's email vendors with failover, event ``REPORT_EMAIL``, message key
  ``report:<jobId>``: a retry never sends twice); the job SENT, or FAILED when no vendor took it.
- ``fail_report_job``: the job FAILED with the reason (the build gave up).

Each writes the job's state document (``reports.jobs``), which the API reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.messaging.send import Sender
from activities.storage import LocalStorage, S3Storage
from db.models import Brand
from db.session import Database
from reports import CATALOGUE, Range, Report, jobs

HEARTBEAT_EVERY = 5.0  # seconds between heartbeats of a build (the workflow's heartbeat timeout is a few of these)


@dataclass(frozen=True)
class ReportEmailInput:
    """One job: the report (``master-report``) of brand ``brand_id`` for the IST days ``from_date``–``to_date``
    (``YYYY-MM-DD``, both included), emailed to ``email``."""

    job_id: str
    brand_id: str
    report: str
    from_date: str
    to_date: str
    email: str


@dataclass(frozen=True)
class ReportFile:
    """A built report: its storage key, the file name the link downloads as, and the number of rows."""

    key: str
    name: str
    rows: int


def _report(job: ReportEmailInput) -> tuple[Report, Range]:
    report = CATALOGUE.get(job.report)
    if report is None:
        raise ApplicationError(f"no report type {job.report!r}", type="NotFound", non_retryable=True)
    return report, Range(date.fromisoformat(job.from_date), date.fromisoformat(job.to_date))


class ReportEmailActivities(DbActivities):
    """The job's activities; ``all()`` lists them for the worker."""

    def __init__(self, db: Database, http: httpx.AsyncClient, storage: LocalStorage | S3Storage):
        self.db = db
        self.storage = storage
        self.sender = Sender(db, http)

    def all(self) -> list[Callable[..., Any]]:
        return [self.build_report_file, self.email_report_link, self.fail_report_job]

    async def _update(self, job: ReportEmailInput, **changes: Any) -> dict[str, Any]:
        """The job's stored state with ``changes`` applied, written back; the new state (``public``)."""

        def write() -> dict[str, Any]:
            state = jobs.read_state(self.storage, job.brand_id, job.job_id)
            if state is None:  # written by the route before the start; kept whole if it was lost
                report, span = _report(job)
                state = jobs.new_state(report, span, job.job_id, job.email)
            state.update(changes)
            jobs.write_state(self.storage, job.brand_id, state)
            return state

        return await asyncio.to_thread(write)

    @activity.defn
    async def build_report_file(self, job: ReportEmailInput) -> ReportFile:
        """Build the job's CSV and store it → its key, file name and row count. Heartbeats the rows read every
        ``HEARTBEAT_EVERY`` seconds; an unknown report type is ``NotFound`` (not retried)."""
        report, span = _report(job)
        await self._update(job, state=jobs.RUNNING, error=None)
        name = jobs.file_name(report, span)
        key = jobs.file_key(job.brand_id, job.job_id, name)
        seen = [0]
        cancelled = [False]
        build = asyncio.ensure_future(
            asyncio.to_thread(
                jobs.build_file, self.db, self.storage, report, job.brand_id, span, key, seen, lambda: cancelled[0]
            )
        )
        try:
            while True:
                done, _ = await asyncio.wait({build}, timeout=HEARTBEAT_EVERY)
                if done:
                    break
                activity.heartbeat(seen[0])
        except asyncio.CancelledError:  # timed out or the workflow cancelled: the thread stops at its next batch
            cancelled[0] = True
            raise
        rows = build.result()
        return ReportFile(key, name, rows)

    @activity.defn
    async def email_report_link(self, job: ReportEmailInput, file: ReportFile) -> dict[str, Any]:
        """Presign the stored file for ``LINK_DAYS`` days and email the link → the job's final state (SENT, or
        FAILED when no email vendor took the message)."""
        report, _ = _report(job)
        url = self.storage.presign(file.key, jobs.LINK_DAYS * 86400, content_type="text/csv", file_name=file.name)
        brand = await self._tx(lambda s: _detached(s.get_one(Brand, job.brand_id), s))
        text = (
            f"The {report.title.lower()} of {brand.name} for {job.from_date} to {job.to_date} is ready "
            f"({file.rows} rows).\n\nDownload it within {jobs.LINK_DAYS} days: {url}\n"
        )
        subject = f"{brand.name}: {report.title} {job.from_date} to {job.to_date}"
        status = await self.sender.email_text(
            brand, job.email, subject, text, key=f"report:{job.job_id}", name="REPORT_EMAIL"
        )
        failed = status == "FAILED"
        return await self._update(
            job,
            state=jobs.FAILED if failed else jobs.SENT,
            rows=file.rows,
            url=url,
            error="no email vendor took the message (see the messages log)" if failed else None,
            finishedAt=jobs.now(),
        )

    @activity.defn
    async def fail_report_job(self, job: ReportEmailInput, error: str) -> dict[str, Any]:
        """Record the job FAILED with ``error`` (at most 500 characters) → its final state."""
        return await self._update(job, state=jobs.FAILED, error=error[:500], finishedAt=jobs.now())


def _detached(brand: Brand, session: Any) -> Brand:
    session.expunge(brand)
    return brand
