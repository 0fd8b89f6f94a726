"""The business's onboarding and invoices: /api/v1/sme/business, /api/v1/sme/invoices (docs/invoice-financing.md).

A business signs in with the customer OTP (``/api/v1/web/auth/...``) and its token: one business per signed-in
customer, its payout account the customer's primary bank account (``/api/v1/web/bank/add-account``), verified by
penny drop in the first request's checks. An invoice is a PDF (multipart ``file``, at most 10 MB, its content
a PDF) with its fields as JSON text in the part ``invoice``; nothing is stored when a field is wrong (422 naming it).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import audit
from api.deps import call_async, db_session, is_uuid
from api.files import storage
from api.guards import GUARDS
from api.loan_start import ist_today
from api.security import Principal, current_customer
from api.sme.schemas import BusinessIn, BusinessView, InvoiceFields, InvoiceView, business_view, invoice_view
from api.types import multipart_body
from api.web.documents import read_upload
from db.models import Customer, SmeBusiness, SmeDirector, SmeInvoice
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import to_paise
from domain.sme.duplicates import normalise_number
from domain.sme.ids import gstin_pan, validate_business_pan, validate_gstin

router = APIRouter(dependencies=GUARDS)  # also on the including router; declared here so each route carries it
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
MAX_INVOICE_BYTES = 10 * 1024 * 1024
INVOICE_BODY = multipart_body(
    ["invoice", "file"],
    {
        "invoice": {
            "type": "string",
            "description": "JSON: number, buyerGstin, buyerName, amount (rupees, decimal string), invoiceDate, "
            "dueDate (YYYY-MM-DD)",
        },
        "file": {"type": "string", "format": "binary", "description": "the invoice PDF, at most 10 MB"},
    },
)


#: ``actor_role`` of the business's own actions in the audit log (docs/invoice-financing.md, "Audit")
BUSINESS_ROLE = "SME_BUSINESS"


def audit_business(
    session: Session, request: Request, me: Principal, action: str, entity_type: str, entity_id: str,
    *, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Record the business's own change in the brand's audit log, in the caller's unit of work (it commits with the
    change): actor the signed-in customer (``actor_role`` :data:`BUSINESS_ROLE`), ``action`` ``sme.<what>``."""
    actor = dataclasses.replace(me, role=BUSINESS_ROLE)
    audit(session, request, actor, action, entity_type, entity_id, before=before, after=after, brand_id=me.brand_id)


def my_business(session: Session, me: Principal) -> SmeBusiness:
    """The signed-in customer's business; 404 naming ``business`` when it has not onboarded."""
    row = session.scalars(select(SmeBusiness).where(SmeBusiness.customer_id == me.id)).first()
    if row is None or row.brand_id != me.brand_id:
        raise NotFound("onboard the business first (POST /api/v1/sme/business)", field="business")
    return row


@router.post("/business", status_code=201, response_model=BusinessView)
def onboard(request: Request, body: BusinessIn, me: Me, session: Db) -> dict[str, Any]:
    """Onboard the signed-in customer's business: legal name, business PAN, GSTIN (whose characters 3-12 must be
    that PAN), CIN for a company, directors (name, PAN, DIN). PENDING until the first request verifies it at the
    vendors (GSTIN, MCA, directors' PAN). 409 when the customer already has a business or the brand the GSTIN."""
    pan = validate_business_pan(body.pan, "pan")
    gstin = validate_gstin(body.gstin, "gstin")
    if gstin_pan(gstin) != pan:
        raise ValidationError("the GSTIN's characters 3-12 must be the business PAN", field="gstin")
    if pan[3] == "C" and not body.cin:
        raise ValidationError("a company (PAN holder status C) gives its CIN", field="cin")
    for i, d in enumerate(body.directors):
        if d.pan is not None and not d.pan.isalnum():
            raise ValidationError("PAN must be 10 letters and digits", field=f"directors.{i}.pan")
    customer = session.get(Customer, me.id)
    if customer is None or customer.brand_id != me.brand_id:
        raise NotFound("customer not found")
    if session.scalars(select(SmeBusiness).where(SmeBusiness.customer_id == me.id)).first() is not None:
        raise Conflict("this sign-in already has a business", field="business")
    row = SmeBusiness(
        brand_id=me.brand_id, customer_id=me.id, legal_name=body.legal_name.strip(), pan=pan, gstin=gstin,
        cin=body.cin.upper() if body.cin else None, status="PENDING", verification={},
    )  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("a business with this GSTIN is already onboarded", field="gstin") from exc
    for d in body.directors:
        pan_d = d.pan.upper() if d.pan else None
        session.add(SmeDirector(business_id=row.id, brand_id=me.brand_id, name=d.name.strip(), pan=pan_d, din=d.din))
    session.flush()
    after = {"legalName": row.legal_name, "gstin": row.gstin, "cin": row.cin, "directors": len(body.directors)}
    audit_business(session, request, me, "sme.business.create", "sme_business", row.id, after=after)
    return business_view(session, row)


