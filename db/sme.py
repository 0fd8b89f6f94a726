"""SQL of SME invoice financing that both the API and the activities run (docs/invoice-financing.md): a request
with its invoice, business and brand; the earlier invoices a new one is judged against for duplicates; the staff
queues. Plain values in, rows out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Brand, Customer, SmeBusiness, SmeFinancingRequest, SmeInvoice
from domain.sme.duplicates import InvoiceKey
from domain.sme.status import FINANCED, RequestStatus

#: The staff queues: name → the statuses in it.
QUEUES: dict[str, frozenset[str]] = {
    "approval": frozenset({RequestStatus.APPROVAL_PENDING}),
    "attention": frozenset({RequestStatus.NEEDS_ATTENTION}),
    "funded": frozenset({RequestStatus.FUNDED}),
    "collections": frozenset({RequestStatus.OVERDUE}),
    "offered": frozenset({RequestStatus.OFFERED}),
    "closed": frozenset({RequestStatus.CLOSED, RequestStatus.PAID}),
    "refused": frozenset(
        {RequestStatus.REFUSED, RequestStatus.REJECTED, RequestStatus.EXPIRED, RequestStatus.CANCELLED}
    ),
}


@dataclass(frozen=True)
class RequestContext:
    """A request with its invoice, its business, the business's customer (sign-in, phone) and its brand."""

    request: SmeFinancingRequest
    invoice: SmeInvoice
    business: SmeBusiness
    customer: Customer
    brand: Brand


def request_context(session: Session, request_id: str, *, lock: bool = False) -> RequestContext | None:
    """The request ``request_id`` with what it belongs to; None when there is no such request."""
    query = (
        select(SmeFinancingRequest, SmeInvoice, SmeBusiness, Customer, Brand)
        .join(SmeInvoice, SmeInvoice.id == SmeFinancingRequest.invoice_id)
        .join(SmeBusiness, SmeBusiness.id == SmeFinancingRequest.business_id)
        .join(Customer, Customer.id == SmeBusiness.customer_id)
        .join(Brand, Brand.id == SmeFinancingRequest.brand_id)
        .where(SmeFinancingRequest.id == request_id)
    )
    if lock:
        query = query.with_for_update(of=SmeFinancingRequest)
    row = session.execute(query).first()
    return RequestContext(*row) if row is not None else None


def invoice_key(invoice: SmeInvoice, financed: bool = False) -> InvoiceKey:
    """The invoice as duplicate detection sees it."""
    return InvoiceKey(
        invoice.id, invoice.seller_gstin, invoice.buyer_gstin, invoice.number_key, invoice.amount, financed
    )


def earlier_invoices(session: Session, brand_id: str, invoice: SmeInvoice) -> list[InvoiceKey]:
    """The brand's other invoices with the same number key from the same seller or to the same buyer, each marked
    financed when one of its requests is in a financed status (``domain.sme.status.FINANCED``)."""
    rows = session.scalars(
        select(SmeInvoice).where(
            SmeInvoice.brand_id == brand_id,
            SmeInvoice.id != invoice.id,
            SmeInvoice.number_key == invoice.number_key,
            or_(SmeInvoice.seller_gstin == invoice.seller_gstin, SmeInvoice.buyer_gstin == invoice.buyer_gstin),
        )
    ).all()
    if not rows:
        return []
    financed = set(
        session.scalars(
            select(SmeFinancingRequest.invoice_id).where(
                SmeFinancingRequest.invoice_id.in_([r.id for r in rows]),
                SmeFinancingRequest.status.in_([str(s) for s in FINANCED]),
            )
        ).all()
    )
    return [invoice_key(r, r.id in financed) for r in rows]


def open_request_for(session: Session, invoice_id: str) -> SmeFinancingRequest | None:
    """The invoice's request that is not final (one at a time per invoice)."""
    finals = [RequestStatus.REFUSED, RequestStatus.EXPIRED, RequestStatus.CANCELLED, RequestStatus.REJECTED]
    return session.scalars(
        select(SmeFinancingRequest).where(
            SmeFinancingRequest.invoice_id == invoice_id,
            SmeFinancingRequest.status.not_in([str(s) for s in finals]),
        )
    ).first()
