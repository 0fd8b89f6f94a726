"""What the SME routes take and answer (business and staff): pydantic models, camelCase on the wire, money in
paise (answers) or rupees as decimal strings (requests), dates ISO (IST)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.responses import ApiModel
from api.types import IsoDate, Rupees
from db.models import (
    SmeBusiness,
    SmeDirector,
    SmeFinancingRequest,
    SmeInvoice,
    SmeOffer,
    SmePayment,
    SmeRequestEvent,
    SmeVirtualAccount,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DirectorIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    pan: str | None = Field(default=None, min_length=10, max_length=10, description="checked through the KYC layer")
    din: str | None = Field(default=None, pattern=r"^[0-9]{8}$", description="Director Identification Number")


class BusinessIn(Strict):
    legal_name: str = Field(alias="legalName", min_length=2, max_length=200)
    pan: str = Field(min_length=10, max_length=10, description="the business PAN (4th letter C, F, P, H...)")
    gstin: str = Field(min_length=15, max_length=15, description="its characters 3-12 are the business PAN")
    cin: str | None = Field(default=None, pattern=r"^[LUlu][0-9]{5}[A-Za-z]{2}[0-9]{4}[A-Za-z]{3}[0-9]{6}$")
    directors: list[DirectorIn] = Field(default_factory=list, max_length=20)


class InvoiceFields(Strict):
    """The ``invoice`` part of the upload (JSON text beside the PDF ``file``)."""

    number: str = Field(min_length=1, max_length=40)
    buyer_gstin: str = Field(alias="buyerGstin", min_length=15, max_length=15)
    buyer_name: str | None = Field(default=None, alias="buyerName", max_length=200)
    amount: Rupees
    invoice_date: IsoDate = Field(alias="invoiceDate")
    due_date: IsoDate = Field(alias="dueDate")


class RequestIn(Strict):
    invoice_id: str = Field(alias="invoiceId", min_length=36, max_length=36)


class AcceptIn(Strict):
    lender_id: str = Field(alias="lenderId", min_length=1, max_length=60)


class ReasonIn(Strict):
    reason: str | None = Field(default=None, max_length=500)


class DirectorView(ApiModel):
    id: str
    name: str
    din: str | None
    kyc_status: str = Field(description="PENDING / VERIFIED / FAILED (PAN through the KYC layer)")


class BusinessView(ApiModel):
    """A business as its owner and staff see it."""

    id: str
    legal_name: str
    pan: str
    gstin: str
    cin: str | None
    status: str = Field(description="PENDING until the first request's checks, then VERIFIED or FAILED")
    reason: str | None
    directors: list[DirectorView]


class InvoiceView(ApiModel):
    id: str
    number: str
    seller_gstin: str
    buyer_gstin: str
    buyer_name: str | None
    amount_paise: int
    invoice_date: str
    due_date: str
    document_sha256: str


class OfferView(ApiModel):
    """A lender's offer: paise; rates in basis points a year; days Actual/365 to the due date."""

    lender_id: str
    lender_name: str
    source: str = Field(description="OWN (the brand's book) or PARTNER")
    rank: int
    advance_paise: int
    discount_paise: int
    reserve_paise: int
    days: int
    advance_rate_bps: int
    discount_rate_bps: int
    overdue_rate_bps: int


class EventView(ApiModel):
    kind: str = Field(description="STATUS, MAKER or CHECKER")
    status: str
    reason: str | None
    staff_id: str | None
    at: str | None


class VirtualAccountView(ApiModel):
    """The account the buyer pays the invoice into by NEFT, RTGS or IMPS (Razorpay Smart Collect)."""

    account_number: str
    ifsc: str
    bank_name: str | None
    name: str | None = Field(description="the account's name as the buyer's bank shows it")
    status: str = Field(description="ACTIVE until the request closes, then CLOSED")


class PaymentView(ApiModel):
    """Money counted towards the invoice: through the payment link, the virtual account or recorded by staff."""

    payment_id: str = Field(description="the gateway's payment id, or UTR:<utr> for a bank credit")
    amount_paise: int
    source: str = Field(description="PAYMENT_LINK, VA:<mode> (virtual account) or OFFLINE:<mode> (staff)")
    utr: str | None
    mode: str | None
    paid_at: str


class RequestView(ApiModel):
    """A financing request with its money (paise) and, in detail, its offers and history."""

    id: str
    invoice_id: str
    business_id: str
    status: str
    reason: str | None
    reason_text: str | None
    amount_paise: int
    score: int | None
    grade: str | None
    lender_id: str | None
    advance_paise: int
    discount_paise: int
    reserve_paise: int
    days: int
    collected_paise: int
    late_charge_paise: int
    release_paise: int
    days_late: int
    funded_on: str | None
    paid_on: str | None
    advance_utr: str | None
    release_utr: str | None
    collection_url: str | None
    maker_id: str | None
    checker_id: str | None
    hold_step: str | None
    hold_reason: str | None
    offers_expire_at: str | None
    offers: list[OfferView] = Field(default_factory=list)
    history: list[EventView] = Field(default_factory=list)
    virtual_account: VirtualAccountView | None = Field(default=None, description="in detail, once funded")
    payments: list[PaymentView] = Field(default_factory=list, description="in detail: money counted, oldest first")


