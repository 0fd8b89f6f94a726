"""The master-report email job's restart rule (reports/jobs.py): a running job beats; a job whose API process shuts
down is FAILED with the reason at once; a job whose process died (no heartbeat for STALE_SECONDS, as after a
restart) is FAILED by whoever reads it next; a job alive in another process stays RUNNING; the answer never shows
the rule's own keys."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.storage import LocalStorage
from reports import CATALOGUE, jobs
from reports.base import Range

BRAND = "00000000-0000-0000-0000-00000000000b"
SPAN = Range(date(2025, 3, 1), date(2025, 3, 31))
PUBLIC = {"jobId", "report", "fromDate", "toDate", "email", "state", "rows", "url", "error", "createdAt", "finishedAt"}


def stored(storage: LocalStorage, job_id: str) -> dict[str, Any]:
    return json.loads(storage.get(jobs.state_key(BRAND, job_id)))


def write(storage: LocalStorage, state: dict[str, Any]) -> None:
    storage.put(jobs.state_key(BRAND, state["jobId"]), json.dumps(state).encode(), "application/json")


def running(job_id: str, runner: str, beat: datetime) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "report": "master-report",
        "fromDate": "2025-03-01",
        "toDate": "2025-03-31",
        "email": "ops@example.com",
        "state": "RUNNING",
        "rows": None,
        "url": None,
        "error": None,
        "createdAt": (beat - timedelta(minutes=1)).isoformat(),
        "finishedAt": None,
        "_runner": runner,
        "_heartbeatAt": beat.isoformat(),
    }


def test_a_job_whose_process_died_is_failed_by_the_next_read(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    now = datetime.now(UTC)
    # the process that ran it was restarted ten minutes ago: no heartbeat since
    write(storage, running("a1", "a-process-gone", now - timedelta(minutes=10)))
    state = jobs.read_state(storage, BRAND, "a1")
    assert state is not None and state["state"] == "FAILED" and set(state) == PUBLIC
    assert "stopped" in state["error"] and "ask for the report again" in state["error"] and state["finishedAt"]
    assert stored(storage, "a1")["state"] == "FAILED"  # recorded, not only answered
    # a job another process is still beating for stays RUNNING
    write(storage, running("a2", "another-process", now - timedelta(seconds=5)))
    state = jobs.read_state(storage, BRAND, "a2")
    assert state is not None and state["state"] == "RUNNING" and state["error"] is None and set(state) == PUBLIC
    # a QUEUED job of a process that died before it started: failed the same way
    queued = {**running("a3", "a-process-gone", now - timedelta(hours=1)), "state": "QUEUED"}
    del queued["_heartbeatAt"]
    write(storage, queued)
    assert jobs.read_state(storage, BRAND, "a3")["state"] == "FAILED"  # type: ignore[index]
    # a job of this process whose task is gone: failed at once, whatever its last heartbeat
    write(storage, running("a4", jobs.PROCESS, now))
    state = jobs.read_state(storage, BRAND, "a4")
    assert state is not None and state["state"] == "FAILED" and "task" in state["error"]
    # an ended job is left as it is
    write(storage, {**running("a5", "a-process-gone", now - timedelta(days=1)), "state": "SENT"})
    assert jobs.read_state(storage, BRAND, "a5")["state"] == "SENT"  # type: ignore[index]
    assert jobs.read_state(storage, BRAND, "nope") is None


async def test_a_running_job_beats_and_a_shutdown_fails_it_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.05)
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_build(*_: Any) -> int:  # a big report: the file takes a while
        loop.call_soon_threadsafe(started.set)
        time.sleep(1.0)
        return 0

    monkeypatch.setattr(jobs, "_build", slow_build)
    state = jobs.queue(None, None, storage, CATALOGUE["master-report"], BRAND, SPAN, "b1", "ops@example.com")  # type: ignore[arg-type]
    assert state["state"] == "QUEUED" and set(state) == PUBLIC
    await asyncio.wait_for(started.wait(), 5)
    first = stored(storage, "b1")
    assert first["state"] == "RUNNING" and first["_runner"] == jobs.PROCESS
    await asyncio.sleep(0.3)
    later = stored(storage, "b1")
    assert later["state"] == "RUNNING" and later["_heartbeatAt"] > first["_heartbeatAt"]  # it beats
    assert jobs.read_state(storage, BRAND, "b1")["state"] == "RUNNING"  # type: ignore[index]

    # the API process shuts down: its tasks are cancelled
    task = jobs._RUNNING["b1"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.2)  # the build's thread ends and a heartbeat in flight writes nothing after the end
    final = stored(storage, "b1")
    assert final["state"] == "FAILED" and "stopped while building it" in final["error"] and final["finishedAt"]
    assert jobs.read_state(storage, BRAND, "b1")["state"] == "FAILED"  # type: ignore[index]


async def test_a_job_that_fails_says_why_and_stops_beating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalStorage(tmp_path)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.02)

    def broken_build(*_: Any) -> int:
        time.sleep(0.1)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(jobs, "_build", broken_build)
    jobs.queue(None, None, storage, CATALOGUE["master-report"], BRAND, SPAN, "c1", "ops@example.com")  # type: ignore[arg-type]
    await asyncio.wait_for(jobs._RUNNING["c1"], 5)
    end = stored(storage, "c1")
    await asyncio.sleep(0.1)
    assert stored(storage, "c1") == end  # nothing written after the end
    assert end["state"] == "FAILED" and end["error"] == "RuntimeError: the database went away"
