"""Loan lifecycle benchmark: production loans against a null workflow with the same Temporal traffic.

    python bench/lifecycle.py [--loans 20] [--concurrency 10] [--scenario auto|review|mix] [--json]

It starts its own whole stack (``los.stack.Stack``: Temporal dev server, embedded PostgreSQL, sandbox,
worker, API) in a temporary LOS_HOME on free, non-default ports, so it never touches a running
``los up``, and stops it at the end. Then, on that one Temporal server:

1. production: N full lifecycles (register, KYC, apply, decision, eSign, disbursal approval, every
   installment paid) driven over HTTP by ``los.demo.Driver`` exactly like ``los demo``, so the real
   ``LoanWorkflow`` and its activities do all their work (PostgreSQL, sandbox providers, PDF rendering
   in Chromium, webhooks). At most ``--concurrency`` loans are in flight at once.
2. null: N lifecycles of ``NullLoanWorkflow`` (bench/null_workflow.py), with the same concurrency,
   on a worker inside this process (own task queue, same server, same pydantic data converter, the
   default sandboxed workflow runner like production). Null lifecycle i copies production loan i's
   history: the same activities (no-ops), signals and updates (sent by this process's Temporal
   client), timers and continue-as-new, in the same order. The event counts of both sides are
   counted from their histories and printed; they must be equal (else the exit status is 1).

What is printed:

* loans/s: N divided by the wall time from the first start to the last finished lifecycle.
  ratio = production loans/s / null loans/s: the share of the engine's bare speed that is left once
  the business work is done. 1.0 would mean the business work costs nothing; 0.1 means a lifecycle
  takes ten times as long as its Temporal traffic alone.
* decision p50/p95, the time from application to the automatic decision:
  - production: the loan's statusHistory timestamps (PostgreSQL ``now()``): the APPLIED row,
    written by the API's POST /loans, to the next row (SANCTIONED / UNDER_REVIEW / REJECTED),
    written by the workflow's ``record_status`` activity after the KYC and bureau calls.
  - null: from just before ``start_workflow`` to the moment the no-op activity standing in for that
    ``record_status`` (the same position, the 3rd activity) runs, on this machine's clock.
* the events per lifecycle (activities, signals, updates, timers, continue-as-new), plus, for
  information, workflow tasks, history events and search-attribute upserts (not replicated).

How to read it: both clients act only once the workflow waits for them, so the two sides' histories
also have the same number of workflow tasks (printed). The production Driver notices that by polling
the API every 0.25 s, the null client by querying the workflow every 10 ms, after this process's
no-op activity told it the preceding step ran; that reaction time is part of the production numbers.
The production worker, API, sandbox and PostgreSQL are separate processes, while the null worker
shares this process with both clients. Everything shares the same cores, so run it on a quiet machine
and compare numbers from the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench/null_workflow.py, also when run as `python -m bench.lifecycle`

from cpu import cpu_by_process  # noqa: E402
from null_workflow import ACTIVITY, NullInput, NullLoanWorkflow, NullStep  # noqa: E402
from temporalio import activity  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowUpdateStage  # noqa: E402
from temporalio.worker import Worker  # noqa: E402
from timeline import Timeline, print_timeline  # noqa: E402

DECISION_ACTIVITY = "record_status"  # production: the first status move after APPLIED
QUERY_INTERVAL = 0.01  # null client: seconds between `waiting` queries before a signal or update
SCENARIOS = {"auto": ["auto"], "review": ["review"], "mix": ["auto", "review"]}
EXTERNAL = (
    "DATABASE_URL",
    "LOS_DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "LOS_TEMPORAL_ADDRESS",
    "LOS_PUBLIC_API_URL",
    "LOS_SANDBOX_URL",
    "LOS_STORAGE_DIR",
    "LOS_API_HOST",
)
STEP = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "A",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "S",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "U",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: "u",
    EventType.EVENT_TYPE_TIMER_STARTED: "T",
}
COUNTED = ["activities", "signals", "updates", "timers", "continue_as_new"]
INFO = ["workflow_tasks", "history_events", "search_attribute_upserts"]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- stack
def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def bench_settings(home: Path, vendor_delay: float = 0.2):  # noqa: ANN201 - los.settings.Settings, lazily
    """Settings for a private stack. The stack's children read their settings from the environment,
    so the same values go into os.environ, which Stack copies for them. ``vendor_delay``: seconds the sandbox
    waits before each webhook (``LOS_SANDBOX_DELAY_SECONDS``), i.e. how long the imitated vendors take."""
    from los.settings import Settings

    for name in EXTERNAL:  # a developer's external database / Temporal must not be used
        os.environ.pop(name, None)
    api, sandbox, temporal, ui = free_ports(4)
    os.environ.update(
        {
            "LOS_HOME": str(home),
            "LOS_API_PORT": str(api),
            "LOS_SANDBOX_PORT": str(sandbox),
            "LOS_TEMPORAL_PORT": str(temporal),
            "LOS_TEMPORAL_UI_PORT": str(ui),
            "LOS_TEMPORAL_UI_URL": f"http://127.0.0.1:{ui}",
            "LOS_SANDBOX_DELAY_SECONDS": str(vendor_delay),
        }
    )
    return Settings(
        home=home,
        api_port=api,
        sandbox_port=sandbox,
        temporal_port=temporal,
        temporal_ui_port=ui,
        temporal_ui_url=f"http://127.0.0.1:{ui}",
    )


async def guarded(stack: Any, coro: Any) -> Any:
    """Await coro, failing fast if one of the stack's processes dies meanwhile."""
    task = asyncio.ensure_future(coro)
    while True:
        done, _ = await asyncio.wait({task}, timeout=1.0)
        if done:
            return task.result()
        dead = stack.dead_child()
        if dead:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise RuntimeError(dead)


