"""Lead forms: ad platforms' leads imported from CSV (Facebook Ads), deduplicated, matched to customers, listed,
exported. Under /api/v1/partner/brand/{brandId}/lead-forms (docs/operations.md, "Lead forms").

- ``POST upload``: the Lead Ads export (multipart ``file``, at most 5 MB and 20,000 rows, parsed by
  ``domain.leads``); a row whose phone or e-mail is already a lead or a customer of the brand, or an earlier row of
  the same file, is stored as DUPLICATE, the others as NEW; invalid rows are answered with their line and reason.
- ``POST sync``: NEW leads matched to the brand's customers by phone, then e-mail → PROCESSED with the customer, or
  FAILED with the reason.
- ``GET`` (filters, pagination, stats), ``GET {id}``, ``GET export`` (CSV), ``DELETE bulk``, ``PATCH {id}/status``.

Reads need ``customers.view``, like the customers list: a lead is a would-be customer and shows what the customers
list shows (the phone and e-mail in full). Changes need ``customers.allocate``: leads are the customer pipeline that
sales staff work, not the brand's configuration (``settings.manage``); they are made by a person (no API key) and
audited in the same transaction.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Select, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from activities.storage import content_disposition
from api.access import Allow, audit
from api.deps import MAX_PAGE, is_uuid, page_of
from api.guards import check_text
from api.partner.common import Db, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate, Uuid
from api.web.documents import read_upload
from db.models import Customer, LeadForm
from domain.access import Permission as P
from domain.documents import DocumentTooLarge
from domain.errors import Conflict, NotFound, ValidationError
from domain.leads import LeadFileError, LeadRow, parse_leads
from reports.output import FORMULA_START
from workflows.options import IST

router = staff_router()
Reader = Annotated[Principal, Allow(P.CUSTOMERS_VIEW)]
Writer = Annotated[Principal, Allow(P.CUSTOMERS_ALLOCATE, api_key=False)]
BASE = "/brand/{brand_id}/lead-forms"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_BULK = 500
MAX_ERRORS = 200  # invalid rows listed in an upload's answer (all are counted)
CSV_TYPES = {"", "text/csv", "text/plain", "text/tab-separated-values", "application/vnd.ms-excel"}
CSV_TYPES |= {"application/octet-stream", "application/csv"}
NO_CUSTOMER = "no customer with this phone or email"
CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The leads matching the filters as CSV (header first), streamed as an attachment.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such brand."},
}


class LeadStatus(StrEnum):
    NEW = "NEW"  # seed 000's PENDING: waiting for a sync
    DUPLICATE = "DUPLICATE"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


# ------------------------------------------------------------------------------------------- models
class LeadFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    search: str | None = Field(default=None, min_length=1, max_length=100, description="name, phone or e-mail")
    status: LeadStatus | None = None
    source: str | None = Field(default=None, pattern=r"^[A-Z_]{2,20}$", description="FACEBOOK, ORGANIC...")
    is_paid: bool | None = Field(default=None, alias="isPaid", description="false: organic leads")
    batch_id: Uuid | None = Field(default=None, alias="batchId", description="the upload's batch id")
    from_date: IsoDate | None = Field(default=None, alias="fromDate", description="imported on or after (IST)")
    to_date: IsoDate | None = Field(default=None, alias="toDate", description="imported on or before (IST)")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _range(self) -> LeadFilters:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise ValidationError("must not be before fromDate", field="toDate")
        return self


Filters = Annotated[LeadFilters, Query()]


class RowProblem(ApiModel):
    line: int
    column: str
    reason: str


class UploadOut(ApiModel):
    batch_id: str
    rows: int = Field(description="data rows read (blank lines not counted)")
    created: int = Field(description="stored as NEW")
    duplicates: int = Field(description="stored as DUPLICATE")
    invalid: int = Field(description="rows refused (not stored)")
    errors: list[RowProblem] = Field(description=f"the refused rows' problems (the first {MAX_ERRORS})")


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: Uuid | None = Field(default=None, alias="batchId", description="only this upload's NEW leads")


class SyncOut(ApiModel):
    processed: int
    failed: int


class Campaign(ApiModel):
    campaign_id: str | None
    campaign_name: str | None
    ad_set_id: str | None
    ad_set_name: str | None
    ad_id: str | None
    ad_name: str | None
    form_id: str | None
    form_name: str | None
    platform: str | None


class LeadRowOut(ApiModel):
    id: str
    source: str
    is_paid: bool
    status: str
    full_name: str | None
    phone: str | None
    email: str | None
    campaign_name: str | None
    ad_set_name: str | None
    form_name: str | None
    customer_id: str | None
    failure_reason: str | None
    batch_id: str | None
    lead_created_at: str | None
    created_at: str | None


class LeadDetail(LeadRowOut):
    external_id: str | None
    campaign: Campaign
    responses: dict[str, str] = Field(description="the form's other answers, by question")
    processed_at: str | None


class LeadStats(ApiModel):
    total: int
    new: int
    processed: int
    failed: int
    duplicate: int
    paid: int
    organic: int


class LeadPage(ApiModel):
    items: list[LeadRowOut]
    page: int
    limit: int
    total: int
    stats: LeadStats = Field(description="over the filters other than status")


class BulkDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[Uuid] = Field(min_length=1, max_length=MAX_BULK, description="all of the brand, or nothing")

    @field_validator("ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a lead is listed twice")
        return value


class BulkDeleteOut(ApiModel):
    deleted: int
    ids: list[str]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: LeadStatus = Field(description="NEW (sync it again), FAILED or DUPLICATE; PROCESSED is set by a sync")
    reason: str = Field(min_length=1, max_length=1000, description="why (kept on the lead and audited)")


# ------------------------------------------------------------------------------------------- helpers
def _row(lead: LeadForm) -> dict[str, Any]:
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


def _detail(lead: LeadForm) -> dict[str, Any]:
    responses = lead.responses or {}
    ad = responses.get("ad") or {}
    return {
        **_row(lead),
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


def _find(session: Session, brand_id: str, lead_id: str, *, lock: bool = False) -> LeadForm:
    lead = session.get(LeadForm, lead_id, with_for_update=lock) if is_uuid(lead_id) else None
    if lead is None or lead.brand_id != brand_id:
        raise NotFound("lead not found")
    return lead


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(brand_id: str, f: LeadFilters, *, with_status: bool = True) -> Select:
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
        conds = [LeadForm.full_name.ilike(_like(term), escape="\\"), LeadForm.email.ilike(_like(term), escape="\\")]
        digits = "".join(ch for ch in term if ch.isdigit())
        if term.startswith("+91"):
            digits = digits[2:]  # stored as the 10 digits
        if len(digits) >= 3:
            conds.append(LeadForm.phone.like(_like(digits[-10:]), escape="\\"))
        q = q.where(or_(*conds))
    return q


def _stats(session: Session, query: Select) -> dict[str, int]:
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


def _known(
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


def _record(brand_id: str, batch_id: str, row: LeadRow, status: str, reason: str | None) -> dict[str, Any]:
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


def _brand_lock(session: Session, brand_id: str) -> None:
    """One upload or sync of a brand at a time (two at once would both miss each other's duplicates)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"lead-forms:{brand_id}"})


# ------------------------------------------------------------------------------------------- routes
@router.post(
    f"{BASE}/upload",
    response_model=UploadOut,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_leads(request: Request, brand_id: str, staff: Writer, session: Db) -> dict[str, Any]:
    """Import a Facebook Lead Ads export (multipart ``file``: CSV or TSV, UTF-8 or UTF-16, at most 5 MB and
    20,000 rows). Valid rows are stored NEW, or DUPLICATE when their phone or e-mail is already a lead or a customer
    of the brand or an earlier row of the file; invalid rows are not stored and come back with line and reason."""
    if not (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        raise ValidationError("send multipart/form-data with the CSV in the field file", field="file")
    session.rollback()  # nothing held while the file streams in
    upload = await read_upload(request, limit=MAX_BYTES, fields=("file",))
    try:
        check_text(upload.file_name, "file")
        if upload.file is None or upload.size == 0:
            raise ValidationError("the CSV file is empty or missing", field="file")
        if upload.size > MAX_BYTES:
            raise DocumentTooLarge("the file is larger than 5 MB", field="file")
        claimed = (upload.content_type or "").split(";")[0].strip().lower()
        if claimed not in CSV_TYPES:
            raise ValidationError(f"a CSV file is expected, not {claimed}", field="file")
        upload.file.seek(0)
        data = upload.file.read()
    finally:
        upload.close()
    try:
        parsed = await run_in_threadpool(parse_leads, data, max_rows=MAX_ROWS)
    except LeadFileError as exc:
        raise ValidationError(str(exc), field="file") from exc

    batch_id = str(uuid.uuid4())
    _brand_lock(session, brand_id)
    phones = {r.phone for r in parsed.rows if r.phone}
    emails = {r.email for r in parsed.rows if r.email}
    by_phone, by_email = _known(session, brand_id, phones, emails)
    records, created, duplicates = [], 0, 0
    for row in parsed.rows:
        reason = None
        if row.phone and row.phone in by_phone:
            reason = f"same phone as {by_phone[row.phone]} of the brand"
        elif row.email and row.email in by_email:
            reason = f"same email as {by_email[row.email]} of the brand"
        elif row.duplicate_of_line is not None:
            reason = f"same phone or email as line {row.duplicate_of_line} of this file"
        duplicates += reason is not None
        created += reason is None
        records.append(_record(brand_id, batch_id, row, "DUPLICATE" if reason else "NEW", reason))
    for start in range(0, len(records), 2000):
        session.execute(insert(LeadForm), records[start : start + 2000])
    invalid_lines = {e.line for e in parsed.errors}
    summary = {
        "batchId": batch_id,
        "rows": len(parsed.rows) + len(invalid_lines),
        "created": created,
        "duplicates": duplicates,
        "invalid": len(invalid_lines),
    }
    audit(session, request, staff, "lead_form.upload", "lead_form_batch", batch_id, after=summary)
    errors = [{"line": e.line, "column": e.column, "reason": e.reason} for e in parsed.errors[:MAX_ERRORS]]
    return {**summary, "errors": errors}


@router.post(f"{BASE}/sync", response_model=SyncOut)
def sync_leads(request: Request, brand_id: str, staff: Writer, session: Db, body: SyncIn | None = None) -> dict:
    """Match the brand's NEW leads (of one upload with ``batchId``) to its customers: by phone, else by e-mail →
    PROCESSED with the customer; no match → FAILED, "no customer with this phone or email"."""
    _brand_lock(session, brand_id)
    q = select(LeadForm).where(LeadForm.brand_id == brand_id, LeadForm.status == LeadStatus.NEW.value)
    if body is not None and body.batch_id:
        q = q.where(LeadForm.batch_id == body.batch_id)
    leads = list(session.scalars(q.with_for_update()))
    phones = sorted({lead.phone for lead in leads if lead.phone})
    emails = sorted({lead.email for lead in leads if lead.email})
    customer_by_phone: dict[str, str] = {}
    customers_by_email: dict[str, set[str]] = {}
    for start in range(0, len(phones), 5000):
        chunk = phones[start : start + 5000]
        rows = session.execute(
            select(Customer.phone, Customer.id).where(Customer.brand_id == brand_id, Customer.phone.in_(chunk))
        )
        customer_by_phone.update({p: cid for p, cid in rows})
    c_email = func.lower(Customer.email)
    for start in range(0, len(emails), 5000):
        chunk = emails[start : start + 5000]
        for e, cid in session.execute(
            select(c_email, Customer.id).where(Customer.brand_id == brand_id, c_email.in_(chunk))
        ):
            customers_by_email.setdefault(e, set()).add(cid)
    now = datetime.now(UTC)
    processed = failed = 0
    for lead in leads:
        customer_id = customer_by_phone.get(lead.phone or "")
        reason = None
        if customer_id is None and lead.email:
            matches = customers_by_email.get(lead.email, set())
            if len(matches) == 1:
                customer_id = next(iter(matches))
            elif len(matches) > 1:
                reason = "more than one customer with this email"
        if customer_id:
            lead.status, lead.customer_id, lead.failure_reason = LeadStatus.PROCESSED.value, customer_id, None
            processed += 1
        else:
            lead.status, lead.failure_reason = LeadStatus.FAILED.value, reason or NO_CUSTOMER
            failed += 1
        lead.processed_at = now
    after = {"processed": processed, "failed": failed, "batchId": body.batch_id if body else None}
    audit(session, request, staff, "lead_form.sync", "lead_form", None, after=after)
    return {"processed": processed, "failed": failed}


@router.get(BASE, response_model=LeadPage)
def list_leads(brand_id: str, staff: Reader, session: Db, filters: Filters) -> dict[str, Any]:
    """The brand's leads, newest first, with the stats cards (by status, paid and organic) over the same filters
    but the status."""
    rows, total = page_of(
        session, _filtered(brand_id, filters), filters.page, filters.limit, LeadForm.created_at.desc(), LeadForm.id
    )
    return {
        "items": [_row(r[0]) for r in rows],
        "page": filters.page,
        "limit": filters.limit,
        "total": total,
        "stats": _stats(session, _filtered(brand_id, filters, with_status=False)),
    }


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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    out = str(value)
    return "'" + out if out.startswith(FORMULA_START) else out  # no formula for a spreadsheet to run


@router.get(f"{BASE}/export", response_class=StreamingResponse, responses=CSV_FILE)
def export_leads(request: Request, brand_id: str, staff: Reader, filters: Filters) -> StreamingResponse:
    """The leads matching the filters (pagination ignored) as CSV, streamed; phones and e-mails as the customers
    list shows them."""
    query = _filtered(brand_id, filters).order_by(LeadForm.created_at.desc(), LeadForm.id)
    db = request.app.state.db

    def body() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([name for name, _ in EXPORT_COLUMNS])
        with db.unit_of_work() as s:
            for n, lead in enumerate(s.scalars(query.execution_options(yield_per=1000)), 1):
                writer.writerow([_cell(getattr(lead, attr)) for _, attr in EXPORT_COLUMNS])
                if n % 500 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"lead-forms-{datetime.now(IST).date().isoformat()}.csv"
    headers = {"Content-Disposition": content_disposition(name, "attachment")}
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)


@router.delete(f"{BASE}/bulk", response_model=BulkDeleteOut)
def delete_leads(request: Request, brand_id: str, body: BulkDeleteIn, staff: Writer, session: Db) -> dict:
    """Delete up to 500 leads, all of the brand (one that is not: 404, nothing deleted)."""
    found = set(
        session.scalars(
            select(LeadForm.id).where(LeadForm.brand_id == brand_id, LeadForm.id.in_(body.ids)).with_for_update()
        )
    )
    if len(found) != len(body.ids):
        raise NotFound("lead not found")
    session.execute(delete(LeadForm).where(LeadForm.brand_id == brand_id, LeadForm.id.in_(body.ids)))
    audit(session, request, staff, "lead_form.bulk_delete", "lead_form", None, before={"ids": body.ids})
    return {"deleted": len(body.ids), "ids": body.ids}


@router.get(f"{BASE}/{{lead_id}}", response_model=LeadDetail)
def get_lead(brand_id: str, lead_id: str, staff: Reader, session: Db) -> dict[str, Any]:
    """One lead: who, the campaign, ad set, ad and form it came from, and the form's other answers."""
    return _detail(_find(session, brand_id, lead_id))


@router.patch(f"{BASE}/{{lead_id}}/status", response_model=LeadDetail)
def set_lead_status(
    request: Request, brand_id: str, lead_id: str, body: StatusIn, staff: Writer, session: Db
) -> dict[str, Any]:
    """Set a lead NEW (the next sync matches it again), FAILED or DUPLICATE, with the reason; PROCESSED only comes
    from a sync that found the customer."""
    if body.status == LeadStatus.PROCESSED:
        raise ValidationError("PROCESSED is set by a sync that matches a customer", field="status")
    lead = _find(session, brand_id, lead_id, lock=True)
    if lead.status == body.status.value:
        raise Conflict(f"the lead is already {lead.status}", field="status")
    before = {"status": lead.status, "failureReason": lead.failure_reason, "customerId": lead.customer_id}
    lead.status = body.status.value
    lead.customer_id, lead.processed_at = None, None
    lead.failure_reason = None if body.status == LeadStatus.NEW else body.reason
    after = {"status": lead.status, "reason": body.reason}
    audit(session, request, staff, "lead_form.status", "lead_form", lead.id, before=before, after=after)
    session.flush()
    return _detail(lead)
