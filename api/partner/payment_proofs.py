"""The proof of an offline payment (a bank slip, a cheque image, a cash receipt): attached by the staff member who
recorded the payment while it waits for approval, read by those who work the approval queue. Routes on the
payments router (``api.partner.payments``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from activities.storage import content_disposition
from api.access import audit
from api.deps import call_async
from api.files import SAFE_HEADERS, storage
from api.guards import check_text
from api.partner.common import Db
from api.partner.payments import Maker, QueueViewer, _offline, router
from api.types import multipart_body
from api.web.documents import read_upload
from api.web.payments import OfflinePaymentView, OfflineStatus, offline_views, stored_file
from db.models import OfflinePayment
from domain.documents import JPEG, PDF, PNG, DocumentTooLarge, normalise_content_type, safe_file_name
from domain.documents import sniff_content_type as sniff
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError

MAX_PROOF_BYTES = 10 * 1024 * 1024
PROOF_TYPES = frozenset({PDF, JPEG, PNG})
PROOF_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The proof as stored (PDF, JPEG or PNG).", "content": {m: {} for m in PROOF_TYPES}},
    404: {"description": "No such payment, or no proof attached."},
}


@router.post(
    "/brand/{brand_id}/payment/proof/{payment_id}",
    response_model=OfflinePaymentView,
    openapi_extra=multipart_body(
        ["file"], {"file": {"type": "string", "format": "binary", "description": "PDF/JPEG/PNG"}}
    ),
)
def attach_proof(request: Request, brand_id: str, payment_id: str, staff: Maker, session: Db) -> dict[str, Any]:
    """Attach the proof of a PENDING offline payment (multipart ``file``: PDF, JPEG or PNG, at most 10 MB), by
    the staff member who recorded it (403 otherwise); a new proof replaces the previous one."""

    def pending(row: OfflinePayment) -> OfflinePayment:
        if row.status != OfflineStatus.PENDING:
            raise Conflict(f"this payment was already {row.status.lower()}; its proof stays as it was", field="status")
        return row

    row = pending(_offline(session, brand_id, payment_id))
    if row.recorded_by != staff.id:
        raise PermissionDenied("the proof is part of the record: only the staff member who recorded it attaches it")
    if not (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        raise ValidationError("send multipart/form-data with the proof in the field file", field="file")
    session.rollback()  # no lock held while the file streams in
    upload = call_async(read_upload, request, limit=MAX_PROOF_BYTES, fields=("file",))
    store = storage(request)
    try:
        check_text(upload.file_name, "file")
        if upload.file is None or upload.size == 0:
            raise ValidationError("the proof file is empty or missing", field="file")
        if upload.size > MAX_PROOF_BYTES:
            raise DocumentTooLarge("the file is larger than 10 MB", field="file")
        actual, claimed = sniff(upload.head), normalise_content_type(upload.content_type)
        if actual not in PROOF_TYPES:
            raise ValidationError("the proof must be a PDF, JPEG or PNG file", field="file")
        if claimed not in ("", "application/octet-stream") and claimed != actual:
            raise ValidationError(f"declared as {claimed} but the content is {actual}", field="file")
        key = f"payment-proofs/{brand_id}/{payment_id}/{uuid.uuid4().hex}-{safe_file_name(upload.file_name, actual)}"
        store.put_file(key, upload.file, actual)
    finally:
        upload.close()
    try:
        row = pending(_offline(session, brand_id, payment_id))
    except Conflict:  # decided while the file streamed in
        store.delete(key)
        raise
    replaced, before = row.proof_key, {"proofSha256": row.proof_sha256}
    row.proof_key, row.proof_sha256, row.proof_content_type = key, upload.sha256, actual
    after = {"proofSha256": upload.sha256}
    audit(session, request, staff, "payment.offline_proof", "offline_payment", row.id, before=before, after=after)
    session.commit()
    if replaced:
        try:  # the old proof is no longer the record's; best effort, a leftover file harms nothing
            store.delete(replaced)
        except Exception:  # noqa: BLE001
            pass
    return offline_views(session, row)[0]


@router.get("/brand/{brand_id}/payment/proof/{payment_id}", response_class=Response, responses=PROOF_DOWNLOAD)
def download_proof(request: Request, brand_id: str, payment_id: str, staff: QueueViewer, session: Db) -> Response:
    """The proof attached to an offline payment, as stored; 404 when none is attached."""
    row = _offline(session, brand_id, payment_id)
    if not row.proof_key:
        raise NotFound("no proof is attached to this payment", field="proof")
    key, media = row.proof_key, row.proof_content_type or "application/octet-stream"
    session.rollback()
    headers = {**SAFE_HEADERS, "Content-Disposition": content_disposition(key.rsplit("/", 1)[-1].split("-", 1)[-1])}
    return call_async(stored_file, request, key, media, headers, field="proof")
