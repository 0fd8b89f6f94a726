"""Marketing and lead reports. There is no leads table yet: a lead is a customer who signed up, its source the
``utm`` captured at sign-up (``customers.utm``), its stage ``customers.onboarding_step``; the funnel counts the
loans those customers applied for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, DateTime, Numeric, Select, cast, func, select, text

from db.models import Customer, Loan, LoanStatusHistory, PaymentTransaction
from reports.base import Range, Report, Spec, cols, in_range
from reports.loans import utm

NOTE = (
    "There is no leads table yet: leads are the customers who signed up in the range, their source the utm "
    "captured at sign-up ('(none)' when absent) and their stage the onboarding step."
)


def _per_customer() -> Any:
    """Each customer's loans: how many, how many rejected, disbursed, and the disbursed principal (paise)."""
    disbursed = Loan.disbursed_at.is_not(None)
    return (
        select(
            Loan.customer_id,
            func.count().label("loans"),
            func.count().filter(Loan.status == "REJECTED").label("rejected"),
            func.count().filter(disbursed).label("disbursed"),
            func.coalesce(func.sum(Loan.amount).filter(disbursed), 0).label("disbursed_amount"),
        )
        .group_by(Loan.customer_id)
        .subquery("per_customer")
    )


def _leads(brand_id: str, span: Range) -> Any:
    return (Customer.brand_id == brand_id) & in_range(Customer.created_at, span)


def _source() -> Any:
    return func.coalesce(utm("utm_source"), "(none)")


