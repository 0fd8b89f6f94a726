"""The dashboards' SQL, shared by the staff API (``api/partner/dashboard.py``) and the daily portfolio snapshot
(``activities/portfolio.py``): every figure of one brand, read from the loan rows, their schedules, payments,
ledger and collections records, and handed to ``domain.portfolio`` for the ratios. Plain values in, JSON-ready
dicts out (paise as integers, percentages as decimal strings or null, dates ISO); every function works in the
caller's transaction. Definitions and sources: docs/dashboards.md.

Here: the book now, the period's summary and stats, and the daily snapshot; the analyses (customers by source,
collections, disbursals, staff) are ``db/portfolio_analysis.py``, the vintage curves ``db/portfolio_vintage.py``.

Periods are IST calendar dates, both ends included: ``[from 00:00 IST, to + 1 day 00:00 IST)``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.models import (
    Brand,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanStatusHistory,
    PaymentTransaction,
    PortfolioSnapshot,
    RepaymentInstallment,
    new_id,
)
from domain import portfolio as pf

IST = timezone(timedelta(hours=5, minutes=30), "IST")
REPAYING = tuple(sorted(pf.REPAYING))
# Loans that were disbursed and whose schedule counts for collection efficiency (a cooling-off exit is not billed).
BILLED = (*REPAYING, "COMPLETED", "SETTLED", "WRITTEN_OFF")


def start_of(day: date) -> datetime:
    """00:00 IST of ``day``."""
    return datetime.combine(day, time.min, IST)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants of the IST dates ``start``..``end`` (both included): [start 00:00 IST, end + 1 00:00 IST)."""
    return start_of(start), start_of(end + timedelta(days=1))


def today_ist() -> date:
    """Today's IST date."""
    return datetime.now(IST).date()


def pct(value: Decimal | None) -> str | None:
    """A percentage as the JSON answers carry it: a decimal string, or null when undefined."""
    return None if value is None else str(value)


def ist_date(column: Any) -> Any:
    """The IST calendar date of a timestamp column, in SQL."""
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


def book_now(session: Session, brand_id: str) -> dict[str, Any]:
    """The book now in one statement: AUM and loans on book, PAR 30/60/90 and GNPA (loans, principal, % of AUM), the
    definitions of ``domain.portfolio`` (``aum``, ``par``, ``gnpa``) as SQL aggregates over the loans being repaid,
    so no row per loan is read; the ratios are ``domain.portfolio.percent``. Same figures as the domain functions
    over :func:`positions` (``tests/integration/test_dashboard.py``)."""
    principal = Loan.outstanding_principal
    at_risk = {f"par{d}": Loan.dpd > d for d in pf.PAR_DAYS} | {"gnpa": Loan.asset_class == "NPA"}
    columns: list[Any] = [func.count(), func.coalesce(func.sum(principal), 0)]
    for cond in at_risk.values():
        columns += [func.count().filter(cond), func.coalesce(func.sum(principal).filter(cond), 0)]
    row = session.execute(select(*columns).where(Loan.brand_id == brand_id, Loan.status.in_(REPAYING))).one()
    loans, aum = int(row[0]), int(row[1])
    out: dict[str, Any] = {"aumPaise": aum, "loansOnBook": loans}
    for n, key in enumerate(at_risk):
        count, amount = int(row[2 + 2 * n]), int(row[3 + 2 * n])
        out[key] = _at_risk(pf.AtRisk(count, amount, pf.percent(amount, aum)))
    return out


def _at_risk(risk: pf.AtRisk) -> dict[str, Any]:
    return {"loans": risk.loans, "principalPaise": risk.principal, "percent": pct(risk.percent)}


def billing(session: Session, brand_id: str, start: date, end: date) -> pf.Efficiency:
    """Current collection efficiency of the installments due ``start``..``end`` (IST due dates), as collected now.
    Summed in SQL, each installment's collection capped at its billing as ``domain.portfolio.collection_efficiency``
    does, and handed to it as one line (the same sums)."""
    i = RepaymentInstallment
    amount = i.principal + i.interest + i.fees
    billed, got = session.execute(
        select(
            func.coalesce(func.sum(amount), 0),
            func.coalesce(func.sum(func.least(i.principal_paid + i.interest_paid + i.fees_paid, amount)), 0),
        )
        .join(Loan, Loan.id == i.loan_id)
        .where(Loan.brand_id == brand_id, Loan.status.in_(BILLED), i.due_date >= start, i.due_date <= end)
    ).one()
    return pf.collection_efficiency([pf.Billing(int(billed), int(got))])