class RequestPage(ApiModel):
    items: list[RequestView]
    total: int


class StatusAnswer(ApiModel):
    id: str
    status: str


class WebhookAnswer(ApiModel):
    outcome: str = Field(description="SIGNALLED, IGNORED")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def business_view(session: Session, row: SmeBusiness) -> dict[str, Any]:
    directors = session.scalars(select(SmeDirector).where(SmeDirector.business_id == row.id)).all()
    return BusinessView(
        id=row.id, legal_name=row.legal_name, pan=row.pan, gstin=row.gstin, cin=row.cin, status=row.status,
        reason=row.reason,
        directors=[DirectorView(id=d.id, name=d.name, din=d.din, kyc_status=d.kyc_status) for d in directors],
    ).model_dump(by_alias=True)  # fmt: skip


def invoice_view(row: SmeInvoice) -> dict[str, Any]:
    return InvoiceView(
        id=row.id, number=row.number, seller_gstin=row.seller_gstin, buyer_gstin=row.buyer_gstin,
        buyer_name=row.buyer_name, amount_paise=row.amount, invoice_date=row.invoice_date.isoformat(),
        due_date=row.due_date.isoformat(), document_sha256=row.document_sha256,
    ).model_dump(by_alias=True)  # fmt: skip


def request_view(session: Session, row: SmeFinancingRequest, *, detail: bool = False) -> dict[str, Any]:
    offers: list[OfferView] = []
    history: list[EventView] = []
    account: VirtualAccountView | None = None
    payments: list[PaymentView] = []
    if detail:
        for o in session.scalars(select(SmeOffer).where(SmeOffer.request_id == row.id).order_by(SmeOffer.rank)):
            offers.append(
                OfferView(
                    lender_id=o.lender_id,
                    lender_name=o.lender_name,
                    source=o.source,
                    rank=o.rank,
                    advance_paise=o.advance,
                    discount_paise=o.discount,
                    reserve_paise=o.reserve,
                    days=o.days,
                    advance_rate_bps=o.advance_rate_bps,
                    discount_rate_bps=o.discount_rate_bps,
                    overdue_rate_bps=o.overdue_rate_bps,
                )  # fmt: skip
            )
        events = session.scalars(
            select(SmeRequestEvent).where(SmeRequestEvent.request_id == row.id).order_by(SmeRequestEvent.created_at)
        )
        history = [
            EventView(kind=e.kind, status=e.status, reason=e.reason, staff_id=e.staff_id, at=_iso(e.created_at))
            for e in events
        ]
        account, payments = _collection(session, row.id)
    return RequestView(
        id=row.id, invoice_id=row.invoice_id, business_id=row.business_id, status=row.status, reason=row.reason,
        reason_text=row.reason_text, amount_paise=row.amount, score=row.score, grade=row.grade,
        lender_id=row.lender_id, advance_paise=row.advance, discount_paise=row.discount, reserve_paise=row.reserve,
        days=row.days, collected_paise=row.collected, late_charge_paise=row.late_charge, release_paise=row.release,
        days_late=row.days_late, funded_on=_iso(row.funded_on), paid_on=_iso(row.paid_on),
        advance_utr=row.advance_utr, release_utr=row.release_utr, collection_url=row.collection_url,
        maker_id=row.maker_id, checker_id=row.checker_id, hold_step=row.hold_step, hold_reason=row.hold_reason,
        offers_expire_at=_iso(row.offers_expire_at), offers=offers, history=history, virtual_account=account,
        payments=payments,
    ).model_dump(by_alias=True)  # fmt: skip


def _collection(session: Session, request_id: str) -> tuple[VirtualAccountView | None, list[PaymentView]]:
    """The request's virtual account (None before funding, or without one) and the payments counted."""
    va = session.scalars(select(SmeVirtualAccount).where(SmeVirtualAccount.request_id == request_id)).first()
    account = None
    if va is not None:
        account = VirtualAccountView(
            account_number=va.account_number, ifsc=va.ifsc, bank_name=va.bank_name, name=va.name, status=va.status
        )
    rows = session.scalars(
        select(SmePayment).where(SmePayment.request_id == request_id).order_by(SmePayment.created_at, SmePayment.id)
    )
    payments = [
        PaymentView(payment_id=p.payment_id, amount_paise=p.amount, source=p.source, utr=p.utr, mode=p.mode,
                    paid_at=p.paid_at.isoformat())
        for p in rows
    ]  # fmt: skip
    return account, payments
