"""Time from application to automatic decision, through the whole stack.

Starts a private stack (embedded PostgreSQL, Temporal dev server, worker, API, sandbox) on spare ports,
seeds a brand whose KYC runs without customer input (PAN, mobile checks, CKYC, penny drop, EPFO), with
the BRE and evaluation items of the demo brand, then submits applications over HTTP: first one at a time,
then C at a time (everything shares the machine, including Chromium rendering the agreements of the
loans already sanctioned).
Each application's decision latency is the server-side time between its APPLIED status row and the next
one (SANCTIONED / UNDER_REVIEW / REJECTED): KYC provider calls, bureau pull with failover, BRE,
evaluation and allocation, with every status written to PostgreSQL. Prints p50/p95/max and decisions/s, and
for the concurrent pass the same split in two, with how many applications were being decided at once in each (on
average over each one's decision): the first C applications, started together (a burst: every one of them waits on
the others' work at once), and those after them, each started when an earlier applicant's read saw its decision
(so fewer are in their decision at a time: the others register or wait for their next read).

    python bench/decision.py [--loans 40] [--concurrency 8] [--poll 1.5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import cpu_by_process, per_loan  # noqa: E402
from bench.lifecycle import bench_settings, guarded, log, percentile  # noqa: E402

AUTOMATED_KYC = ["PAN", "MOBILE", "CKYC", "BANK_ACCOUNT", "EMPLOYMENT"]
TERMINAL_DECISIONS = {"SANCTIONED", "UNDER_REVIEW", "REJECTED"}
# How often an applicant's app reads an APPLIED loan (ui/static/app/screens/loan.js, POLL.APPLIED: 1,500 ms). Runs
# before --poll existed read it every 0.25 s, six times the app's load on the API (``--poll 0.25`` repeats them).
APP_POLL = 1.5


async def one(driver: Any, index: int, deadline: float, poll: float = APP_POLL) -> dict[str, Any]:
    from los.demo import demo_identity

    phone, pan = demo_identity(index, "auto" if index % 3 else "review")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    sent = time.monotonic()
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
        )
    )
    while time.monotonic() < deadline:
        detail = await driver.loan(headers, loan["id"])
        if detail["status"] != "APPLIED":
            rows = detail["statusHistory"]
            applied = datetime.fromisoformat(rows[0]["at"])
            decided = datetime.fromisoformat(rows[1]["at"])
            return {
                "status": rows[1]["to"],
                "server_ms": (decided - applied).total_seconds() * 1000,
                "client_ms": (time.monotonic() - sent) * 1000,
                "applied": applied,
                "decided": decided,
            }
        await asyncio.sleep(poll)  # as the customer app polls an APPLIED loan; the latency is server-side
    raise RuntimeError(f"loan {loan['id']} got no decision in time")


def mean_overlap(some: list[dict[str, Any]], every: list[dict[str, Any]]) -> float:
    """The mean, over the applications ``some``, of how many of ``every`` were being decided (between their APPLIED
    and decision rows) during each one's own decision, weighted by time: 1.0 when each was decided alone."""
    shares = []
    for r in some:
        span = (r["decided"] - r["applied"]).total_seconds()
        if span <= 0:
            continue
        overlap = sum(
            max(0.0, (min(r["decided"], o["decided"]) - max(r["applied"], o["applied"])).total_seconds()) for o in every
        )
        shares.append(overlap / span)
    return sum(shares) / len(shares) if shares else 0.0


async def measure(
    driver: Any, stack: Any, loans: int, concurrency: int, first: int, poll: float = APP_POLL
) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + 600

    async def limited(i: int) -> dict[str, Any]:
        async with gate:
            return await one(driver, i, deadline, poll)

    home = stack.settings.home  # the stack's embedded PostgreSQL counts too
    started, cpu_before = time.monotonic(), cpu_by_process(home)
    results = await guarded(stack, asyncio.gather(*(limited(first + i) for i in range(loans))))
    seconds = time.monotonic() - started
    cpu = per_loan(cpu_before, cpu_by_process(home), loans)
    server = [r["server_ms"] for r in results]
    client = [r["client_ms"] for r in results]
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r["status"]] = outcomes.get(r["status"], 0) + 1
    # gather keeps the order the applications were started in: the first `concurrency` started together (each
    # registers, then applies: a burst), each later one when an earlier applicant's next read (every `poll` s) saw its
    # decision; the later ones are fewer at a time in their decision (the others register or wait for their read)
    wave, steady = server[:concurrency], server[concurrency:]
    return {
        "loans": loans,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "decisions_per_s": round(loans / seconds, 2),
        "decision_ms": {
            "p50": round(percentile(server, 0.5), 1),
            "p95": round(percentile(server, 0.95), 1),
            "max": round(max(server), 1),
        },
        "first_wave_ms": {"p50": round(percentile(wave, 0.5), 1), "max": round(max(wave), 1)}
        if concurrency > 1
        else None,
        "steady_ms": (
            {"p50": round(percentile(steady, 0.5), 1), "p95": round(percentile(steady, 0.95), 1)}
            if concurrency > 1 and steady
            else None
        ),
        # how many applications were between APPLIED and their decision at once, on average over each one's own
        # decision (itself included): the load each part was decided under
        "deciding_at_once": {
            "first_wave": round(mean_overlap(results[:concurrency], results), 1),
            "after": round(mean_overlap(results[concurrency:], results), 1) if results[concurrency:] else None,
        },
        "client_ms": {"p50": round(percentile(client, 0.5), 1), "p95": round(percentile(client, 0.95), 1)},
        "outcomes": outcomes,
        "cpu_ms_per_loan": cpu,
    }


