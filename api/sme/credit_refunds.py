"""Refunding an SME business's credit balance, maker-checker, under /api/v1/partner/brand/{brandId}/sme/...
(docs/invoice-financing.md, "Refunding the credit balance"). Included by ``api.partner.sme``.

The balance is what late credits to a settled invoice left for the business (``sme_credit_balances``, OPEN: see
``db.sme_credit_balances``). Nothing in the engine pays an SME business back by itself (the loans' refund workflow,
``workflows.refund``, sends a loan's credit balance to the borrower's account and posts to the loan's ledger; an
invoice has neither), so the money goes out by the lender's own bank transfer and is recorded here:

- ``POST sme/requests/{id}/credit-balance/refund`` (the maker: ``loan_ops.disburse``): the refund of the whole OPEN
  balance, PENDING, with the business's account (``accountNumber``, ``ifsc``, ``accountHolder``; the number kept
  sealed, shown by its last 4) and ``reference`` (ours for the payout), ``remarks``. 409 naming ``balance`` when
  there is nothing to refund, ``status`` while another refund of the request waits for its checker.
- ``POST .../credit-balance/refund/approve`` (the checker: ``collections.manage``, never the maker: 403): the refund
  PAID with the transfer's ``mode`` (NEFT, RTGS, IMPS, UPI) and ``utr`` (shaped as that mode's reference), its
  credits CLOSED, each once: a credit already closed makes it 409 and nothing changes.
- ``POST .../credit-balance/refund/reject {reason}`` (the checker): REJECTED, the credits stay OPEN for a new refund.

404 for another brand's request; 409 when no refund waits for a decision; 422 naming the field; every refusal
changes nothing. Each step is audited (``sme.credit_refund.recorded``, ``.paid``, ``.rejected``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import is_uuid
from api.partner.common import Db, staff_router
from api.responses import ApiModel
from api.security import Principal
from db import sme_credit_balances as cb
from db.models import SmeCreditRefund, SmeFinancingRequest
from domain import kyc as kyc_rules
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.sme.credits import check_utr
from los.crypto import BANK_ACCOUNT, seal

router = staff_router()  # its routes join api.partner.sme's router (the one the app includes)
Maker = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]
Checker = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
REFUND = "/brand/{brand_id}/sme/requests/{request_id}/credit-balance/refund"


class RefundIn(BaseModel):
    """The refund as the maker records it: where the balance goes and our reference for the payout."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    account_number: str = Field(alias="accountNumber", min_length=9, max_length=18, description="9 to 18 digits")
    ifsc: str = Field(min_length=11, max_length=11)
    account_holder: str = Field(alias="accountHolder", min_length=2, max_length=200)
    reference: str = Field(min_length=4, max_length=60, description="our reference for the payout")
    remarks: str | None = Field(default=None, max_length=1000)


class RefundPaidIn(BaseModel):
    """The checker's approval: the transfer that paid the refund."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    mode: str = Field(min_length=3, max_length=4, description="NEFT, RTGS, IMPS or UPI")
    utr: str = Field(min_length=1, max_length=40, description="the transfer's UTR (NEFT/RTGS) or RRN (IMPS/UPI)")


class RefundRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    reason: str = Field(min_length=1, max_length=1000, description="why the refund is not paid")


class CreditRefundView(ApiModel):
    """A refund of the credit balance (paise): the business's account masked, its maker and checker."""

    id: str
    request_id: str
    amount: int = Field(description="paise: the OPEN balance when it was recorded")
    credits: int = Field(description="how many late credits it pays")
    account_masked: str
    ifsc: str
    account_holder: str
    reference: str
    remarks: str | None
    status: str = Field(description="PENDING, PAID or REJECTED")
    requested_by: str
    decided_by: str | None
    decided_at: str | None
    mode: str | None
    utr: str | None
    reason: str | None
    created_at: str | None


def refund_view(row: SmeCreditRefund) -> dict[str, Any]:
    """A refund as the API spells it (camelCase)."""
    return CreditRefundView(
        id=row.id, request_id=row.request_id, amount=row.amount, credits=len(row.credit_ids or []),
        account_masked="XXXXXXXX" + row.account_last4, ifsc=row.ifsc, account_holder=row.account_holder,
        reference=row.reference, remarks=row.remarks, status=row.status, requested_by=row.requested_by,
        decided_by=row.decided_by, decided_at=row.decided_at.isoformat() if row.decided_at else None,
        mode=row.mode, utr=row.utr, reason=row.reason,
        created_at=row.created_at.isoformat() if row.created_at else None,
    ).model_dump(by_alias=True)  # fmt: skip


