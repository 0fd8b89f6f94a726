"""The borrower's repayment reads, /api/v1/web/loans/{loanId}/...: the schedule, the payments credited (each with
its allocation and receipt number) and the failed attempts, and a payment's receipt PDF.

- ``GET .../schedule``: every installment, its parts (principal, interest, fees, penal), what is paid of each
  and its status.
- ``GET .../payments``: payments credited, oldest first, with how each was applied; gateway attempts that
  failed, separately (they changed no dues).
- ``GET .../receipts/{paymentId}``: the receipt PDF (``activities.loan.receipt_docs``); 404 until it is issued.

Only the borrower's own loan is found: another customer's loan, or a payment of another loan, answers 404. The
read models and queries here (offline payments' included) are shared with the staff routes
(``api.partner.payments``).
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from pydantic import Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from activities.storage import LocalStorage, content_disposition
from api.deps import call_async, db_session, is_uuid
from api.files import storage
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal, current_customer
from db import receipts
from db.models import (
    Customer,
    Loan,
    OfflinePayment,
    PaymentAttempt,
    PaymentTransaction,
    RepaymentInstallment,
    StaffUser,
)
from domain.documents import PDF
from domain.errors import NotFound

router = APIRouter(prefix="/api/v1/web", tags=["web (customer): payments"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]

INSTANT = "ISO 8601 instant with its offset"
DATE = "IST calendar date, YYYY-MM-DD"
PDF_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}
RECEIPT_PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "The payment's receipt (PDF), shown inline.", "content": {PDF: {}}},
    404: {"description": "No such loan or payment, or its receipt is not issued yet."},
}


class ScheduleRow(ApiModel):
    """One installment: what falls due, what is paid of each part, and its status. Paise throughout."""

    installment_no: int = Field(description="1-based")
    due_date: str | None = Field(description=DATE)
    due_at: str = Field(description=f"when it falls overdue (the end of its due date); {INSTANT}")
    principal_paise: int
    interest_paise: int
    fees_paise: int = Field(description="installment fees")
    penal_paise: int = Field(description="penal charges levied on it (never added to principal or interest)")
    total_paise: int = Field(description="principal + interest + fees")
    principal_paid_paise: int
    interest_paid_paise: int
    fees_paid_paise: int
    penal_paid_paise: int
    due_paise: int = Field(description="still due: total + penal - everything paid")
    balance_after_paise: int = Field(description="principal left once it is paid")
    status: str = Field(description="PENDING, OVERDUE or PAID")
    paid_at: str | None = Field(description=INSTANT)


class LoanSchedule(ApiModel):
    loan_id: str
    installments: list[ScheduleRow]


class Allocation(ApiModel):
    """How a payment was applied (the brand's waterfall); the parts sum to the payment's amount."""

    penal_paise: int
    fees_paise: int
    interest_paise: int
    principal_paise: int = Field(description="scheduled principal repaid")
    advance_paise: int = Field(description="principal repaid ahead of the schedule (prepayment)")
    excess_paise: int = Field(description="beyond everything due: the loan's credit balance, owed to the borrower")


class CreditedPayment(ApiModel):
    """A payment credited to the loan."""

    id: str = Field(description="our id of the payment (the receipt route takes it)")
    gateway: str = Field(description="razorpay, cashfree... or offline (recorded by staff, approved by another)")
    payment_id: str = Field(description="the gateway's payment id (an offline payment's id)")
    amount_paise: int
    mode: str | None = Field(description="UPI, CARD, NEFT, CASH... when known")
    reference: str | None = Field(description="UTR or bank reference when known")
    collected_at: str = Field(description=f"when it was credited; {INSTANT}")
    allocation: Allocation
    outstanding_after_paise: int | None = Field(description="principal outstanding after it; null if not kept")
    receipt_no: str | None = Field(description="<BRANDCODE>/<FY>/<seq>; null until the receipt is issued")
    receipt_ready: bool = Field(description="whether the receipt PDF can be downloaded")


class PaymentAttemptView(ApiModel):
    """A gateway payment attempt as the gateway reported it."""

    gateway: str
    payment_id: str = Field(description="the gateway's payment id")
    order_id: str | None = Field(description="the gateway's order or link")
    amount_paise: int
    method: str | None = Field(description="upi, card, netbanking, emandate...")
    status: str = Field(description="CAPTURED or FAILED")
    failure_reason: str | None
    at: str = Field(description=INSTANT)


class LoanPayments(ApiModel):
    """The borrower's view: credited payments, and the attempts that failed (they changed no dues)."""

    loan_id: str
    payments: list[CreditedPayment]
    failed_attempts: list[PaymentAttemptView]
    credit_balance_paise: int = Field(description="money received beyond what was due, owed back to the borrower")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class OfflineMode(StrEnum):
    """How an offline payment was made."""

    NEFT = "NEFT"
    IMPS = "IMPS"
    RTGS = "RTGS"
    UPI = "UPI"
    CASH = "CASH"
    CHEQUE = "CHEQUE"


class OfflinePurpose(StrEnum):
    """What an offline payment pays, as the loan's workflow is told (``PaymentEvent.purpose``)."""

    PREPAYMENT = "PREPAYMENT"  # dues first; the foreclosure quote on its value date or more closes the loan
    COOLING_OFF = "COOLING_OFF"  # the borrower's exit within the cooling-off period (RBI Digital Lending Directions)


class OfflineStatus(StrEnum):
    """Where an offline payment stands in the maker-checker approval."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class OfflinePaymentView(ApiModel):
    """An offline payment as the queue shows it."""

    id: str
    loan_id: str
    customer_name: str | None
    amount_paise: int
    paid_on: str = Field(description="IST date the money was paid (value date), YYYY-MM-DD")
    mode: OfflineMode
    reference: str = Field(description="UTR (NEFT/IMPS/RTGS/UPI), cheque number, or receipt book number (CASH)")
    purpose: OfflinePurpose = Field(
        description="PREPAYMENT (applied to what is due; the foreclosure quote or more closes the loan) or "
        "COOLING_OFF (the borrower's exit within the cooling-off period: the exit amount or more cancels the loan)"
    )
    remarks: str | None
    has_proof: bool
    proof_content_type: str | None = Field(description="application/pdf, image/jpeg or image/png")
    proof_sha256: str | None = Field(description="SHA-256 of the proof, hex")
    status: OfflineStatus
    recorded_by: str = Field(description="staff id of the maker")
    recorded_by_email: str | None
    recorded_at: str = Field(description="ISO 8601 instant with its offset")
    decided_by: str | None = Field(description="staff id of the checker; null while PENDING")
    decided_by_email: str | None
    decided_at: str | None = Field(description="ISO 8601 instant with its offset")
    reason: str | None = Field(description="why it was rejected")
    credited_as: str | None = Field(
        default=None,
        description="once approved: LOAN (sent to its workflow, which applies it, or keeps it as credit balance"
        " when it was ending) or CREDIT_BALANCE (the loan had ended)",
    )


def offline_views(session: Session, *rows: OfflinePayment) -> list[dict[str, Any]]:
    """Rows as ``OfflinePaymentView`` dicts (one query for the borrowers' names, one for the staff emails)."""
    names = dict(
        session.execute(
            select(Loan.id, Customer.full_name)
            .join(Customer, Customer.id == Loan.customer_id)
            .where(Loan.id.in_({r.loan_id for r in rows}))
        ).all()
    )
    staff_ids = {r.recorded_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    emails = dict(session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(staff_ids))).all())
    return [
        {
            "id": r.id,
            "loanId": r.loan_id,
            "customerName": names.get(r.loan_id),
            "amountPaise": r.amount,
            "paidOn": r.paid_on.isoformat(),
            "mode": r.mode,
            "reference": r.reference,
            "purpose": r.purpose,
            "remarks": r.remarks,
            "hasProof": r.proof_key is not None,
            "proofContentType": r.proof_content_type,
            "proofSha256": r.proof_sha256,
            "status": r.status,
            "recordedBy": r.recorded_by,
            "recordedByEmail": emails.get(r.recorded_by),
            "recordedAt": _iso(r.created_at),
            "decidedBy": r.decided_by,
            "decidedByEmail": emails.get(r.decided_by) if r.decided_by else None,
            "decidedAt": _iso(r.decided_at),
            "reason": r.reason,
            "creditedAs": r.credited_as,
        }
        for r in rows
    ]


def schedule_of(session: Session, loan_id: str) -> list[dict[str, Any]]:
    """The loan's installments in order, as ``ScheduleRow`` dicts."""
    rows = session.scalars(
        select(RepaymentInstallment)
        .where(RepaymentInstallment.loan_id == loan_id)
        .order_by(RepaymentInstallment.installment_no)
    ).all()
    out = []
    for r in rows:
        paid = r.principal_paid + r.interest_paid + r.fees_paid + r.penal_paid
        out.append(
            {
                "installmentNo": r.installment_no,
                "dueDate": _iso(r.due_date),
                "dueAt": _iso(r.due_at),
                "principalPaise": r.principal,
                "interestPaise": r.interest,
                "feesPaise": r.fees,
                "penalPaise": r.penal,
                "totalPaise": r.total,
                "principalPaidPaise": r.principal_paid,
                "interestPaidPaise": r.interest_paid,
                "feesPaidPaise": r.fees_paid,
                "penalPaidPaise": r.penal_paid,
                "duePaise": r.total + r.penal - paid,
                "balanceAfterPaise": r.balance_after,
                "status": r.status,
                "paidAt": _iso(r.paid_at),
            }
        )
    return out


def credited_of(session: Session, loan_id: str) -> list[dict[str, Any]]:
    """The loan's credited payments, oldest first, as ``CreditedPayment`` dicts."""
    rows = session.scalars(
        select(PaymentTransaction)
        .where(PaymentTransaction.loan_id == loan_id, PaymentTransaction.status == "SUCCESS")
        .order_by(PaymentTransaction.collected_at, PaymentTransaction.id)
    ).all()
    return [
        {
            "id": p.id,
            "gateway": p.gateway,
            "paymentId": p.gateway_payment_id,
            "amountPaise": p.amount,
            "mode": p.mode,
            "reference": p.reference,
            "collectedAt": _iso(p.collected_at),
            "allocation": {
                "penalPaise": p.penal_part,
                "feesPaise": p.fees_part,
                "interestPaise": p.interest_part,
                "principalPaise": p.principal_part - p.advance_part,
                "advancePaise": p.advance_part,
                "excessPaise": p.excess_part,
            },
            "outstandingAfterPaise": p.outstanding_after,
            "receiptNo": p.receipt_no,
            "receiptReady": bool(p.receipt_no and p.receipt_key),
        }
        for p in rows
    ]


def attempts_of(session: Session, loan_id: str, *, failed_only: bool) -> list[dict[str, Any]]:
    """The loan's gateway payment attempts, oldest first (only the failed ones with ``failed_only``)."""
    query = select(PaymentAttempt).where(PaymentAttempt.loan_id == loan_id)
    if failed_only:
        query = query.where(PaymentAttempt.status == "FAILED")
    rows = session.scalars(query.order_by(PaymentAttempt.created_at, PaymentAttempt.id)).all()
    return [
        {
            "gateway": a.gateway,
            "paymentId": a.gateway_payment_id,
            "orderId": a.order_id,
            "amountPaise": a.amount,
            "method": a.method,
            "status": a.status,
            "failureReason": a.failure_reason,
            "at": _iso(a.created_at),
        }
        for a in rows
    ]


def receipt_response(request: Request, session: Session, loan: Loan, payment_id: str) -> Response:
    """The receipt PDF of the loan's payment ``payment_id`` (our id, or the gateway's payment id); NotFound when
    the loan has no such payment or its receipt is not issued yet."""
    match = PaymentTransaction.gateway_payment_id == payment_id
    if is_uuid(payment_id):
        match = or_(match, PaymentTransaction.id == payment_id)
    pay = session.scalars(
        select(PaymentTransaction).where(PaymentTransaction.loan_id == loan.id, match).order_by(PaymentTransaction.id)
    ).first()
    if pay is None:
        raise NotFound("payment not found", field="paymentId")
    if not (pay.receipt_no and pay.receipt_key):
        raise NotFound("the receipt of this payment is not issued yet", field="paymentId")
    key, name = pay.receipt_key, f"receipt-{pay.receipt_no.replace('/', '-')}.pdf"
    session.rollback()  # nothing to write: the connection goes back to the pool while the file is read
    headers = {**PDF_HEADERS, "Content-Disposition": content_disposition(name), "X-Receipt-No": pay.receipt_no}
    return call_async(stored_file, request, key, PDF, headers, field="paymentId")


async def stored_file(request: Request, key: str, media_type: str, headers: dict[str, str], *, field: str) -> Response:
    """The stored file ``key`` as a response (streamed from the local store, read from S3); NotFound naming
    ``field`` when it is missing."""
    store = storage(request)
    if isinstance(store, LocalStorage):
        path = store.path(key)
        if not path.is_file():
            raise NotFound("the file is missing from storage", field=field)
        return FileResponse(path, media_type=media_type, headers=headers)
    try:
        data = await asyncio.to_thread(store.get, key)
    except FileNotFoundError as exc:
        raise NotFound("the file is missing from storage", field=field) from exc
    return Response(data, media_type=media_type, headers=headers)


def _my_loan(session: Session, loan_id: str, me: Principal) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id or loan.brand_id != me.brand_id:
        raise NotFound("loan not found")
    return loan


@router.get("/loans/{loan_id}/schedule", response_model=LoanSchedule)
def my_schedule(loan_id: str, me: Me, session: Db) -> dict:
    """The loan's repayment schedule: each installment's due date, parts, what is paid of each, and status
    (empty before disbursal)."""
    loan = _my_loan(session, loan_id, me)
    return {"loanId": loan.id, "installments": schedule_of(session, loan.id)}


@router.get("/loans/{loan_id}/payments", response_model=LoanPayments)
def my_payments(loan_id: str, me: Me, session: Db) -> dict:
    """Payments credited to the loan with their allocation and receipt number, and the failed attempts."""
    loan = _my_loan(session, loan_id, me)
    credited = credited_of(session, loan.id)
    return {
        "loanId": loan.id,
        "payments": credited,
        "failedAttempts": attempts_of(session, loan.id, failed_only=True),
        "creditBalancePaise": receipts.credit_balance(session, loan.id),
    }


@router.get("/loans/{loan_id}/receipts/{payment_id}", response_class=Response, responses=RECEIPT_PDF)
def my_receipt(request: Request, loan_id: str, payment_id: str, me: Me, session: Db) -> Response:
    """The receipt PDF of one of the loan's payments (``paymentId``: the payment's ``id`` or its gateway
    payment id); 404 until the receipt is issued, and for anyone else's loan."""
    return receipt_response(request, session, _my_loan(session, loan_id, me), payment_id)
