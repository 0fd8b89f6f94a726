"""Refunds of a loan's credit balance, maker-checker, under /api/v1/partner/brand/{brandId}/ (docs/money-in.md,
"Refunds").

A staff member (the maker) asks for a refund of a loan's credit balance (money received beyond everything due,
``CUSTOMER_CREDIT_BALANCE`` in the ledger); another (the checker) approves or rejects it: nobody decides a refund
they asked for (403). Approval starts ``workflows.refund.RefundWorkflow`` (id ``refund-<refundId>``): the transfer
to the borrower's verified account through the brand's disbursal bank, its outcome from the bank's status API,
the ledger posting, and the loan's workflow signalled ``refund_settled``. A refund asks for at most what is
*refundable*: the credit balance in the ledger less every refund still open (PENDING_APPROVAL, APPROVED, SENT);
more is 409 naming ``amount``. A FAILED or REJECTED refund frees its amount for a new request.

Who may do what (``domain.access`` permissions):

- ask for a refund: ``loan_ops.disburse`` (loan executive, admin, super admin: the people who release money out);
- approve, reject: ``collections.manage`` (collection manager, collection head, admin, super admin: the checkers
  of money in, as for offline payments);
- the queue and a loan's refunds: ``queue.loans_ops`` or ``collections.view``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.access import Allow, audit
from api.deps import call_async, is_uuid, page_of
from api.partner.common import Db, Temporal, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, Rupees, Whole
from db.models import Brand, LedgerEntry, LedgerTransaction, Refund
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationError
from domain.ledger import CUSTOMER_CREDIT
from domain.money import format_inr, to_paise
from workflows.refund import RefundInput, RefundWorkflow

router = staff_router()
Maker = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]
Checker = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
QueueViewer = Annotated[Principal, Allow(P.QUEUE_LOANS_OPS, P.COLLECTIONS_VIEW)]


class RefundStatus(StrEnum):
    """A refund's life: asked (PENDING_APPROVAL) → APPROVED or REJECTED → SENT → PROCESSED or FAILED."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SENT = "SENT"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


class RefundQueueStatus(StrEnum):
    """The refund queue's filter: a refund's status, or ALL."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SENT = "SENT"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    ALL = "ALL"


OPEN = (RefundStatus.PENDING_APPROVAL.value, RefundStatus.APPROVED.value, RefundStatus.SENT.value)


class RefundIn(BaseModel):
    """A refund as the maker asks for it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    amount: Rupees | None = Field(
        default=None, description='rupees as a decimal string, e.g. "1250.50"; default: all that is refundable'
    )
    reason: str = Field(min_length=1, max_length=1000, description="why the money goes back")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    reason: str = Field(min_length=1, max_length=1000, description="why the refund is not made")


class RefundView(ApiModel):
    """One refund as staff see it (amounts in paise; the account by its last 4 digits only)."""

    id: str
    loan_id: str
    amount_paise: int
    reason: str | None
    status: RefundStatus
    requested_by: str | None = Field(description="the maker's staff id")
    decided_by: str | None = Field(description="the checker's staff id")
    decided_at: str | None
    decision_reason: str | None
    account_last4: str | None = Field(description="the verified account the money went to")
    provider: str | None = Field(description="the disbursal bank that carried it")
    transfer_id: str | None = Field(description="our reference at the bank: refund-<id>")
    utr: str | None = Field(description="the bank's UTR once PROCESSED")
    failure_reason: str | None
    created_at: str | None


class RefundPage(ApiModel):
    items: list[RefundView]
    page: Whole = Field(description="1-based page number")
    limit: Whole = Field(description="page size")
    total: int = Field(description="refunds matching the filters, over all pages")


class LoanRefunds(ApiModel):
    """A loan's credit balance and its refunds."""

    loan_id: str
    credit_balance_paise: int = Field(description="CUSTOMER_CREDIT_BALANCE in the ledger: owed to the borrower")
    refundable_paise: int = Field(description="the credit balance less the refunds still open")
    refunds: list[RefundView] = Field(description="newest first")


def view(row: Refund) -> dict[str, Any]:
    """A refund row as a :class:`RefundView` (camelCase keys)."""
    return RefundView(
        id=row.id, loan_id=row.loan_id, amount_paise=row.amount, reason=row.reason, status=RefundStatus(row.status),
        requested_by=row.requested_by, decided_by=row.decided_by, decided_at=iso(row.decided_at),
        decision_reason=row.decision_reason, account_last4=row.account_last4, provider=row.provider,
        transfer_id=row.transfer_id, utr=row.utr, failure_reason=row.failure_reason, created_at=iso(row.created_at),
    ).model_dump(by_alias=True)  # fmt: skip


