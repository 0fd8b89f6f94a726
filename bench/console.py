"""The console's pages in Chromium with 10,000 loans: p50/p95 per page of the shell's time to first byte plus the
page's own API calls, and of the time until the page has drawn its main content.

    python bench/console.py [--loans 10000] [--runs 20] [--workers 2] [--json]

Starts embedded PostgreSQL in a temporary directory, migrates it, seeds a brand (``los.seed.seed_brand``; its
providers point nowhere) and bulk-inserts ``--loans`` loans with ``bench.staff_api.populate`` (customers, status
history, schedules, in the status mix of a lending book), then with SQL: Indian names on the customers, the next
due date, DPD buckets, collectors and asset classes of the loans being repaid, a payment per paid installment,
signed loans waiting for loan ops and loans on hold, 300 offline payments waiting for approval and 20,000 audit
entries; then ANALYZE. It runs the API as production does (``los api --workers 2``; no Temporal: these pages only
read), signs the admin in over the API and puts the session where the console keeps it (sessionStorage), so each
page load is the console opened on that page, signed in.

Each page is loaded ``--runs`` times (after two warm-up loads) from ``about:blank`` in one browser tab, so the
static modules are in the browser's cache as they are for staff at work. For each load, from Playwright's
network events and the page's own clock:

    ttfb     the shell's (GET /console) request sent → first byte of the answer
    api      the time the page had an /api/ call in flight (request sent → answer read, overlapping calls
             counted once), every call it made until the network was idle; the gaps between calls (the browser
             loading a module, rendering) are left out: they are in ``drawn``
    server   ttfb + api: the server's part, the figure the aim (p95 < 300 ms) is about
    drawn    navigation start → the page's main content in the DOM (a table row, the dashboard's charts, the
             loan's heading), checked on every animation frame

It prints p50/p95 of each per page, whether p95 of ``server`` is under 300 ms, and the slowest API routes (p95
over every load of every page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lifecycle import EXTERNAL, free_ports, log, percentile  # noqa: E402
from bench.search import FIRST, LAST  # noqa: E402
from bench.staff_api import populate  # noqa: E402

AIM_MS = 300.0
WARM_UP = 2
TABLE = "main table tbody tr"
# Waits on every animation frame for an element matching `selector` (whose text holds `text`, if given) and
# answers the page's clock (ms since the navigation started) at that frame.
DRAWN = """([selector, text]) => {
  for (const el of document.querySelectorAll(selector))
    if (!text || el.textContent.includes(text)) return performance.now();
  return false;
}"""
EXTRA_SQL = [
    # names people have (the trigram search reads them), phones and PANs as they were
    """UPDATE customers SET full_name = (%(first)s::text[])[1 + floor(random() * %(nf)s)::int] || ' '
         || (%(last)s::text[])[1 + floor(random() * %(nl)s)::int] WHERE brand_id = %(brand)s""",
    # loans being repaid: the next due date within five weeks (some within the pre-collection week)
    """UPDATE loans SET next_due_at = now() + (random() * 35 - 3) * interval '1 day'
       WHERE brand_id = %(brand)s AND status IN ('DISBURSED', 'OVERDUE')""",
    """UPDATE loans SET max_dpd = dpd, collector_id = CASE WHEN random() < 0.6 THEN %(collector)s::uuid END,
         collection_bucket = CASE WHEN dpd <= 30 THEN '1-30' WHEN dpd <= 60 THEN '31-60' WHEN dpd <= 90 THEN '61-90'
           ELSE '90+' END,
         asset_class = CASE WHEN dpd > 90 THEN 'NPA' WHEN dpd > 60 THEN 'SMA-2' WHEN dpd > 30 THEN 'SMA-1'
           ELSE 'SMA-0' END
       WHERE brand_id = %(brand)s AND status = 'OVERDUE'""",
    # signed loans waiting for the money (loans ops), loans on hold
    """UPDATE loans SET status = 'AGREEMENT_SIGNED' WHERE id IN (SELECT id FROM loans
       WHERE brand_id = %(brand)s AND status = 'AGREEMENT_PENDING' ORDER BY id LIMIT 150)""",
    """UPDATE loans SET status = 'NEEDS_ATTENTION' WHERE id IN (SELECT id FROM loans
       WHERE brand_id = %(brand)s AND status = 'SANCTIONED' ORDER BY id LIMIT 40)""",
    # a gateway payment for each paid installment
    """INSERT INTO payment_transactions (id, loan_id, gateway, gateway_payment_id, amount, principal_part,
         interest_part, fees_part, penal_part, advance_part, excess_part, status, mode, collected_at)
       SELECT gen_random_uuid(), i.loan_id, 'razorpay', 'pay_' || md5(i.loan_id::text || i.installment_no),
         i.total, i.principal, i.interest, 0, 0, 0, 0, 'SUCCESS', 'UPI', i.paid_at
       FROM repayment_installments i WHERE i.status = 'PAID'""",
    """UPDATE loans l SET total_collected = p.sum FROM (SELECT loan_id, sum(amount) AS sum
       FROM payment_transactions GROUP BY loan_id) p WHERE p.loan_id = l.id""",
    # offline payments waiting for a checker
    """INSERT INTO offline_payments (id, brand_id, loan_id, amount, paid_on, mode, reference, recorded_by, status,
         created_at)
       SELECT gen_random_uuid(), brand_id, id, 5000000, current_date - 1, 'NEFT',
         'N' || upper(substr(md5(id::text), 1, 15)), %(collector)s::uuid, 'PENDING',
         now() - random() * interval '5 days'
       FROM loans WHERE brand_id = %(brand)s AND status IN ('DISBURSED', 'OVERDUE') ORDER BY id LIMIT 300""",
    # a year of audit entries
    """INSERT INTO audit_logs (id, brand_id, actor_id, actor_email, actor_role, action, entity_type, entity_id,
         method, path, after, created_at)
       SELECT gen_random_uuid(), %(brand)s::uuid, %(collector)s::uuid, 'collection.manager@bench.example',
         'COLLECTION_MANAGER', (ARRAY['loan.forward', 'loan.approve', 'payment.offline.approve',
         'collection.follow_up.create', 'settings.brand.update'])[1 + n %% 5], 'loan', gen_random_uuid()::text,
         'POST', '/api/v1/partner/...', '{"note": "bench"}'::jsonb, now() - n * interval '26 minutes'
       FROM generate_series(1, 20000) AS n""",
]


def enrich(uri: str, brand: dict[str, Any], rng: random.Random) -> str:
    """The rows the pages show beyond ``populate``'s (names, collections, payments, approvals, audit); ANALYZE.
    Answers an OVERDUE loan's id (the loan profile measured)."""
    import psycopg

    staff = {s["role"]: s["id"] for s in brand["staff"]}
    params = {"brand": brand["brand_id"], "collector": staff["COLLECTION_MANAGER"], "first": FIRST, "last": LAST}
    params |= {"nf": len(FIRST), "nl": len(LAST)}
    with psycopg.connect(uri, autocommit=True) as conn:
        for sql in EXTRA_SQL:
            conn.execute(sql, params)
        conn.execute("ANALYZE")
        overdue = conn.execute(
            "SELECT id FROM loans WHERE brand_id = %s AND status = 'OVERDUE' ORDER BY id", (brand["brand_id"],)
        ).fetchall()
        name = conn.execute("SELECT full_name FROM customers WHERE brand_id = %s LIMIT 1", (brand["brand_id"],))
        brand["search_name"] = name.fetchone()[0]  # type: ignore[index]
    return str(rng.choice(overdue)[0])


