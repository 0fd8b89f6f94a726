"""The master report built in the background and emailed as a link (``POST .../master-report/email``).

A job runs as an asyncio task of the API process (the API does not wait for it): the CSV is streamed from a
server-side cursor into a temporary file (memory stays flat), stored with the project's storage under
``reports/<brandId>/<jobId>/<name>.csv``, presigned for ``LINK_DAYS`` days and sent by email through the messaging
layer (the brand's email vendors with failover, logged in ``customer_messages`` with event ``REPORT_EMAIL``).

The job's state is a small JSON document kept next to the file (``reports/<brandId>/jobs/<jobId>.json``):
``QUEUED`` → ``RUNNING`` → ``SENT`` (or ``FAILED`` with the error), with the row count and the link. It is
written through the same storage, so any API process can answer ``GET .../master-report/email/{jobId}``. A job whose
process stops before it ends stays ``RUNNING``: ask again.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from activities.messaging.send import Sender
from activities.storage import LocalStorage, S3Storage
from db.models import Brand
from db.session import Database
from reports.base import Range, Report
from reports.output import csv_lines

BATCH = 2_000  # rows fetched from the cursor at a time
LINK_DAYS = 7  # how long the emailed link works
_RUNNING: set[asyncio.Task[None]] = set()  # keeps the tasks referenced until they end


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


def file_name(report: Report, span: Range) -> str:
    return f"{report.name}_{span.from_date.isoformat()}_{span.to_date.isoformat()}.csv"


def state_key(brand_id: str, job_id: str) -> str:
    return f"reports/{brand_id}/jobs/{job_id}.json"


def read_state(storage: LocalStorage | S3Storage, brand_id: str, job_id: str) -> dict[str, Any] | None:
    key = state_key(brand_id, job_id)
    if not storage.exists(key):
        return None
    state: dict[str, Any] = json.loads(storage.get(key))
    return state


def _write_state(storage: LocalStorage | S3Storage, brand_id: str, state: dict[str, Any]) -> None:
    storage.put(state_key(brand_id, state["jobId"]), json.dumps(state).encode(), "application/json")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def queue(
    db: Database,
    http: httpx.AsyncClient,
    storage: LocalStorage | S3Storage,
    report: Report,
    brand_id: str,
    span: Range,
    job_id: str,
    email: str,
) -> dict[str, Any]:
    """Record the job as QUEUED and start it in the background; the state as recorded."""
    state: dict[str, Any] = {
        "jobId": job_id,
        "report": report.name,
        "fromDate": span.from_date.isoformat(),
        "toDate": span.to_date.isoformat(),
        "email": email,
        "state": "QUEUED",
        "rows": None,
        "url": None,
        "error": None,
        "createdAt": _now(),
        "finishedAt": None,
    }
    _write_state(storage, brand_id, state)
    task = asyncio.get_running_loop().create_task(_run(db, http, storage, report, brand_id, span, dict(state)))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return state


def _build(
    db: Database, storage: LocalStorage | S3Storage, report: Report, brand_id: str, span: Range, key: str
) -> int:
    """Stream the CSV into a temporary file and store it under ``key``; the number of rows written."""
    seen = [0]
    with tempfile.TemporaryFile() as tmp:
        for chunk in csv_lines(report.columns, _batches(db, report, brand_id, span, seen)):
            tmp.write(chunk.encode())
        tmp.seek(0)
        storage.put_file(key, tmp, "text/csv")
    return seen[0]


async def _run(
    db: Database,
    http: httpx.AsyncClient,
    storage: LocalStorage | S3Storage,
    report: Report,
    brand_id: str,
    span: Range,
    state: dict[str, Any],
) -> None:
    state["state"] = "RUNNING"
    try:
        await asyncio.to_thread(_write_state, storage, brand_id, state)
        name = file_name(report, span)
        key = f"reports/{brand_id}/{state['jobId']}/{name}"
        state["rows"] = await asyncio.to_thread(_build, db, storage, report, brand_id, span, key)
        url = storage.presign(key, LINK_DAYS * 86400, content_type="text/csv", file_name=name)
        brand = await asyncio.to_thread(_brand, db, brand_id)
        text = (
            f"The {report.title.lower()} of {brand.name} for {state['fromDate']} to {state['toDate']} is ready "
            f"({state['rows']} rows).\n\nDownload it within {LINK_DAYS} days: {url}\n"
        )
        subject = f"{brand.name}: {report.title} {state['fromDate']} to {state['toDate']}"
        status = await Sender(db, http).email_text(
            brand, state["email"], subject, text, key=f"report:{state['jobId']}", name="REPORT_EMAIL"
        )
        state.update(state="FAILED" if status == "FAILED" else "SENT", url=url)
        if status == "FAILED":
            state["error"] = "no email vendor took the message (see the messages log)"
    except Exception as exc:  # noqa: BLE001 - the job's state says what went wrong
        state.update(state="FAILED", error=f"{type(exc).__name__}: {exc}"[:500])
    state["finishedAt"] = _now()
    await asyncio.to_thread(_write_state, storage, brand_id, state)


def _brand(db: Database, brand_id: str) -> Brand:
    with db.unit_of_work() as session:
        brand = session.get_one(Brand, brand_id)
        session.expunge(brand)
        return brand
