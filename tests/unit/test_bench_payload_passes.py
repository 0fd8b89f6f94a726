"""bench/payload_passes.py runs and prints its figures, timing the SDK's payload passes on the project's data
converter (the task's payloads are really encrypted and decrypted)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.payload_passes import task_pair
from los.settings import Settings
from los.temporal import data_converter

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_prints_both_settings_and_their_ratio() -> None:
    out = subprocess.run(
        [sys.executable, "bench/payload_passes.py", "--rounds", "1", "--tasks", "20", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    figures = json.loads(out.stdout)
    assert figures["sdk_default_us_per_task"] > 0 and figures["ours_us_per_task"] > 0
    # the ratio is of the unrounded timings; the printed ones are rounded to 0.1 us, so allow for that
    assert figures["ratio"] == pytest.approx(
        figures["ours_us_per_task"] / figures["sdk_default_us_per_task"], abs=0.002
    )


def test_the_task_carries_encoded_payloads_the_converter_decodes() -> None:
    dc = data_converter(Settings())
    activation, completion = asyncio.run(task_pair(dc))
    signal = activation.jobs[2].signal_workflow
    assert signal.signal_name == "payment_received"
    assert signal.input[0].metadata["encoding"] == b"binary/encrypted"
    (decoded,) = asyncio.run(dc.decode(list(signal.input)))
    assert decoded["amountPaise"] == 1_090_264
    assert [c.schedule_activity.activity_type for c in completion.successful.commands] == [
        "record_payment", "issue_receipt", "ensure_payment_link",
    ]  # fmt: skip
