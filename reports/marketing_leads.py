"""The uploaded lead forms (``lead_forms``: Facebook Lead Ads exports, docs/operations.md "Lead forms") as the
marketing reports count them, next to the sign-ups (``reports/marketing.py``).

A lead form's date is the day the platform dated the lead (``lead_created_at``), or its import when the file had
none; its keys, to meet the sign-ups' utm: source = the lead's source in lower case (``facebook``), medium =
``paid`` or ``organic``, campaign = the campaign's name. Its status: NEW (not yet synced), DUPLICATE (its phone or
e-mail was already a lead or a customer), PROCESSED (matched to a customer), FAILED (no customer matched).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal, select

from db.models import LeadForm, Loan
from reports.base import Range, Spec, in_range

LEAD_COLUMNS: tuple[Spec, ...] = (
    ("leads", "number", "lead forms uploaded, dated in the range (paid and organic)"),
    ("paid_leads", "number", "of them, from paid ads"),
    ("organic_leads", "number", "of them, organic"),
    ("leads_processed", "number", "of them, PROCESSED: matched to a customer"),
    ("leads_duplicate", "number", "of them, DUPLICATE: already a lead or a customer"),
    ("leads_failed", "number", "of them, FAILED: no customer matched (the rest are NEW, not yet synced)"),
)
LEAD_NAMES = tuple(name for name, _, _ in LEAD_COLUMNS)


def lead_date() -> Any:
    """A lead form's instant: as the platform dated it, else its import (SQL)."""
    return func.coalesce(LeadForm.lead_created_at, LeadForm.created_at)


def lead_source() -> Any:
    """A lead form's source as a utm_source reads (``FACEBOOK`` → ``facebook``)."""
    return func.lower(LeadForm.source)


def lead_medium() -> Any:
    """``paid`` or ``organic``: the lead form's kind, where a sign-up has its utm_medium."""
    return case((LeadForm.is_paid, "paid"), else_="organic")


def lead_counts() -> list[Any]:
    """The six counts of ``LEAD_COLUMNS`` over the lead forms grouped by the caller (SQL expressions, labelled)."""
    status = LeadForm.status
    return [
        func.count().label("leads"),
        func.count().filter(LeadForm.is_paid).label("paid_leads"),
        func.count().filter(~LeadForm.is_paid).label("organic_leads"),
        func.count().filter(status == "PROCESSED").label("leads_processed"),
        func.count().filter(status == "DUPLICATE").label("leads_duplicate"),
        func.count().filter(status == "FAILED").label("leads_failed"),
    ]


def lead_forms(brand_id: str, span: Range, *keys: Any) -> Any:
    """The brand's lead forms dated in ``span``, grouped by ``keys`` (labelled SQL expressions), with the six
    counts: a subquery named ``lead_forms_by``."""
    return (
        select(*keys, *lead_counts())
        .where(LeadForm.brand_id == brand_id, in_range(lead_date(), span))
        .group_by(*keys)
        .subquery("lead_forms_by")
    )


def lead_stages(brand_id: str, span: Range) -> Any:
    """The brand's lead forms dated in ``span`` by status: origin ``LEAD_FORM``, stage = the status, leads, paid and
    organic, and with_loan (matched to a customer who has applied for a loan)."""
    has_loan = select(Loan.id).where(Loan.customer_id == LeadForm.customer_id).exists()
    return (
        select(
            literal("LEAD_FORM").label("origin"),
            LeadForm.status.label("stage"),
            func.count().label("leads"),
            func.count().filter(LeadForm.is_paid).label("paid"),
            func.count().filter(~LeadForm.is_paid).label("organic"),
            func.count().filter(has_loan).label("with_loan"),
        )
        .where(LeadForm.brand_id == brand_id, in_range(lead_date(), span))
        .group_by(LeadForm.status)
    )
