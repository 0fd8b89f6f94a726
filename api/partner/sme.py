"""SME invoice financing, the staff's side: queues and decisions under /api/v1/partner/brand/{brandId}/sme/...
(docs/invoice-financing.md).

- queues: ``GET sme/queues/{queue}`` (approval, attention, collections, funded, offered, closed, refused);
- a request with its offers and history, and its business: ``GET sme/requests/{id}``, ``GET sme/businesses/{id}``;
- maker-checker: ``POST .../recommend`` (the maker: ``review.credit``), ``POST .../approve`` (the checker:
  ``review.sanction_manager``; never the maker, 403), ``POST .../reject``;
- a held request (NEEDS_ATTENTION): ``POST .../retry``, ``POST .../reject-hold`` (``loan_ops.disburse``);
- the credits that arrived once the invoice was settled, counted once and kept as the business's credit balance:
  ``GET sme/requests/{id}/credit-balance`` (``loans.view``), and its refund, maker-checker:
  ``POST .../credit-balance/refund``, ``.../refund/approve``, ``.../refund/reject`` (``api.sme.credit_refunds``,
  included here);
- credits the buyer paid outside the virtual account, maker-checker: ``POST .../credits``, ``GET .../credits``,
  ``POST sme/credits/{id}/approve``, ``POST sme/credits/{id}/reject`` (``api.sme.staff_credits``, included here).

Every decision is an update on the request's workflow (refusals: 403 wrong person, 404 another brand's, 409 wrong
state; nothing changed), audited in the brand's audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field
from sqlalchemy import func, select

from api.access import Allow, audit
from api.deps import UpdateBound, call_async, is_uuid
from api.partner.common import Db, Temporal, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.sme import credit_refunds, staff_credits
from api.sme.schemas import BusinessView, ReasonIn, RequestPage, RequestView, StatusAnswer, business_view, request_view
from api.types import WHOLE
from api.workflow_calls import customer_update
from db.models import SmeBusiness, SmeFinancingRequest
from db.sme import QUEUES
from db.sme_credit_balances import balances_of, refunds_of
from domain.access import Permission as P
from domain.errors import NotFound, ValidationError
from workflows.contracts.sme import SmeStaffDecision
from workflows.invoice_financing import InvoiceFinancingWorkflow

router = staff_router()
router.routes.extend(staff_credits.router.routes)  # staff-recorded credits, maker-checker (full paths already)
router.routes.extend(credit_refunds.router.routes)  # refunds of the business's credit balance, maker-checker
Viewer = Annotated[Principal, Allow(P.LOANS_VIEW)]
Maker = Annotated[Principal, Allow(P.REVIEW_CREDIT, api_key=False)]
Checker = Annotated[Principal, Allow(P.REVIEW_SANCTION_MANAGER, api_key=False)]
Ops = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]


def _request(session: Any, brand_id: str, request_id: str) -> SmeFinancingRequest:
    row = session.get(SmeFinancingRequest, request_id) if is_uuid(request_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("request not found")
    return row


@router.get("/brand/{brand_id}/sme/queues/{queue}", response_model=RequestPage)
def queue(
    brand_id: str,
    queue: str,
    staff: Viewer,
    session: Db,
    page: Annotated[int, Query(ge=1, le=10_000), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """A queue of the brand's requests, oldest first: approval (APPROVAL_PENDING), attention (NEEDS_ATTENTION),
    collections (OVERDUE, most days late first), funded, offered, closed, refused. 422 naming ``queue`` else."""
    statuses = QUEUES.get(queue)
    if statuses is None:
        raise ValidationError(f"queue must be one of {', '.join(sorted(QUEUES))}", field="queue")
    where = (SmeFinancingRequest.brand_id == brand_id, SmeFinancingRequest.status.in_([str(s) for s in statuses]))
    order = (SmeFinancingRequest.days_late.desc(),) if queue == "collections" else ()
    rows = session.scalars(
        select(SmeFinancingRequest)
        .where(*where)
        .order_by(*order, SmeFinancingRequest.created_at)
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(SmeFinancingRequest).where(*where)) or 0
    return {"items": [request_view(session, r) for r in rows], "total": total}


@router.get("/brand/{brand_id}/sme/requests/{request_id}", response_model=RequestView)
def get_request(brand_id: str, request_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """One request with its offers and history (maker and checker, each status with its reason)."""
    return request_view(session, _request(session, brand_id, request_id), detail=True)


class LateCreditView(ApiModel):
    """One credit that arrived once the invoice was settled (paise)."""

    payment_id: str = Field(description="the UTR's credit key (UTR:...) or the gateway's payment id")
    amount: int
    applied: int = Field(description="paise applied to the invoice's dues left")
    kept: int = Field(description="paise kept as the business's credit balance")
    source: str
    received_while: str = Field(description="the request's status when it arrived: PAID or CLOSED")
    status: str = Field(description="OPEN until refunded")
    paid_at: str


class CreditBalanceView(ApiModel):
    """A request's late credits and the business's credit balance from them (paise, refundable)."""

    request_id: str
    balance: int = Field(description="paise kept and not refunded")
    credits: list[LateCreditView]
    refunds: list[credit_refunds.CreditRefundView] = Field(
        default_factory=list, description="refunds of the balance, oldest first (PENDING, PAID, REJECTED)"
    )


@router.get("/brand/{brand_id}/sme/requests/{request_id}/credit-balance", response_model=CreditBalanceView)
def get_credit_balance(brand_id: str, request_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """The credits that arrived once the request's invoice was settled, each counted once, and the business's credit
    balance they left (refundable); 404 for another brand's request."""
    row = _request(session, brand_id, request_id)
    credits = balances_of(session, row.id)
    return {
        "requestId": row.id,
        "balance": sum(c.kept for c in credits if c.status == "OPEN"),
        "credits": [
            {
                "paymentId": c.payment_id,
                "amount": c.amount,
                "applied": c.applied,
                "kept": c.kept,
                "source": c.source,
                "receivedWhile": c.received_while,
                "status": c.status,
                "paidAt": c.paid_at.isoformat(),
            }  # fmt: skip
            for c in credits
        ],
        "refunds": [credit_refunds.refund_view(r) for r in refunds_of(session, row.id)],
    }


