"""Staff review of KYC documents, under /api/v1/partner/brand/{brandId}/customers/{customerId}/documents.

Brand-scoped like every partner route (``api.access.Allow``): a customer or document of another brand is 404.
A document is decided once, from PENDING, by a staff role that reviews KYC; who and when is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import db_session, is_uuid
from api.files import StaffKycDocument, document_view
from api.guards import GUARDS
from api.security import Principal
from db.models import Customer, CustomerDocument
from domain.access import Permission as P
from domain.documents import DocumentStatus, check_decision, reject_reason
from domain.errors import NotFound

router = APIRouter(
    prefix="/api/v1/partner/brand/{brand_id}/customers/{customer_id}/documents",
    tags=["partner (staff)"],
    dependencies=GUARDS,
)
Db = Annotated[Session, Depends(db_session, scope="function")]


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


def _customer(session: Session, brand_id: str, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id) if is_uuid(customer_id) else None
    if customer is None or customer.brand_id != brand_id:
        raise NotFound("customer not found")
    return customer


def _document(session: Session, brand_id: str, customer_id: str, document_id: str) -> CustomerDocument:
    _customer(session, brand_id, customer_id)
    # Locked: two reviewers deciding at once get one decision and one 409.
    doc = session.get(CustomerDocument, document_id, with_for_update=True) if is_uuid(document_id) else None
    if doc is None or doc.brand_id != brand_id or doc.customer_id != customer_id:
        raise NotFound("document not found")
    return doc


@router.get("", response_model=list[StaffKycDocument])
def list_documents(
    request: Request, brand_id: str, customer_id: str, staff: Annotated[Principal, Allow(P.DOCUMENTS_VIEW)], session: Db
) -> list[dict]:
    """The customer's documents, newest first, each with a short-lived download URL."""
    _customer(session, brand_id, customer_id)
    docs = session.scalars(
        select(CustomerDocument)
        .where(CustomerDocument.brand_id == brand_id, CustomerDocument.customer_id == customer_id)
        .order_by(CustomerDocument.created_at.desc(), CustomerDocument.id)
    ).all()
    return [document_view(request, d, staff=True) for d in docs]


Verifier = Annotated[Principal, Allow(P.DOCUMENTS_VERIFY, api_key=False)]


def _decide(
    request: Request,
    session: Session,
    staff: Principal,
    brand_id: str,
    customer_id: str,
    document_id: str,
    decision: DocumentStatus,
    reason: str | None = None,
) -> dict:
    doc = _document(session, brand_id, customer_id, document_id)
    check_decision(doc.status, decision)
    before = {"status": doc.status, "rejectReason": doc.reject_reason}
    doc.status = decision.value
    doc.reject_reason = reason
    doc.verified_by = staff.id
    doc.verified_at = datetime.now(UTC)
    after = {"status": doc.status, "rejectReason": doc.reject_reason}
    audit(session, request, staff, f"document.{decision.value.lower()}", "document", doc.id, before=before, after=after)
    session.commit()
    return document_view(request, doc, staff=True)


@router.post("/{document_id}/verify", response_model=StaffKycDocument)
def verify_document(
    request: Request, brand_id: str, customer_id: str, document_id: str, staff: Verifier, session: Db
) -> dict:
    return _decide(request, session, staff, brand_id, customer_id, document_id, DocumentStatus.VERIFIED)


@router.post("/{document_id}/reject", response_model=StaffKycDocument)
def reject_document(
    request: Request, brand_id: str, customer_id: str, document_id: str, body: RejectIn, staff: Verifier, session: Db
) -> dict:
    reason = reject_reason(body.reason)  # a reason of blanks is no reason
    return _decide(request, session, staff, brand_id, customer_id, document_id, DocumentStatus.REJECTED, reason)
