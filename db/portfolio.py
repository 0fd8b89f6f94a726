"""The dashboards' SQL, shared by the staff API (``api/partner/dashboard.py``) and the daily portfolio snapshot
(``activities/portfolio.py``): every figure of one brand, read from the loan rows, their schedules, payments,
ledger and collections records, and handed to ``domain.portfolio`` for the ratios. Plain values in, JSON-ready
dicts out (paise as integers, percentages as decimal strings or null, dates ISO); every function works in the
caller's transaction. Definitions and sources: docs/dashboards.md.

Periods are IST calendar dates, both ends included: ``[from 00:00 IST, to + 1 day 00:00 IST)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.collections import overdue_paise
from db.models import (
    Brand,
    CollectionAllocation,
    CollectionFollowUp,
    Customer,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanProduct,
    LoanStatusHistory,
    PaymentTransaction,
    PortfolioSnapshot,
    RepaymentInstallment,
    StaffBrandRole,
    StaffUser,
    new_id,
)
from domain import portfolio as pf
from domain.brand_config import BrandConfig

IST = timezone(timedelta(hours=5, minutes=30), "IST")
REPAYING = tuple(sorted(pf.REPAYING))
# Loans that were disbursed and whose schedule counts for collection efficiency (a cooling-off exit is not billed).
BILLED = (*REPAYING, "COMPLETED", "SETTLED", "WRITTEN_OFF")
# Disbursal amount bands (rupees, lower bound included): the ticket sizes a personal-loan book is cut by.
AMOUNT_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("below 25k", 0, 25_000_00),
    ("25k-50k", 25_000_00, 50_000_00),
    ("50k-1L", 50_000_00, 1_00_000_00),
    ("1L-2L", 1_00_000_00, 2_00_000_00),
    ("2L-5L", 2_00_000_00, 5_00_000_00),
    ("5L and above", 5_00_000_00, None),
)
DIRECT = "direct"  # customers who came with no utm_source


def start_of(day: date) -> datetime:
    """00:00 IST of ``day``."""
    return datetime.combine(day, time.min, IST)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants of the IST dates ``start``..``end`` (both included): [start 00:00 IST, end + 1 00:00 IST)."""
    return start_of(start), start_of(end + timedelta(days=1))


def today_ist() -> date:
    return datetime.now(IST).date()


def pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _ist_date(column: Any) -> Any:
    return func.date(func.timezone("Asia/Kolkata", column))


# ------------------------------------------------------------------------------------------- the book
def positions(session: Session, brand_id: str) -> list[pf.Position]:
    """Every loan of the brand being repaid, as the book holds it now."""
    rows = session.execute(
        select(Loan.status, Loan.outstanding_principal, Loan.dpd, Loan.asset_class).where(
            Loan.brand_id == brand_id, Loan.status.in_(REPAYING)
        )
    ).all()
    return [pf.Position(s, p, d, a) for s, p, d, a in rows]


def _at_risk(risk: pf.AtRisk) -> dict[str, Any]:
    return {"loans": risk.loans, "principalPaise": risk.principal, "percent": pct(risk.percent)}


def billing(session: Session, brand_id: str, start: date, end: date) -> pf.Efficiency:
    """Current collection efficiency of the installments due ``start``..``end`` (IST due dates), as collected now."""
    i = RepaymentInstallment
    rows = session.execute(
        select(i.principal + i.interest + i.fees, i.principal_paid + i.interest_paid + i.fees_paid)
        .join(Loan, Loan.id == i.loan_id)
        .where(Loan.brand_id == brand_id, Loan.status.in_(BILLED), i.due_date >= start, i.due_date <= end)
    ).all()
    return pf.collection_efficiency(pf.Billing(int(b), int(c)) for b, c in rows)


