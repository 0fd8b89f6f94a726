"""A book of loans in servicing, written in batches: the shared pieces of ``bench/collections_day.py`` and
``bench/portfolio.py``.

``book_terms`` is what every bench loan of the demo brand's product shares (terms with the bench's "month",
the money-in policy, the schedule rows); ``seed_book`` writes N loans as the disbursal activity leaves them, a
chunk at a time with multi-row INSERTs (a 100,000-loan book is written in minutes, not an hour of round trips);
``storm_histories`` reads what a sample of the loans' workflows did from an instant on; ``sizes`` is what the
book weighs in Temporal's persistence and in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

PRODUCT = "DEMO-FAST"  # the demo brand's product the loans are made on (its charges: 1 % fee, flat penal)
AMOUNT = 30_000_00  # paise
TENURE = 3


@dataclass
class BookTerms:
    """What every bench loan shares: the brand, its webhook secret, the product, terms, policy and schedule."""

    brand_id: str
    secret: str
    product_id: str
    annual_rate_bps: int
    terms: Any  # LoanTerms with the bench's period
    preview: dict
    policy: Any  # LoanPolicy
    rows: list  # schedule rows


def book_terms(session: Any, period: int, disbursed_on: Any) -> BookTerms:
    """The demo brand's ``PRODUCT`` terms for a loan of ``AMOUNT`` over ``TENURE`` "months" of ``period`` seconds,
    disbursed on ``disbursed_on`` (IST date), with the policy its loans' workflows start with."""
    from sqlalchemy import select

    from api.products import loan_terms, money_in_policy, preview_for
    from db.models import Brand, LoanProduct
    from domain import schedule
    from domain.brand_config import BrandConfig
    from workflows.contracts import LoanPolicy

    brand = session.scalars(select(Brand).where(Brand.code == "demo")).one()
    product = session.scalars(
        select(LoanProduct).where(LoanProduct.brand_id == brand.id, LoanProduct.code == PRODUCT)
    ).one()
    secret = next(p for p in brand.config["providers"]["payments"] if p["vendor"] == "razorpay")["webhook_secret"]
    read = BrandConfig.of(brand.config)
    terms = replace(loan_terms(session, product, AMOUNT, TENURE), period_seconds=period)
    preview = preview_for(session, product, AMOUNT, TENURE, disbursed_on)
    policy = LoanPolicy(
        min_credit_score=read.min_credit_score,
        auto_sanction_score=read.auto_sanction_score,
        esign_expiry_seconds=read.esign_expiry_seconds,
        payment_provider="razorpay",
        allocation=dict(read.allocation or {}),
        penal=(product.charges or {}).get("penal"),
        prepayment_mode=read.prepayment_mode,
        npa_days=read.npa_days,
        kyc_timeout_seconds=read.kyc_timeout_seconds,
        **money_in_policy(product.charges, read, preview, TENURE),
    )
    rows = schedule.generate(terms.schedule_terms(disbursed_on)).rows
    return BookTerms(brand.id, secret, product.id, product.annual_rate_bps, terms, preview, policy, rows)