# ------------------------------------------------------------------------------------------- histories
@dataclass
class Shape:
    """What one lifecycle did, from its history (all runs, oldest first)."""

    scripts: list[str]
    decision: int  # 0-based number of the activity whose completion is the automatic decision
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
        scripts.append(script)
    decision = names.index(decision_activity) if decision_activity in names else min(2, len(names) - 1)
    counts = {
        "activities": kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        "signals": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
        "updates": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        "timers": kinds[EventType.EVENT_TYPE_TIMER_STARTED],
        "continue_as_new": kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW],
        "workflow_tasks": kinds[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        "history_events": sum(kinds.values()),
        "search_attribute_upserts": kinds[EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
    }
    return Shape(scripts, decision, counts)


# ------------------------------------------------------------------------------------------- production
@dataclass
class Outcome:
    workflow_id: str
    decision_ms: float
    status: str


def decision_ms(history: list[dict[str, Any]]) -> float:
    rows = sorted(history, key=lambda row: row["seq"])
    applied = next(i for i, row in enumerate(rows) if row["to"] == "APPLIED")
    decided = rows[applied + 1]
    at = datetime.fromisoformat
    return (at(decided["at"]) - at(rows[applied]["at"])).total_seconds() * 1000


async def production(
    settings: Any, n: int, concurrency: int, scenario: str, timeout: float
) -> tuple[list[Outcome], float]:
    from los.demo import Driver, demo_identity

    driver = Driver(settings.api_url, settings.sandbox_base_url, "demo", timeout=timeout)
    sem = asyncio.Semaphore(concurrency)
    kinds = SCENARIOS[scenario]

    async def one(i: int) -> Outcome:
        async with sem:
            try:
                journey = await driver.journey(*demo_identity(i, kinds[i % len(kinds)]))
            except Exception as exc:  # noqa: BLE001 - reported, and left out of the numbers
                return Outcome("", math.nan, f"error: {exc}")
            return Outcome(journey.workflow_id, decision_ms(journey.history), journey.status)

    try:
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(i) for i in range(n)))
        return list(outcomes), time.perf_counter() - started
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------------- null
@dataclass
class Progress:
    """A null lifecycle as seen from this process: how many of its activities ran, when it decided."""

    decision: int
    ran: int = 0
    decided_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def step(self, number: int) -> None:
        if number == self.decision and self.decided_at is None:
            self.decided_at = time.time()
        self.ran = max(self.ran, number + 1)
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_ran(self, count: int) -> None:
        while self.ran < count:
            await self.changed.wait()


PROGRESS: dict[str, Progress] = {}


@activity.defn(name=ACTIVITY)
async def null_step(step: NullStep) -> None:
    progress = PROGRESS.get(step.lifecycle)
    if progress is not None:
        progress.step(step.number)


