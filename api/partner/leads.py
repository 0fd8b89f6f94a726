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
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import delete, func, insert, select

from activities.storage import content_disposition
from api.access import Allow, audit
from api.deps import call_async, page_of
from api.guards import check_text
from api.partner.common import Db, staff_router
from api.partner.leads_queries import (
    EXPORT_COLUMNS,
    brand_lock,
    csv_cell,
    filtered,
    find_lead,
    known_contacts,
    lead_detail,
    lead_record,
    lead_row,
    lead_stats,
)
from api.partner.leads_schemas import (
    CSV_TYPES,
    MAX_BYTES,
    MAX_ERRORS,
    MAX_ROWS,
    NO_CUSTOMER,
    BulkDeleteIn,
    BulkDeleteOut,
    Filters,
    LeadDetail,
    LeadPage,
    LeadStatus,
    StatusIn,
    SyncIn,
    SyncOut,
    UploadOut,
)
from api.security import Principal
from api.types import multipart_body
from api.web.documents import read_upload
from db.models import Customer, LeadForm
from domain.access import Permission as P
from domain.documents import DocumentTooLarge
from domain.errors import Conflict, NotFound, ValidationError
from domain.leads import LeadFileError, parse_leads
from workflows.options import IST

router = staff_router()
Reader = Annotated[Principal, Allow(P.CUSTOMERS_VIEW)]
Writer = Annotated[Principal, Allow(P.CUSTOMERS_ALLOCATE, api_key=False)]
BASE = "/brand/{brand_id}/lead-forms"
CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The leads matching the filters as CSV (header first), streamed as an attachment.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such brand."},
}


# ------------------------------------------------------------------------------------------- routes
@router.post(
    f"{BASE}/upload",
    response_model=UploadOut,
    status_code=201,
    openapi_extra=multipart_body(["file"], {"file": {"type": "string", "format": "binary"}}),
)
def upload_leads(request: Request, brand_id: str, staff: Writer, session: Db) -> dict[str, Any]:
    """Import a Facebook Lead Ads export (multipart ``file``: CSV or TSV, UTF-8 or UTF-16, at most 5 MB and
    20,000 rows). Valid rows are stored NEW, or DUPLICATE when their phone or e-mail is already a lead or a customer
    of the brand or an earlier row of the file; invalid rows are not stored and come back with line and reason."""
    if not (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        raise ValidationError("send multipart/form-data with the CSV in the field file", field="file")
    session.rollback()  # nothing held while the file streams in
    upload = call_async(read_upload, request, limit=MAX_BYTES, fields=("file",))
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
        parsed = parse_leads(data, max_rows=MAX_ROWS)
    except LeadFileError as exc:
        raise ValidationError(str(exc), field="file") from exc

    batch_id = str(uuid.uuid4())
    brand_lock(session, brand_id)
    phones = {r.phone for r in parsed.rows if r.phone}
    emails = {r.email for r in parsed.rows if r.email}
    by_phone, by_email = known_contacts(session, brand_id, phones, emails)
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
        records.append(lead_record(brand_id, batch_id, row, "DUPLICATE" if reason else "NEW", reason))
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
    brand_lock(session, brand_id)
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
        session, filtered(brand_id, filters), filters.page, filters.limit, LeadForm.created_at.desc(), LeadForm.id
    )
    return {
        "items": [lead_row(r[0]) for r in rows],
        "page": filters.page,
        "limit": filters.limit,
        "total": total,
        "stats": lead_stats(session, filtered(brand_id, filters, with_status=False)),
    }


@router.get(f"{BASE}/export", response_class=StreamingResponse, responses=CSV_FILE)
def export_leads(request: Request, brand_id: str, staff: Reader, filters: Filters) -> StreamingResponse:
    """The leads matching the filters (pagination ignored) as CSV, streamed; phones and e-mails as the customers
    list shows them."""
    query = filtered(brand_id, filters).order_by(LeadForm.created_at.desc(), LeadForm.id)
    db = request.app.state.db

    def body() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([name for name, _ in EXPORT_COLUMNS])
        with db.unit_of_work() as s:
            for n, lead in enumerate(s.scalars(query.execution_options(yield_per=1000)), 1):
                writer.writerow([csv_cell(getattr(lead, attr)) for _, attr in EXPORT_COLUMNS])
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
    return lead_detail(find_lead(session, brand_id, lead_id))


@router.patch(f"{BASE}/{{lead_id}}/status", response_model=LeadDetail)
def set_lead_status(
    request: Request, brand_id: str, lead_id: str, body: StatusIn, staff: Writer, session: Db
) -> dict[str, Any]:
    """Set a lead NEW (the next sync matches it again), FAILED or DUPLICATE, with the reason; PROCESSED only comes
    from a sync that found the customer."""
    if body.status == LeadStatus.PROCESSED:
        raise ValidationError("PROCESSED is set by a sync that matches a customer", field="status")
    lead = find_lead(session, brand_id, lead_id, lock=True)
    if lead.status == body.status.value:
        raise Conflict(f"the lead is already {lead.status}", field="status")
    before = {"status": lead.status, "failureReason": lead.failure_reason, "customerId": lead.customer_id}
    lead.status = body.status.value
    lead.customer_id, lead.processed_at = None, None
    lead.failure_reason = None if body.status == LeadStatus.NEW else body.reason
    after = {"status": lead.status, "reason": body.reason}
    audit(session, request, staff, "lead_form.status", "lead_form", lead.id, before=before, after=after)
    session.flush()
    return lead_detail(lead)
