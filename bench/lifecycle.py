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
   history: the same activities and local activities (no-ops), signals and updates (sent by this process's Temporal
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
  - null: from just before ``start_workflow`` to the moment the no-op standing in for that ``record_status``
    (the same position among activities and local activities) runs, on this machine's clock.
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
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # its sibling modules, also when run as `python -m bench.lifecycle`
sys.path.insert(1, str(HERE.parent))  # the project, also when it is not installed

from cpu import cpu_by_process, per_loan  # noqa: E402
from null_client import null_batch, null_step  # noqa: E402
from null_workflow import NullLoanWorkflow  # noqa: E402
from shapes import COUNTED, INFO, Outcome, Shape, lifecycle_histories, shape_of  # noqa: E402
from temporalio.worker import Worker  # noqa: E402
from timeline import Timeline, print_timeline  # noqa: E402

DECISION_ACTIVITY = "record_status"  # production: the first status move after APPLIED
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
    waits before each webhook (``LOS_SANDBOX_DELAY_SECONDS``), i.e. how long the imitated vendors take. The worker
    runs workflows as production does, without the SDK's sandbox, unless ``LOS_WORKFLOW_SANDBOX`` says otherwise."""
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
    # The worker as production runs it (Settings.sandboxed_workflows(): no workflow sandbox with env production);
    # LOS_WORKFLOW_SANDBOX=true measures the sandboxed worker of development and the tests instead.
    os.environ.setdefault("LOS_WORKFLOW_SANDBOX", "false")
    settings = Settings(
        home=home,
        api_port=api,
        sandbox_port=sandbox,
        temporal_port=temporal,
        temporal_ui_port=ui,
        temporal_ui_url=f"http://127.0.0.1:{ui}",
    )
    sandboxed = settings.sandboxed_workflows()  # as the worker will read it
    log(f"workflows {'in' if sandboxed else 'without'} the SDK's sandbox (LOS_WORKFLOW_SANDBOX={sandboxed})")
    return settings


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


# ------------------------------------------------------------------------------------------- production
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
                return Outcome("", math.nan, f"error: {exc!r}")  # repr: a timeout's message is empty
            return Outcome(journey.workflow_id, decision_ms(journey.history), journey.status)

    try:
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(i) for i in range(n)))
        return list(outcomes), time.perf_counter() - started
    finally:
        await driver.close()


# ------------------------------------------------------------------------------------------- report
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
        f"scenario {report['scenario']}, vendor webhooks after {report['vendor_delay_s']} s, {report['cpus']} CPU(s), "
        f"{report['workers']} worker process(es)\n"
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
        "local_activities": "local acts",
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
        "workers": args.workers,
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
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes on the task queue, as `los up --workers N` (default 1)"
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
    stack = Stack(settings, workers=args.workers)
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
