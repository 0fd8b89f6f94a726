"""scripts/export-histories against a real dev server after a real loan: its histories exported as stored (encrypted),
by workflow id, by query and as a sample, then replayed against this checkout's code with the project's data
converter; a history the code cannot replay, or histories read without their payload keys, fail the check."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from los.codec import ENCODING
from los.demo import Driver, demo_identity
from tests.conftest import ROOT, eventually

SCRIPT = ROOT / "scripts" / "export-histories"
ENCRYPTED = base64.b64encode(ENCODING).decode()


def export(address: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the script as an operator would, against ``address``; its completed process (output as text)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "LOS_TEMPORAL_ADDRESS")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--address", address, *args],
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def test_export_a_loans_histories_and_replay_them(app, brand, sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(0, "auto"), amount=60_000, tenure=3)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED"
    address = app.settings.temporal_target
    wid = journey.workflow_id

    # by workflow id: every run of its continue-as-new chain, one file each, payloads as stored (encrypted)
    by_id = tmp_path / "by-id"
    done = export(address, "-w", wid, "--out", str(by_id), "--replay")
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(by_id.glob("*.json"))
    assert len(files) >= 2 and all(f.name.startswith(f"{wid}.") for f in files), files  # origination, servicing...
    for f in files:
        text = f.read_text()
        assert ENCRYPTED in text
        assert json.loads(text)["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        assert journey.phone not in text and journey.pan not in text
    assert f"{len(files)} of {len(files)} histories replay against this code" in done.stdout

    # by query: the runs visibility lists (it may lag the last run's close by a moment)
    query = f"WorkflowType='LoanWorkflow' AND WorkflowId='{wid}'"
    by_query = tmp_path / "by-query"

    def listed() -> bool:
        done = export(address, "--query", query, "--out", str(by_query))
        return done.returncode == 0 and len(list(by_query.glob("*.json"))) == len(files)

    await eventually(listed, timeout=60, interval=1)
    assert {f.name for f in by_query.glob("*.json")} == {f.name for f in files}

    # a sample of one among them
    sample = tmp_path / "sample"
    done = export(address, "--sample", "1", "--query", query, "--out", str(sample))
    assert done.returncode == 0, done.stderr
    assert len(list(sample.glob("*.json"))) == 1

    # a history this code cannot replay (an activity the workflow never schedules there) fails the check, by name
    broken = tmp_path / "broken"
    broken.mkdir()
    history = json.loads(files[0].read_text())
    scheduled = next(e for e in history["events"] if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "not_an_activity_of_this_code"
    (broken / files[0].name).write_text(json.dumps(history))
    (broken / files[1].name).write_text(files[1].read_text())
    done = export(address, "--replay-only", str(broken))
    assert done.returncode == 1, done.stdout
    assert f"FAILED {broken / files[0].name}" in done.stdout and f"replays {broken / files[1].name}" in done.stdout
    assert "1 of 2 histories replay" in done.stdout

    # without the payload keys of the system they came from, the encrypted histories cannot be read
    done = export(address, "--replay-only", str(by_id), env={"LOS_JWT_SECRET": "another-development-secret-entirely"})
    assert done.returncode == 1 and "FAILED" in done.stdout, done.stdout

    # the saved histories of the replay suite (decoded) go through the same check, here as `los export-histories`
    saved = [str(p) for p in sorted((ROOT / "tests" / "histories").glob("*.json"))[:2]]
    done = subprocess.run(
        [sys.executable, "-m", "los.cli", "export-histories", "--replay-only", *saved],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0 and "2 of 2 histories replay" in done.stdout, done.stdout + done.stderr

    # a usage error names the choices
    done = export(address, "--out", str(tmp_path / "none"))
    assert done.returncode == 2 and "choose one of" in done.stderr