def credit_balance(session: Session, loan_id: str) -> int:
    """The loan's credit balance in paise, from the ledger: the credit balance of CUSTOMER_CREDIT_BALANCE (excess
    received, less refunds paid)."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.loan_id == loan_id, LedgerEntry.account == CUSTOMER_CREDIT)
    )
    return -int(total or 0)


def refundable(session: Session, loan_id: str) -> int:
    """The credit balance less every refund still open (PENDING_APPROVAL, APPROVED, SENT), in paise."""
    open_total = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.loan_id == loan_id, Refund.status.in_(OPEN))
    )
    return credit_balance(session, loan_id) - int(open_total or 0)


def _refund(session: Session, brand_id: str, refund_id: str) -> Refund:
    """The brand's refund, row-locked (two checkers at once: one decision, one 409); 404 otherwise."""
    row = session.get(Refund, refund_id, with_for_update=True) if is_uuid(refund_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("refund not found")
    return row


def _decidable(row: Refund, staff: Principal, what: str) -> None:
    """Maker-checker: 403 when the checker is the maker, 409 unless PENDING_APPROVAL."""
    if row.requested_by == staff.id:
        raise PermissionDenied(
            f"maker-checker: you asked for this refund, so another staff member must {what} it", field="requestedBy"
        )
    if row.status != RefundStatus.PENDING_APPROVAL:
        raise Conflict(f"this refund is {row.status}; it is decided once", field="status")


# ------------------------------------------------------------------------------------------- maker
@router.post("/brand/{brand_id}/loans/{loan_id}/refunds", status_code=201, response_model=RefundView)
def request_refund(
    request: Request, brand_id: str, loan_id: str, body: RefundIn, staff: Maker, session: Db
) -> dict[str, Any]:
    """Ask for a refund of the loan's credit balance (PENDING_APPROVAL): ``amount`` in rupees (decimal string;
    default all that is refundable) and ``reason``. 409 naming ``amount`` when it exceeds the credit balance less
    the refunds still open, or when nothing is refundable. A checker then approves or rejects it."""
    loan = find_loan(session, brand_id, loan_id, lock=True)  # (serialises two makers on one loan)
    left = refundable(session, loan.id)
    amount = to_paise(body.amount) if body.amount is not None else left
    if amount <= 0:
        if credit_balance(session, loan.id) > 0:  # all of it is in refunds asked for and not yet paid
            raise Conflict("the credit balance is all in refunds still open (see the loan's refunds)", field="amount")
        raise Conflict("the loan has no credit balance to refund", field="amount")
    if amount > left:
        raise Conflict(
            f"{format_inr(amount)} is more than the refundable {format_inr(left)} (credit balance less open refunds)",
            field="amount",
        )
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required", field="reason")
    row = Refund(brand_id=brand_id, loan_id=loan.id, amount=amount, reason=reason, requested_by=staff.id,
                 status=RefundStatus.PENDING_APPROVAL.value)  # fmt: skip
    session.add(row)
    session.flush()
    audit(
        session, request, staff, "refund.requested", "refund", row.id, after={"loanId": loan.id, "amountPaise": amount}
    )
    session.commit()
    return view(row)


# ------------------------------------------------------------------------------------------- reads
@router.get("/brand/{brand_id}/refunds", response_model=RefundPage)
def refund_queue(
    brand_id: str,
    staff: QueueViewer,
    session: Db,
    status: Annotated[
        RefundQueueStatus | None, Query(description="default PENDING_APPROVAL; ALL for every status")
    ] = None,
    loan_id: Annotated[str | None, Query(alias="loanId", max_length=36)] = None,
    page: Annotated[int, Query(ge=1, le=10_000), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """The brand's refunds, oldest first: by default those waiting for a checker; filtered by ``status`` (``ALL``:
    every one) and ``loanId``; paged."""
    query = select(Refund).where(Refund.brand_id == brand_id)
    if status != RefundQueueStatus.ALL:
        query = query.where(Refund.status == (status or RefundStatus.PENDING_APPROVAL).value)
    if loan_id is not None:
        if not is_uuid(loan_id):
            raise ValidationError("not a loan id", field="loanId")
        query = query.where(Refund.loan_id == loan_id.lower())
    rows, total = page_of(session, query, page, limit, Refund.created_at, Refund.id)
    return {"items": [view(r[0]) for r in rows], "page": page, "limit": limit, "total": total}


@router.get("/brand/{brand_id}/loans/{loan_id}/refunds", response_model=LoanRefunds)
def loan_refunds(brand_id: str, loan_id: str, staff: QueueViewer, session: Db) -> dict[str, Any]:
    """The loan's credit balance, what is refundable, and every refund asked for, newest first."""
    loan = find_loan(session, brand_id, loan_id)
    rows = session.scalars(
        select(Refund).where(Refund.loan_id == loan.id).order_by(Refund.created_at.desc(), Refund.id)
    ).all()
    return {
        "loanId": loan.id,
        "creditBalancePaise": credit_balance(session, loan.id),
        "refundablePaise": refundable(session, loan.id),
        "refunds": [view(r) for r in rows],
    }


# ------------------------------------------------------------------------------------------- checker
def _start(request: Request, client: Client, brand: Brand, row: Refund) -> None:
    """Start the refund's workflow (once: a finished one is never started again); 503 when the engine is down.
    The rows' values are read here, in the route's thread, and only plain values go to the event loop."""
    patient = BrandConfig.of(brand.config).transfer_sla_seconds
    try:
        call_async(
            client.start_workflow,
            RefundWorkflow.run,
            RefundInput(row.id, row.loan_id, brand.id, row.amount, patient_seconds=patient),
            id=f"refund-{row.id}",
            task_queue=request.app.state.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Refund {row.amount} paise of loan {row.loan_id}",
        )
    except WorkflowAlreadyStartedError:
        pass
    except Exception as exc:  # noqa: BLE001 - the approval stands; approving again starts it
        raise ServiceUnavailable(
            f"the refund is approved but its transfer could not be started ({exc}); approve it again to start it"
        ) from exc


@router.post("/brand/{brand_id}/refunds/{refund_id}/approve", response_model=RefundView)
def approve_refund(
    request: Request, brand_id: str, refund_id: str, staff: Checker, session: Db, client: Temporal
) -> dict[str, Any]:
    """Approve a PENDING_APPROVAL refund, as a staff member other than its maker (403 otherwise): APPROVED, and
    its workflow starts the transfer. It must still fit the credit balance (409 naming ``amount``). Approving an
    APPROVED refund again only starts its workflow if it never started (503 before); decided once (409)."""
    row = _refund(session, brand_id, refund_id)
    brand = session.get_one(Brand, brand_id)
    if row.status == RefundStatus.APPROVED and row.decided_by is not None and row.requested_by != staff.id:
        session.rollback()
        _start(request, client, brand, row)
        return view(row)
    _decidable(row, staff, "approve")
    left = refundable(session, row.loan_id) + row.amount  # (this refund is one of the open ones)
    if row.amount > left:
        left_text = format_inr(left)
        raise Conflict(f"the credit balance left to refund is {left_text}, less than this refund", field="amount")
    row.status, row.decided_by, row.decided_at = RefundStatus.APPROVED.value, staff.id, datetime.now(UTC)
    audit(session, request, staff, "refund.approved", "refund", row.id,
          before={"status": "PENDING_APPROVAL"}, after={"status": row.status})  # fmt: skip
    session.commit()  # approved first: a crash before the start leaves it APPROVED, and approving again starts it
    _start(request, client, brand, row)
    return view(row)


@router.post("/brand/{brand_id}/refunds/{refund_id}/reject", response_model=RefundView)
def reject_refund(
    request: Request, brand_id: str, refund_id: str, body: RejectIn, staff: Checker, session: Db
) -> dict[str, Any]:
    """Reject a PENDING_APPROVAL refund with a ``reason``, as a staff member other than its maker (403
    otherwise). Nothing is sent; its amount is refundable again. Decided once (409 after)."""
    row = _refund(session, brand_id, refund_id)
    _decidable(row, staff, "reject")
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required to reject a refund", field="reason")
    row.status, row.decided_by, row.decided_at = RefundStatus.REJECTED.value, staff.id, datetime.now(UTC)
    row.decision_reason = reason
    audit(session, request, staff, "refund.rejected", "refund", row.id,
          before={"status": "PENDING_APPROVAL"}, after={"status": row.status, "reason": reason})  # fmt: skip
    session.commit()
    return view(row)
