"""Portfolio: how the cost of a book in servicing grows with the book, a due-date storm per size.

    python bench/portfolio.py [--sizes 1000,10000,100000] [--pay 0.8] [--workers 1,2] [--drain] [--json]

For each size N (and each worker count) it starts its own whole stack (``los.stack.Stack`` through
``bench/lifecycle.py``'s helpers, with ``--workers`` worker processes on the one task queue), then:

1. A book of N loans straight into servicing (``bench/book.py``: written in batches as the disbursal activity
   leaves them, their ``LoanWorkflow`` started with ``LoanWorkflowInput.servicing``, ``--start-concurrency`` starts
   in flight). The product is the demo brand's DEMO-FAST with a compressed month (``--period`` seconds): every
   loan's first installment falls due at the same instant.
2. The storm. The due instant passes: every loan marks its installment overdue, levies the penal charge, moves to
   OVERDUE, tells the borrower and makes a link for the new amount (overdue handling, all N). Then ``--pay`` of
   them pay: the signed ``payment_link.paid`` webhook goes to the API (``bench/collections_day.py``), and each paid
   loan records the credit, its receipt and notice, moves back to DISBURSED and makes the next link. The storm is
   clear when every loan is done (counted in PostgreSQL); its time is the overdue pass (due instant → the last
   loan OVERDUE with its link) plus the payment pass (first webhook → the last paid loan settled).
3. The same storm on a null workflow: N ``NullLoanWorkflow`` runs each taking one signal (bench/null_workflow.py).

Printed per size: seconds to clear the storm and loans/s, workflow tasks, history events and activities per
loan-month (one month passed: the storm; read from a sample of the histories from the due instant on), worker
and whole-stack CPU ms per loan-month (due instant → clear), Temporal persistence and PostgreSQL size (and per
loan), the resident memory of each process role after the storm (KiB a loan for the worker and Temporal, whose
caches then hold the book), the null storm's signals/s and the ratio; then the flatness verdict (cost per
loan-month at the largest N ÷ at the smallest), and with several worker counts the throughput of each.
``--drain`` stops one worker gracefully (SIGTERM) mid-storm and checks in PostgreSQL that every loan's storm still
completed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # its sibling modules, also when run as `python -m bench.portfolio`
sys.path.insert(1, str(HERE.parent))  # the project, also when it is not installed

from book import seed_book, sizes, storm_histories  # noqa: E402
from collections_day import CREDITS, _rows, scalar, start_loans, wait_count  # noqa: E402
from cpu import cpu_by_process, per_loan, resident_mb  # noqa: E402
from lifecycle import bench_settings, guarded, log  # noqa: E402
from null_workflow import NullLoanWorkflow  # noqa: E402
from storm import link_paid_webhook, null_signals, send_webhooks  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

# The storm's passes counted once per loan (a loan may hold two ACTIVE links for a moment): every loan OVERDUE with
# a link made after its move to OVERDUE (the overdue pass); every paid loan DISBURSED with its next installment's link.
READY_TO_PAY = """
select count(distinct l.id) from loans l
join loan_status_history h on h.loan_id = l.id and h.to_status = 'OVERDUE' and h.created_at >= :due
join payment_links p on p.loan_id = l.id and p.installment_no = 1 and p.status = 'ACTIVE'
  and p.created_at >= h.created_at
where l.product_id = :product and l.status = 'OVERDUE'
"""
SETTLED = """
select count(distinct l.id) from loans l
join payment_links p on p.loan_id = l.id and p.installment_no = 2 and p.status = 'ACTIVE'
where l.product_id = :product and l.status = 'DISBURSED'
"""
# Loans done with their first pass: each holds an ACTIVE link for installment 1 (made before its due instant).
START_PASS = """
select count(distinct l.id) from loans l
join payment_links p on p.loan_id = l.id and p.installment_no = 1 and p.status = 'ACTIVE'
where l.product_id = :product
"""
# Each loan's newest ACTIVE link for installment 1 made after it moved to OVERDUE (the amount with the penal
# charge): (loan id, link id, url, amount). A link made before is for less than is now due.
LINKS_AFTER_DUE = """
select distinct on (l.id) l.id::text, p.link_id, p.url, p.amount from loans l
join loan_status_history h on h.loan_id = l.id and h.to_status = 'OVERDUE' and h.created_at >= :due
join payment_links p on p.loan_id = l.id and p.installment_no = 1 and p.status = 'ACTIVE'
  and p.created_at >= h.created_at
