"""What a loan lifecycle did, read from its Temporal histories (``bench/lifecycle.py``): its script for the
null workflow (one letter per activity, local activity, signal, update, update answer and timer, in history order)
and its event counts, and the outcome of one lifecycle on either side."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

STEP = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "A",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "S",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "U",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: "u",
    EventType.EVENT_TYPE_TIMER_STARTED: "T",
}
LOCAL_MARKER = "core_local_activity"  # the SDK's marker for a completed local activity (its data: plain JSON)
COUNTED = ["activities", "local_activities", "signals", "updates", "timers", "continue_as_new"]
INFO = ["workflow_tasks", "history_events", "search_attribute_upserts"]


@dataclass
class Outcome:
    workflow_id: str
    decision_ms: float
    status: str


@dataclass
class Shape:
    """What one lifecycle did, from its history (all runs, oldest first)."""

    scripts: list[str]
    decision: int  # 0-based number of the activity (task or local) whose completion is the automatic decision
    counts: dict[str, int]


async def lifecycle_histories(client: Client, workflow_id: str) -> list[Any]:
    """Every run of a workflow id, oldest first, by following continued_execution_run_id back."""
    runs = []
    handle = client.get_workflow_handle(workflow_id)
    while True:
        history = await handle.fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            break
        handle = client.get_workflow_handle(workflow_id, run_id=started.continued_execution_run_id)
    runs.reverse()
    return runs


def shape_of(histories: list[Any], decision_activity: str | None = None) -> Shape:
    scripts, names, kinds = [], [], Counter()
    for history in histories:
        script = ""
        for event in history.events:
            kinds[event.event_type] += 1
            step = STEP.get(event.event_type)
            if step:
                script += step
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
            elif (name := _local_activity(event)) is not None:
                script += "L"
                kinds["local_activity"] += 1
                names.append(name)
        scripts.append(script)
    decision = names.index(decision_activity) if decision_activity in names else min(2, len(names) - 1)
    counts = {
        "activities": kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        "local_activities": kinds["local_activity"],
        "signals": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
        "updates": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        "timers": kinds[EventType.EVENT_TYPE_TIMER_STARTED],
        "continue_as_new": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW],
        "workflow_tasks": kinds[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        "history_events": sum(n for kind, n in kinds.items() if kind != "local_activity"),
        "search_attribute_upserts": kinds[EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
    }
    return Shape(scripts, decision, counts)


def _local_activity(event: Any) -> str | None:
    """The activity type of a local activity's completion marker, else None (a patch marker, any other event)."""
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_MARKER:
        return None
    payloads = marker.details["data"].payloads
    return str(json.loads(payloads[0].data).get("activity_type", "")) if payloads else ""
