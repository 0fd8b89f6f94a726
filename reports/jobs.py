"""The master report built in the background and emailed as a link (``POST .../master-report/email``): the CSV
stream shared with the CSV routes, and the job's stored state.

The job itself is a Temporal workflow run by the worker (``workflows/report_email.py``, id
``report-email-<jobId>``; its activities in ``activities/report_email.py``): the CSV is streamed from a server-side
cursor into a temporary file (memory stays flat), stored with the project's storage under
``reports/<brandId>/<jobId>/<name>.csv``, presigned for ``LINK_DAYS`` days and sent by email through the messaging
layer (the brand's email vendors with failover, logged in ``customer_messages`` with event ``REPORT_EMAIL``). An API
or worker restart does not lose it: the workflow goes on, and a build cut off with its worker is run again.

The job's state is a small JSON document kept next to the file (``reports/<brandId>/jobs/<jobId>.json``):
``QUEUED`` (written by the route) → ``RUNNING`` → ``SENT`` (or ``FAILED`` with the error), written by the
workflow's activities, with the row count and the link. Any API process answers
``GET .../master-report/email/{jobId}`` from it, whether or not a worker is up.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from activities.storage import LocalStorage, S3Storage
from db.session import Database
from reports.base import Range, Report
from reports.output import csv_lines

BATCH = 2_000  # rows fetched from the cursor at a time
LINK_DAYS = 7  # how long the emailed link works
QUEUED, RUNNING, SENT, FAILED = "QUEUED", "RUNNING", "SENT", "FAILED"
ACTIVE = (QUEUED, RUNNING)
Storage = LocalStorage | S3Storage


def _batches(db: Database, report: Report, brand_id: str, span: Range, seen: list[int]) -> Iterator[Any]:
    """The report's rows in batches of ``BATCH`` from a server-side cursor on a connection of its own;
    ``seen[0]`` counts the rows handed out."""
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(report.query(brand_id, span))
        for batch in result.partitions():
            seen[0] += len(batch)
            yield batch


def stream_csv(db: Database, report: Report, brand_id: str, span: Range, *, bom: bool = False) -> Iterator[str]:
    """The report's CSV, chunk by chunk (``BATCH`` rows in memory at a time, however many rows there are).
    ``bom``: start with a UTF-8 byte-order mark (spreadsheets)."""
    if bom:
        yield "\ufeff"
    yield from csv_lines(report.columns, _batches(db, report, brand_id, span, [0]))


def build_file(
    db: Database,
    storage: Storage,
    report: Report,
    brand_id: str,
    span: Range,
    key: str,
    seen: list[int] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Stream the report's CSV into a temporary file and store it under ``key``; the number of rows written.
    ``seen[0]`` counts the rows read so far (for a heartbeat); ``stop()`` true between batches abandons the build
    (``InterruptedError``, nothing stored)."""
    seen = seen if seen is not None else [0]
    with tempfile.TemporaryFile() as tmp:
        for chunk in csv_lines(report.columns, _batches(db, report, brand_id, span, seen)):
            if stop is not None and stop():
                raise InterruptedError("the build was cancelled")
            tmp.write(chunk.encode())
        tmp.seek(0)
        storage.put_file(key, tmp, "text/csv")
    return seen[0]


def file_name(report: Report, span: Range) -> str:
    return f"{report.name}_{span.from_date.isoformat()}_{span.to_date.isoformat()}.csv"


def file_key(brand_id: str, job_id: str, name: str) -> str:
    """Where a job's CSV is stored."""
    return f"reports/{brand_id}/{job_id}/{name}"


def state_key(brand_id: str, job_id: str) -> str:
    return f"reports/{brand_id}/jobs/{job_id}.json"


def now() -> str:
    """The current instant, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat()


def new_state(report: Report, span: Range, job_id: str, email: str) -> dict[str, Any]:
    """A job's first state (``QUEUED``): ``{jobId, report, fromDate, toDate, email, state, rows, url, error,
    createdAt, finishedAt}`` (the answer of the job routes)."""
    return {
        "jobId": job_id,
        "report": report.name,
        "fromDate": span.from_date.isoformat(),
        "toDate": span.to_date.isoformat(),
        "email": email,
        "state": QUEUED,
        "rows": None,
        "url": None,
        "error": None,
        "createdAt": now(),
        "finishedAt": None,
    }


def public(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the API answers it (keys starting with ``_`` left out)."""
    return {k: v for k, v in state.items() if not k.startswith("_")}


def read_state(storage: Storage, brand_id: str, job_id: str) -> dict[str, Any] | None:
    """The job's state (``public``), or None when there is no such job of the brand."""
    key = state_key(brand_id, job_id)
    if not storage.exists(key):
        return None
    return public(json.loads(storage.get(key)))


def write_state(storage: Storage, brand_id: str, state: dict[str, Any]) -> None:
    """Store the job's state (``state["jobId"]`` names it)."""
    storage.put(state_key(brand_id, state["jobId"]), json.dumps(state).encode(), "application/json")