def pages(loan_id: str, name: str) -> list[dict[str, Any]]:
    """The pages measured: name, hash route, what shows it is drawn (CSS selector, text), a click to make first."""
    typo = name[:3] + name[4:]  # a letter dropped, as people type
    queues = ["credit-executive", "sanction-manager", "sanction-head", "loans-ops", "needs-attention"]
    queues += ["collection-pre", "collection", "collection-post", "unallocated"]
    return [
        {"name": "dashboard", "route": "/dashboard", "drawn": ("main .charts", "")},
        *({"name": f"queue {q}", "route": f"/queues/{q}", "drawn": (TABLE, "")} for q in queues),
        {"name": "loan profile", "route": f"/loans/{loan_id}", "drawn": ("main h1", "Loan ")},
        {"name": "payment approval", "route": "/payments/approval", "drawn": (TABLE, "")},
        {"name": "collections", "route": "/collections", "drawn": (TABLE, "")},
        {"name": "customers", "route": "/customers", "drawn": (TABLE, "")},
        {"name": "search", "route": f"/search?q={typo}", "drawn": (TABLE, "")},
        {"name": "reports (30 days)", "route": "/reports?type=master-report", "drawn": (TABLE, ""), "click": "Show"},
        {"name": "audit", "route": "/audit", "drawn": (TABLE, "")},
    ]