async def wait_until_waiting(handle: Any, position: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await handle.query(NullLoanWorkflow.waiting) != position:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{handle.id} never waited at script position {position}")
        await asyncio.sleep(QUERY_INTERVAL)


async def null_lifecycle(client: Client, task_queue: str, workflow_id: str, shape: Shape) -> Outcome:
    progress = PROGRESS[workflow_id] = Progress(shape.decision)
    t0 = time.time()
    await client.start_workflow(
        NullLoanWorkflow.run, NullInput(workflow_id, shape.scripts), id=workflow_id, task_queue=task_queue
    )
    handle = client.get_workflow_handle(workflow_id)  # no run id: follows continue-as-new
    activities_before = 0
    updates = []
    for position, step in enumerate("".join(shape.scripts)):
        if step == "A":
            activities_before += 1
        elif step in "SU":
            # Like the Driver, which acts once the API shows the loan's new status: send only when the
            # workflow waits for it, so each signal/update gets its own workflow task as in production.
            await progress.wait_ran(activities_before)
            await wait_until_waiting(handle, position)
            if step == "S":
                await handle.signal(NullLoanWorkflow.event, "event")
            else:
                # Accepted now, answered where production answered it ("u"), which may come after a later
                # signal (a bank webhook faster than the disbursal's recording): do not wait for the answer.
                updates.append(
                    await handle.start_update(
                        NullLoanWorkflow.decide, "decide", wait_for_stage=WorkflowUpdateStage.ACCEPTED
                    )
                )
    await asyncio.gather(*(update.result() for update in updates))
    await handle.result()
    PROGRESS.pop(workflow_id, None)
    assert progress.decided_at is not None
    return Outcome(workflow_id, (progress.decided_at - t0) * 1000, "COMPLETED")


async def null_batch(
    client: Client, task_queue: str, shapes: list[Shape], concurrency: int, prefix: str
) -> tuple[list[Outcome], float]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, shape: Shape) -> Outcome:
        async with sem:
            return await null_lifecycle(client, task_queue, f"{prefix}-{i}", shape)

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(i, s) for i, s in enumerate(shapes)))
    return list(outcomes), time.perf_counter() - started


# ------------------------------------------------------------------------------------------- report
def per_loan(before: dict[str, float], after: dict[str, float], loans: int) -> dict[str, int]:
    """CPU ms per lifecycle by process role, largest first."""
    used = {role: round((seconds - before.get(role, 0.0)) / loans * 1000) for role, seconds in after.items()}
    return dict(sorted(used.items(), key=lambda kv: -kv[1]))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def per_lifecycle(shapes: list[Shape]) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for key in COUNTED + INFO:
        values = [s.counts[key] for s in shapes]
        mean = sum(values) / len(values)
        out[key] = values[0] if len(set(values)) == 1 else round(mean, 2)
    return out


def side(outcomes: list[Outcome], seconds: float, shapes: list[Shape], workflow: str) -> dict[str, Any]:
    latencies = [o.decision_ms for o in outcomes]
    return {
        "workflow": workflow,
        "loans": len(outcomes),
        "seconds": round(seconds, 3),
        "loans_per_s": round(len(outcomes) / seconds, 3),
        "decision_ms": {"p50": round(percentile(latencies, 0.50), 1), "p95": round(percentile(latencies, 0.95), 1)},
        "final_status": dict(Counter(o.status for o in outcomes)),
        "events_per_lifecycle": per_lifecycle(shapes),
        "events_total": {key: sum(s.counts[key] for s in shapes) for key in COUNTED},
    }


def print_table(report: dict[str, Any]) -> None:
    prod, null = report["production"], report["null"]
    print(
        f"\nLoan lifecycle benchmark: {report['loans']} loans, concurrency {report['concurrency']}, "
        f"scenario {report['scenario']}, vendor webhooks after {report['vendor_delay_s']} s, {report['cpus']} CPU(s)\n"
    )
    print(f"{'':<34}{'loans':>6}{'seconds':>10}{'loans/s':>10}{'decision p50 ms':>17}{'p95 ms':>9}")
    for name, row in (("production (LoanWorkflow)", prod), ("null (NullLoanWorkflow)", null)):
        print(
            f"{name:<34}{row['loans']:>6}{row['seconds']:>10.2f}{row['loans_per_s']:>10.2f}"
            f"{row['decision_ms']['p50']:>17.1f}{row['decision_ms']['p95']:>9.1f}"
        )
    print(f"{'ratio production/null (loans/s)':<34}{report['ratio']:>36.3f}")
    print("\nEvents per lifecycle (from the histories; a decimal is a mean over lifecycles that differ):\n")
    keys = COUNTED + INFO
    heads = {
        "activities": "activities",
        "signals": "signals",
        "updates": "updates",
        "timers": "timers",
        "continue_as_new": "cont.-as-new",
        "workflow_tasks": "wf tasks",
        "history_events": "events",
        "search_attribute_upserts": "SA upserts",
    }
    print(f"{'':<12}" + "".join(f"{heads[k]:>13}" for k in keys))
    for name, row in (("production", prod), ("null", null)):
        print(f"{name:<12}" + "".join(f"{row['events_per_lifecycle'][k]:>13}" for k in keys))
    same = "yes" if report["same_counts"] else "NO (see events_total in --json)"
    print(f"\nSame activities/signals/updates/timers/continue-as-new on both sides: {same}")
    if report["failed"]:
        print(f"Failed lifecycles: {report['failed']}")
    print_timeline(report["timeline"])
    print("\nCPU ms per lifecycle, by process (the null side's worker and client are the load generator):")
    for name, cpu in report["cpu_ms_per_loan"].items():
        print(f"  {name:<11} total {sum(cpu.values()):>5}: " + ", ".join(f"{role} {ms}" for role, ms in cpu.items()))


