"""Lead forms: the queries and row shapes behind the routes of ``api/partner/leads.py``: a lead as the list and the
detail answer it, the filters as SQL, the stats cards, which phones and e-mails the brand already knows (dedup), the
row an uploaded line is stored as, the brand's upload/sync lock and the CSV export's columns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from api.deps import is_uuid
from api.partner.common import iso
from api.partner.leads_schemas import LeadFilters
from db.models import Customer, LeadForm
from domain.errors import NotFound
from domain.leads import LeadRow
from reports.output import FORMULA_START
from workflows.options import IST


def lead_row(lead: LeadForm) -> dict[str, Any]:
    """A lead as the list answers it (``LeadRowOut``, camelCase keys; times ISO 8601)."""
    return {
        "id": lead.id,
        "source": lead.source,
        "isPaid": lead.is_paid,
        "status": lead.status,
        "fullName": lead.full_name,
        "phone": lead.phone,
        "email": lead.email,
        "campaignName": lead.campaign_name,
        "adSetName": lead.ad_set_name,
        "formName": lead.form_name,
        "customerId": lead.customer_id,
        "failureReason": lead.failure_reason,
        "batchId": lead.batch_id,
        "leadCreatedAt": iso(lead.lead_created_at),
        "createdAt": iso(lead.created_at),
    }


def lead_detail(lead: LeadForm) -> dict[str, Any]:
    """A lead with its campaign, ad set, ad and form ids and the form's other answers (``LeadDetail``)."""
    responses = lead.responses or {}
    ad = responses.get("ad") or {}
    return {
        **lead_row(lead),
        "externalId": lead.external_id,
        "campaign": {
            "campaignId": ad.get("campaign_id"),
            "campaignName": lead.campaign_name,
            "adSetId": ad.get("adset_id"),
            "adSetName": lead.ad_set_name,
            "adId": ad.get("ad_id"),
            "adName": lead.ad_name,
            "formId": ad.get("form_id"),
            "formName": lead.form_name,
            "platform": ad.get("platform"),
        },
        "responses": {str(k): str(v) for k, v in (responses.get("answers") or {}).items()},
        "processedAt": iso(lead.processed_at),
    }


def find_lead(session: Session, brand_id: str, lead_id: str, *, lock: bool = False) -> LeadForm:
    """The brand's lead ``lead_id`` (locked FOR UPDATE with ``lock``); NotFound (404) for another brand's or none."""
    lead = session.get(LeadForm, lead_id, with_for_update=lock) if is_uuid(lead_id) else None
    if lead is None or lead.brand_id != brand_id:
        raise NotFound("lead not found")
    return lead


def like_pattern(value: str) -> str:
    """``value`` as an ILIKE pattern matching it anywhere, its ``%``, ``_`` and ``\\`` escaped (escape ``\\``)."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(brand_id: str, f: LeadFilters, *, with_status: bool = True) -> Select:
    """The brand's leads matching ``f`` (dates are IST days of the import; ``with_status=False`` ignores the status
    filter, for the stats cards); a search matches the name, the e-mail or the phone's digits."""
    q = select(LeadForm).where(LeadForm.brand_id == brand_id)
    if with_status and f.status:
        q = q.where(LeadForm.status == f.status.value)
    if f.source:
        q = q.where(LeadForm.source == f.source)
    if f.is_paid is not None:
        q = q.where(LeadForm.is_paid.is_(f.is_paid))
    if f.batch_id:
        q = q.where(LeadForm.batch_id == f.batch_id)
    if f.from_date:
        q = q.where(LeadForm.created_at >= datetime.combine(f.from_date, time(), IST))
    if f.to_date:
        q = q.where(LeadForm.created_at < datetime.combine(f.to_date + timedelta(days=1), time(), IST))
    if f.search:
        term = f.search.strip()
        conds = [
            LeadForm.full_name.ilike(like_pattern(term), escape="\\"),
            LeadForm.email.ilike(like_pattern(term), escape="\\"),
        ]
        digits = "".join(ch for ch in term if ch.isdigit())
        if term.startswith("+91"):
            digits = digits[2:]  # stored as the 10 digits
        if len(digits) >= 3:
            conds.append(LeadForm.phone.like(like_pattern(digits[-10:]), escape="\\"))
        q = q.where(or_(*conds))
    return q


