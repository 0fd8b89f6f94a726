"""The master report built in the background and emailed as a link (``POST .../master-report/email``).

A job runs as an asyncio task of the API process (the API does not wait for it): the CSV is streamed from a
server-side cursor into a temporary file (memory stays flat), stored with the project's storage under
``reports/<brandId>/<jobId>/<name>.csv``, presigned for ``LINK_DAYS`` days and sent by email through the messaging
layer (the brand's email vendors with failover, logged in ``customer_messages`` with event ``REPORT_EMAIL``).

The job's state is a small JSON document kept next to the file (``reports/<brandId>/jobs/<jobId>.json``):
``QUEUED`` → ``RUNNING`` → ``SENT`` (or ``FAILED`` with the error), with the row count and the link. It is
written through the same storage, so any API process can answer ``GET .../master-report/email/{jobId}``.

Restart rule (a job is never left ``RUNNING`` for ever). The job is not resumed by another process: it is cheap to
ask again, and the state says so. While it runs, its process writes a heartbeat into the state every
``HEARTBEAT_SECONDS`` (``_heartbeatAt``, with ``_runner``, the process's id; both kept out of the answer).
- The process shuts down (the task is cancelled): the job is written ``FAILED``, "interrupted: the API process
  stopped while building it; ask for the report again".
- The process dies (killed, out of memory, the machine restarted): its heartbeat stops. Whoever reads the state
  (``read_state``, the GET route) after ``STALE_SECONDS`` without a heartbeat writes it ``FAILED`` with the time of
  the last heartbeat; a job of the reading process whose task is gone is failed at once.
A job finishing after being declared dead (a process stalled longer than ``STALE_SECONDS``) still writes its true
end (``SENT``), which then stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
HEARTBEAT_SECONDS = 15.0  # how often a running job says it is alive
STALE_SECONDS = 120.0  # no heartbeat for this long: the process building it is gone
ACTIVE = ("QUEUED", "RUNNING")
PROCESS = uuid.uuid4().hex  # this API process, as the jobs it runs record it (``_runner``)
_RUNNING: dict[str, asyncio.Task[None]] = {}  # this process's jobs by id, referenced until they end


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


def public(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the API answers it: without the keys of the restart rule (``_heartbeatAt``, ``_runner``)."""
    return {k: v for k, v in state.items() if not k.startswith("_")}


def dead_reason(state: dict[str, Any], now: datetime) -> str | None:
    """Why a QUEUED or RUNNING job is dead, or None while it may still be alive (the restart rule above): a job
    of this process whose task is gone, or no heartbeat for ``STALE_SECONDS``. Times are ISO 8601 instants."""
    if state.get("state") not in ACTIVE:
        return None
    if state.get("_runner") == PROCESS and state.get("jobId") not in _RUNNING:
        return "interrupted: the task building it ended without a result; ask for the report again"
    last = state.get("_heartbeatAt") or state.get("createdAt")
    try:
        seen = datetime.fromisoformat(str(last))
    except ValueError:
        seen = None
    if seen is not None and now - seen <= timedelta(seconds=STALE_SECONDS):
        return None
    when = seen.isoformat() if seen is not None else "never"
    return (
        f"interrupted: the process building it stopped (last heartbeat {when}, none for more than "
        f"{int(STALE_SECONDS)} s); ask for the report again"
    )


def read_state(storage: LocalStorage | S3Storage, brand_id: str, job_id: str) -> dict[str, Any] | None:
    """The job's state (``public``), or None when there is no such job of the brand. A QUEUED or RUNNING job found
    dead (``dead_reason``) is written FAILED with the reason first, so it is never RUNNING for ever."""
    key = state_key(brand_id, job_id)
    if not storage.exists(key):
        return None
    state: dict[str, Any] = json.loads(storage.get(key))
    reason = dead_reason(state, datetime.now(UTC))
    if reason is not None:
        state.update(state="FAILED", error=reason, finishedAt=_now())
        _write_state(storage, brand_id, state)
    return public(state)


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
    """Record the job as QUEUED and start it in the background (a task of this process, its heartbeat in the
    state: the restart rule above); the state as recorded (``public``)."""
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
        "_runner": PROCESS,
        "_heartbeatAt": _now(),
    }
    # the task is known before its state is (it starts only when this coroutine yields)
    task = asyncio.get_running_loop().create_task(_run(db, http, storage, report, brand_id, span, dict(state)))
    _RUNNING[job_id] = task
    task.add_done_callback(lambda _: _RUNNING.pop(job_id, None))
    _write_state(storage, brand_id, state)
    return public(state)


class _Writer:
    """The job's state writes from its heartbeat and its end, one at a time; once the end is written, a heartbeat
    still in flight (its thread outlives a cancelled await) writes nothing."""

    def __init__(self, storage: LocalStorage | S3Storage, brand_id: str):
        self.storage, self.brand_id = storage, brand_id
        self.lock = threading.Lock()
        self.ended = False

    def write(self, state: dict[str, Any], *, end: bool = False) -> None:
        with self.lock:
            if self.ended:
                return
            self.ended = end
            _write_state(self.storage, self.brand_id, state)


async def _heartbeat(writer: _Writer, state: dict[str, Any]) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        state["_heartbeatAt"] = _now()
        await asyncio.to_thread(writer.write, dict(state))


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
    writer = _Writer(storage, brand_id)
    beat = asyncio.get_running_loop().create_task(_heartbeat(writer, state))
    try:
        await asyncio.to_thread(writer.write, dict(state))
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
    except asyncio.CancelledError:  # the process is shutting down: say so, then let the cancellation go on
        beat.cancel()
        state.update(
            state="FAILED",
            error="interrupted: the API process stopped while building it; ask for the report again",
            finishedAt=_now(),
        )
        writer.write(state, end=True)
        raise
    except Exception as exc:  # noqa: BLE001 - the job's state says what went wrong
        state.update(state="FAILED", error=f"{type(exc).__name__}: {exc}"[:500])
    beat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beat
    state["finishedAt"] = _now()
    await asyncio.to_thread(writer.write, state, end=True)


def _brand(db: Database, brand_id: str) -> Brand:
    with db.unit_of_work() as session:
        brand = session.get_one(Brand, brand_id)
        session.expunge(brand)
        return brand