# ------------------------------------------------------------------------------------------- main
async def bench(settings: Any, stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    from los.temporal import connect

    client = await connect(settings)
    failed: list[str] = []

    if args.warmup:
        log(f"warm-up: {args.warmup} production lifecycle(s) (browser start, connection pools, caches)")
        warm, _ = await guarded(stack, production(settings, args.warmup, args.concurrency, args.scenario, args.timeout))
        warm_shapes = [
            shape_of(await lifecycle_histories(client, o.workflow_id), DECISION_ACTIVITY) for o in warm if o.workflow_id
        ]

    log(f"production: {args.loans} lifecycles, concurrency {args.concurrency}, scenario {args.scenario}")
    cpu_before = cpu_by_process(settings.home)
    prod, prod_seconds = await guarded(
        stack, production(settings, args.loans, args.concurrency, args.scenario, args.timeout)
    )
    cpu = per_loan(cpu_before, cpu_by_process(settings.home), args.loans)
    failed += [f"{o.workflow_id or 'loan'}: {o.status}" for o in prod if o.status != "COMPLETED"]
    prod = [o for o in prod if o.workflow_id]
    if not prod:
        raise RuntimeError(f"no production lifecycle finished: {failed}")
    timeline = Timeline()
    prod_shapes = []
    for o in prod:
        runs = await lifecycle_histories(client, o.workflow_id)
        timeline.add(runs)
        prod_shapes.append(shape_of(runs, DECISION_ACTIVITY))

    task_queue = f"bench-null-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[NullLoanWorkflow],
        activities=[null_step],
        max_concurrent_activities=50,
    )
    async with worker:
        if args.warmup:
            log(f"warm-up: {len(warm_shapes)} null lifecycle(s)")
            await null_batch(client, task_queue, warm_shapes, args.concurrency, f"{task_queue}-warmup")
        log(f"null: {args.loans} lifecycles, concurrency {args.concurrency}, task queue {task_queue}")
        cpu_before = cpu_by_process(settings.home)
        null, null_seconds = await null_batch(client, task_queue, prod_shapes, args.concurrency, task_queue)
        null_cpu = per_loan(cpu_before, cpu_by_process(settings.home), args.loans)
    null_shapes = [shape_of(await lifecycle_histories(client, o.workflow_id)) for o in null]
    same = all(p.counts[k] == n.counts[k] for p, n in zip(prod_shapes, null_shapes, strict=True) for k in COUNTED)

    report = {
        "loans": args.loans,
        "concurrency": args.concurrency,
        "scenario": args.scenario,
        "warmup": args.warmup,
        "vendor_delay_s": args.vendor_delay,
        "cpus": os.cpu_count(),
        "production": side(prod, prod_seconds, prod_shapes, "LoanWorkflow"),
        "null": side(null, null_seconds, null_shapes, "NullLoanWorkflow"),
        "same_counts": same,
        "failed": failed,
        "timeline": timeline.report(),
        "cpu_ms_per_loan": {"production": cpu, "null": null_cpu},
    }
    report["ratio"] = round(report["production"]["loans_per_s"] / report["null"]["loans_per_s"], 4)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=20, help="lifecycles per side (default 20)")
    parser.add_argument("--concurrency", type=int, default=10, help="lifecycles in flight at once (default 10)")
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="auto",
        help="auto: auto-sanctioned loans; review: manual review then sanction; mix: alternate",
    )
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured lifecycles per side first (default 1)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per production lifecycle")
    parser.add_argument(
        "--vendor-delay",
        type=float,
        default=0.2,
        help="seconds the sandbox's vendors take before each webhook (default 0.2, as in the test suite; "
        "`los up`'s sandbox takes 1.0)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary LOS_HOME (logs) afterwards")
    args = parser.parse_args(argv)
    if args.loans < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--loans and --concurrency must be at least 1, --warmup at least 0")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from los.stack import Stack

    home = Path(tempfile.mkdtemp(prefix="los-bench-"))
    settings = bench_settings(home, args.vendor_delay)
    stack = Stack(settings)
    started = time.monotonic()
    try:
        log(f"starting a private stack in {home} (API :{settings.api_port}, Temporal :{settings.temporal_port})")
        stack.start()
        log(f"stack up in {time.monotonic() - started:.1f}s")
        report = asyncio.run(bench(settings, stack, args))
    finally:
        log("stopping the stack")
        stack.stop()
        if args.keep:
            log(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
        print(f"\n(total {report['total_seconds']}s including stack start/stop)")
    return 1 if report["failed"] or not report["same_counts"] else 0


if __name__ == "__main__":
    sys.exit(main())