where l.product_id = :product order by l.id, p.created_at desc
"""
FLAT = 1.25  # cost per loan-month at the largest N ÷ at the smallest: at most this is "flat"
SAMPLE = 300  # histories read per size


class Tolerant:
    """The stack as the waits see it: a child found exited is restarted (``Stack.supervise``) and counted instead of
    ending the run. On a shared machine something else may stop a process; the row says how often it happened."""

    def __init__(self, stack: Any):
        self.stack, self.restarts = stack, 0
        self.children = stack.children

    def dead_child(self) -> None:
        """Restart what exited; never a reason to stop."""
        for child in self.stack.children:
            if child.proc is not None and not child.running and child.restart_at is None:
                self.restarts += 1
                log(f"{child.name} exited with {child.proc.poll()}: restarting it")
        self.stack.supervise()
        return None


def drain_one(stack: Any, name: str) -> int | None:
    """Stop the worker ``name`` gracefully (SIGTERM, as an orchestrator drains it) and wait for it to exit;
    it leaves the stack's children so nothing restarts it. Returns its exit status."""
    child = next(c for c in stack.children if c.name == name)
    child.terminate()
    child.wait(timeout=60)
    stack.children.remove(child)
    return child.proc.poll() if child.proc is not None else None


async def storm(settings: Any, stack: Any, database_url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One book of ``n`` loans through one due-date storm on a running stack; the figures of one row."""
    from db.session import Database
    from los.settings import sqlalchemy_url
    from los.stack import followup_queue
    from los.temporal import connect

    client = await connect(settings)
    db = Database(sqlalchemy_url(database_url), pool_size=2)
    c = args.concurrency
    stack = Tolerant(stack)
    timeout = 600 + n * 2.0  # seconds a pass may take: a 2-core machine clears a few loans a second
    try:
        lead = args.lead if args.lead is not None else 30 + args.lead_per_loan * n
        due_at = datetime.now(UTC) + timedelta(seconds=lead)
        log(f"{n} loans in servicing, first installment due at {due_at:%H:%M:%S} UTC ({lead:.0f}s ahead)")
        began = time.monotonic()
        shared, loans = await asyncio.to_thread(seed_book, db, n, args.period, due_at)
        log(f"book written in {time.monotonic() - began:.1f}s")
        began = time.monotonic()
        followup = followup_queue(settings)  # the stack's workers poll it (los.stack)
        await guarded(stack, start_loans(client, settings.task_queue, loans, args.start_concurrency, followup))
        wait = (due_at - datetime.now(UTC)).total_seconds()
        log(f"workflows started in {time.monotonic() - began:.1f}s; the due instant passes in {max(wait, 0):.0f}s")
        if wait < 1:
            raise RuntimeError(f"the loans started {-wait:.0f}s after their due instant: raise --lead")
        # the loans' first pass (notices, the first link) must be over before the storm, or it is measured with it
        try:
            await wait_count(db, START_PASS, shared.product_id, n, "first pass", max(wait - 1, 1), stack)
            quiet = True
        except TimeoutError:
            quiet = False
            log("the loans' first pass was still running at the due instant (raise --lead): it is in the figures")
        await asyncio.sleep(max((due_at - datetime.now(UTC)).total_seconds() - 0.5, 0))
        cpu_before = cpu_by_process(settings.home)
        await asyncio.sleep(max((due_at - datetime.now(UTC)).total_seconds(), 0))
        drained = None
        if args.drain:
            await asyncio.sleep(args.drain_after)
            log("draining worker-2 (SIGTERM) mid-storm")
            drained = await asyncio.to_thread(drain_one, stack.stack, "worker-2")
            log(f"worker-2 exited with {drained}")
        product = shared.product_id
        overdue_s = await wait_count(db, READY_TO_PAY, product, n, "overdue", timeout, stack, due=due_at)
        overdue_s = time.time() - due_at.timestamp()
        log(f"every loan OVERDUE with a link for its new amount {overdue_s:.1f}s after the due instant")
        await asyncio.sleep(1)  # the last workflow tasks of that pass

        paying = round(args.pay * n)
        phones = {loan.loan_id: loan.phone for loan in loans}
        links = await asyncio.to_thread(_rows, db, LINKS_AFTER_DUE, product=product, due=due_at)
        if len(links) != n:
            raise RuntimeError(f"{len(links)} loans with a link made after the due instant, of {n}")
        links = links[:paying]
        hooks = [
            link_paid_webhook(lid, link, url, amount, phones[lid], shared.secret) for lid, link, url, amount in links
        ]
        pay_s = 0.0
        answers: list = []
        if paying:
            log(f"{paying} signed payment_link.paid webhooks to the API, {c} in flight")
            began = time.monotonic()
            sender = asyncio.ensure_future(send_webhooks(settings.api_url, shared.brand_id, hooks, c))
            await wait_count(db, SETTLED, product, paying, "paid and settled", timeout, stack)
            pay_s = time.monotonic() - began
            _, answers = await sender
        cpu = per_loan(cpu_before, cpu_by_process(settings.home), n)
        memory = resident_mb(settings.home)  # every loan has just had its storm: the caches hold the book
        counts = {
            "overdue": (await asyncio.to_thread(scalar, db, READY_TO_PAY, product=product, due=due_at))[0],
            "credits": (await asyncio.to_thread(scalar, db, CREDITS, product=product))[0],
            "settled": (await asyncio.to_thread(scalar, db, SETTLED, product=product))[0],
        }
        step = max(1, n // SAMPLE)
        sample = [f"loan-{loan.loan_id}" for loan in loans[::step]]
        history = await storm_histories(client, sample, due_at - timedelta(seconds=1))
        weight = await asyncio.to_thread(sizes, db, settings.home)

        task_queue = f"bench-null-{uuid.uuid4().hex[:8]}"
        async with Worker(client, task_queue=task_queue, workflows=[NullLoanWorkflow], activities=[]):
            await null_signals(client, task_queue, min(10, n), c, f"{task_queue}-warmup")
            log(f"null: {n} signals to {n} waiting null workflows, {c} in flight")
            null_s = await guarded(stack, null_signals(client, task_queue, n, c, f"{task_queue}-run"))
    finally:
        db.dispose()

    clear_s = overdue_s + pay_s
    stack_cpu = sum(v for k, v in cpu.items() if k != "load generator")
    return {
        "loans": n,
        "workers": args.workers_now,
        "paying": paying,
        "clear_seconds": round(clear_s, 2),
        "overdue_seconds": round(overdue_s, 2),
        "pay_seconds": round(pay_s, 2),
        "loans_per_s": round(n / clear_s, 2),
        "per_loan_month": history,
        "worker_cpu_ms": sum(v for k, v in cpu.items() if k == "worker"),
        "stack_cpu_ms": stack_cpu,
        "cpu_ms": cpu,
        "resident_mb": memory,
        "worker_kb_per_loan": round(memory.get("worker", 0.0) * 1024 / n / args.workers_now, 1),
        "temporal_kb_per_loan": round(memory.get("temporal", 0.0) * 1024 / n, 1),
        **weight,
        "null_seconds": round(null_s, 3),
        "null_per_s": round(n / null_s, 2),
        "ratio": round((n / clear_s) / (n / null_s), 4),
        "counts": counts,
        "webhook_answers": sorted({f"{code} {status}" for code, status, _ in answers}),
        "drained_exit": drained,
        "quiet_before_due": quiet,
        "restarts": stack.restarts,
        "complete": counts["overdue"] + counts["settled"] == n and counts["credits"] == counts["settled"] == paying,
    }


def run_one(n: int, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """A private stack with ``workers`` worker processes, one storm of ``n`` loans, the stack stopped."""
    from los.stack import Stack, free_port_pair

    home = Path(tempfile.mkdtemp(prefix="los-bench-"))
    # the workers' metrics ports away from the default 9464 another stack on this machine may be taking right now
    os.environ["LOS_WORKER_METRICS_PORT"] = str(free_port_pair("127.0.0.1", random.randrange(20000, 40000, 2)))
    # the caches hold the book (docs/scaling.md, "Caches"): each worker its share of the loans, the Temporal server
    # every loan and every null workflow (two entries each), with room for the brand's other workflows
    os.environ["LOS_WORKER_MAX_CACHED_WORKFLOWS"] = str(max(10_000, math.ceil(n / workers * 1.1)))
    os.environ["LOS_TEMPORAL_DEV_CACHE_WORKFLOWS"] = str(max(20_000, math.ceil(n * 4.4)))
    settings = bench_settings(home)
    stack = Stack(settings, workers=workers)
    args.workers_now = workers
    try:
        log(f"N={n}, {workers} worker process(es): starting a private stack")
        info = stack.start()
        row = asyncio.run(storm(settings, stack, info["database"], n, args))
        log(f"row: {json.dumps(row, default=str)}")  # kept in the log should a later size fail
        return row
    finally:
        log("stopping the stack")
        stack.stop()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Cost per loan-month at the largest N ÷ at the smallest (one worker count): CPU, events, storage."""
    base = min(r["workers"] for r in rows)
    same = sorted((r for r in rows if r["workers"] == base), key=lambda r: r["loans"])
    small, large = same[0], same[-1]

    def ratio(key: Any) -> float:
        a, b = key(small), key(large)
        return round(b / a, 2) if a else float("nan")

    out = {
        "smallest": small["loans"],
        "largest": large["loans"],
        "worker_cpu": ratio(lambda r: r["worker_cpu_ms"]),
        "stack_cpu": ratio(lambda r: r["stack_cpu_ms"]),
        "history_events": ratio(lambda r: r["per_loan_month"]["events"]),
        "seconds_per_loan": ratio(lambda r: r["clear_seconds"] / r["loans"]),
    }
    out["flat"] = all(v <= FLAT for k, v in out.items() if k in ("worker_cpu", "stack_cpu", "history_events"))
    return out


def print_report(rows: list[dict[str, Any]], flat: dict[str, Any] | None, pay: float) -> None:
    """The table: one row per size and worker count, then throughput by workers and the flatness verdict."""
    print(f"\nPortfolio: a due-date storm on a book of N loans, {pay:.0%} paying by webhook, the rest overdue\n")
    head = (
        f"{'N':>7}{'wkrs':>5}{'clear s':>9}{'loans/s':>9}{'wf tasks':>9}{'events':>8}{'acts':>6}"
        f"{'wkr cpu ms':>11}{'all cpu ms':>11}{'temporal MB':>12}{'pg MB':>8}{'null/s':>9}{'ratio':>7}"
    )
    print(head)
    print(f"{'':>21}{'(per loan-month)':^23}{'(per loan-month)':^22}")
    for r in rows:
        h = r["per_loan_month"]
        print(
            f"{r['loans']:>7}{r['workers']:>5}{r['clear_seconds']:>9.1f}{r['loans_per_s']:>9.1f}"
            f"{h['workflow_tasks']:>9.1f}{h['events']:>8.1f}{h['activities']:>6.1f}{r['worker_cpu_ms']:>11}"
            f"{r['stack_cpu_ms']:>11}{r['temporal_bytes'] / 1e6:>12.1f}{r['postgres_bytes'] / 1e6:>8.1f}"
            f"{r['null_per_s']:>9.1f}{r['ratio']:>7.3f}"
        )
    for r in rows:
        state = "complete" if r["complete"] else "INCOMPLETE"
        drained = f", worker-2 drained mid-storm (exit {r['drained_exit']})" if r["drained_exit"] is not None else ""
        print(
            f"  N={r['loans']} workers={r['workers']}: {state} {r['counts']} (paying {r['paying']}); overdue pass "
            f"{r['overdue_seconds']}s, payment pass {r['pay_seconds']}s; per loan: temporal "
            f"{r['temporal_bytes'] // r['loans']} B, postgres {r['postgres_bytes'] // r['loans']} B; resident "
            f"memory after the storm {r['resident_mb']} MiB (worker {r['worker_kb_per_loan']} KiB a loan each, "
            f"Temporal {r['temporal_kb_per_loan']} KiB); "
            f"webhooks {r['webhook_answers']}{drained}"
            + ("" if r["quiet_before_due"] else "; the first pass overlapped the storm (raise --lead)")
            + (f"; {r['restarts']} process(es) stopped from outside and restarted" if r["restarts"] else "")
        )
    counts = sorted({r["workers"] for r in rows})
    if len(counts) > 1:
        print("\nThroughput by worker processes (loans/s clearing the storm):")
        for n in sorted({r["loans"] for r in rows}):
            by = {r["workers"]: r["loans_per_s"] for r in rows if r["loans"] == n}
            print(f"  N={n}: " + ", ".join(f"{w} → {by[w]}" for w in counts if w in by))
    if not flat:
        print("\nCost per loan-month: one book size only, no flatness verdict (give --sizes two or more)")
    else:
        word = "flat" if flat["flat"] else "NOT flat"
        print(
            f"\nCost per loan-month, N={flat['largest']} ÷ N={flat['smallest']}: worker CPU {flat['worker_cpu']}, "
            f"all CPU {flat['stack_cpu']}, history events {flat['history_events']}, seconds per loan "
            f"{flat['seconds_per_loan']} → {word} (≤ {FLAT})"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the storms, print the table (or JSON); exit 1 when a storm did not complete."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="book sizes, comma-separated (default 1000)")
    parser.add_argument("--pay", type=float, default=0.8, help="share of the loans that pay (default 0.8)")
    parser.add_argument("--workers", default="1", help="worker processes, comma-separated counts (default 1)")
    parser.add_argument("--drain", action="store_true", help="stop worker-2 gracefully mid-storm (needs 2 workers)")
    parser.add_argument("--drain-after", type=float, default=0.5, help="seconds after the due instant (0.5)")
    parser.add_argument("--concurrency", type=int, default=25, help="webhooks / signals in flight (default 25)")
    parser.add_argument("--start-concurrency", type=int, default=50, help="workflow starts in flight (50)")
    parser.add_argument("--period", type=int, default=3600, help="seconds in the product's month (3600)")
    parser.add_argument("--lead", type=float, default=None, help="seconds to the due instant (30 + lead-per-loan N)")
    parser.add_argument("--lead-per-loan", type=float, default=0.6, help="without --lead: seconds a loan (0.6)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep each temporary LOS_HOME (logs) afterwards")
    args = parser.parse_args(argv)
    sizes_ = [int(x) for x in args.sizes.split(",") if x.strip()]
    workers = [int(x) for x in args.workers.split(",") if x.strip()]
    if not sizes_ or min(sizes_) < 1 or not workers or min(workers) < 1 or not 0 <= args.pay <= 1:
        parser.error("--sizes and --workers need counts ≥ 1, --pay a share from 0 to 1")
    if args.drain and max(workers) < 2:
        parser.error("--drain needs --workers 2 or more")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the stack when stopped
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    rows = []
    for n in sizes_:
        for w in workers:
            if args.drain and w < 2:
                continue
            rows.append(run_one(n, w, args))
    flat = verdict(rows) if len({r["loans"] for r in rows}) > 1 else None
    total = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps({"rows": rows, "flatness": flat, "total_seconds": total}, indent=2, default=str))
    else:
        print_report(rows, flat, args.pay)
        print(f"\n(total {total}s including stack starts and stops)")
    return 0 if all(r["complete"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
