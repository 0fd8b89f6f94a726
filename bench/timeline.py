"""Where a lifecycle's time goes, read from its Temporal histories (used by ``bench/lifecycle.py``).

For each activity type: how many ran per lifecycle, the mean wait in the task queue (scheduled → started:
the worker had no free slot, or the poll round trip) and the mean run time (started → completed: the
activity's own work, its database and provider calls). For workflow tasks the same two figures (the
worker's replay and decision work is the run time). What is left of a lifecycle's wall time is waiting
for the outside: the borrower's and staff's actions (signals, updates), the sandbox's webhooks, timers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType

E = EventType


@dataclass
class Timing:
    """Count and total milliseconds of queue wait and run time."""

    count: int = 0
    queued_ms: float = 0.0
    run_ms: float = 0.0


@dataclass
class Timeline:
    """Per activity type (and ``(workflow task)``), summed over the lifecycles read."""

    lifecycles: int = 0
    wall_ms: float = 0.0
    by_kind: dict[str, Timing] = field(default_factory=lambda: defaultdict(Timing))
    waits: dict[str, Timing] = field(default_factory=lambda: defaultdict(Timing))

    def add(self, runs: list[Any]) -> None:
        """Add one lifecycle: every run of its workflow id, oldest first."""
        self.lifecycles += 1
        first, last = runs[0].events[0], runs[-1].events[-1]
        self.wall_ms += _ms(last.event_time) - _ms(first.event_time)
        for history in runs:
            scheduled: dict[int, tuple[str, float]] = {}
            started: dict[int, float] = {}
            idle_since: float | None = None  # the last workflow task completed: the workflow waits
            for event in history.events:
                at = _ms(event.event_time)
                kind = event.event_type
                if idle_since is not None and kind in WAKE:
                    waited = self.waits[_wake_name(event)]
                    waited.count += 1
                    waited.run_ms += at - idle_since
                    idle_since = None
                if kind == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    idle_since = at
                elif kind == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                    idle_since = None
                if kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    name = event.activity_task_scheduled_event_attributes.activity_type.name
                    scheduled[event.event_id] = (name, at)
                elif kind == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                    scheduled[event.event_id] = ("(workflow task)", at)
                elif kind == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    started[event.activity_task_started_event_attributes.scheduled_event_id] = at
                elif kind == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                    started[event.workflow_task_started_event_attributes.scheduled_event_id] = at
                elif kind == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    sid = event.activity_task_completed_event_attributes.scheduled_event_id
                    self._close(scheduled, started, sid, at)
                elif kind == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    sid = event.workflow_task_completed_event_attributes.scheduled_event_id
                    self._close(scheduled, started, sid, at)

    def _close(self, scheduled: dict[int, tuple[str, float]], started: dict[int, float], sid: int, at: float) -> None:
        if sid not in scheduled or sid not in started:
            return
        name, queued_at = scheduled[sid]
        timing = self.by_kind[name]
        timing.count += 1
        timing.queued_ms += started[sid] - queued_at
        timing.run_ms += at - started[sid]

    def report(self) -> dict[str, Any]:
        """Per kind: ``per_lifecycle`` count, mean ``queued_ms`` and ``run_ms``, and ``share`` of the wall time."""
        n = max(self.lifecycles, 1)
        rows = {}
        for name, t in sorted(self.by_kind.items(), key=lambda kv: -(kv[1].queued_ms + kv[1].run_ms)):
            rows[name] = {
                "per_lifecycle": round(t.count / n, 2),
                "queued_ms": round(t.queued_ms / max(t.count, 1), 1),
                "run_ms": round(t.run_ms / max(t.count, 1), 1),
                "share": round((t.queued_ms + t.run_ms) / max(self.wall_ms, 1), 3),
            }
        waits = {
            name: {
                "per_lifecycle": round(t.count / n, 2),
                "mean_ms": round(t.run_ms / max(t.count, 1), 1),
                "share": round(t.run_ms / max(self.wall_ms, 1), 3),
            }
            for name, t in sorted(self.waits.items(), key=lambda kv: -kv[1].run_ms)
        }
        return {"wall_ms": round(self.wall_ms / n, 1), "kinds": rows, "waits": waits}


def print_timeline(report: dict[str, Any], top: int = 14) -> None:
    """The ``top`` kinds by time spent, as a table."""
    wall = report["wall_ms"]
    print(f"\nWhere a production lifecycle's time goes (mean wall {wall:.0f} ms, first to last event):\n")
    print(f"{'':<34}{'per loan':>9}{'queued ms':>11}{'run ms':>9}{'share':>8}")
    for name, row in list(report["kinds"].items())[:top]:
        print(f"{name:<34}{row['per_lifecycle']:>9}{row['queued_ms']:>11.1f}{row['run_ms']:>9.1f}{row['share']:>8.1%}")

    print("\nWhat the idle workflow waited for (last workflow task completed → the event that woke it):\n")
    print(f"{'':<34}{'per loan':>9}{'mean ms':>11}{'share':>8}")
    for name, row in list(report["waits"].items())[:top]:
        print(f"{name:<34}{row['per_lifecycle']:>9}{row['mean_ms']:>11.1f}{row['share']:>8.1%}")


WAKE = {
    E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    E.EVENT_TYPE_TIMER_FIRED,
}


def _wake_name(event: Any) -> str:
    kind = event.event_type
    if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return f"signal {event.workflow_execution_signaled_event_attributes.signal_name}"
    if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return f"update {event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name}"
    if kind == E.EVENT_TYPE_TIMER_FIRED:
        return "timer"
    return "activity result"


def _ms(ts: Any) -> float:
    return ts.seconds * 1000 + ts.nanos / 1e6