async def run(settings: Any, stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Two passes on the same stack: one application at a time (the latency a customer sees), then
    ``--concurrency`` at a time (throughput, and latency under that load on this machine)."""
    from los.demo import Driver

    driver = Driver(settings.api_url, settings.sandbox_base_url, "bench")
    try:
        for i in range(2):  # warm-up: connection pools, caches, the first workflow tasks
            await guarded(stack, one(driver, i, time.monotonic() + 120, args.poll))
        alone = await measure(driver, stack, max(10, args.loans // 2), 1, 100, args.poll)
        loaded = await measure(driver, stack, args.loans, args.concurrency, 1000, args.poll)
    finally:
        await driver.close()
    return {
        "kyc_steps": AUTOMATED_KYC,
        "workers": args.workers,
        "poll_s": args.poll,
        "target_p95_ms": 1000,
        "one_at_a_time": alone,
        "concurrent": loaded,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=30, help="applications in the concurrent pass")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes on the task queue, as `los up --workers N` (default 1)"
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=APP_POLL,
        help=f"seconds between a waiting applicant's reads of the loan (default {APP_POLL}, the customer app's)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.poll <= 0:
        parser.error(f"--poll: {args.poll} is not a number of seconds > 0")
    logging.basicConfig(level=logging.WARNING)

    from db.session import Database
    from los.seed import seed_brand
    from los.settings import sqlalchemy_url
    from los.stack import Stack

    home = Path(tempfile.mkdtemp(prefix="los-bench-decision-"))
    settings = bench_settings(home)
    stack = Stack(settings, workers=args.workers)
    try:
        log(f"starting a private stack in {home}")
        info = stack.start()
        db = Database(sqlalchemy_url(info["database"]), pool_size=1)
        seed_brand(db, settings.sandbox_base_url, code="bench", name="Bench Finance", kyc_steps=AUTOMATED_KYC)
        db.dispose()
        report = asyncio.run(run(settings, stack, args))
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"Application → automatic decision (server-side: APPLIED row → decision row), KYC "
            f"{', '.join(report['kyc_steps'])}; {report['workers']} worker process(es); each applicant's app reads "
            f"the loan every {report['poll_s']} s; target p95 < {report['target_p95_ms']} ms"
        )
        for label, key in (("one at a time", "one_at_a_time"), ("concurrent", "concurrent")):
            r = report[key]
            d, c = r["decision_ms"], r["client_ms"]
            print(
                f"  {label:<14} {r['loans']:>3} loans x{r['concurrency']}:"
                f"  p50 {d['p50']:.0f} ms  p95 {d['p95']:.0f} ms"
                f"  max {d['max']:.0f} ms   (client p95 {c['p95']:.0f} ms)   {r['decisions_per_s']} decisions/s"
                f"   {r['outcomes']}"
            )
            if r.get("first_wave_ms") and r.get("steady_ms"):
                w, st, at_once = r["first_wave_ms"], r["steady_ms"], r["deciding_at_once"]
                print(
                    f"  {'':<14} the first {r['concurrency']}, started together: p50 {w['p50']:.0f} ms  max "
                    f"{w['max']:.0f} ms, {at_once['first_wave']} being decided at once;  the "
                    f"{r['loans'] - r['concurrency']} after them (each started as an earlier one's decision was "
                    f"read): p50 {st['p50']:.0f} ms  p95 {st['p95']:.0f} ms, {at_once['after']} at once"
                )
            print(f"  {'':<14} CPU ms per application: {r['cpu_ms_per_loan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
