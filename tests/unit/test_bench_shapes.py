"""``bench/shapes.py`` reads a saved loan history into the null workflow's script: every activity task an ``A``,
every local activity (the SDK's ``core_local_activity`` marker, not a patch marker) an ``L``, counted apart, and the
decision found among both where ``record_status`` ran."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT / "tests" / "histories" / "origination_local_steps_1.json"


def _shapes():  # noqa: ANN202 - the bench's module, loaded from its file (bench/ is not a package)
    spec = importlib.util.spec_from_file_location("bench_shapes", ROOT / "bench" / "shapes.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  (its dataclasses look their module up)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_local_activities_become_l_steps_counted_apart_from_activity_tasks() -> None:
    raw = json.loads(HISTORY.read_text())
    markers = [
        e["markerRecordedEventAttributes"]["markerName"] for e in raw["events"] if "markerRecordedEventAttributes" in e
    ]
    scheduled = sum(1 for e in raw["events"] if "activityTaskScheduledEventAttributes" in e)
    assert "core_patch" in markers and "core_local_activity" in markers  # the history has both kinds of marker
    shapes = _shapes()
    shape = shapes.shape_of([WorkflowHistory.from_json("h", HISTORY.read_text())], "kyc_record_results")
    (script,) = shape.scripts
    assert shape.counts["local_activities"] == markers.count("core_local_activity") == script.count("L")
    assert shape.counts["activities"] == scheduled == script.count("A")
    assert shape.counts["history_events"] == len(raw["events"])
    assert "local_activities" in shapes.COUNTED
    # the history opens with the local reuse lookup, then the KYC steps' activity tasks
    assert script.startswith("L")
    steps = [s for s in script if s in "AL"]
    assert steps[shape.decision] == "L"  # kyc_record_results runs locally: the decision index counts both kinds
