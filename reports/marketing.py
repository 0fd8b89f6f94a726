"""Marketing and lead reports. Two kinds of lead are counted side by side: the customers who signed up (their
source the ``utm`` captured at sign-up, ``customers.utm``, their stage ``customers.onboarding_step``; the funnel
counts the loans they applied for) and the lead forms uploaded from the ad platforms (``lead_forms``: paid or
organic, campaign, ad set, status; ``reports/marketing_leads.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, DateTime, Integer, Numeric, Select, cast, func, literal, null, select, text, union_all

from db.models import Customer, LeadForm, Loan, LoanStatusHistory, PaymentTransaction
from reports.base import Range, Report, Spec, cols, in_range
from reports.loans_base import utm
from reports.marketing_leads import (
    LEAD_COLUMNS,
    LEAD_NAMES,
    lead_counts,
    lead_date,
    lead_forms,
    lead_medium,
    lead_source,
    lead_stages,
)

NOTE = (
    "Sign-ups are the customers who signed up in the range, their source the utm captured at sign-up ('(none)' "
    "when absent) and their stage the onboarding step. Lead forms are the uploaded ad-platform leads dated in the "
    "range (the platform's date, else the import's), keyed as source = the platform in lower case ('facebook'), "
    "medium = 'paid' or 'organic', campaign = the campaign's name: a row holds both when the keys are equal."
)


NO_KEY = "\x01"  # a key that is null, where keys are compared (no utm or campaign holds it)


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
    matched = LeadForm.customer_id == Customer.id
    latest = (
        select(LeadForm.campaign_name, LeadForm.ad_set_name, lead_medium().label("kind"))
        .where(matched)
        .order_by(lead_date().desc(), LeadForm.id.desc())
        .limit(1)
        .lateral("lead")
    )
    forms = select(func.count()).select_from(LeadForm).where(matched).scalar_subquery()
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
            forms.label("lead_forms"),
            latest.c.kind.label("lead_kind"),
            latest.c.campaign_name.label("lead_campaign"),
            latest.c.ad_set_name.label("lead_ad_set"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .outerjoin(latest, literal(True))
        .where(_leads(brand_id, span))
        .order_by(Customer.created_at, Customer.id)
    )


def _with_lead_forms(signups: Any, forms: Any, keys: tuple[str, ...], counts: tuple[str, ...]) -> Select[Any]:
    """Sign-up counts and lead-form counts side by side: a full join on ``keys`` (null equal to null), the keys
    from whichever side has the row, every count 0 where its side has none; ordered by the keys (nulls first)."""
    # null equal to null, as an equality PostgreSQL can hash-join (IS NOT DISTINCT FROM cannot be full-joined)
    on = [func.coalesce(signups.c[k], NO_KEY) == func.coalesce(forms.c[k], NO_KEY) for k in keys]
    key_cols = [func.coalesce(signups.c[k], forms.c[k]).label(k) for k in keys]
    return (
        select(
            *key_cols,
            *(func.coalesce(signups.c[n], 0).label(n) for n in counts),
            *(func.coalesce(forms.c[n], 0).label(n) for n in LEAD_NAMES),
        )
        .select_from(signups)
        .join(forms, and_all(on), full=True)
        .order_by(*(c.nulls_first() for c in key_cols))
    )


def and_all(conditions: list[Any]) -> Any:
    """The conjunction of ``conditions`` (SQL)."""
    out = conditions[0]
    for condition in conditions[1:]:
        out = out & condition
    return out


def _campaigns(brand_id: str, span: Range) -> Select[Any]:
    pc = _per_customer()
    source, medium, campaign = _source(), utm("utm_medium"), utm("utm_campaign")
    signups = (
        select(
            source.label("utm_source"),
            medium.label("utm_medium"),
            campaign.label("utm_campaign"),
            func.count().label("registrations"),
            func.count(pc.c.customer_id).label("applied"),
            func.count().filter(pc.c.disbursed > 0).label("disbursed"),
            func.coalesce(func.sum(pc.c.disbursed_amount), 0).label("disbursed_amount"),
        )
        .select_from(Customer)
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(source, medium, campaign)
        .subquery("signups")
    )
    forms = lead_forms(
        brand_id,
        span,
        lead_source().label("utm_source"),
        lead_medium().label("utm_medium"),
        LeadForm.campaign_name.label("utm_campaign"),
    )
    keys = ("utm_source", "utm_medium", "utm_campaign")
    return _with_lead_forms(signups, forms, keys, ("registrations", "applied", "disbursed", "disbursed_amount"))


def _analysis(brand_id: str, span: Range) -> Select[Any]:
    pc = _per_customer()
    source = _source()
    signups = (
        select(
            source.label("utm_source"),
            func.count().label("registrations"),
            func.count().filter(Customer.pan_verified).label("pan_verified"),
            func.count(pc.c.customer_id).label("applied"),
            func.count().filter(pc.c.rejected > 0).label("rejected"),
            func.count().filter(pc.c.disbursed > 0).label("disbursed"),
        )
        .select_from(Customer)
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(source)
        .subquery("signups")
    )
    forms = lead_forms(brand_id, span, lead_source().label("utm_source"))
    both = _with_lead_forms(
        signups, forms, ("utm_source",), ("registrations", "pan_verified", "applied", "rejected", "disbursed")
    ).subquery("both")
    conversion = func.round(cast(both.c.disbursed, Numeric) * 100 / func.nullif(both.c.registrations, 0), 2)
    names = ("utm_source", "registrations", "pan_verified", "applied", "rejected", "disbursed")
    return select(
        *(both.c[n] for n in names), conversion.label("conversion_pct"), *(both.c[n] for n in LEAD_NAMES)
    ).order_by(both.c.utm_source)


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
    leads = select(*lead_counts()).where(LeadForm.brand_id == brand_id, on_day(lead_date())).lateral("leads")
    return (
        select(
            days.c.day,
            count(select(func.count()).where(Customer.brand_id == brand_id, on_day(Customer.created_at))).label(
                "registrations"
            ),
            *(leads.c[n] for n in LEAD_NAMES),
            count(select(func.count()).where(Loan.brand_id == brand_id, on_day(Loan.created_at))).label("applications"),
            count(
                select(func.count())
                .select_from(h)
                .join(Loan, Loan.id == h.loan_id)
                .where(Loan.brand_id == brand_id, h.to_status == "SANCTIONED", on_day(h.created_at))
            ).label("sanctioned"),
            count(select(func.count()).where(Loan.brand_id == brand_id, on_day(Loan.disbursed_at))).label("disbursed"),
            count(
                select(func.coalesce(func.sum(Loan.amount), 0)).where(
                    Loan.brand_id == brand_id, on_day(Loan.disbursed_at)
                )
            ).label("disbursed_amount"),
            count(
                select(func.coalesce(func.sum(p.amount), 0))
                .select_from(p)
                .join(Loan, Loan.id == p.loan_id)
                .where(Loan.brand_id == brand_id, p.status == "SUCCESS", on_day(p.collected_at))
            ).label("collected_amount"),
        )
        .select_from(days)
        .join(leads, literal(True))
        .order_by(days.c.day)
    )


def _lead_totals(brand_id: str, span: Range) -> Any:  # a Select of the columns
    pc = _per_customer()
    signups = (
        select(
            literal("SIGN_UP").label("origin"),
            Customer.onboarding_step.label("stage"),
            func.count().label("leads"),
            cast(null(), Integer).label("paid"),
            cast(null(), Integer).label("organic"),
            func.count(pc.c.customer_id).label("with_loan"),
        )
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .where(_leads(brand_id, span))
        .group_by(Customer.onboarding_step)
    )
    rows = union_all(signups, lead_stages(brand_id, span)).subquery("rows")
    return select(*rows.c).order_by(rows.c.origin.desc(), rows.c.stage)


_FUNNEL: tuple[Spec, ...] = (
    ("registrations", "number", "customers who signed up"),
    ("applied", "number", "of them, those who applied for a loan"),
    ("disbursed", "number", "of them, those with a disbursed loan"),
)

REPORTS = (
    Report(
        "marketing-report",
        "Marketing",
        "Customers who signed up in the range with their source (utm), how far they went, and the uploaded lead "
        "form they came from, if any.",
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
            ("lead_forms", "number", "uploaded lead forms matched to the customer (ever)"),
            ("lead_kind", "text", "paid or organic: their latest matched lead form's kind"),
            ("lead_campaign", "text", "its campaign"),
            ("lead_ad_set", "text", "its ad set"),
        ),
        _marketing,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "internal-marketing-report",
        "Campaign funnel",
        "Sign-ups in the range by source, medium and campaign: how many applied, how many were disbursed, and how "
        "much; next to them the lead forms of the same source, kind (medium) and campaign, by status.",
        "customers.created_at (sign-up); lead_forms: the platform's date, else the import",
        cols(
            ("utm_source", "text", "source ('(none)': direct)"),
            ("utm_medium", "text", "medium"),
            ("utm_campaign", "text", "campaign"),
            *_FUNNEL,
            ("disbursed_amount", "paise", "principal disbursed to them"),
            *LEAD_COLUMNS,
        ),
        _campaigns,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "internal-marketing-analysis-report",
        "Source analysis",
        "Sign-ups in the range by source: PAN verified, applied, rejected, disbursed and the conversion rate; next "
        "to them the lead forms of the same source, paid and organic, by status.",
        "customers.created_at (sign-up); lead_forms: the platform's date, else the import",
        cols(
            ("utm_source", "text", "source ('(none)': direct)"),
            ("registrations", "number", "customers who signed up"),
            ("pan_verified", "number", "of them, with a verified PAN"),
            ("applied", "number", "of them, those who applied for a loan"),
            ("rejected", "number", "of them, those with a rejected loan"),
            ("disbursed", "number", "of them, those with a disbursed loan"),
            ("conversion_pct", "number", "disbursed / registrations, percent (2 decimals; null: no sign-up)"),
            *LEAD_COLUMNS,
        ),
        _analysis,
        family="marketing",
        note=NOTE,
    ),
    Report(
        "daily-marketing-mis-report",
        "Daily MIS",
        "One row per IST day of the range: sign-ups, lead forms, applications, sanctions, disbursals and collections.",
        "each table's own date (sign-up, lead form, application, sanction, disbursal, payment), per IST day",
        cols(
            ("day", "date", "the IST day"),
            ("registrations", "number", "customers who signed up"),
            *LEAD_COLUMNS,
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
        "Sign-ups in the range by the onboarding step they reached, then the lead forms dated in the range by "
        "status (paid and organic); how many of each applied for a loan.",
        "customers.created_at (sign-up); lead_forms: the platform's date, else the import",
        cols(
            ("origin", "text", "SIGN_UP (customers) or LEAD_FORM (uploaded lead forms)"),
            ("stage", "text", "the onboarding step reached, or the lead form's status (NEW, DUPLICATE, ...)"),
            ("leads", "number", "customers, or lead forms"),
            ("paid", "number", "lead forms from paid ads (null for sign-ups)"),
            ("organic", "number", "organic lead forms (null for sign-ups)"),
            ("with_loan", "number", "of them, those who applied for a loan (a lead form: its matched customer)"),
        ),
        _lead_totals,
        family="marketing",
        note=NOTE,
    ),
)