@router.get("/brand/{brand_id}/sme/businesses/{business_id}", response_model=BusinessView)
def get_business(brand_id: str, business_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """A business with its directors and verification status."""
    row = session.get(SmeBusiness, business_id) if is_uuid(business_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("business not found")
    return business_view(session, row)


def _decide(
    request: Request, session: Any, client: Any, staff: Principal, brand_id: str, request_id: str,
    update: Any, action: str, step: str, reason: str | None, bound: float,
) -> dict[str, Any]:  # fmt: skip
    row = _request(session, brand_id, request_id)
    before = {"status": row.status}
    session.rollback()
    decision = SmeStaffDecision(staff.id, staff.role or "", brand_id, action, step, reason)
    answer = call_async(customer_update, client, f"invoice-{row.id}", update, decision, timeout=bound)
    audit(session, request, staff, f"sme.{step.lower()}.{action.lower()}", "sme_request", row.id, before=before,
          after={"status": answer["status"], "reason": reason}, brand_id=brand_id)  # fmt: skip
    session.commit()
    return {"id": row.id, "status": answer["status"]}


@router.post("/brand/{brand_id}/sme/requests/{request_id}/recommend", response_model=StatusAnswer)
def recommend(
    request: Request, brand_id: str, request_id: str, staff: Maker, session: Db, client: Temporal, bound: UpdateBound
) -> dict[str, Any]:
    """The maker's approval of an accepted offer (APPROVAL_PENDING); a checker's approval follows."""
    args = (InvoiceFinancingWorkflow.decide, "APPROVE", "MAKER", None, bound)
    return _decide(request, session, client, staff, brand_id, request_id, *args)


@router.post("/brand/{brand_id}/sme/requests/{request_id}/approve", response_model=StatusAnswer)
def approve(
    request: Request, brand_id: str, request_id: str, staff: Checker, session: Db, client: Temporal, bound: UpdateBound
) -> dict[str, Any]:
    """The checker's approval: the advance is sent (DISBURSING). 403 when the checker is the maker; 409 before
    the maker's approval."""
    update = InvoiceFinancingWorkflow.decide
    return _decide(request, session, client, staff, brand_id, request_id, update, "APPROVE", "CHECKER", None, bound)


@router.post("/brand/{brand_id}/sme/requests/{request_id}/reject", response_model=StatusAnswer)
def reject(
    request: Request, brand_id: str, request_id: str, body: ReasonIn, staff: Maker, session: Db, client: Temporal,
    bound: UpdateBound,
) -> dict[str, Any]:  # fmt: skip
    """Reject a request awaiting approval, with the reason the business is told."""
    update = InvoiceFinancingWorkflow.decide
    return _decide(request, session, client, staff, brand_id, request_id, update, "REJECT", "MAKER", body.reason, bound)


@router.post("/brand/{brand_id}/sme/requests/{request_id}/retry", response_model=StatusAnswer)
def retry(
    request: Request, brand_id: str, request_id: str, staff: Ops, session: Db, client: Temporal, bound: UpdateBound
) -> dict[str, Any]:
    """Run a held step again (the checks, the advance or the reserve release)."""
    args = (InvoiceFinancingWorkflow.resume, "RETRY", "HOLD", None, bound)
    return _decide(request, session, client, staff, brand_id, request_id, *args)


@router.post("/brand/{brand_id}/sme/requests/{request_id}/reject-hold", response_model=StatusAnswer)
def reject_hold(
    request: Request, brand_id: str, request_id: str, body: ReasonIn, staff: Ops, session: Db, client: Temporal,
    bound: UpdateBound,
) -> dict[str, Any]:  # fmt: skip
    """Reject a held request (not once the buyer has paid: the reserve is owed to the seller, 409)."""
    update = InvoiceFinancingWorkflow.resume
    return _decide(request, session, client, staff, brand_id, request_id, update, "REJECT", "HOLD", body.reason, bound)