def _marketing(brand_id: str, span: Range) -> Select[Any]:
    pc = _per_customer()
    return (
        select(
            Customer.id.label("customer_id"),
            Customer.created_at.label("registered_at"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            utm("utm_source").label("utm_source"),
            utm("utm_medium").label("utm_medium"),
            utm("utm_campaign").label("utm_campaign"),
            Customer.onboarding_step,
            func.coalesce(pc.c.loans, 0).label("loans"),
            func.coalesce(pc.c.disbursed, 0).label("disbursed_loans"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .order_by(Customer.created_at, Customer.id)
    )


def _campaigns(brand_id: str, span: Range) -> Select[Any]:
    pc = _per_customer()
    source, medium, campaign = _source(), utm("utm_medium"), utm("utm_campaign")
    return (
        select(
            source.label("utm_source"),
            medium.label("utm_medium"),
            campaign.label("utm_campaign"),
            func.count().label("registrations"),
            func.count(pc.c.customer_id).label("applied"),
            func.count().filter(pc.c.disbursed > 0).label("disbursed"),
            func.coalesce(func.sum(pc.c.disbursed_amount), 0).label("disbursed_amount"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(source, medium, campaign)
        .order_by(source, medium.nulls_first(), campaign.nulls_first())
    )


def _analysis(brand_id: str, span: Range) -> Select[Any]:
    pc = _per_customer()
    source = _source()
    disbursed = func.count().filter(pc.c.disbursed > 0)
    return (
        select(
            source.label("utm_source"),
            func.count().label("registrations"),
            func.count().filter(Customer.pan_verified).label("pan_verified"),
            func.count(pc.c.customer_id).label("applied"),
            func.count().filter(pc.c.rejected > 0).label("rejected"),
            disbursed.label("disbursed"),
            func.round(cast(disbursed, Numeric) * 100 / func.count(), 2).label("conversion_pct"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(source)
        .order_by(source)
    )


def _daily(brand_id: str, span: Range) -> Select[Any]:
    days = (
        select(
            cast(
                func.generate_series(span.from_date, span.to_date, text("interval '1 day'")),
                Date,
            ).label("day")
        )
    ).subquery("days")
    start = func.timezone("Asia/Kolkata", cast(days.c.day, DateTime()))  # 00:00 IST of the day
    end = func.timezone("Asia/Kolkata", cast(days.c.day + 1, DateTime()))

    def on_day(column: Any) -> Any:
        return (column >= start) & (column < end)

    def count(query: Any) -> Any:
        return query.scalar_subquery()

    h = LoanStatusHistory
    p = PaymentTransaction
    return select(
        days.c.day,
        count(select(func.count()).where(Customer.brand_id == brand_id, on_day(Customer.created_at))).label(
            "registrations"
        ),
        count(select(func.count()).where(Loan.brand_id == brand_id, on_day(Loan.created_at))).label("applications"),
        count(
            select(func.count())
            .select_from(h)
            .join(Loan, Loan.id == h.loan_id)
            .where(Loan.brand_id == brand_id, h.to_status == "SANCTIONED", on_day(h.created_at))
        ).label("sanctioned"),
        count(select(func.count()).where(Loan.brand_id == brand_id, on_day(Loan.disbursed_at))).label("disbursed"),
        count(
            select(func.coalesce(func.sum(Loan.amount), 0)).where(Loan.brand_id == brand_id, on_day(Loan.disbursed_at))
        ).label("disbursed_amount"),
        count(
            select(func.coalesce(func.sum(p.amount), 0))
            .select_from(p)
            .join(Loan, Loan.id == p.loan_id)
            .where(Loan.brand_id == brand_id, p.status == "SUCCESS", on_day(p.collected_at))
        ).label("collected_amount"),
    ).order_by(days.c.day)


def _lead_totals(brand_id: str, span: Range) -> Any:  # a Select of the columns
    pc = _per_customer()
    return (
        select(
            Customer.onboarding_step,
            func.count().label("leads"),
            func.count(pc.c.customer_id).label("with_loan"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(Customer.onboarding_step)
        .order_by(Customer.onboarding_step)
    )


_FUNNEL: tuple[Spec, ...] = (
    ("registrations", "number", "customers who signed up"),
    ("applied", "number", "of them, those who applied for a loan"),
    ("disbursed", "number", "of them, those with a disbursed loan"),
)

REPORTS = (
    Report(
        "marketing-report",
        "Marketing",
        "Customers who signed up in the range with their source (utm) and how far they went.",
        "customers.created_at (sign-up)",
        cols(
            ("customer_id", "text", "the customer"),
            ("registered_at", "datetime", "when they signed up"),
            ("customer_name", "text", "full name"),
            ("phone", "text", "mobile"),
            ("utm_source", "text", "source"),
            ("utm_medium", "text", "medium"),
            ("utm_campaign", "text", "campaign"),
            ("onboarding_step", "text", "the onboarding step reached"),
            ("loans", "number", "loans applied for (ever)"),
            ("disbursed_loans", "number", "loans disbursed (ever)"),
        ),
        _marketing,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "internal-marketing-report",
        "Campaign funnel",
        "Sign-ups in the range by source, medium and campaign: how many applied, how many were disbursed, and how "
        "much.",
        "customers.created_at (sign-up)",
        cols(
            ("utm_source", "text", "source ('(none)': direct)"),
            ("utm_medium", "text", "medium"),
            ("utm_campaign", "text", "campaign"),
            *_FUNNEL,
            ("disbursed_amount", "paise", "principal disbursed to them"),
        ),
        _campaigns,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "internal-marketing-analysis-report",
        "Source analysis",
        "Sign-ups in the range by source: PAN verified, applied, rejected, disbursed and the conversion rate.",
        "customers.created_at (sign-up)",
        cols(
            ("utm_source", "text", "source ('(none)': direct)"),
            ("registrations", "number", "customers who signed up"),
            ("pan_verified", "number", "of them, with a verified PAN"),
            ("applied", "number", "of them, those who applied for a loan"),
            ("rejected", "number", "of them, those with a rejected loan"),
            ("disbursed", "number", "of them, those with a disbursed loan"),
            ("conversion_pct", "number", "disbursed / registrations, percent (2 decimals)"),
        ),
        _analysis,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "daily-marketing-mis-report",
        "Daily MIS",
        "One row per IST day of the range: sign-ups, applications, sanctions, disbursals and collections.",
        "each table's own date (sign-up, application, sanction, disbursal, payment), per IST day",
        cols(
            ("day", "date", "the IST day"),
            ("registrations", "number", "customers who signed up"),
            ("applications", "number", "loans applied for"),
            ("sanctioned", "number", "loans sanctioned"),
            ("disbursed", "number", "loans disbursed"),
            ("disbursed_amount", "paise", "principal disbursed"),
            ("collected_amount", "paise", "successful payments received"),
        ),
        _daily,
        family="marketing",
    ),
    Report(
        "lead-total-report",
        "Lead totals",
        "Sign-ups in the range by the onboarding step they reached, and how many of them applied.",
        "customers.created_at (sign-up)",
        cols(
            ("onboarding_step", "text", "the onboarding step reached"),
            ("leads", "number", "customers"),
            ("with_loan", "number", "of them, those who applied for a loan"),
        ),
        _lead_totals,
        family="marketing",
        note=NOTE,
    ),
)
