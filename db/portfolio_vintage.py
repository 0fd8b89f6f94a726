"""The vintage curves of one brand (``api/partner/dashboard.py``): its loans by month of disbursal, and the share
of each cohort that reached 30 and 90 DPD by each month on book (``domain.portfolio.vintage``). Definitions and
sources: docs/dashboards.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Loan, PaymentTransaction, RepaymentInstallment
from db.portfolio import ist_date, pct, start_of
from domain import portfolio as pf


# ------------------------------------------------------------------------------------------- vintage
def vintage_loans(session: Session, brand_id: str, as_of: date) -> list[pf.VintageLoan]:
    """Every loan of the brand disbursed by ``as_of`` (cooling-off exits left out), with the dates its DPD first
    went above 30 and 90 (``domain.portfolio.reached_dpd_on``): from its schedule (principal and interest billed and
    paid, in installment order) and its successful payments' principal and interest parts by IST day, which date
    when each installment's principal and interest were cleared (``principal_interest_cleared_on``)."""
    i, p = RepaymentInstallment, PaymentTransaction
    disbursed = (Loan.brand_id == brand_id) & Loan.disbursed_at.is_not(None)
    loans = session.execute(
        select(Loan.id, ist_date(Loan.disbursed_at), Loan.amount).where(
            disbursed,
            Loan.disbursed_at < start_of(as_of + timedelta(days=1)),
            Loan.status != "CANCELLED",
        )
    ).all()
    schedules: dict[str, list[pf.ScheduledDue]] = {}
    for loan_id, due, owed, paid, paid_on in session.execute(
        select(
            i.loan_id,
            i.due_date,
            i.principal + i.interest,
            i.principal_paid + i.interest_paid,
            ist_date(i.paid_at),
        )
        .join(Loan, Loan.id == i.loan_id)
        .where(disbursed, i.due_date.is_not(None))
        .order_by(i.loan_id, i.installment_no)
    ).all():
        schedules.setdefault(loan_id, []).append(pf.ScheduledDue(due, int(owed), int(paid), paid_on))
    payments: dict[str, list[tuple[date, int]]] = {}
    for loan_id, on, amount in session.execute(
        select(p.loan_id, ist_date(p.collected_at), p.principal_part + p.interest_part)
        .join(Loan, Loan.id == p.loan_id)
        .where(disbursed, p.status == "SUCCESS")
    ).all():
        payments.setdefault(loan_id, []).append((on, int(amount or 0)))
    out = []
    for loan_id, on, amount in loans:
        cleared = pf.principal_interest_cleared_on(schedules.get(loan_id, []), payments.get(loan_id, []))
        out.append(
            pf.VintageLoan(on, amount, {days: pf.reached_dpd_on(cleared, days, as_of) for days in pf.VINTAGE_DAYS})
        )
    return out


def vintage(session: Session, brand_id: str, as_of: date) -> dict[str, Any]:
    """The brand's cohorts as of ``as_of`` (IST): per month of disbursal, loans, principal (paise) and the DPD 30
    and DPD 90 curves (share of principal and of loans, percent strings) by month on book."""
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