@router.get("/business", response_model=BusinessView)
def business(me: Me, session: Db) -> dict[str, Any]:
    """The signed-in customer's business with its directors and verification status."""
    return business_view(session, my_business(session, me))


def _fields(raw: str | None) -> InvoiceFields:
    if not raw:
        raise ValidationError("the invoice's fields go as JSON text in the part 'invoice'", field="invoice")
    try:
        return InvoiceFields.model_validate(json.loads(raw))
    except (ValueError, PydanticError) as exc:
        if isinstance(exc, PydanticError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "invoice"
            raise ValidationError(first["msg"], field=f"invoice.{where}") from exc
        raise ValidationError("not JSON", field="invoice") from exc


@router.post("/invoices", status_code=201, response_model=InvoiceView, openapi_extra=INVOICE_BODY)
def upload_invoice(request: Request, me: Me, session: Db) -> dict[str, Any]:
    """Upload an invoice: multipart ``file`` (the PDF, at most 10 MB) and ``invoice`` (JSON: ``number``,
    ``buyerGstin``, ``buyerName``, ``amount`` in rupees as a decimal string, ``invoiceDate``, ``dueDate``). The
    invoice date may not be in the future; the due date must be after today (IST); the buyer is not the seller."""
    upload = call_async(read_upload, request, limit=MAX_INVOICE_BYTES, fields=("invoice", "file"))
    try:
        fields = _fields(upload.fields.get("invoice"))
        if upload.file is None or upload.size <= 0:
            raise ValidationError("the invoice PDF is required", field="file")
        if not upload.head.startswith(b"%PDF-"):
            raise ValidationError("the file must be a PDF", field="file")
        buyer = validate_gstin(fields.buyer_gstin, "invoice.buyerGstin")
        amount = to_paise(fields.amount, "invoice.amount")
        if amount <= 0:
            raise ValidationError("must be more than zero", field="invoice.amount")
        today = ist_today()
        if fields.invoice_date > today:
            raise ValidationError("the invoice date is in the future", field="invoice.invoiceDate")
        if fields.due_date <= today or fields.due_date <= fields.invoice_date:
            raise ValidationError("the due date must be after today and the invoice date", field="invoice.dueDate")
        biz = my_business(session, me)
        if buyer == biz.gstin:
            raise ValidationError("the buyer cannot be the seller", field="invoice.buyerGstin")
        invoice_id = str(uuid.uuid4())
        key = f"sme/{me.brand_id}/{biz.id}/{invoice_id}.pdf"
        storage(request).put_file(key, upload.file, "application/pdf")
    finally:
        upload.close()
    row = SmeInvoice(
        id=invoice_id, brand_id=me.brand_id, business_id=biz.id, number=fields.number.strip(),
        number_key=normalise_number(fields.number)[:40], seller_gstin=biz.gstin, buyer_gstin=buyer,
        buyer_name=fields.buyer_name, amount=amount, invoice_date=fields.invoice_date, due_date=fields.due_date,
        document_key=key, document_sha256=upload.sha256,
    )  # fmt: skip
    session.add(row)
    session.flush()
    after = {"number": row.number, "buyerGstin": row.buyer_gstin, "amountPaise": row.amount,
             "dueDate": row.due_date.isoformat(), "documentSha256": row.document_sha256}  # fmt: skip
    audit_business(session, request, me, "sme.invoice.upload", "sme_invoice", row.id, after=after)
    return invoice_view(row)


@router.get("/invoices", response_model=list[InvoiceView])
def invoices(me: Me, session: Db) -> list[dict[str, Any]]:
    """The business's invoices, newest first."""
    biz = my_business(session, me)
    rows = session.scalars(
        select(SmeInvoice).where(SmeInvoice.business_id == biz.id).order_by(SmeInvoice.created_at.desc())
    )
    return [invoice_view(r) for r in rows]


def my_invoice(session: Session, me: Principal, invoice_id: str) -> SmeInvoice:
    """The business's invoice ``invoice_id``; 404 for another's or none."""
    biz = my_business(session, me)
    row = session.get(SmeInvoice, invoice_id) if is_uuid(invoice_id) else None
    if row is None or row.business_id != biz.id:
        raise NotFound("invoice not found", field="invoiceId")
    return row


@router.get("/invoices/{invoice_id}", response_model=InvoiceView)
def invoice(invoice_id: str, me: Me, session: Db) -> dict[str, Any]:
    """One of the business's invoices."""
    return invoice_view(my_invoice(session, me, invoice_id))
