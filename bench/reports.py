"""Reports: the master report's CSV for 100,000 loans, streamed — rows/s and the API process's peak memory.

    python bench/reports.py [--loans 100000] [--json]

Starts embedded PostgreSQL in a temporary directory, migrates it, seeds a brand (``los.seed.seed_brand``; its
providers point nowhere) and bulk-inserts ``--loans`` loans, each with its own customer and employment, applied for
over the past year. Then it runs the API as production does (``los api``, one process; no Temporal, which these
routes never touch), signs an admin in and, after a warm-up (a page of the report and a one-day CSV), streams

    GET /api/v1/partner/brand/{b}/report/master-report/csv?fromDate&toDate

twice: first for the most recent tenth of the book, then for the whole year. It prints each stream's rows, seconds
and rows/s, and the API process's peak resident memory (``VmHWM`` in /proc/<pid>/status) before and after each. The
CSV is built from a server-side cursor in batches, so the peak must not grow with the rows: the second stream (10×
the rows) should leave the peak where the first left it, give or take a batch.
"""

from __future__ import annotations

import argparse
import json
import os
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

from bench.lifecycle import EXTERNAL, free_ports, log  # noqa: E402

CHUNK = 10_000  # rows per INSERT batch
REPORT = "master-report"


def populate(db: Any, brand: dict[str, Any], n: int) -> None:
    """Bulk-insert n customers, their employments and one loan each, created evenly over the past 365 days."""
    from sqlalchemy import insert, select

    from db.models import Customer, Employment, Loan, LoanProduct, new_id

    with db.unit_of_work() as session:
        product = session.scalars(
            select(LoanProduct.id).where(LoanProduct.brand_id == brand["brand_id"], LoanProduct.code == "PL-MONTHLY")
        ).one()
    now = datetime.now(UTC)
    started = time.monotonic()
    for start in range(0, n, CHUNK):
        customers, jobs, loans = [], [], []
        for i in range(start, min(n, start + CHUNK)):
            created = now - timedelta(seconds=60 + (365 * 86400 - 120) * i / n)
            customer_id = new_id()
            customers.append(
                dict(
                    id=customer_id,
                    brand_id=brand["brand_id"],
                    phone=f"9{i:09d}",
                    pan=f"ABCDE{i % 10_000:04d}F",
                    full_name=f"Customer {i}",
                    email=f"c{i}@example.com",
                    city="Bengaluru",
                    state="Karnataka",
                    pincode="560001",
                    created_at=created,
                )
            )
            jobs.append(dict(id=new_id(), customer_id=customer_id, employer_name="Acme Ltd", monthly_salary=60_000_00))
            disbursed = i % 3 != 0
            loans.append(
                dict(
                    id=new_id(),
                    brand_id=brand["brand_id"],
                    customer_id=customer_id,
                    product_id=product,
                    workflow_id=f"bench-{i}",
                    amount=(10 + i % 490) * 1_000_00,
                    tenure=3 + i % 10,
                    annual_rate_bps=2400,
                    status="DISBURSED" if disbursed else "UNDER_REVIEW",
                    disbursed_at=created + timedelta(hours=2) if disbursed else None,
                    net_disbursed=(10 + i % 490) * 98_000 if disbursed else None,
                    outstanding_principal=(10 + i % 490) * 1_000_00 if disbursed else 0,
                    created_at=created,
                )
            )
        with db.unit_of_work() as session:
            session.execute(insert(Customer), customers)
            session.execute(insert(Employment), jobs)
            session.execute(insert(Loan), loans)
        log(f"  {min(n, start + CHUNK):,} loans ({time.monotonic() - started:.0f} s)")