def overall_billing(session: Session, brand_id: str, start: date, end: date) -> pf.Efficiency:
    """Overall collection efficiency of the period ``start``..``end`` (IST dates), by amount
    (``domain.portfolio.overall_collection_efficiency``: collected towards dues in the period ÷ due in the period,
    opening arrears included, anything paid ahead netted). Loans: the brand's billed ones (``BILLED``) disbursed by
    the period's end and not closed before its start. Per loan: principal + interest + fees of its installments due
    by ``end``; the principal, interest and fees parts of its successful payments before the period and in it
    (advance and excess parts are prepayments, left out). ``Efficiency.billed`` is the due (paise).

    One statement answering one row: the per-loan terms of the domain's formula, due = max(0, billed − paid
    before) and collected = min(paid within, due), are computed and summed in SQL, and ``domain.portfolio`` takes
    the totals as one line (the same sums: collected never exceeds due). Reading a row per loan into Python cost
    about as much as the query itself with 10,000 loans (bench/console.py)."""
    lo, hi = bounds(start, end)
    i, p = RepaymentInstallment, PaymentTransaction
    billed = (
        select(i.loan_id, func.sum(i.principal + i.interest + i.fees).label("amount"))
        .where(i.due_date <= end)
        .group_by(i.loan_id)
        .subquery("billed")
    )
    dues_paid = p.principal_part + p.interest_part + p.fees_part
    paid = (
        select(
            p.loan_id,
            func.coalesce(func.sum(dues_paid).filter(p.collected_at < lo), 0).label("before"),
            func.coalesce(func.sum(dues_paid).filter(p.collected_at >= lo, p.collected_at < hi), 0).label("within"),
        )
        .where(p.status == "SUCCESS", p.collected_at < hi)
        .group_by(p.loan_id)
        .subquery("paid")
    )
    owed = func.greatest(func.coalesce(billed.c.amount, 0) - func.coalesce(paid.c.before, 0), 0)
    per_loan = (
        select(owed.label("due"), func.least(func.coalesce(paid.c.within, 0), owed).label("collected"))
        .select_from(Loan)
        .outerjoin(billed, billed.c.loan_id == Loan.id)
        .outerjoin(paid, paid.c.loan_id == Loan.id)
        .where(
            Loan.brand_id == brand_id,
            Loan.status.in_(BILLED),
            Loan.disbursed_at < hi,
            or_(Loan.closed_at.is_(None), Loan.closed_at >= lo),
        )
        .subquery("per_loan")
    )
    due, got = session.execute(
        select(func.coalesce(func.sum(per_loan.c.due), 0), func.coalesce(func.sum(per_loan.c.collected), 0))
    ).one()
    return pf.overall_collection_efficiency([pf.LoanDues(int(due), 0, int(got))])


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


def _closed(session: Session, brand_id: str, start: date, end: date) -> dict[str, tuple[int, int]]:
    """Loans that ended WRITTEN_OFF and SETTLED in the period, by status: their count and the principal written off
    on them (ledger: LOAN_PRINCIPAL credited by their WRITE_OFF postings), in one statement."""
    lo, hi = bounds(start, end)
    ended = (
        select(Loan.id, Loan.status)
        .where(
            Loan.brand_id == brand_id,
            Loan.status.in_(("WRITTEN_OFF", "SETTLED")),
            Loan.closed_at >= lo,
            Loan.closed_at < hi,
        )
        .subquery("ended")
    )
    written = (
        select(LedgerTransaction.loan_id, func.sum(-LedgerEntry.amount).label("amount"))
        .join(LedgerEntry, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.loan_id.in_(select(ended.c.id)),
            LedgerTransaction.kind == "WRITE_OFF",
            LedgerEntry.account == "LOAN_PRINCIPAL_RECEIVABLE",
        )
        .group_by(LedgerTransaction.loan_id)
        .subquery("written")
    )
    rows = session.execute(
        select(ended.c.status, func.count(), func.coalesce(func.sum(written.c.amount), 0))
        .select_from(ended)
        .outerjoin(written, written.c.loan_id == ended.c.id)
        .group_by(ended.c.status)
    ).all()
    found = {str(status): (int(n), int(amount)) for status, n, amount in rows}
    return {status: found.get(status, (0, 0)) for status in ("WRITTEN_OFF", "SETTLED")}


def summary(session: Session, brand_id: str, start: date, end: date) -> dict[str, Any]:
    """The board's page: the book now (AUM, PAR 30/60/90, GNPA) and the period ``start``..``end`` (disbursals,
    collections, current and overall collection efficiency, loans written off and settled)."""
    book = book_now(session, brand_id)
    efficiency = billing(session, brand_id, start, end)
    overall = overall_billing(session, brand_id, start, end)
    ended = _closed(session, brand_id, start, end)
    written_off, written_off_principal = ended["WRITTEN_OFF"]
    settled, settled_principal = ended["SETTLED"]
    return {
        "fromDate": start.isoformat(),
        "toDate": end.isoformat(),
        "aumPaise": book["aumPaise"],
        "loansOnBook": book["loansOnBook"],
        "disbursals": disbursed(session, brand_id, start, end),
        "collections": collected(session, brand_id, start, end),
        "collectionEfficiency": {
            "billedPaise": efficiency.billed,
            "collectedPaise": efficiency.collected,
            "percent": pct(efficiency.percent),
        },
        "overallCollectionEfficiency": {
            "duePaise": overall.billed,
            "collectedPaise": overall.collected,
            "percent": pct(overall.percent),
        },
        "par30": book["par30"],
        "par60": book["par60"],
        "par90": book["par90"],
        "gnpa": book["gnpa"],
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
    """The brand's snapshot written for the IST day ``as_of``, or None."""
    return session.scalars(
        select(PortfolioSnapshot).where(PortfolioSnapshot.brand_id == brand_id, PortfolioSnapshot.as_of == as_of)
    ).first()


def first_snapshot_day(session: Session, brand_id: str) -> date | None:
    """The IST day of the brand's first snapshot, or None before any."""
    return session.scalar(select(func.min(PortfolioSnapshot.as_of)).where(PortfolioSnapshot.brand_id == brand_id))


def active_brands(session: Session) -> list[str]:
    """Every active brand's id, in a stable order (the snapshot's one activity per brand)."""
    return [str(b) for b in session.scalars(select(Brand.id).where(Brand.is_active.is_(True)).order_by(Brand.code))]