def route_of(url: str) -> str:
    """An API URL as a route: ids and numbers replaced, the query left out."""
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", path)
    return "/" + path.replace("api/v1/partner/brand/{id}/", "")


async def load_once(page: Any, base: str, spec: dict[str, Any], done: list) -> dict[str, Any]:
    """One load of the page from about:blank: its ttfb, api span, drawn time, and each API call (route, ms)."""
    await page.goto("about:blank")
    done.clear()
    answer = await page.goto(f"{base}/console#{spec['route']}", wait_until="commit")
    if spec.get("click"):  # the form's data first, then the click that asks for the rows
        button = page.get_by_role("button", name=re.compile(f"^{spec['click']}"))
        await page.wait_for_function(
            "() => [...document.querySelectorAll('main button')].some(b => b.textContent.startsWith('Show') "
            "&& !b.disabled) && document.querySelector('main select option')",
            polling="raf",
        )
        await button.first.click()
    try:
        drawn = await (await page.wait_for_function(DRAWN, arg=list(spec["drawn"]), polling="raf")).json_value()
    except Exception as exc:
        raise RuntimeError(f"{spec['name']}: {spec['drawn']} never showed ({exc})") from exc
    await page.wait_for_load_state("networkidle")
    shell = answer.request.timing
    calls = []
    for request in list(done):
        if "/api/" not in request.url:
            continue
        t = request.timing
        response = await request.response()
        calls.append(
            {
                "route": f"{request.method} {route_of(request.url)}",
                "start": t["startTime"],
                "end": t["startTime"] + t["responseEnd"],
                "ms": t["responseEnd"],
                "status": response.status if response else 0,
            }
        )
    ttfb = shell["responseStart"] - shell["requestStart"]
    api = busy([(c["start"], c["end"]) for c in calls])
    return {"ttfb": ttfb, "api": api, "server": ttfb + api, "drawn": drawn, "calls": calls}


def busy(spans: list[tuple[float, float]]) -> float:
    """How long at least one of the spans was open (ms): the API calls' time, overlaps counted once."""
    total, until = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > until:
            total += end - max(start, until)
            until = end
    return total


async def measure(base: str, session: dict, loan_id: str, name: str, runs: int, chromium: str) -> dict:
    """Every page ``runs`` times in one signed-in tab; the figures per page and per API route."""
    from playwright.async_api import async_playwright

    report: dict[str, Any] = {"pages": {}, "routes": {}, "errors": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        stored = json.dumps(json.dumps(session))
        script = f"if (location.protocol === 'http:') sessionStorage.setItem('los.staff', {stored})"
        await context.add_init_script(script)
        page = await context.new_page()
        done: list = []
        page.on("requestfinished", lambda request: done.append(request))
        page.on("pageerror", lambda e: report["errors"].append(f"page error: {e}"))
        for spec in pages(loan_id, name):
            loads = []
            for i in range(WARM_UP + runs):
                one = await load_once(page, base, spec, done)
                if i >= WARM_UP:
                    loads.append(one)
            figures = {k: [one[k] for one in loads] for k in ("ttfb", "api", "server", "drawn")}
            row = {k: {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95)} for k, v in figures.items()}
            row["calls"] = sorted({c["route"] for one in loads for c in one["calls"]})
            bad = {f"{c['status']} {c['route']}" for one in loads for c in one["calls"] if c["status"] >= 400}
            row["bad"] = sorted(bad)
            row["aim_met"] = row["server"]["p95"] < AIM_MS
            report["pages"][spec["name"]] = row
            for one in loads:
                for c in one["calls"]:
                    report["routes"].setdefault(c["route"], []).append(c["ms"])
            log(f"{spec['name']}: server p95 {row['server']['p95']:.0f} ms, drawn p95 {row['drawn']['p95']:.0f} ms")
        await browser.close()
    report["routes"] = {
        r: {"n": len(v), "p50": percentile(v, 0.5), "p95": percentile(v, 0.95)} for r, v in report["routes"].items()
    }
    return report


