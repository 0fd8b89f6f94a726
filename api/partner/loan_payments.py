"""The staff reads of a loan's payments and receipts, on the payments router (``api.partner.payments``): everything
paid towards a loan (credited payments, gateway attempts, offline payments, the credit balance) and a receipt's PDF."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select

from api.partner.common import Db, Viewer, find_loan
from api.partner.payments import router
from api.responses import ApiModel
from api.web.payments import (
    RECEIPT_PDF,
    CreditedPayment,
    OfflinePaymentView,
    PaymentAttemptView,
    attempts_of,
    credited_of,
    offline_views,
    receipt_response,
)
from db import receipts
from db.models import OfflinePayment


class StaffLoanPayments(ApiModel):
    """Everything paid towards a loan, as staff see it."""

    loan_id: str
    payments: list[CreditedPayment] = Field(description="credited to the loan, oldest first")
    attempts: list[PaymentAttemptView] = Field(description="every gateway attempt, captured or failed")
    offline: list[OfflinePaymentView] = Field(description="offline payments recorded, with their status")
    credit_balance_paise: int = Field(description="money received beyond what was due, owed back to the borrower")


@router.get("/brand/{brand_id}/loans/{loan_id}/payments", response_model=StaffLoanPayments)
def loan_payments(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """The loan's credited payments (allocation, mode, reference, receipt number), every gateway attempt
    (captured and failed), and the offline payments recorded with their status."""
    loan = find_loan(session, brand_id, loan_id)
    credited = credited_of(session, loan.id)
    offline = session.scalars(
        select(OfflinePayment)
        .where(OfflinePayment.loan_id == loan.id, OfflinePayment.brand_id == brand_id)
        .order_by(OfflinePayment.created_at, OfflinePayment.id)
    ).all()
    return {
        "loanId": loan.id,
        "payments": credited,
        "attempts": attempts_of(session, loan.id, failed_only=False),
        "offline": offline_views(session, *offline) if offline else [],
        "creditBalancePaise": receipts.credit_balance(session, loan.id),
    }


@router.get("/brand/{brand_id}/loans/{loan_id}/receipts/{payment_id}", response_class=Response, responses=RECEIPT_PDF)
def loan_receipt(
    request: Request, brand_id: str, loan_id: str, payment_id: str, staff: Viewer, session: Db
) -> Response:
    """The receipt PDF of one of the loan's payments (its ``id`` or gateway payment id); 404 until issued."""
    return receipt_response(request, session, find_loan(session, brand_id, loan_id), payment_id)