def collected(session: Session, brand_id: str, start: date, end: date) -> dict[str, int]:
    """Payments received ``start``..``end``: count and amount (paise), whatever they paid."""
    lo, hi = bounds(start, end)
    count, amount = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentTransaction.amount), 0))
        .join(Loan, Loan.id == PaymentTransaction.loan_id)
        .where(
            Loan.brand_id == brand_id,
            PaymentTransaction.status == "SUCCESS",
            PaymentTransaction.collected_at >= lo,
            PaymentTransaction.collected_at < hi,
        )
    ).one()
    return {"count": int(count), "amountPaise": int(amount)}


def disbursed(session: Session, brand_id: str, start: date, end: date) -> dict[str, int]:
    """Loans disbursed ``start``..``end``: count, principal and what reached borrowers' banks (paise)."""
    lo, hi = bounds(start, end)
    count, amount, net = session.execute(
        select(
            func.count(), func.coalesce(func.sum(Loan.amount), 0), func.coalesce(func.sum(Loan.net_disbursed), 0)
        ).where(Loan.brand_id == brand_id, Loan.disbursed_at >= lo, Loan.disbursed_at < hi)
    ).one()
    return {"count": int(count), "amountPaise": int(amount or 0), "netPaise": int(net or 0)}


def _closed(session: Session, brand_id: str, status: str, start: date, end: date) -> tuple[int, int]:
    """Loans that ended ``status`` in the period, and the principal written off on them (ledger: LOAN_PRINCIPAL
    credited by their WRITE_OFF postings)."""
    lo, hi = bounds(start, end)
    ids = select(Loan.id).where(
        Loan.brand_id == brand_id, Loan.status == status, Loan.closed_at >= lo, Loan.closed_at < hi
    )
    count = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    principal = session.scalar(
        select(func.coalesce(func.sum(-LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.loan_id.in_(ids),
            LedgerTransaction.kind == "WRITE_OFF",
            LedgerEntry.account == "LOAN_PRINCIPAL_RECEIVABLE",
        )
    )
    return int(count), int(principal or 0)


def summary(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """The board's page: the book now (AUM, PAR 30/60/90, GNPA) and the period ``start``..``end`` (disbursals,
    collections, current collection efficiency, loans written off and settled)."""
    book = positions(session, brand_id)
    efficiency = billing(session, brand_id, start, end)
    written_off, written_off_principal = _closed(session, brand_id, "WRITTEN_OFF", start, end)
    settled, settled_principal = _closed(session, brand_id, "SETTLED", start, end)
    return {
        "fromDate": start.isoformat(),
        "toDate": end.isoformat(),
        "aumPaise": pf.aum(book),
        "loansOnBook": sum(1 for p in book if p.on_book),
        "disbursals": disbursed(session, brand_id, start, end),
        "collections": collected(session, brand_id, start, end),
        "collectionEfficiency": {
            "billedPaise": efficiency.billed,
            "collectedPaise": efficiency.collected,
            "percent": pct(efficiency.percent),
        },
        "par30": _at_risk(pf.par(book, 30)),
        "par60": _at_risk(pf.par(book, 60)),
        "par90": _at_risk(pf.par(book, 90)),
        "gnpa": _at_risk(pf.gnpa(book)),
        "writtenOff": {"loans": written_off, "principalPaise": written_off_principal},
        "settled": {"loans": settled, "principalWrittenOffPaise": settled_principal},
    }


# ------------------------------------------------------------------------------------------- stats
def stats(session: Session, brand_id: str, today: date) -> dict[str, Any]:
    """Counts by status now; applications, sanctions, disbursals and collections today and this month (IST)."""
    month = today.replace(day=1)
    by_status = session.execute(
        select(Loan.status, func.count()).where(Loan.brand_id == brand_id).group_by(Loan.status).order_by(Loan.status)
    ).all()

    def applications(start: date) -> int:
        lo, hi = bounds(start, today)
        return int(
            session.scalar(
                select(func.count()).where(Loan.brand_id == brand_id, Loan.created_at >= lo, Loan.created_at < hi)
            )
            or 0
        )

    def sanctioned(start: date) -> int:
        lo, hi = bounds(start, today)
        h = LoanStatusHistory
        return int(
            session.scalar(
                select(func.count(distinct(h.loan_id)))
                .join(Loan, Loan.id == h.loan_id)
                .where(Loan.brand_id == brand_id, h.to_status == "SANCTIONED", h.created_at >= lo, h.created_at < hi)
            )
            or 0
        )

    return {
        "asOf": today.isoformat(),
        "totalLoans": sum(int(n) for _, n in by_status),
        "byStatus": [{"status": s, "count": int(n)} for s, n in by_status],
        "applications": {"today": applications(today), "thisMonth": applications(month)},
        "sanctioned": {"today": sanctioned(today), "thisMonth": sanctioned(month)},
        "disbursed": {
            "today": disbursed(session, brand_id, today, today),
            "thisMonth": disbursed(session, brand_id, month, today),
        },
        "collections": {
            "today": collected(session, brand_id, today, today),
            "thisMonth": collected(session, brand_id, month, today),
        },
    }


# ------------------------------------------------------------------------------------------- customers
def customers_by_source(session: Session, brand_id: str, start: date | None, end: date | None) -> dict[str, Any]:
    """The brand's customers (registered in the period, if given), by ``utm_source``: registered, applied (a loan)
    and disbursed (a loan that was disbursed)."""
    brand = session.get_one(Brand, brand_id)
    source = func.coalesce(func.nullif(Customer.utm["utm_source"].astext, ""), DIRECT)
    applied = select(Loan.id).where(Loan.customer_id == Customer.id).exists()
    funded = select(Loan.id).where(Loan.customer_id == Customer.id, Loan.disbursed_at.is_not(None)).exists()
    query = (
        select(
            source.label("source"),
            func.count(),
            func.count().filter(applied),
            func.count().filter(funded),
        )
        .where(Customer.brand_id == brand_id)
        .group_by(source)
        .order_by(func.count().desc(), source)
    )
    if start is not None:
        query = query.where(Customer.created_at >= start_of(start))
    if end is not None:
        query = query.where(Customer.created_at < start_of(end + timedelta(days=1)))
    rows = session.execute(query).all()
    items = [{"source": s, "customers": int(c), "applied": int(a), "disbursed": int(d)} for s, c, a, d in rows]
    return {
        "brandId": brand_id,
        "subdomain": brand.code,
        "fromDate": start.isoformat() if start else None,
        "toDate": end.isoformat() if end else None,
        "customers": sum(i["customers"] for i in items),
        "applied": sum(i["applied"] for i in items),
        "disbursed": sum(i["disbursed"] for i in items),
        "bySource": items,
    }


# ------------------------------------------------------------------------------------------- collections
def collection_analysis(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """The brand's book by its collection buckets (count, principal outstanding, amount overdue), the collectors'
    work in the period (cases, overdue, promises, recovered) and the recovery rate."""
    brand = session.get_one(Brand, brand_id)
    buckets = BrandConfig.of(brand.config).collection_policy().buckets
    overdue = overdue_paise(Loan.id)
    rows = session.execute(
        select(Loan.dpd, func.count(), func.sum(Loan.outstanding_principal), func.sum(overdue))
        .where(Loan.brand_id == brand_id, Loan.status.in_(REPAYING))
        .group_by(Loan.dpd)
    ).all()
    by_bucket: dict[str, dict[str, Any]] = {
        b.name: {"bucket": b.name, "loans": 0, "principalPaise": 0, "overduePaise": 0} for b in buckets.buckets
    }
    for dpd, count, principal, due in rows:
        line = by_bucket[buckets.bucket_for(int(dpd)).name]
        line["loans"] += int(count)
        line["principalPaise"] += int(principal or 0)
        line["overduePaise"] += int(due or 0)

    lo, hi = bounds(start, end)
    staff: dict[str, dict[str, Any]] = {
        sid: {"staffId": sid, "name": name, "role": role}
        for sid, name, role in session.execute(
            select(StaffUser.id, StaffUser.name, StaffBrandRole.role)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(StaffBrandRole.brand_id == brand_id)
        ).all()
    }
    cases: dict[str | None, tuple[int, int]] = {
        sid: (int(n), int(due or 0))
        for sid, n, due in session.execute(
            select(Loan.collector_id, func.count(), func.sum(overdue))
            .where(Loan.brand_id == brand_id, Loan.collector_id.is_not(None), Loan.status.in_(REPAYING))
            .group_by(Loan.collector_id)
        ).all()
    }
    f = CollectionFollowUp
    promises: dict[str | None, tuple[int, int, int, int]] = {
        sid: (int(made), int(kept), int(broken), int(pending))
        for sid, made, kept, broken, pending in session.execute(
            select(
                f.staff_id,
                func.count(),
                func.count().filter(f.ptp_status == "KEPT"),
                func.count().filter(f.ptp_status == "BROKEN"),
                func.count().filter(f.ptp_status == "PENDING"),
            )
            .where(f.brand_id == brand_id, f.ptp_date.is_not(None), f.ptp_date >= start, f.ptp_date <= end)
            .group_by(f.staff_id)
        ).all()
    }
    a, p = CollectionAllocation, PaymentTransaction
    recovered: dict[str | None, int] = {
        sid: int(amount or 0)
        for sid, amount in session.execute(
            select(a.staff_id, func.sum(p.amount))
            .join(p, p.loan_id == a.loan_id)
            .where(
                a.brand_id == brand_id,
                a.staff_id.is_not(None),
                p.status == "SUCCESS",
                p.collected_at >= lo,
                p.collected_at < hi,
                p.collected_at >= a.created_at,
                or_(a.ended_at.is_(None), p.collected_at < a.ended_at),
            )
            .group_by(a.staff_id)
        ).all()
    }
    collectors: list[dict[str, Any]] = []
    for sid in sorted({str(k) for k in (*cases, *promises, *recovered) if k is not None}):
        who: dict[str, Any] = staff.get(sid) or {"staffId": sid, "name": None, "role": None}
        n, due = cases.get(sid, (0, 0))
        made, kept, broken, pending = promises.get(sid, (0, 0, 0, 0))
        got = recovered.get(sid, 0)
        collectors.append(
            {
                **who,
                "cases": n,
                "overduePaise": due,
                "promises": made,
                "promisesKept": kept,
                "promisesBroken": broken,
                "promisesPending": pending,
                "recoveredPaise": got,
                "recoveryRate": pct(pf.percent(got, got + due)),
            }
        )
    total_recovered = sum(int(c["recoveredPaise"]) for c in collectors)
    total_overdue = sum(int(line["overduePaise"]) for line in by_bucket.values())
    return {
        "fromDate": start.isoformat(),
        "toDate": end.isoformat(),
        "byBucket": list(by_bucket.values()),
        "byCollector": collectors,
        "recoveredPaise": total_recovered,
        "overduePaise": total_overdue,
        "recoveryRate": pct(pf.percent(total_recovered, total_recovered + total_overdue)),
    }


# ------------------------------------------------------------------------------------------- disbursals
def band_of(amount: int) -> str:
    return next(name for name, lo, hi in AMOUNT_BANDS if amount >= lo and (hi is None or amount < hi))


def disbursement_analysis(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """Loans disbursed ``start``..``end`` by IST day, by product and by amount band: count, principal, net."""
    lo, hi = bounds(start, end)
    rows = session.execute(
        select(_ist_date(Loan.disbursed_at), LoanProduct.code, LoanProduct.name, Loan.amount, Loan.net_disbursed)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(Loan.brand_id == brand_id, Loan.disbursed_at >= lo, Loan.disbursed_at < hi)
    ).all()

    def add(line: dict[str, Any], amount: int, net: int | None) -> None:
        line["count"] += 1
        line["amountPaise"] += amount
        line["netPaise"] += net or 0

    days: dict[str, dict[str, Any]] = {}
    products: dict[str, dict[str, Any]] = {}
    bands = {name: {"band": name, "count": 0, "amountPaise": 0, "netPaise": 0} for name, _, _ in AMOUNT_BANDS}
    for day, code, name, amount, net in rows:
        add(
            days.setdefault(day.isoformat(), {"day": day.isoformat(), "count": 0, "amountPaise": 0, "netPaise": 0}),
            amount,
            net,
        )
        add(
            products.setdefault(code, {"productCode": code, "name": name, "count": 0, "amountPaise": 0, "netPaise": 0}),
            amount,
            net,
        )
        add(bands[band_of(amount)], amount, net)
    return {
        "fromDate": start.isoformat(),
        "toDate": end.isoformat(),
        "count": len(rows),
        "amountPaise": sum(r[3] for r in rows),
        "netPaise": sum(r[4] or 0 for r in rows),
        "byDay": [days[k] for k in sorted(days)],
        "byProduct": [products[k] for k in sorted(products)],
        "byAmountBand": list(bands.values()),
    }


# ------------------------------------------------------------------------------------------- staff
def staff_leads(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """Per staff member of the brand: customers and loans assigned to them now, loans they sanctioned in the
    period (status history: their move to SANCTIONED) and loans disbursed in the period that they worked (assigned
    to them, or a staff action of theirs in the loan's history)."""
    lo, hi = bounds(start, end)
    h = LoanStatusHistory
    people = session.execute(
        select(StaffUser.id, StaffUser.name, StaffBrandRole.role)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(StaffBrandRole.brand_id == brand_id)
        .order_by(StaffUser.name, StaffUser.id)
    ).all()

    def per_staff(query: Any) -> dict[str, int]:
        return {sid: int(n) for sid, n in session.execute(query).all() if sid is not None}

    customers = per_staff(
        select(Customer.assigned_to, func.count()).where(Customer.brand_id == brand_id).group_by(Customer.assigned_to)
    )
    loans = per_staff(
        select(Loan.assigned_to, func.count()).where(Loan.brand_id == brand_id).group_by(Loan.assigned_to)
    )
    sanctioned = per_staff(
        select(h.actor_id, func.count(distinct(h.loan_id)))
        .join(Loan, Loan.id == h.loan_id)
        .where(Loan.brand_id == brand_id, h.to_status == "SANCTIONED", h.created_at >= lo, h.created_at < hi)
        .group_by(h.actor_id)
    )
    worked = (
        select(Loan.assigned_to.label("staff_id"), Loan.id.label("loan_id"), Loan.amount.label("amount"))
        .where(Loan.brand_id == brand_id, Loan.disbursed_at >= lo, Loan.disbursed_at < hi)
        .union(
            select(h.actor_id, Loan.id, Loan.amount)
            .join(Loan, Loan.id == h.loan_id)
            .where(Loan.brand_id == brand_id, Loan.disbursed_at >= lo, Loan.disbursed_at < hi, h.actor_id.is_not(None))
        )
        .subquery()
    )
    disbursals = {
        sid: (int(n), int(amount or 0))
        for sid, n, amount in session.execute(
            select(worked.c.staff_id, func.count(), func.sum(worked.c.amount))
            .where(worked.c.staff_id.is_not(None))
            .group_by(worked.c.staff_id)
        ).all()
    }
    items = []
    for sid, name, role in people:
        n, amount = disbursals.get(sid, (0, 0))
        items.append(
            {
                "staffId": sid,
                "name": name,
                "role": role,
                "assignedCustomers": customers.get(sid, 0),
                "assignedLoans": loans.get(sid, 0),
                "sanctioned": sanctioned.get(sid, 0),
                "disbursed": n,
                "disbursedAmountPaise": amount,
            }
        )
    return {"fromDate": start.isoformat(), "toDate": end.isoformat(), "items": items}


# ------------------------------------------------------------------------------------------- vintage
def vintage_loans(session: Session, brand_id: str, as_of: date) -> list[pf.VintageLoan]:
    """Every loan of the brand disbursed by ``as_of`` (cooling-off exits left out), with the dates its DPD first
    went above 30 and 90 (``domain.portfolio.reached_dpd_on``, from its schedule)."""
    i = RepaymentInstallment
    loans = session.execute(
        select(Loan.id, _ist_date(Loan.disbursed_at), Loan.amount).where(
            Loan.brand_id == brand_id,
            Loan.disbursed_at.is_not(None),
            Loan.disbursed_at < start_of(as_of + timedelta(days=1)),
            Loan.status != "CANCELLED",
        )
    ).all()
    schedules: dict[str, list[tuple[date, date | None]]] = {}
    for loan_id, due, paid in session.execute(
        select(i.loan_id, i.due_date, _ist_date(i.paid_at))
        .join(Loan, Loan.id == i.loan_id)
        .where(Loan.brand_id == brand_id, Loan.disbursed_at.is_not(None), i.due_date.is_not(None))
    ).all():
        schedules.setdefault(loan_id, []).append((due, paid))
    return [
        pf.VintageLoan(
            on,
            amount,
            {days: pf.reached_dpd_on(schedules.get(loan_id, []), days, as_of) for days in pf.VINTAGE_DAYS},
        )
        for loan_id, on, amount in loans
    ]


def vintage(session: Session, brand_id: str, as_of: date) -> dict[str, Any]:
    cohorts = pf.vintage(vintage_loans(session, brand_id, as_of), as_of)

    def points(curve: Iterable[pf.VintagePoint]) -> list[dict[str, Any]]:
        return [
            {
                "monthsOnBook": p.months_on_book,
                "loans": p.loans,
                "principalPaise": p.principal,
                "percentPrincipal": pct(p.percent_principal),
                "percentLoans": pct(p.percent_loans),
            }
            for p in curve
        ]

    return {
        "asOf": as_of.isoformat(),
        "cohorts": [
            {
                "month": c.month,
                "loans": c.loans,
                "principalPaise": c.principal,
                "dpd30": points(c.curves[30]),
                "dpd90": points(c.curves[90]),
            }
            for c in cohorts
        ],
    }


# ------------------------------------------------------------------------------------------- snapshots
def take_snapshot(session: Session, brand_id: str, as_of: date) -> bool:
    """Write the brand's summary for the month to ``as_of`` (its first day to ``as_of``) as the snapshot of
    ``as_of``, once: a snapshot already written for that day is left as it is. True when this call wrote it."""
    figures = summary(session, brand_id, as_of.replace(day=1), as_of)
    written = session.execute(
        pg_insert(PortfolioSnapshot)
        .values(id=new_id(), brand_id=brand_id, as_of=as_of, figures=figures)
        .on_conflict_do_nothing(index_elements=["brand_id", "as_of"])
        .returning(PortfolioSnapshot.id)
    ).first()
    return written is not None


def snapshot_of(session: Session, brand_id: str, as_of: date) -> PortfolioSnapshot | None:
    return session.scalars(
        select(PortfolioSnapshot).where(PortfolioSnapshot.brand_id == brand_id, PortfolioSnapshot.as_of == as_of)
    ).first()


def active_brands(session: Session) -> list[str]:
    """Every active brand's id, in a stable order (the snapshot's one activity per brand)."""
    return [str(b) for b in session.scalars(select(Brand.id).where(Brand.is_active.is_(True)).order_by(Brand.code))]
