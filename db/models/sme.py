"""SME invoice financing (docs/invoice-financing.md): the business (a customer who signed in by OTP, with its PAN,
GSTIN and company record), its directors, its invoices, one financing request per invoice financed, the offers
matched for it, its status history, the transfers (advance, reserve) and the buyer's payments. Money is BIGINT
paise, rates basis points."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk

__all__ = [
    "SmeBusiness",
    "SmeDirector",
    "SmeFinancingRequest",
    "SmeInvoice",
    "SmeOffer",
    "SmePayment",
    "SmeRequestEvent",
    "SmeTransfer",
    "SmeVirtualAccount",
    "SmeOfflineCredit",
]


class SmeBusiness(Base):
    """A business of a brand, signed in as its customer (``customer_id``: the phone's OTP account). ``status``
    PENDING → VERIFIED (GSTIN active, its PAN the business PAN, the company record found) or FAILED with the reason;
    ``verification``: what the vendors said."""

    __tablename__ = "sme_businesses"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    pan: Mapped[str] = mapped_column(String(10))
    gstin: Mapped[str] = mapped_column(String(15))
    cin: Mapped[str | None] = mapped_column(String(21), nullable=True)
    constitution: Mapped[str | None] = mapped_column(String(60), nullable=True)
    incorporated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verification: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "gstin"),)


class SmeDirector(Base):
    """A director or partner of a business (from the company record, or entered), with the KYC layer's PAN check."""

    __tablename__ = "sme_directors"
    id: Mapped[str] = pk()
    business_id: Mapped[str] = fk("sme_businesses.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    name: Mapped[str] = mapped_column(String(200))
    din: Mapped[str | None] = mapped_column(String(8), nullable=True)
    pan: Mapped[str | None] = mapped_column(String(10), nullable=True)
    kyc_status: Mapped[str] = mapped_column(String(20), default="PENDING")  # PENDING / VERIFIED / FAILED
    kyc_detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("business_id", "din"),)


class SmeInvoice(Base):
    """An uploaded invoice: its PDF (``document_key`` in document storage), number (``number_key``: as compared for
    duplicates, ``domain.sme.duplicates.normalise_number``), seller and buyer GSTIN, amount (paise) and dates."""

    __tablename__ = "sme_invoices"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id")
    business_id: Mapped[str] = fk("sme_businesses.id", index=True)
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(String(40))
    seller_gstin: Mapped[str] = mapped_column(String(15))
    buyer_gstin: Mapped[str] = mapped_column(String(15))
    buyer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    document_key: Mapped[str] = mapped_column(String(300))
    document_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index("ix_sme_invoices_seller_number", "brand_id", "seller_gstin", "number_key"),
        Index("ix_sme_invoices_buyer_number", "brand_id", "buyer_gstin", "number_key"),
    )


class SmeFinancingRequest(Base):
    """One request to finance one invoice, run by ``InvoiceFinancingWorkflow`` (``invoice-<id>``). Status as in
    ``domain.sme.status``; the score; the accepted lender and its terms (paise, bps, days); the maker and checker;
    the money advanced, collected, charged late and released; the hold; the collection link."""

    __tablename__ = "sme_financing_requests"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id")
    business_id: Mapped[str] = fk("sme_businesses.id", index=True)
    invoice_id: Mapped[str] = fk("sme_invoices.id", index=True)
    status: Mapped[str] = mapped_column(String(20), default="SUBMITTED")
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(2), nullable=True)
    score_factors: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    offers_expire_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lender_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    advance_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    discount_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    overdue_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    advance: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    reserve: Mapped[int] = mapped_column(BigInteger, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)
    maker_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    checker_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    funded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    advance_utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    collection_reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    collection_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    collected: Mapped[int] = mapped_column(BigInteger, default=0)
    days_late: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    late_charge: Mapped[int] = mapped_column(BigInteger, default=0)
    release: Mapped[int] = mapped_column(BigInteger, default=0)
    release_utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    hold_step: Mapped[str | None] = mapped_column(String(12), nullable=True)
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()
    __table_args__ = (Index("ix_sme_financing_requests_brand_status", "brand_id", "status"),)


class SmeOffer(Base):
    """A lender's offer on a request (``domain.sme.matching.Offer``), ranked best first."""

    __tablename__ = "sme_offers"
    id: Mapped[str] = pk()
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    lender_id: Mapped[str] = mapped_column(String(60))
    lender_name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(10))
    rank: Mapped[int] = mapped_column(Integer)
    advance: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger)
    reserve: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer)
    advance_rate_bps: Mapped[int] = mapped_column(Integer)
    discount_rate_bps: Mapped[int] = mapped_column(Integer)
    overdue_rate_bps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("request_id", "lender_id"),)


class SmeRequestEvent(Base):
    """The request's status history, one row per move (``seq``: the workflow's sequence number), and staff
    decisions (maker, checker) with ``staff_id``."""

    __tablename__ = "sme_request_events"
    id: Mapped[str] = pk()
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # STATUS / MAKER / CHECKER / ACCEPTED
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    staff_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("request_id", "kind", "seq"),)


class SmeTransfer(Base):
    """A transfer of a request: ADVANCE (to the seller) or RESERVE (released), sent once under ``reference``
    (``sme-<kind>-<requestId>``) at ``bank``; SENT until the bank's SUCCESS (UTR) or FAILED (reason)."""

    __tablename__ = "sme_transfers"
    id: Mapped[str] = pk()
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    bank: Mapped[str | None] = mapped_column(String(30), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="RESERVED")
    utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()


class SmePayment(Base):
    """A credit from the buyer into the collection account, once per (request, ``payment_id``)."""

    __tablename__ = "sme_payments"
    id: Mapped[str] = pk()
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    payment_id: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20))
    paid_at: Mapped[datetime] = mapped_column()
    # the bank's UTR (RRN for IMPS/UPI) of a credit to the virtual account or recorded by staff; its mode
    utr: Mapped[str | None] = mapped_column(String(40), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("request_id", "payment_id"),
        Index("ix_sme_payments_brand_utr", "brand_id", "utr"),
    )


class SmeVirtualAccount(Base):
    """The collection account of a financed request: a virtual account at the brand's collections vendor (Razorpay
    Smart Collect, ``vendor_account_id`` ``va_...``) whose number and IFSC the buyer pays into by NEFT, RTGS or
    IMPS; ACTIVE until the request closes, then CLOSED (a later credit is refused by the bank)."""

    __tablename__ = "sme_virtual_accounts"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id")
    request_id: Mapped[str] = fk("sme_financing_requests.id", unique=True)
    vendor: Mapped[str] = mapped_column(String(30))
    vendor_account_id: Mapped[str] = mapped_column(String(80))
    account_number: Mapped[str] = mapped_column(String(40))
    ifsc: Mapped[str] = mapped_column(String(11))
    bank_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    created_at: Mapped[datetime] = created()
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (UniqueConstraint("vendor", "vendor_account_id"),)


class SmeOfflineCredit(Base):
    """Money the buyer paid outside the virtual account (NEFT, RTGS, IMPS, UPI to the lender's account), recorded
    by one staff member (PENDING) and approved by another (APPROVED: the request's workflow takes it as a payment)
    or REJECTED with the reason. ``utr`` is used once per brand; ``amount`` paise; ``paid_on`` an IST date."""

    __tablename__ = "sme_offline_credits"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id")
    request_id: Mapped[str] = fk("sme_financing_requests.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(10))
    utr: Mapped[str] = mapped_column(String(40))
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    recorded_by: Mapped[str] = mapped_column(Uuid(as_uuid=False))
    decided_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "utr"),)
