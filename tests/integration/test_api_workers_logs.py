"""``los api --workers N`` with ``LOS_LOG_FORMAT=json``: the requests are answered by uvicorn's child processes, and
each child logs JSON lines carrying the request's path ids, as the parent does (``los.observability.
uvicorn_log_config``; before, only the parent was set up and a child wrote Python's plain default).

The API is started as ops start it, a process of its own, against a database that does not answer: a webhook for a
brand is then 503 and the child that took it logs why, with the brand's id from the path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_each_api_worker_process_logs_json_with_the_path_ids() -> None:
    port, dead = free_port(), free_port()  # nothing listens on ``dead``: the database is down
    env = {
        **os.environ,
        "LOS_LOG_FORMAT": "json",
        "LOS_API_PORT": str(port),
        "LOS_DATABASE_URL": f"postgresql://los:los@127.0.0.1:{dead}/los",
    }
    env.pop("DATABASE_URL", None)
    brand_id = str(uuid.uuid4())
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "los.cli", "api", "--workers", "2", "--no-migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 45
            answer = None
            while time.monotonic() < deadline:
                try:
                    answer = httpx.post(
                        f"http://127.0.0.1:{port}/api/v1/webhooks/{brand_id}/razorpay", content=b"{}", timeout=10
                    )
                    break
                except httpx.TransportError:  # not listening yet
                    assert proc.poll() is None, "the API stopped"
                    time.sleep(0.25)
            assert answer is not None and answer.status_code == 503, answer and answer.text
            lines: list[str] = []
            while time.monotonic() < deadline:  # the child's line reaches the file
                err.seek(0)
                lines = [line for line in err.read().decode().splitlines() if line.strip()]
                if any("database unavailable" in line for line in lines):
                    break
                time.sleep(0.1)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    records = [json.loads(line) for line in lines]  # every line of every process is JSON
    [record] = [r for r in records if "database unavailable" in r["message"]]
    assert record["level"] == "WARNING" and record["logger"] == "api.errors", record
    assert record["brand_id"] == brand_id and f"/api/v1/webhooks/{brand_id}/razorpay" in record["message"]
    assert set(record) >= {"ts", "level", "logger", "message", "brand_id"}
