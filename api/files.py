"""Private files: the store the app built at start, and ``GET /api/v1/files/{token}``, which redeems a
local-storage presigned link (S3 links go to S3 itself). The token is the only credential: it names one
key and expires within minutes; a tampered or expired token is 403, a missing file 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import Field

from activities.storage import FILES_ROUTE, LocalStorage, S3Storage, content_disposition
from api.guards import GUARDS
from api.responses import ApiModel
from db.models import CustomerDocument
from domain.documents import JPEG, PDF, PNG, WEBP
from domain.errors import NotFound, PermissionDenied

MAX_TOKEN = 4096
router = APIRouter(prefix=FILES_ROUTE, tags=["files"], dependencies=GUARDS)

# User-supplied bytes served from the API's origin: never sniffed, never run, never cached.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}


def storage(request: Request) -> LocalStorage | S3Storage:
    return request.app.state.storage


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class KycDocument(ApiModel):
    """A customer's KYC document as the customer sees it, with a short-lived download link."""

    id: str
    doc_type: str = Field(description="PAN_CARD, AADHAAR_FRONT, ... (domain.documents.DocumentType)")
    file_name: str = Field(description="the stored file name (made safe from the uploaded one)")
    content_type: str = Field(description="the checked media type: image/jpeg, image/png, image/webp, application/pdf")
    size_bytes: int = Field(description="bytes")
    sha256: str = Field(description="SHA-256 of the file, hex")
    status: str = Field(description="PENDING, VERIFIED or REJECTED")
    reject_reason: str | None = Field(description="why staff rejected it; null unless REJECTED")
    decided_at: str | None = Field(description="ISO 8601 instant with offset when staff verified or rejected it")
    created_at: str | None = Field(description="ISO 8601 instant with offset of the upload")
    url: str = Field(description="presigned download link (this API's /api/v1/files/{token}, or S3)")
    url_expires_at: str = Field(description="ISO 8601 instant with offset after which the link no longer works")


class StaffKycDocument(KycDocument):
    """A KYC document as staff see it: also whose it is and who decided it."""

    customer_id: str
    decided_by: str | None = Field(description="staff id of the reviewer; null while PENDING")


def document_view(request: Request, doc: CustomerDocument, *, staff: bool = False) -> dict[str, Any]:
    """A document as the APIs show it, with a presigned URL valid for ``presign_ttl_seconds``."""
    ttl = request.app.state.settings.presign_ttl_seconds
    expires = datetime.now(UTC) + timedelta(seconds=ttl)
    view: dict[str, Any] = {
        "id": doc.id,
        "docType": doc.doc_type,
        "fileName": doc.file_name,
        "contentType": doc.content_type,
        "sizeBytes": doc.size_bytes,
        "sha256": doc.sha256,
        "status": doc.status,
        "rejectReason": doc.reject_reason,
        "decidedAt": _iso(doc.verified_at),
        "createdAt": _iso(doc.created_at),
        "url": storage(request).presign(doc.storage_key, ttl, content_type=doc.content_type, file_name=doc.file_name),
        "urlExpiresAt": expires.isoformat(),
    }
    if staff:
        view["customerId"] = doc.customer_id
        view["decidedBy"] = doc.verified_by
    return view


DOWNLOAD = {
    200: {
        "description": "The file's bytes with the media type it was stored with (a KYC document: JPEG, PNG, "
        "WebP or PDF), shown inline under its file name; never cached.",
        "content": {media: {} for media in (JPEG, PNG, WEBP, PDF, "application/octet-stream")},
    },
    403: {},
    404: {},
}


@router.get("/{token}", response_class=FileResponse, responses=DOWNLOAD)
def download(token: str, request: Request) -> FileResponse:
    store = storage(request)
    if not isinstance(store, LocalStorage):
        raise NotFound("file not found")
    if not token.isascii() or len(token) > MAX_TOKEN:  # a link we signed is short base64url text and a hex MAC
        raise PermissionDenied("invalid file link")
    ref = store.redeem(token)
    try:
        path = store.path(ref.key)
    except ValueError as exc:  # redeem checked it already; a store that changed under us is still refused
        raise PermissionDenied("invalid file link") from exc
    if not path.is_file():
        raise NotFound("file not found")
    headers = dict(SAFE_HEADERS)
    if ref.file_name:
        headers["Content-Disposition"] = content_disposition(ref.file_name)
    return FileResponse(path, media_type=ref.content_type or "application/octet-stream", headers=headers)