def peak_kib(pid: int) -> dict[str, int]:
    """The process's peak (VmHWM) and current (VmRSS) resident memory, KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


def stream(api_url: str, headers: dict[str, str], brand_id: str, start: str, end: str) -> tuple[int, float, int]:
    """Stream the CSV for the range; (rows, seconds, bytes). The client keeps nothing but the last chunk."""
    import httpx

    url = f"{api_url}/api/v1/partner/brand/{brand_id}/report/{REPORT}/csv"
    lines, size = 0, 0
    began = time.monotonic()
    with httpx.stream("GET", url, params={"fromDate": start, "toDate": end}, headers=headers, timeout=600) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")  # the seeded values hold no line breaks: one line per row
    return lines - 1, time.monotonic() - began, size


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import httpx

    from db.migrate import upgrade
    from db.session import Database
    from los.seed import DEMO_PASSWORD, seed_brand, staff_email
    from los.settings import sqlalchemy_url
    from los.stack import start_postgres, wait_port
    from workflows.options import IST

    home = Path(tempfile.mkdtemp(prefix="los-bench-reports-"))
    pg, api = None, None
    report: dict[str, Any] = {"loans": args.loans, "report": REPORT}
    try:
        log(f"starting PostgreSQL in {home}")
        uri, pg = start_postgres(home)
        upgrade(sqlalchemy_url(uri))
        db = Database(sqlalchemy_url(uri), pool_size=2)
        brand = seed_brand(db, "http://127.0.0.1:9", code="bench", name="Bench Finance")
        began = time.monotonic()
        populate(db, brand, args.loans)
        report["seed_seconds"] = round(time.monotonic() - began, 1)
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
                [sys.executable, "-m", "los.cli", "api", "--no-migrate", "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=api_log,
                stderr=subprocess.STDOUT,
            )
            wait_port("127.0.0.1", port, 30, api)
            api_url = f"http://127.0.0.1:{port}"
            login = httpx.post(
                f"{api_url}/api/v1/partner/auth/login",
                json={"email": staff_email("ADMIN", "bench"), "password": DEMO_PASSWORD},
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
            b = brand["brand_id"]
            today = datetime.now(IST).date()
            year_ago, tenth = today - timedelta(days=366), today - timedelta(days=36)
            page = httpx.get(
                f"{api_url}/api/v1/partner/brand/{b}/report/{REPORT}",
                params={"fromDate": tenth.isoformat(), "toDate": today.isoformat(), "limit": 500},
                headers=headers,
                timeout=60,
            )
            page.raise_for_status()
            stream(api_url, headers, b, today.isoformat(), today.isoformat())  # warm-up
            report["api_kib_after_warm_up"] = peak_kib(api.pid)
            for label, start in (("tenth", tenth), ("year", year_ago)):
                rows, seconds, size = stream(api_url, headers, b, start.isoformat(), today.isoformat())
                report[label] = {
                    "rows": rows,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(rows / seconds),
                    "mib": round(size / 2**20, 1),
                    "api_kib": peak_kib(api.pid),
                }
                log(f"  {label}: {rows:,} rows in {seconds:.1f} s")
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=15)
        if pg is not None:
            pg.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(home, ignore_errors=True)
    warm = report["api_kib_after_warm_up"]["VmHWM"]
    year = report["year"]["api_kib"]["VmHWM"]
    report["peak_growth_kib"] = year - warm
    report["flat"] = year - warm < 64 * 1024  # less than 64 MiB over the warm-up peak for the whole book
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Master report CSV, {args.loans:,} loans (seeded in {report['seed_seconds']} s):")
        print(f"  API peak RSS after warm-up: {warm / 1024:.1f} MiB")
        for label in ("tenth", "year"):
            r = report[label]
            print(
                f"  {label:<5} {r['rows']:>8,} rows  {r['seconds']:>6.1f} s  {r['rows_per_s']:>7,} rows/s  "
                f"{r['mib']:>6.1f} MiB of CSV  API peak RSS {r['api_kib']['VmHWM'] / 1024:.1f} MiB"
            )
        print(f"  peak grew {report['peak_growth_kib'] / 1024:.1f} MiB: {'flat' if report['flat'] else 'NOT flat'}")
    return 0 if report["flat"] and report["year"]["rows"] == args.loans else 1


if __name__ == "__main__":
    sys.exit(main())
