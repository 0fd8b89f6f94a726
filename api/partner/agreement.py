"""A loan's agreement PDF: /api/v1/partner/brand/{brandId}/loans/{loanId}/agreement for staff who may view the
brand's loans, and (``agreement_response``) the same file for the borrower's own route in ``api/web/kfs.py``.

The file served is the signed agreement once the eSign vendor's copy is stored (``signed_storage_key``), else the
agreement sent for signature (``storage_key``); ``X-Content-SHA256`` carries the SHA-256 recorded when it was
stored, so the reader can check the bytes. 404 until an agreement exists.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.storage import LocalStorage, content_disposition
from api.files import storage
from api.partner.common import Db, Viewer, find_loan, staff_router
from db.models import Loan, LoanAgreement
from domain.documents import PDF
from domain.errors import NotFound

router = staff_router()

# A PDF of the lender's own making, served from the API's origin: never sniffed, never cached.
PDF_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}

AGREEMENT_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The agreement PDF (the signed one once stored, else the one sent for signature), shown "
        "inline; `X-Content-SHA256` is its SHA-256 in hex as recorded when it was stored.",
        "content": {PDF: {}},
        "headers": {"X-Content-SHA256": {"description": "SHA-256 of the PDF, hex", "schema": {"type": "string"}}},
    },
    404: {"description": "No such loan, or no agreement yet."},
}


def agreement_response(request: Request, session: Session, loan: Loan) -> Response:
    """The loan's agreement PDF as a response, with its ``X-Content-SHA256``; NotFound when none is stored."""
    row = session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).first()
    if row is None or not (row.signed_storage_key or row.storage_key):
        raise NotFound("no agreement yet", field="agreement")
    if row.signed_storage_key:
        key, digest, name = row.signed_storage_key, row.signed_sha256 or "", f"agreement-{loan.id}-signed.pdf"
    else:
        key, digest, name = row.storage_key, row.sha256, f"agreement-{loan.id}.pdf"
    session.rollback()  # nothing to write: the connection goes back to the pool while the file is read
    headers = {**PDF_HEADERS, "X-Content-SHA256": digest, "Content-Disposition": content_disposition(name)}
    store = storage(request)
    if isinstance(store, LocalStorage):
        path = store.path(key)
        if not path.is_file():
            raise NotFound("the agreement file is missing", field="agreement")
        return FileResponse(path, media_type=PDF, headers=headers)
    try:
        data = store.get(key)
    except FileNotFoundError as exc:
        raise NotFound("the agreement file is missing", field="agreement") from exc
    return Response(data, media_type=PDF, headers=headers)


@router.get("/brand/{brand_id}/loans/{loan_id}/agreement", response_class=Response, responses=AGREEMENT_PDF)
def staff_agreement(request: Request, brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    """The loan's agreement PDF (signed once the vendor's copy is stored), for staff who may view its loans."""
    return agreement_response(request, session, find_loan(session, brand_id, loan_id))
