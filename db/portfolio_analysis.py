"""The dashboards' analyses of one brand (``api/partner/dashboard.py``): customers by source, the collection
buckets and collectors, disbursals by day, product and amount band, and the staff's work. Plain values in,
JSON-ready dicts out (paise as integers, percentages as decimal strings or null, dates ISO); every function works in
the caller's transaction; periods are IST calendar dates, both ends included (``db.portfolio.bounds``). Definitions
and sources: docs/dashboards.md.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from db.collections import overdue_paise
from db.models import (
    Brand,
    CollectionAllocation,
    CollectionFollowUp,
    Customer,
    Loan,
    LoanProduct,
    LoanStatusHistory,
    PaymentTransaction,
    StaffBrandRole,
    StaffUser,
)
from db.portfolio import REPAYING, bounds, ist_date, pct, start_of
from domain import portfolio as pf
from domain.brand_config import BrandConfig

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
    """The name of the ``AMOUNT_BANDS`` band a disbursal of ``amount`` paise falls in (lower bound included)."""
    return next(name for name, lo, hi in AMOUNT_BANDS if amount >= lo and (hi is None or amount < hi))


def disbursement_analysis(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """Loans disbursed ``start``..``end`` by IST day, by product and by amount band: count, principal, net."""
    lo, hi = bounds(start, end)
    rows = session.execute(
        select(ist_date(Loan.disbursed_at), LoanProduct.code, LoanProduct.name, Loan.amount, Loan.net_disbursed)
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