def seed_book(db: Any, n: int, period: int, due_at: datetime, chunk: int = 2000) -> tuple[BookTerms, list]:
    """N customers and loans of the demo brand, each DISBURSED ``period`` seconds before ``due_at`` with its status
    history, disbursal posting and schedule, as the disbursal activity writes them; a transaction per ``chunk``
    loans, each table's rows in multi-row INSERTs. Returns the shared terms and the loans
    (``collections_day.SeededLoan``: id, phone, the ``LoanWorkflowInput`` with ``servicing`` set)."""
    from collections_day import SeededLoan

    from activities.loan import schedule_queries
    from db.models import Customer, LedgerEntry, LedgerTransaction, Loan, LoanStatusHistory
    from domain import ledger
    from domain.status import LoanStatus
    from workflows.contracts import InstallmentState, LoanWorkflowInput, ServicingState
    from workflows.options import IST

    disbursed_at = due_at - timedelta(seconds=period)
    disbursed_on = disbursed_at.astimezone(IST).date()
    with db.unit_of_work() as session:
        shared = book_terms(session, period, disbursed_on)
    terms = shared.terms
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
        for r in shared.rows
    ]
    txn = ledger.disbursal_with_deductions(
        AMOUNT, upfront_fees=terms.upfront_fees, upfront_fees_gst=terms.upfront_fees_gst, third_party=terms.third_party
    )
    tag = uuid.uuid4().int % 10**3
    loans = []
    for start in range(0, n, chunk):
        with db.unit_of_work() as session:
            batch = range(start, min(n, start + chunk))
            customers, rows, later = [], [], []
            for i in batch:
                loan_id, customer_id, txn_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
                phone = f"7{tag:03d}{i:06d}"
                customers.append(
                    Customer(
                        id=customer_id,
                        brand_id=shared.brand_id,
                        phone=phone,
                        phone_verified=True,
                        full_name=f"Borrower {i}",
                        email=f"borrower{i}@example.com",
                    )
                )
                rows.append(
                    Loan(
                        id=loan_id,
                        brand_id=shared.brand_id,
                        customer_id=customer_id,
                        product_id=shared.product_id,
                        workflow_id=f"loan-{loan_id}",
                        amount=AMOUNT,
                        tenure=TENURE,
                        annual_rate_bps=shared.annual_rate_bps,
                        status=LoanStatus.DISBURSED.value,
                        upfront_charges=shared.preview["charges"],
                        net_disbursed=terms.net_disbursed,
                        outstanding_principal=AMOUNT,
                        disbursed_at=disbursed_at,
                        disbursal_utr=f"UTR{tag:03d}{i:09d}",
                        next_due_at=installments[0].due_at,
                    )
                )
                later.append(
                    LoanStatusHistory(
                        loan_id=loan_id, seq=0, from_status=None, to_status=LoanStatus.DISBURSED.value, reason="bench"
                    )
                )
                later.append(
                    LedgerTransaction(
                        id=txn_id,
                        loan_id=loan_id,
                        kind=txn.kind,
                        idempotency_key=f"loan-{loan_id}:ledger:disbursal",
                        value_date=disbursed_on,
                    )
                )
                loans.append((loan_id, customer_id, phone, txn_id))
            # parents before children: a flush per level, each a multi-row INSERT per table
            session.add_all(customers)
            session.flush()
            session.add_all(rows)
            session.flush()
            session.add_all(later)
            session.flush()
            for loan_id, _, _, txn_id in loans[start:]:
                session.add_all(
                    LedgerEntry(transaction_id=txn_id, account=leg.account, amount=leg.amount) for leg in txn.legs
                )
                schedule_queries.add_installments(session, loan_id, installments, AMOUNT)
    seeded = [
        SeededLoan(
            loan_id,
            phone,
            LoanWorkflowInput(
                loan_id,
                shared.brand_id,
                customer_id,
                terms,
                shared.policy,
                status=LoanStatus.DISBURSED,
                status_seq=0,
                servicing=ServicingState(installments=installments, disbursed_at=disbursed_at),
            ),
        )
        for loan_id, customer_id, phone, _ in loans
    ]
    return shared, seeded


async def storm_histories(client: Any, workflow_ids: list[str], since: datetime, concurrency: int = 20) -> dict:
    """What the workflows did from ``since`` on, read from their histories: events, workflow tasks and
    activities per workflow (means over the ones read)."""
    from temporalio.api.enums.v1 import EventType as E

    gate = asyncio.Semaphore(concurrency)
    cutoff = since.timestamp()
    totals = {"events": 0, "workflow_tasks": 0, "activities": 0}

    async def one(wid: str) -> None:
        async with gate:
            async for event in client.get_workflow_handle(wid).fetch_history_events():
                if event.event_time.seconds + event.event_time.nanos / 1e9 < cutoff:
                    continue
                totals["events"] += 1
                if event.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    totals["workflow_tasks"] += 1
                elif event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    totals["activities"] += 1

    await asyncio.gather(*(one(w) for w in workflow_ids))
    n = max(len(workflow_ids), 1)
    return {k: round(v / n, 2) for k, v in totals.items()} | {"histories_read": len(workflow_ids)}


def sizes(db: Any, home: Path) -> dict[str, int]:
    """Bytes: Temporal's persistence (the dev server's SQLite file with its WAL) and the PostgreSQL database."""
    from sqlalchemy import text

    temporal = sum(p.stat().st_size for p in Path(home).glob("temporal.db*") if p.is_file())
    with db.unit_of_work() as session:
        postgres = session.execute(text("select pg_database_size(current_database())")).scalar_one()
    return {"temporal_bytes": temporal, "postgres_bytes": int(postgres)}
