"""Private files: the store the app built at start, and ``GET /api/v1/files/{token}``, which redeems a
local-storage presigned link (S3 links go to S3 itself). The token is the only credential: it names one
key and expires within minutes; a tampered or expired token is 403, a missing file 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from activities.storage import FILES_ROUTE, LocalStorage, S3Storage, content_disposition
from api.guards import GUARDS
from db.models import CustomerDocument
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


@router.get("/{token}", response_class=FileResponse, responses={403: {}, 404: {}})
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