def _request(session: Session, brand_id: str, request_id: str) -> SmeFinancingRequest:
    """The brand's request, row-locked (a maker and a checker, or two checkers, at once: one outcome)."""
    row = session.get(SmeFinancingRequest, request_id, with_for_update=True) if is_uuid(request_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("request not found")
    return row


def _pending(session: Session, row: SmeFinancingRequest, staff: Principal, what: str) -> SmeCreditRefund:
    """The request's refund waiting for its checker: 409 when none, 403 when ``staff`` recorded it."""
    refund = cb.pending_refund(session, row.id, lock=True)
    if refund is None:
        raise Conflict("no refund of this request's credit balance waits for a decision", field="status")
    if refund.requested_by == staff.id:
        raise PermissionDenied(f"maker-checker: you recorded this refund, so another staff member must {what} it",
                               field="requestedBy")  # fmt: skip
    return refund


@router.post(REFUND, status_code=201, response_model=CreditRefundView)
def record_credit_refund(
    request: Request, brand_id: str, request_id: str, body: RefundIn, staff: Maker, session: Db
) -> dict[str, Any]:
    """Record the refund of the request's whole OPEN credit balance as PENDING (see the module's docstring). 409
    naming ``balance`` (nothing to refund) or ``status`` (a refund already waits); 422 naming the field."""
    number = kyc_rules.validate_account_number(body.account_number)
    ifsc = kyc_rules.validate_ifsc(body.ifsc.strip().upper())
    holder, reference = body.account_holder.strip(), body.reference.strip()
    if len(holder) < 2:
        raise ValidationError("must name the account's holder", field="accountHolder")
    if len(reference) < 4:
        raise ValidationError("must be at least 4 characters", field="reference")
    row = _request(session, brand_id, request_id)
    if cb.pending_refund(session, row.id) is not None:
        raise Conflict("a refund of this credit balance already waits for its checker", field="status")
    credits = cb.open_credits(session, row.id)
    amount = sum(c.kept for c in credits)
    if amount <= 0:
        raise Conflict("the business has no credit balance on this request to refund", field="balance")
    refund = SmeCreditRefund(
        brand_id=brand_id, request_id=row.id, business_id=row.business_id, amount=amount,
        credit_ids=[c.id for c in credits],
        account_sealed=seal(request.app.state.settings.field_key(), BANK_ACCOUNT, number),
        account_last4=number[-4:], ifsc=ifsc, account_holder=holder, reference=reference,
        remarks=(body.remarks or "").strip() or None, status="PENDING", requested_by=staff.id,
    )  # fmt: skip
    session.add(refund)
    session.flush()
    after = {"requestId": row.id, "amountPaise": amount, "credits": len(credits), "ifsc": ifsc,
             "accountLast4": number[-4:], "reference": reference}  # fmt: skip
    audit(session, request, staff, "sme.credit_refund.recorded", "sme_credit_refund", refund.id, after=after,
          brand_id=brand_id)  # fmt: skip
    try:
        session.commit()
    except IntegrityError as exc:  # another maker recorded one at the same moment
        session.rollback()
        raise Conflict("a refund of this credit balance already waits for its checker", field="status") from exc
    return refund_view(refund)


@router.post(REFUND + "/approve", response_model=CreditRefundView)
def approve_credit_refund(
    request: Request, brand_id: str, request_id: str, body: RefundPaidIn, staff: Checker, session: Db
) -> dict[str, Any]:
    """The checker's approval: the refund PAID by the transfer ``mode`` + ``utr``, its credits CLOSED once. 403 for
    the maker, 409 when none waits or a credit of it was closed already; 422 naming ``mode`` or ``utr``."""
    mode = body.mode.strip().upper()
    utr = check_utr(mode, body.utr)
    row = _request(session, brand_id, request_id)
    refund = _pending(session, row, staff, "approve")
    try:
        cb.close_credits(session, refund)
    except ValueError as exc:
        session.rollback()
        raise Conflict("a credit of this refund was refunded already; nothing changed", field="status") from exc
    refund.status, refund.mode, refund.utr = "PAID", mode, utr
    refund.decided_by, refund.decided_at = staff.id, datetime.now(UTC)
    after = {"requestId": row.id, "amountPaise": refund.amount, "mode": mode, "utr": utr}
    audit(session, request, staff, "sme.credit_refund.paid", "sme_credit_refund", refund.id,
          before={"status": "PENDING"}, after={"status": "PAID", **after}, brand_id=brand_id)  # fmt: skip
    session.commit()
    return refund_view(refund)


@router.post(REFUND + "/reject", response_model=CreditRefundView)
def reject_credit_refund(
    request: Request, brand_id: str, request_id: str, body: RefundRejectIn, staff: Checker, session: Db
) -> dict[str, Any]:
    """The checker's rejection with ``reason``: REJECTED, the credits stay OPEN. 403 for the maker, 409 when none
    waits."""
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("must say why", field="reason")
    row = _request(session, brand_id, request_id)
    refund = _pending(session, row, staff, "reject")
    refund.status, refund.reason = "REJECTED", reason
    refund.decided_by, refund.decided_at = staff.id, datetime.now(UTC)
    audit(session, request, staff, "sme.credit_refund.rejected", "sme_credit_refund", refund.id,
          before={"status": "PENDING"}, after={"status": "REJECTED", "reason": reason}, brand_id=brand_id)  # fmt: skip
    session.commit()
    return refund_view(refund)
