"""Collections day: N loans whose installments fall due at the same instant, all paid by gateway webhook at once.

    python bench/collections_day.py [--loans 200] [--concurrency 25] [--json] [--keep] [--save-history FILE]

A month-end due-date storm. It starts its own whole stack (``los.stack.Stack`` through ``bench/lifecycle.py``'s
helpers: Temporal dev server, embedded PostgreSQL, sandbox, the production worker, API) on spare ports, then:

1. Loans straight into servicing. Originating N loans (KYC, bureau, eSign, disbursal) would take minutes and is
   not what is measured here, so each loan is written to PostgreSQL as the disbursal activity leaves it (customer,
   ``loans`` row DISBURSED with its status history, the disbursal's ledger posting, ``repayment_installments``)
   and its ``LoanWorkflow`` is started with ``LoanWorkflowInput.servicing`` set, as the run after the
   origination → servicing continue-as-new starts. The product is the demo brand's DEMO-FAST with a longer
   "month" (``period_seconds``, ``--period``): every loan's first installment falls due at the same instant a
   little ahead (``--lead``), the second one ``--period`` later (after the benchmark).
2. The due instant passes: every loan marks its installment overdue, levies the product's flat penal charge,
   moves to OVERDUE, tells the borrower and makes a payment link for the new amount. The benchmark waits until
   every loan has done so (not measured).
3. null: N ``NullLoanWorkflow`` runs (bench/null_workflow.py, script "S": wait for one signal) on a worker in this
   process (own task queue, same server), each sent one bare signal by this process's Temporal client, at most
   ``--concurrency`` in flight; measured from the first signal to the last workflow having taken its signal.
4. production: for every loan, the ``payment_link.paid`` webhook Razorpay sends when the borrower pays the link
   (the sandbox's builders, ``sandbox.gateway_events``; the documented body, ``X-Razorpay-Event-Id`` and
   ``X-Razorpay-Signature`` signed with the brand's webhook secret) is POSTed to the API's
   ``/api/v1/webhooks/{brandId}/razorpay``, at most ``--concurrency`` in flight. The API verifies, stores the
   event and the payment attempt, and signals ``payment_received``; the loan's workflow allocates the payment
   and runs ``record_payment``, which writes the ``payment_transactions`` row. Measured from the first webhook
   sent to the last of the N rows written (its ``collected_at``, PostgreSQL's clock, the same machine's).

What is printed: seconds and credits/s, null signals/s, and ratio = credits/s ÷ null signals/s against the aim
of 0.5 (met or not, and by how much). Then where a credit's time goes, read from the loans' histories from the
``payment_received`` signal on: the activities the workflow ran for it (count per credit, mean queue wait and run
time), signal → ``record_payment`` done (p50/p95), the webhooks' answers and HTTP latency, and the CPU each
process spent per credit (measured until every loan had also finished what follows a credit: receipt, notice,
status, the next installment's link). Run it on a quiet machine and compare figures from the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # its sibling modules, also when run as `python -m bench.collections_day`
sys.path.insert(1, str(HERE.parent))  # the project, also when it is not installed

from book import AMOUNT, TENURE, book_terms  # noqa: E402
from collections_timeline import AIM, credit_timeline, decoded_history_json, print_report  # noqa: E402
from cpu import cpu_by_process, per_loan  # noqa: E402
from lifecycle import bench_settings, guarded, log, percentile  # noqa: E402
from null_workflow import NullLoanWorkflow  # noqa: E402
from storm import link_paid_webhook, null_signals, send_webhooks  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

POLL = 0.05  # seconds between database polls while waiting for the credits
E = EventType


def log_progress(what: str, done: int, total: int, started: float) -> None:
    log(f"{what}: {done}/{total} after {time.monotonic() - started:.1f}s")


# ------------------------------------------------------------------------------------------- loans
@dataclass
class SeededLoan:
    loan_id: str
    phone: str
    inp: Any  # LoanWorkflowInput


def seed_loans(db: Any, n: int, period: int, due_at: datetime) -> tuple[str, str, list[SeededLoan]]:
    """N customers and loans of the demo brand, each DISBURSED ``period`` seconds before ``due_at`` with its schedule,
    written as the disbursal activity writes them; returns (brand id, webhook secret, loans)."""
    from activities.loan import queries, schedule_queries
    from db.models import Customer, Loan, LoanStatusHistory
    from domain import ledger
    from domain.status import LoanStatus
    from workflows.contracts import InstallmentState, LoanWorkflowInput, ServicingState
    from workflows.options import IST

    disbursed_at = due_at - timedelta(seconds=period)
    disbursed_on = disbursed_at.astimezone(IST).date()
    tag = uuid.uuid4().int % 10**4
    loans = []
    with db.unit_of_work() as session:
        shared = book_terms(session, period, disbursed_on)  # bench/book.py: what every bench loan shares
        brand_id, product_id, secret = shared.brand_id, shared.product_id, shared.secret
        terms, preview, policy, rows = shared.terms, shared.preview, shared.policy, shared.rows
        for i in range(n):
            loan_id = str(uuid.uuid4())
            phone = f"8{tag:04d}{i:05d}"
            customer = Customer(
                brand_id=brand_id,
                phone=phone,
                phone_verified=True,
                full_name=f"Borrower {i}",
                email=f"borrower{i}@example.com",
            )
            session.add(customer)
            session.flush()
            installments = [
                InstallmentState(
                    r.number,
                    disbursed_at + timedelta(seconds=period * r.number),  # as LoanWorkflow._states for demo products
                    r.principal,
                    r.interest,
                    due_date=r.due_date,
                    days=r.days,
                    fees=r.fees,
                )
                for r in rows
            ]
            session.add(
                Loan(
                    id=loan_id,
                    brand_id=brand_id,
                    customer_id=customer.id,
                    product_id=product_id,
                    workflow_id=f"loan-{loan_id}",
                    amount=AMOUNT,
                    tenure=TENURE,
                    annual_rate_bps=shared.annual_rate_bps,
                    status=LoanStatus.DISBURSED.value,
                    upfront_charges=preview["charges"],
                    net_disbursed=terms.net_disbursed,
                    outstanding_principal=AMOUNT,
                    disbursed_at=disbursed_at,
                    disbursal_utr=f"UTR{tag:04d}{i:08d}",
                    next_due_at=installments[0].due_at,
                )
            )
            session.flush()
            session.add(
                LoanStatusHistory(
                    loan_id=loan_id, seq=0, from_status=None, to_status=LoanStatus.DISBURSED.value, reason="bench"
                )
            )
            txn = ledger.disbursal_with_deductions(
                AMOUNT,
                upfront_fees=terms.upfront_fees,
                upfront_fees_gst=terms.upfront_fees_gst,
                third_party=terms.third_party,
            )
            queries.post_ledger(session, loan_id, f"loan-{loan_id}:ledger:disbursal", txn, disbursed_on)
            schedule_queries.add_installments(session, loan_id, installments, AMOUNT)
            inp = LoanWorkflowInput(
                loan_id,
                brand_id,
                customer.id,
                terms,
                policy,
                status=LoanStatus.DISBURSED,
                status_seq=0,
                servicing=ServicingState(installments=installments, disbursed_at=disbursed_at),
            )
            loans.append(SeededLoan(loan_id, phone, inp))
        return brand_id, secret, loans


async def start_loans(
    client: Any, task_queue: str, loans: list[SeededLoan], concurrency: int, followup: str | None = None
) -> None:
    """Start each seeded loan's workflow on ``task_queue``, its follow-up work on ``followup`` (as the API starts
    a loan: ``api.loan_start.start_loan``), at most ``concurrency`` starts in flight."""
    from dataclasses import replace

    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    from domain.status import LoanStatus
    from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow

    gate = asyncio.Semaphore(concurrency)

    async def one(loan: SeededLoan) -> None:
        async with gate:
            await client.start_workflow(
                LoanWorkflow.run,
                replace(loan.inp, followup_task_queue=followup or None),
                id=f"loan-{loan.loan_id}",
                task_queue=task_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(LOAN_STATUS, LoanStatus.DISBURSED.value),
                        SearchAttributePair(BRAND_ID, loan.inp.brand_id),
                        SearchAttributePair(LOAN_AMOUNT, AMOUNT),
                    ]
                ),
            )

    await asyncio.gather(*(one(loan) for loan in loans))


def scalar(db: Any, sql: str, **params: Any) -> Any:
    """The one row of the benchmark's own count ``sql``. Its joins run as hash joins: in a storm the statistics
    lag the rows (every loan changes status within minutes), and a nested-loop plan chosen for "no loan OVERDUE
    yet" made one poll of a 10,000-loan book cost 150 ms of PostgreSQL's CPU and growing, billed to the engine."""
    from sqlalchemy import text

    with db.unit_of_work() as session:
        session.execute(text("set local enable_nestloop = off"))
        return session.execute(text(sql), params).one()