def lead_stats(session: Session, query: Select) -> dict[str, int]:
    """Counts over ``query``'s leads: total, by status (new, processed, failed, duplicate), paid and organic."""
    sub = query.order_by(None).subquery()
    counts = session.execute(select(sub.c.status, func.count()).group_by(sub.c.status))
    by_status: dict[str, int] = {status: n for status, n in counts}
    paid = session.scalar(select(func.count()).select_from(sub).where(sub.c.is_paid.is_(True))) or 0
    total = sum(by_status.values())
    return {
        "total": total,
        "new": by_status.get("NEW", 0),
        "processed": by_status.get("PROCESSED", 0),
        "failed": by_status.get("FAILED", 0),
        "duplicate": by_status.get("DUPLICATE", 0),
        "paid": paid,
        "organic": total - paid,
    }


def known_contacts(
    session: Session, brand_id: str, phones: set[str], emails: set[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Which of ``phones`` and ``emails`` the brand already has, as a lead or a customer (→ what it is)."""
    by_phone: dict[str, str] = {}
    by_email: dict[str, str] = {}
    phone_list, email_list = sorted(phones), sorted(emails)
    for start in range(0, max(len(phone_list), len(email_list)), 5000):
        ps, es = phone_list[start : start + 5000], email_list[start : start + 5000]
        if ps:
            for (p,) in session.execute(
                select(Customer.phone).where(Customer.brand_id == brand_id, Customer.phone.in_(ps))
            ):
                by_phone[p] = "a customer"
            for lead_phone in session.scalars(
                select(LeadForm.phone).where(LeadForm.brand_id == brand_id, LeadForm.phone.in_(ps))
            ):
                by_phone.setdefault(lead_phone or "", "a lead")
        if es:
            c_email = func.lower(Customer.email)
            for (e,) in session.execute(select(c_email).where(Customer.brand_id == brand_id, c_email.in_(es))):
                by_email[e] = "a customer"
            for lead_email in session.scalars(
                select(LeadForm.email).where(LeadForm.brand_id == brand_id, LeadForm.email.in_(es))
            ):
                by_email.setdefault(lead_email or "", "a lead")
    return by_phone, by_email


def lead_record(brand_id: str, batch_id: str, row: LeadRow, status: str, reason: str | None) -> dict[str, Any]:
    """The ``lead_forms`` row an uploaded line is stored as (source FACEBOOK, paid unless organic; text cut to the
    column's size; a creation time without a zone read as UTC)."""
    ad = {
        "ad_id": row.ad_id,
        "adset_id": row.adset_id,
        "campaign_id": row.campaign_id,
        "form_id": row.form_id,
        "platform": row.platform,
    }
    return {
        "id": str(uuid.uuid4()),
        "brand_id": brand_id,
        "source": "FACEBOOK",
        "is_paid": not row.is_organic,
        "external_id": (row.external_id or "")[:80] or None,
        "campaign_name": (row.campaign_name or "")[:200] or None,
        "ad_set_name": (row.adset_name or "")[:200] or None,
        "ad_name": (row.ad_name or "")[:200] or None,
        "form_name": (row.form_name or "")[:200] or None,
        "full_name": (row.full_name or "")[:200] or None,
        "phone": row.phone,
        "email": row.email,
        "responses": {"answers": row.responses, "ad": {k: v for k, v in ad.items() if v}},
        "status": status,
        "failure_reason": reason,
        "batch_id": batch_id,
        "lead_created_at": row.created_time
        if row.created_time is None or row.created_time.tzinfo
        else row.created_time.replace(tzinfo=UTC),
    }


def brand_lock(session: Session, brand_id: str) -> None:
    """One upload or sync of a brand at a time (two at once would both miss each other's duplicates)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"lead-forms:{brand_id}"})


EXPORT_COLUMNS = (
    ("id", "id"),
    ("createdAt", "created_at"),
    ("leadCreatedAt", "lead_created_at"),
    ("status", "status"),
    ("source", "source"),
    ("isPaid", "is_paid"),
    ("fullName", "full_name"),
    ("phone", "phone"),
    ("email", "email"),
    ("campaignName", "campaign_name"),
    ("adSetName", "ad_set_name"),
    ("adName", "ad_name"),
    ("formName", "form_name"),
    ("customerId", "customer_id"),
    ("failureReason", "failure_reason"),
    ("batchId", "batch_id"),
)


def csv_cell(value: Any) -> str:
    """One export cell: empty for None, true/false, ISO times; a text a spreadsheet would run as a formula gets a
    leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    out = str(value)
    return "'" + out if out.startswith(FORMULA_START) else out  # no formula for a spreadsheet to run
