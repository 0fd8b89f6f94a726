"""Field visits: a collector's visit to the customer with the place (GPS), the time, what happened and a photo,
under /api/v1/partner/brand/{brandId}/collection/{loanId}/field-visits (docs/collections.md). The photo is stored
privately (by key, with its SHA-256) and served to staff who may read the loan's collections. Who may record and
read: as for follow-ups (``api/partner/collection_work.py``)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from activities.storage import content_disposition
from api.access import audit
from api.deps import call_async, is_uuid
from api.files import SAFE_HEADERS, storage
from api.guards import check_text
from api.partner.collection_work import Reader, Worker, workable
from api.partner.collections import REPAYING
from api.partner.common import Db, iso, staff_router
from api.responses import ApiModel
from api.types import multipart_body
from api.web.payments import stored_file
from db.models import FieldVisit, Loan
from domain.collections import Disposition, parse_disposition
from domain.documents import JPEG, PNG, WEBP, DocumentTooLarge, normalise_content_type, safe_file_name
from domain.documents import sniff_content_type as sniff
from domain.errors import Conflict, NotFound, ValidationError

router = staff_router()
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = frozenset({JPEG, PNG, WEBP})
VISIT_FIELDS = ("latitude", "longitude", "visitedAt", "address", "disposition", "remarks", "photo")
_COORD = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,6})?")
CLOCK_SKEW = timedelta(minutes=5)


class FieldVisitView(ApiModel):
    id: str
    loan_id: str
    staff_id: str
    visited_at: str
    latitude: str
    longitude: str
    address: str | None
    disposition: str | None
    remarks: str | None
    photo_sha256: str | None
    photo_content_type: str | None
    photo_url: str | None = Field(description="the photo, for staff (GET, same permissions)")
    created_at: str


class FieldVisitList(ApiModel):
    items: list[FieldVisitView]


# ------------------------------------------------------------------------------------------- field visits
def _coordinate(raw: str | None, name: str, limit: int) -> Decimal:
    if raw is None or not _COORD.fullmatch(raw.strip()):
        raise ValidationError("a decimal number of degrees with at most 6 decimals, e.g. 12.971599", field=name)
    value = Decimal(raw.strip())
    if not -limit <= value <= limit:
        raise ValidationError(f"must be between -{limit} and {limit}", field=name)
    return value


def _visited_at(raw: str | None, loan: Loan) -> datetime:
    try:
        value = datetime.fromisoformat((raw or "").strip()) if raw and len(raw) <= 40 else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError(
            "an ISO 8601 date-time with its offset, e.g. 2026-01-31T09:30:00+05:30", field="visitedAt"
        )
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValidationError("must not be in the future", field="visitedAt")
    if loan.disbursed_at is not None and value < loan.disbursed_at:
        raise ValidationError("must not be before the loan was disbursed", field="visitedAt")
    return value


def visit_view(brand_id: str, row: FieldVisit) -> dict[str, Any]:
    photo = f"/api/v1/partner/brand/{brand_id}/collection/{row.loan_id}/field-visits/{row.id}/photo"
    return {
        "id": row.id,
        "loanId": row.loan_id,
        "staffId": row.staff_id,
        "visitedAt": iso(row.visited_at),
        "latitude": str(row.latitude),
        "longitude": str(row.longitude),
        "address": row.address,
        "disposition": row.disposition,
        "remarks": row.remarks,
        "photoSha256": row.photo_sha256,
        "photoContentType": row.photo_content_type,
        "photoUrl": photo if row.photo_key else None,
        "createdAt": iso(row.created_at),
    }


VISIT_BODY = multipart_body(
    ["latitude", "longitude", "visitedAt", "photo"],
    {
        "latitude": {"type": "string", "description": "degrees, -90 to 90, e.g. 12.971599"},
        "longitude": {"type": "string", "description": "degrees, -180 to 180"},
        "visitedAt": {"type": "string", "format": "date-time"},
        "address": {"type": "string", "maxLength": 500},
        "disposition": {"type": "string", "enum": [d.value for d in Disposition]},
        "remarks": {"type": "string", "maxLength": 2000},
        "photo": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP, ≤ 10 MB"},
    },
)


async def visit_form(request: Request) -> AsyncIterator[FormData]:
    """The visit's multipart form, parsed on the event loop as it streams in (before the route's thread runs, so a
    slow upload holds no thread of the pool); 422 naming ``photo`` when the body is not multipart, 413 over 10 MB."""
    if not (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        raise ValidationError("send multipart/form-data with the visit's fields and the photo", field="photo")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PHOTO_BYTES + 64 * 1024:
        raise DocumentTooLarge("the photo is larger than 10 MB", field="photo")
    form = await request.form(max_files=1, max_fields=len(VISIT_FIELDS))
    try:
        yield form
    finally:
        await form.close()  # after the route's thread has returned


@router.post(
    "/brand/{brand_id}/collection/{loan_id}/field-visits",
    status_code=201,
    response_model=FieldVisitView,
    openapi_extra=VISIT_BODY,
)
def add_field_visit(
    request: Request,
    brand_id: str,
    loan_id: str,
    staff: Worker,
    form: Annotated[FormData, Depends(visit_form)],
    session: Db,
) -> dict[str, Any]:
    """Record a visit to the customer (multipart): ``latitude`` (−90..90) and ``longitude`` (−180..180) as decimal
    strings, ``visitedAt`` (ISO 8601 with offset; not in the future, not before the disbursal), ``address``,
    ``disposition``, ``remarks``, and ``photo`` (JPEG, PNG or WebP, at most 10 MB, the content what it claims to
    be), stored privately. Bad input is a 422 naming the field, and nothing is stored. Audited."""
    loan = workable(session, brand_id, loan_id, staff)
    if loan.status not in REPAYING:
        raise Conflict(f"loan is {loan.status}; visits are for a loan being repaid", field="status")
    for name in form:
        if name not in VISIT_FIELDS:
            raise ValidationError(f"unknown field; send only {', '.join(VISIT_FIELDS)}", field=name[:60])
    text = {k: v for k, v in form.items() if isinstance(v, str)}
    for name, value in text.items():
        check_text(value, name)
    latitude = _coordinate(text.get("latitude"), "latitude", 90)
    longitude = _coordinate(text.get("longitude"), "longitude", 180)
    visited_at = _visited_at(text.get("visitedAt"), loan)
    address, remarks = (text.get("address") or "").strip(), (text.get("remarks") or "").strip()
    if len(address) > 500:
        raise ValidationError("at most 500 characters", field="address")
    if len(remarks) > 2000:
        raise ValidationError("at most 2000 characters", field="remarks")
    disposition = parse_disposition(text["disposition"]).value if text.get("disposition") else None
    photo = form.get("photo")
    if not isinstance(photo, UploadFile):
        raise ValidationError("the visit's photo is required (a file part named photo)", field="photo")
    check_text(photo.filename, "photo")
    photo.file.seek(0)
    data = photo.file.read(MAX_PHOTO_BYTES + 1)
    if not data:
        raise ValidationError("the photo is empty", field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise DocumentTooLarge("the photo is larger than 10 MB", field="photo")
    actual, claimed = sniff(data[:64]), normalise_content_type(photo.content_type)
    if actual not in PHOTO_TYPES:
        raise ValidationError("the photo must be a JPEG, PNG or WebP image", field="photo")
    if claimed not in ("", "application/octet-stream") and claimed != actual:
        raise ValidationError(f"declared as {claimed} but the content is {actual}", field="photo")
    visit_id = str(uuid.uuid4())
    key = f"field-visits/{brand_id}/{loan.id}/{visit_id}-{safe_file_name(photo.filename, actual)}"
    storage(request).put(key, data, actual)
    row = FieldVisit(
        id=visit_id,
        brand_id=brand_id,
        loan_id=loan.id,
        staff_id=staff.id,
        visited_at=visited_at,
        latitude=latitude,
        longitude=longitude,
        address=address or None,
        disposition=disposition,
        remarks=remarks or None,
        photo_key=key,
        photo_sha256=hashlib.sha256(data).hexdigest(),
        photo_content_type=actual,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    view = visit_view(brand_id, row)
    audit(session, request, staff, "loan.collection_field_visit", "loan", loan.id, after=view)
    session.commit()
    return view


@router.get("/brand/{brand_id}/collection/{loan_id}/field-visits", response_model=FieldVisitList)
def list_field_visits(brand_id: str, loan_id: str, staff: Reader, session: Db) -> dict[str, Any]:
    """The loan's field visits, latest visit first."""
    loan = workable(session, brand_id, loan_id, staff)
    rows = session.scalars(
        select(FieldVisit).where(FieldVisit.loan_id == loan.id).order_by(FieldVisit.visited_at.desc(), FieldVisit.id)
    ).all()
    return {"items": [visit_view(brand_id, r) for r in rows]}


@router.get(
    "/brand/{brand_id}/collection/{loan_id}/field-visits/{visit_id}/photo",
    response_class=Response,
    responses={200: {"description": "the photo as stored", "content": {m: {} for m in PHOTO_TYPES}}},
)
def visit_photo(request: Request, brand_id: str, loan_id: str, visit_id: str, staff: Reader, session: Db) -> Response:
    """A field visit's photo, as stored."""
    loan = workable(session, brand_id, loan_id, staff)
    row = session.get(FieldVisit, visit_id) if is_uuid(visit_id) else None
    if row is None or row.loan_id != loan.id or not row.photo_key:
        raise NotFound("field visit not found")
    key, media = row.photo_key, row.photo_content_type or "application/octet-stream"
    session.rollback()
    headers = {**SAFE_HEADERS, "Content-Disposition": content_disposition(key.rsplit("/", 1)[-1].split("-", 1)[-1])}
    return call_async(stored_file, request, key, media, headers, field="photo")