def sign_in(base: str, email: str) -> dict:
    """The admin's session, as the console's sign-in keeps it."""
    import httpx

    from los.seed import DEMO_PASSWORD

    answer = httpx.post(f"{base}/api/v1/partner/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    return answer.json()


def print_report(r: dict[str, Any]) -> None:
    """The table per page, the verdict and the slowest routes."""
    print(f"Console pages, {r['loans']:,} loans, {r['runs']} loads each, API --workers {r['workers']} ({r['machine']})")
    print(f"  {'page':<26}{'ttfb p50/p95':>15}{'api p50/p95':>15}{'server p50/p95':>17}{'drawn p50/p95':>16}  aim")
    for name, row in r["pages"].items():
        cells = "".join(f"{row[k]['p50']:>8.0f}/{row[k]['p95']:<6.0f}" for k in ("ttfb", "api", "server", "drawn"))
        print(f"  {name:<26}{cells}  {'met' if row['aim_met'] else 'MISSED'}")
        if row["bad"]:
            print(f"  {'':<26}error answers: {', '.join(row['bad'])}")
    missed = [n for n, row in r["pages"].items() if not row["aim_met"]]
    print(f"  server p95 < {AIM_MS:.0f} ms on every page: {'met' if not missed else 'NOT met: ' + ', '.join(missed)}")
    print("  slowest API routes (p95 over every load, ms):")
    for route, s in sorted(r["routes"].items(), key=lambda kv: -kv[1]["p95"])[:10]:
        print(f"    {s['p95']:>6.0f}  (p50 {s['p50']:>5.0f}, n {s['n']:>4})  {route}")
    for error in r["errors"][:5]:
        print(f"  {error}")


def main(argv: list[str] | None = None) -> int:
    """Build the book, run the API, measure every page, print (or --json) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="loads of each page, after two warm-up loads")
    parser.add_argument("--workers", type=int, default=2, help="API processes (`los api --workers`), one per core")
    parser.add_argument("--chromium", default=os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium"))
    parser.add_argument("--keep", action="store_true", help="leave the stack running after, to EXPLAIN by hand")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from db.migrate import upgrade
    from db.session import Database
    from los.seed import seed_brand
    from los.settings import sqlalchemy_url
    from los.stack import start_postgres, wait_port

    home = Path(tempfile.mkdtemp(prefix="los-bench-console-"))
    pg, api = None, None
    rng = random.Random(11)
    try:
        log(f"starting PostgreSQL in {home}")
        uri, pg = start_postgres(home)
        upgrade(sqlalchemy_url(uri))
        db = Database(sqlalchemy_url(uri), pool_size=2)
        brand = seed_brand(db, "http://127.0.0.1:9", code="bench", name="Bench Finance")
        populate(db, brand, args.loans, rng)
        db.dispose()
        loan_id = enrich(uri, brand, rng)
        port, unused = free_ports(2)
        env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
        env |= {"LOS_HOME": str(home), "DATABASE_URL": uri, "LOS_API_PORT": str(port)}
        env["LOS_TEMPORAL_ADDRESS"] = f"127.0.0.1:{unused}"  # nothing measured asks Temporal
        with open(home / "api.log", "wb") as api_log:
            command = [sys.executable, "-m", "los.cli", "api", "--no-migrate", "--workers", str(args.workers)]
            api = subprocess.Popen(command, cwd=ROOT, env=env, stdout=api_log, stderr=subprocess.STDOUT)
            wait_port("127.0.0.1", port, 180, api)  # slow to start on a busy machine
            base = f"http://127.0.0.1:{port}"
            admin = next(s["email"] for s in brand["staff"] if s["role"] == "ADMIN")
            log(f"API on {base}; measuring {args.runs} loads of each page")
            session = sign_in(base, admin)
            report = asyncio.run(measure(base, session, loan_id, brand["search_name"], args.runs, args.chromium))
            report |= {"loans": args.loans, "runs": args.runs, "workers": args.workers}
            report["machine"] = f"{os.cpu_count()} cores"
            print(json.dumps(report, indent=2)) if args.json else print_report(report)
            if args.keep:
                log(f"kept: API {base}, database {uri}; Ctrl-C to stop")
                api.wait()
    except KeyboardInterrupt:
        return 130
    except Exception:
        if api is not None and api.poll() is not None:  # the API stopped answering: why
            log(f"the API exited with {api.returncode} (negative: killed by that signal)")
        if (home / "api.log").exists():
            log("the API's log ends:\n" + (home / "api.log").read_text(errors="replace")[-3000:])
        raise
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(timeout=30)
            except subprocess.TimeoutExpired:
                api.kill()
                api.wait()
        if pg is not None:
            pg.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(home, ignore_errors=True)
    return 0 if all(row["aim_met"] for row in report["pages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