# Every bench loan is OVERDUE and holds an ACTIVE link for installment 1 made after the due instant (for the amount
# with the penal charge): the last step of the pass the due instant started (``ServicingPhase._ensure_link``). The
# link's amount is the workflow's own figure of what is due, so it is what the borrower pays.
READY_TO_PAY = """
select count(*) from loans l
join payment_links p on p.loan_id = l.id and p.installment_no = 1 and p.status = 'ACTIVE' and p.created_at >= :due
where l.product_id = :product and l.status = 'OVERDUE'
"""
# The loans' links to pay: (loan id, link id, url, amount).
LINKS = """
select l.id::text, p.link_id, p.url, p.amount from loans l
join payment_links p on p.loan_id = l.id and p.installment_no = 1 and p.status = 'ACTIVE'
where l.product_id = :product
"""
CREDITS = """
select count(*), max(t.collected_at) from payment_transactions t join loans l on l.id = t.loan_id
where l.product_id = :product
"""
# After a credit the loan is DISBURSED again and holds the next installment's link: the last step of that pass.
SETTLED = """
select count(*) from loans l
join payment_links p on p.loan_id = l.id and p.installment_no = 2 and p.status = 'ACTIVE'
where l.product_id = :product and l.status = 'DISBURSED'
"""


def poll_interval(n: int, done: int) -> float:
    """Seconds between the waits' polls: 0.25 (POLL in the last tenth) up to 1,000 loans, then longer in proportion,
    so that a storm is polled about as many times at any book size and the polls' cost per loan stays the same
    (each reads the whole book); at 10,000 loans every 2.5 s (0.5 s in the last tenth)."""
    scale = max(1.0, n / 1000)
    return (POLL if n - done < n // 10 + 1 else 0.25) * scale


async def wait_count(
    db: Any, sql: str, product: str, n: int, what: str, timeout: float, stack: Any, **params: Any
) -> float:
    started = time.monotonic()
    last_log = started
    while True:
        done = (await asyncio.to_thread(scalar, db, sql, product=product, **params))[0]
        if done >= n:
            return time.monotonic() - started
        if stack.dead_child():
            raise RuntimeError(stack.dead_child())
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: only {done}/{n} after {timeout:.0f}s")
        if time.monotonic() - last_log > 10:
            log_progress(what, done, n, started)
            last_log = time.monotonic()
        await asyncio.sleep(poll_interval(n, done))


# ------------------------------------------------------------------------------------------- main
async def bench(settings: Any, stack: Any, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    from db.session import Database
    from los.settings import sqlalchemy_url
    from los.stack import followup_queue
    from los.temporal import connect

    client = await connect(settings)
    db = Database(sqlalchemy_url(database_url), pool_size=2)
    n, c = args.loans, args.concurrency
    try:
        lead = args.lead if args.lead is not None else 20 + 0.15 * n
        due_at = datetime.now(UTC) + timedelta(seconds=lead)
        log(f"{n} loans in servicing, first installment due at {due_at:%H:%M:%S} UTC ({lead:.0f}s ahead)")
        brand_id, secret, loans = await asyncio.to_thread(seed_loans, db, n, args.period, due_at)
        from sqlalchemy import select

        from db.models import Loan

        with db.unit_of_work() as session:
            product = session.scalars(select(Loan.product_id).where(Loan.id == loans[0].loan_id)).one()
        followup = followup_queue(settings)  # the stack's workers poll it (los.stack)
        await guarded(stack, start_loans(client, settings.task_queue, loans, 20, followup))
        wait = (due_at - datetime.now(UTC)).total_seconds()
        log(f"workflows started; the due instant passes in {max(wait, 0):.0f}s")
        await asyncio.sleep(max(wait, 0))
        what = "overdue, penal levied, link remade"
        took = await wait_count(db, READY_TO_PAY, product, n, what, 300, stack, due=due_at)
        log(f"every loan OVERDUE with a link for its new amount {took:.1f}s after the due instant")
        await asyncio.sleep(2)  # the last workflow tasks of that pass

        # null: bare signals to null workflows on this process's worker
        task_queue = f"bench-null-{uuid.uuid4().hex[:8]}"
        worker = Worker(client, task_queue=task_queue, workflows=[NullLoanWorkflow], activities=[])
        async with worker:
            await null_signals(client, task_queue, min(10, n), c, f"{task_queue}-warmup")
            log(f"null: {n} signals to {n} waiting null workflows, {c} in flight")
            cpu_before = cpu_by_process(settings.home)
            null_seconds = await guarded(stack, null_signals(client, task_queue, n, c, f"{task_queue}-run"))
            null_cpu = per_loan(cpu_before, cpu_by_process(settings.home), n, digits=1)

        # production: the payment webhooks
        phones = {loan.loan_id: loan.phone for loan in loans}
        links = await asyncio.to_thread(
            lambda: _rows(db, LINKS, product=product),
        )
        if len(links) != n:
            raise RuntimeError(f"{len(links)} active links for {n} loans")
        hooks = [link_paid_webhook(lid, link, url, amount, phones[lid], secret) for lid, link, url, amount in links]
        log(f"production: {n} signed payment_link.paid webhooks to the API, {c} in flight")
        cpu_before = cpu_by_process(settings.home)
        sender = asyncio.ensure_future(send_webhooks(settings.api_url, brand_id, hooks, c))
        await wait_count(db, CREDITS, product, n, "credits recorded", 300, stack)
        window_cpu = per_loan(cpu_before, cpu_by_process(settings.home), n, digits=1)
        first_sent, answers = await sender
        count, last_at = await asyncio.to_thread(scalar, db, CREDITS, product=product)
        prod_seconds = last_at.timestamp() - first_sent
        await wait_count(db, SETTLED, product, n, "receipts, notices and next links", 300, stack)
        settled_seconds = time.time() - first_sent
        prod_cpu = per_loan(cpu_before, cpu_by_process(settings.home), n)
        timeline = await credit_timeline(client, [f"loan-{loan.loan_id}" for loan in loans], 20)
        if args.save_history:  # one loan's history, decrypted, for the replay suite (tests/histories)
            Path(args.save_history).write_text(await decoded_history_json(client, f"loan-{loans[0].loan_id}"))
            log(f"saved the history of loan-{loans[0].loan_id} to {args.save_history}")
    finally:
        db.dispose()

    credits_per_s = n / prod_seconds
    null_per_s = n / null_seconds
    ratio = credits_per_s / null_per_s
    latencies = [ms for _, _, ms in answers]
    return {
        "loans": n,
        "concurrency": c,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "period_s": args.period,
        "production": {
            "seconds": round(prod_seconds, 3),
            "credits_per_s": round(credits_per_s, 2),
            "credits": count,
            "webhook_answers": dict(Counter(f"{code} {status}" for code, status, _ in answers)),
            "webhook_ms": {"p50": round(percentile(latencies, 0.5), 1), "p95": round(percentile(latencies, 0.95), 1)},
            "cpu_ms_per_credit": prod_cpu,
            # until the last credit was seen recorded (polled: a little past it), before the follow-up drained
            "cpu_ms_per_credit_window": window_cpu,
            # first webhook → every loan's receipt, notice and next link done (polled, so within about a second)
            "settled_seconds": round(settled_seconds, 1),
        },
        "null": {
            "seconds": round(null_seconds, 3),
            "signals_per_s": round(null_per_s, 2),
            "cpu_ms_per_signal": null_cpu,
        },
        "ratio": round(ratio, 4),
        "aim": AIM,
        "aim_met": ratio >= AIM,
        "timeline": timeline,
    }


def _rows(db: Any, sql: str, **params: Any) -> list[tuple]:
    from sqlalchemy import text

    with db.unit_of_work() as session:
        return [tuple(r) for r in session.execute(text(sql), params).all()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=200, help="loans due at the same instant (default 200)")
    parser.add_argument("--concurrency", type=int, default=25, help="webhooks / signals in flight (default 25)")
    parser.add_argument(
        "--period", type=int, default=3600, help="seconds between installments (the demo product's month; 3600)"
    )
    parser.add_argument(
        "--lead", type=float, default=None, help="seconds from the loans' start to their due instant (20 + 0.15 N)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes on the task queue, as `los up --workers N` (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary LOS_HOME (logs) afterwards")
    parser.add_argument(
        "--save-history", metavar="FILE", help="write one loan's history, payloads decrypted, for tests/histories/"
    )
    args = parser.parse_args(argv)
    if args.loans < 1 or args.concurrency < 1 or args.period < 600:
        parser.error("--loans and --concurrency must be at least 1, --period at least 600")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the stack when stopped
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from los.stack import Stack

    home = Path(tempfile.mkdtemp(prefix="los-bench-"))
    settings = bench_settings(home)
    stack = Stack(settings, workers=args.workers)
    started = time.monotonic()
    try:
        log(f"starting a private stack in {home} (API :{settings.api_port}, Temporal :{settings.temporal_port})")
        info = stack.start()
        log(f"stack up in {time.monotonic() - started:.1f}s")
        report = asyncio.run(bench(settings, stack, info["database"], args))
    finally:
        log("stopping the stack")
        stack.stop()
        if args.keep:
            log(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
        print(f"\n(total {report['total_seconds']}s including stack start/stop)")
    bad = report["production"]["credits"] != report["loans"] or not math.isfinite(report["ratio"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
