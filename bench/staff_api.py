"""Staff API latency: the loan list and the loan detail with 10,000 loans in the database and 50 staff at once.

    python bench/staff_api.py [--loans 10000] [--clients 50] [--seconds 20] [--think 0.5] [--json]

Starts embedded PostgreSQL in a temporary directory, migrates it, seeds a brand (``los.seed.seed_brand``; its
providers point nowhere, nothing here calls them) and bulk-inserts ``--loans`` loans, each with its own customer,
its status history (APPLIED → ... → its status: 2 to 8 rows) and, once disbursed, its repayment schedule (3 to
12 installments), spread over the past year in the status mix of a lending book. Then it runs the API as
production does (``los api --workers 2``: one uvicorn process per core, uvloop + httptools; no Temporal, which
these GET routes never touch), signs a credit executive in, and runs ``--clients`` concurrent HTTP clients, each
with its own
connection, for ``--seconds`` after a 3 s warm-up. Each client is one staff member working the loan book:

    GET /api/v1/partner/brand/{b}/loans?page=P&limit=50   (P random within the result; 30 % with a status filter)
    think
    GET /api/v1/partner/brand/{b}/loans/{random loan id}
    think

The think time is uniform between 0.5× and 1.5× ``--think`` (default 0.5 s: a busy person clicking through,
about one request a second per person — more than real staff do). ``--think 0`` gives the closed-loop stress
figure: every client sends its next request as soon as the last one answered.

Latency is measured by the client (request sent → response read), so it includes the load generator's own event
loop, which shares the machine with the API and PostgreSQL. Prints p50/p95/p99/max per endpoint, requests/s,
errors, and whether p99 < 100 ms (the target) is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lifecycle import EXTERNAL, free_ports, log, percentile  # noqa: E402

TARGET_P99_MS = 100.0
PAGE = 50
WARM_UP_S = 3.0
STATUS_FILTER_SHARE = 0.3  # of the list requests
# The final status of the seeded loans (weights), and the moves that lead to it.
MIX = {
    "UNDER_REVIEW": 12,
    "SANCTIONED": 2,
    "AGREEMENT_PENDING": 3,
    "DISBURSED": 35,
    "OVERDUE": 6,
    "COMPLETED": 25,
    "REJECTED": 15,
    "EXPIRED": 2,
}
PATH = [
    "APPLIED",
    "UNDER_REVIEW",
    "SANCTIONED",
    "AGREEMENT_PENDING",
    "AGREEMENT_SIGNED",
    "DISBURSAL_PENDING",
    "DISBURSED",
]
SERVICED = {"DISBURSED", "OVERDUE", "COMPLETED"}


def history_of(status: str) -> list[str]:
    if status == "REJECTED":
        return ["APPLIED", "UNDER_REVIEW", "REJECTED"]
    if status == "EXPIRED":
        return [*PATH[:4], "EXPIRED"]
    if status == "OVERDUE":
        return [*PATH, "OVERDUE"]
    if status == "COMPLETED":
        return [*PATH, "COMPLETED"]
    return PATH[: PATH.index(status) + 1]


# ------------------------------------------------------------------------------------------- data
def populate(db: Any, brand: dict[str, Any], n: int, rng: random.Random) -> tuple[list[str], dict[str, int]]:
    """Bulk-insert n loans (with customers, status history and schedules). Returns the loan ids and the
    number of loans per status."""
    from sqlalchemy import insert, select, text

    from db.models import Customer, LoanProduct, LoanStatusHistory, RepaymentInstallment, new_id
    from db.models import Loan as LoanRow

    staff = {s["role"]: s["id"] for s in brand["staff"]}
    stage_holder = {
        "CREDIT_EXECUTIVE": staff["CREDIT_EXECUTIVE"],
        "SANCTION_MANAGER": staff["SANCTION_MANAGER"],
        "SANCTION_HEAD": staff["SANCTION_HEAD"],
    }
    now = datetime.now(UTC)
    customers, loans, history, installments = [], [], [], []
    counts: dict[str, int] = {}
    with db.unit_of_work() as session:
        product = session.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"], LoanProduct.code == "PL-MONTHLY")
        ).one()
    for i in range(n):
        status = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        counts[status] = counts.get(status, 0) + 1
        created = now - timedelta(seconds=rng.uniform(3600, 365 * 86400))
        customer_id, loan_id = new_id(), new_id()
        amount = rng.randrange(10, 500) * 1_000_00
        tenure = rng.randrange(3, 13)
        customers.append(
            dict(
                id=customer_id,
                brand_id=brand["brand_id"],
                phone=f"9{i:09d}",
                phone_verified=True,
                pan=f"ABCDE{i % 10_000:04d}F",
                full_name=f"Customer {i}",
                created_at=created,
            )
        )
        stage = rng.choice(list(stage_holder)) if status == "UNDER_REVIEW" else None
        serviced = status in SERVICED
        disbursed = created + timedelta(days=2)
        loans.append(
            dict(
                id=loan_id,
                brand_id=brand["brand_id"],
                customer_id=customer_id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=amount,
                tenure=tenure,
                annual_rate_bps=product.annual_rate_bps,
                status=status,
                credit_score=rng.randrange(600, 850),
                outstanding_principal=amount if serviced and status != "COMPLETED" else 0,
                dpd=rng.randrange(1, 90) if status == "OVERDUE" else 0,
                review_stage=stage,
                assigned_to=stage_holder[stage] if stage and rng.random() < 0.8 else None,
                evaluation_score=rng.randrange(40, 95),
                disbursed_at=disbursed if serviced else None,
                created_at=created,
            )
        )
        moves = history_of(status)
        for seq, (before, after) in enumerate(zip([None, *moves[:-1]], moves, strict=True), start=1):
            history.append(
                dict(
                    loan_id=loan_id,
                    seq=seq,
                    from_status=before,
                    to_status=after,
                    reason=None if seq == 1 else f"moved to {after.lower()}",
                    created_at=created + timedelta(hours=seq),
                )
            )
        if serviced:
            balance, part = amount, amount // tenure
            for k in range(1, tenure + 1):
                principal = balance if k == tenure else part
                interest = balance * 2 // 100
                balance -= principal
                due = disbursed + timedelta(days=30 * k)
                paid = status == "COMPLETED" or due < now - timedelta(days=30)
                installments.append(
                    dict(
                        loan_id=loan_id,
                        installment_no=k,
                        due_at=due,
                        due_date=due.date(),
                        days=30,
                        principal=principal,
                        interest=interest,
                        total=principal + interest,
                        balance_after=balance,
                        principal_paid=principal if paid else 0,
                        interest_paid=interest if paid else 0,
                        status="PAID" if paid else ("OVERDUE" if due < now else "PENDING"),
                        paid_at=due if paid else None,
                    )
                )
    with db.unit_of_work() as session:
        for model, rows in (
            (Customer, customers),
            (LoanRow, loans),
            (LoanStatusHistory, history),
            (RepaymentInstallment, installments),
        ):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start : start + 2000])
    with db.engine.connect() as conn:  # the planner's statistics, as a live database has them
        conn.execute(text("ANALYZE"))
        conn.commit()
    log(f"inserted {n} loans, {len(history)} status rows, {len(installments)} installments")
    return [row["id"] for row in loans], counts


# ------------------------------------------------------------------------------------------- load
class Stats:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {"list": [], "detail": []}
        self.errors: dict[str, int] = {"list": 0, "detail": 0}
        self.first_error: str | None = None
        self.recording = False


async def staff_member(
    api_url: str,
    token: str,
    brand_id: str,
    ids: list[str],
    counts: dict[str, int],
    think: float,
    status_share: float,
    stop_at: float,
    stats: Stats,
    rng: random.Random,
) -> None:
    import httpx

    base = f"/api/v1/partner/brand/{brand_id}/loans"
    total = sum(counts.values())

    async def timed(kind: str, url: str, params: dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        resp = await http.get(url, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        if stats.recording:
            stats.ms[kind].append(elapsed)
            if resp.status_code != 200:
                stats.errors[kind] += 1
                stats.first_error = stats.first_error or f"{resp.status_code} {resp.request.url}: {resp.text[:300]}"
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30.0) as http:
        await asyncio.sleep(rng.uniform(0, think))  # people do not all click at the same instant
        while time.monotonic() < stop_at:
            params: dict[str, Any] = {"limit": PAGE}
            matching = total
            if rng.random() < status_share:
                params["status"] = rng.choice(list(counts))
                matching = counts[params["status"]]
            params["page"] = rng.randint(1, max(1, math.ceil(matching / PAGE)))
            await timed("list", base, params)
            await timed("detail", f"{base}/{rng.choice(ids)}")


async def load(args: argparse.Namespace, api_url: str, brand: dict[str, Any], ids: list[str], counts: dict) -> dict:
    import httpx

    from los.seed import DEMO_PASSWORD, staff_email

    async with httpx.AsyncClient(base_url=api_url, timeout=30.0) as http:
        resp = await http.post(
            "/api/v1/partner/auth/login",
            json={"email": staff_email("CREDIT_EXECUTIVE", brand["brand_code"]), "password": DEMO_PASSWORD},
        )
        resp.raise_for_status()
        token = resp.json()["accessToken"]
        probe = await http.get(
            f"/api/v1/partner/brand/{brand['brand_id']}/loans",
            params={"status": "DISBURSED", "limit": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
    refused = None if probe.status_code == 200 else f"{probe.status_code}: {probe.json().get('message')}"
    if refused:
        log(f"the loan list refuses ?status= ({refused}): measuring without the status filter")
    stats = Stats()
    rng = random.Random(11)
    stop_at = time.monotonic() + WARM_UP_S + args.seconds
    clients = [
        staff_member(
            api_url,
            token,
            brand["brand_id"],
            ids,
            counts,
            args.think,
            0.0 if refused else STATUS_FILTER_SHARE,
            stop_at,
            stats,
            random.Random(rng.random()),
        )
        for _ in range(args.clients)
    ]

    async def window() -> float:
        await asyncio.sleep(WARM_UP_S)
        stats.recording = True
        started = time.monotonic()
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        return time.monotonic() - started

    seconds, *_ = await asyncio.gather(window(), *clients)
    report: dict[str, Any] = {
        "loans": len(ids),
        "clients": args.clients,
        "think_s": args.think,
        "seconds": round(seconds, 1),
        "target_p99_ms": TARGET_P99_MS,
        "status_filter": f"refused ({refused})" if refused else f"on {STATUS_FILTER_SHARE:.0%} of list requests",
    }
    for kind, values in stats.ms.items():
        report[kind] = {
            "requests": len(values),
            "errors": stats.errors[kind],
            "per_s": round(len(values) / seconds, 1),
            **{f"p{q}": round(percentile(values, q / 100), 1) for q in (50, 95, 99)},
            "max": round(max(values), 1),
        }
    report["requests_per_s"] = round(sum(len(v) for v in stats.ms.values()) / seconds, 1)
    report["first_error"] = stats.first_error
    report["target_met"] = all(report[k]["p99"] < TARGET_P99_MS and not report[k]["errors"] for k in stats.ms)
    return report


# ------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time, after a 3 s warm-up")
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds between a client's requests")
    parser.add_argument("--workers", type=int, default=2, help="API processes (`los api --workers`), one per core")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from db.migrate import upgrade
    from db.session import Database
    from los.seed import seed_brand
    from los.settings import sqlalchemy_url
    from los.stack import start_postgres, wait_port

    home = Path(tempfile.mkdtemp(prefix="los-bench-staff-api-"))
    pg, api = None, None
    try:
        log(f"starting PostgreSQL in {home}")
        uri, pg = start_postgres(home)
        upgrade(sqlalchemy_url(uri))
        db = Database(sqlalchemy_url(uri), pool_size=2)
        brand = seed_brand(db, "http://127.0.0.1:9", code="bench", name="Bench Finance")
        ids, counts = populate(db, brand, args.loans, random.Random(7))
        db.dispose()

        port, unused = free_ports(2)
        env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
        env.update(
            {
                "LOS_HOME": str(home),
                "DATABASE_URL": uri,
                "LOS_API_PORT": str(port),
                "LOS_TEMPORAL_ADDRESS": f"127.0.0.1:{unused}",  # never dialled by these routes
            }
        )
        with open(home / "api.log", "wb") as api_log:
            api = subprocess.Popen(
                [sys.executable, "-m", "los.cli", "api", "--no-migrate", "--workers", str(args.workers)],
                cwd=ROOT,
                env=env,
                stdout=api_log,
                stderr=subprocess.STDOUT,
            )
            wait_port("127.0.0.1", port, 30, api)
            log(f"API on port {port}; {args.clients} clients for {args.seconds:.0f} s (think {args.think} s)")
            report = asyncio.run(load(args, f"http://127.0.0.1:{port}", brand, ids, counts))
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=15)
        if pg is not None:
            pg.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"Staff API, {report['loans']} loans, {report['clients']} clients, think {report['think_s']} s, "
            f"{report['seconds']} s measured: {report['requests_per_s']} requests/s; "
            f"status filter {report['status_filter']}"
        )
        for kind, label in (("list", "GET /loans?page&limit=50"), ("detail", "GET /loans/{id}")):
            r = report[kind]
            print(
                f"  {label:<26} p50 {r['p50']:>6.1f} ms  p95 {r['p95']:>6.1f} ms  p99 {r['p99']:>6.1f} ms"
                f"  max {r['max']:>6.1f} ms   {r['per_s']:>6.1f}/s   errors {r['errors']}"
            )
        if report["first_error"]:
            print(f"  first error: {report['first_error']}")
        verdict = "met" if report["target_met"] else "NOT met"
        print(f"  target p99 < {TARGET_P99_MS:.0f} ms on both: {verdict}")
    return 0 if report["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
