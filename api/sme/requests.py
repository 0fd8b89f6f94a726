"""The business's financing requests: /api/v1/sme/requests (start, list, read, offers, accept, cancel), and the
callbacks of the buyer's payment link and of the bank's transfers: /api/v1/sme/webhooks/{brandId}/{vendor}.

A request starts ``InvoiceFinancingWorkflow`` on ``invoice-<requestId>``; its checks, offers and money are the
workflow's (docs/invoice-financing.md). Accept and cancel are updates on it: a refusal is 403/404/409/422 with
nothing changed. A callback is verified by the vendor's own adapter (signature) before anything is believed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import func, select
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.providers import webhook_adapter
from api.deps import UpdateBound, call_async, is_uuid
from api.guards import GUARDS
from api.responses import ApiModel
from api.sme.business import Db, Me, audit_business, my_business, my_invoice
from api.sme.schemas import (
    AcceptIn,
    ReasonIn,
    RequestIn,
    RequestPage,
    RequestView,
    StatusAnswer,
    WebhookAnswer,
    request_view,
)
from api.workflow_calls import customer_update
from db.models import Brand, SmeFinancingRequest
from db.sme import open_request_for
from db.sme_credit_balances import balances_of, refunds_of
from domain.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationError
from workflows.contracts.sme import BusinessCancel, BuyerPayment, InvoiceFinancingInput, OfferAcceptance, TransferEvent
from workflows.invoice_financing import InvoiceFinancingWorkflow

router = APIRouter(dependencies=GUARDS)  # also on the including router; declared here so each route carries it


def workflow_id(request_id: str) -> str:
    """The request's workflow id."""
    return f"invoice-{request_id}"


def _mine(session: Any, me: Any, request_id: str) -> SmeFinancingRequest:
    biz = my_business(session, me)
    row = session.get(SmeFinancingRequest, request_id) if is_uuid(request_id) else None
    if row is None or row.business_id != biz.id:
        raise NotFound("request not found", field="requestId")
    return row


@router.post("/requests", status_code=201, response_model=RequestView)
def start_request(request: Request, body: RequestIn, me: Me, session: Db) -> dict[str, Any]:
    """Ask to finance one of the business's invoices: the checks (duplicate, business, buyer), the risk score and
    the lenders' offers follow in the request's workflow. 409 when the invoice already has a request under way."""
    invoice = my_invoice(session, me, body.invoice_id)
    session.refresh(invoice, with_for_update=True)  # two requests for one invoice at once: one waits, then 409
    if open_request_for(session, invoice.id) is not None:
        raise Conflict("this invoice already has a financing request under way", field="invoiceId")
    row = SmeFinancingRequest(
        brand_id=me.brand_id, business_id=invoice.business_id, invoice_id=invoice.id, amount=invoice.amount,
        status="SUBMITTED", score_factors={},
    )  # fmt: skip
    session.add(row)
    session.flush()
    after = {"invoiceId": invoice.id, "amountPaise": invoice.amount, "status": row.status}
    audit_business(session, request, me, "sme.request.create", "sme_request", row.id, after=after)
    session.commit()
    client = call_async(request.app.state.temporal.get)
    try:
        call_async(
            client.start_workflow,
            InvoiceFinancingWorkflow.run,
            InvoiceFinancingInput(row.id, me.brand_id, row.business_id, invoice.id, invoice.amount, invoice.due_date),
            id=workflow_id(row.id),
            task_queue=request.app.state.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Invoice {invoice.number}: {invoice.amount} paise",
        )
    except RPCError as exc:
        row.status, row.reason, row.reason_text = "CANCELLED", "NOT_STARTED", "the workflow engine was unavailable"
        session.commit()
        raise ServiceUnavailable(f"the request could not be started ({exc.message}); send it again") from exc
    return request_view(session, row, detail=True)


@router.get("/requests", response_model=RequestPage)
def list_requests(me: Me, session: Db) -> dict[str, Any]:
    """The business's requests, newest first."""
    biz = my_business(session, me)
    where = SmeFinancingRequest.business_id == biz.id
    rows = session.scalars(select(SmeFinancingRequest).where(where).order_by(SmeFinancingRequest.created_at.desc()))
    total = session.scalar(select(func.count()).select_from(SmeFinancingRequest).where(where)) or 0
    return {"items": [request_view(session, r) for r in rows], "total": total}


class BusinessRefundView(ApiModel):
    """A refund of the business's credit balance as the business sees it (paise; the account masked)."""

    amount: int
    status: str = Field(description="PENDING (waiting for the lender's checker), PAID or REJECTED")
    account_masked: str
    ifsc: str
    reference: str
    utr: str | None = Field(description="the transfer's UTR once PAID")
    decided_at: str | None
    reason: str | None = Field(description="why it was rejected")


class BusinessCreditBalance(ApiModel):
    """What credits that arrived after the invoice was settled left the business (paise, refundable)."""

    balance: int = Field(description="paise kept for the business and not refunded yet")
    credits: int = Field(description="how many such credits arrived")
    refunded: int = Field(description="paise refunded (PAID)")
    refunds: list[BusinessRefundView]


class BusinessRequestView(RequestView):
    """A request in detail as its business reads it: ``creditBalance`` once a credit arrived after settlement."""

    credit_balance: BusinessCreditBalance | None = Field(
        default=None, description="credits after the invoice was settled, the balance and its refunds; else null"
    )


def credit_balance(session: Any, request_id: str) -> dict[str, Any] | None:
    """The request's credit balance for its business (``BusinessCreditBalance``), None when no late credit."""
    credits = balances_of(session, request_id)
    if not credits:
        return None
    refunds = refunds_of(session, request_id)
    return BusinessCreditBalance(
        balance=sum(c.kept for c in credits if c.status == "OPEN"),
        credits=len(credits),
        refunded=sum(r.amount for r in refunds if r.status == "PAID"),
        refunds=[
            BusinessRefundView(
                amount=r.amount,
                status=r.status,
                account_masked="XXXXXXXX" + r.account_last4,
                ifsc=r.ifsc,
                reference=r.reference,
                utr=r.utr,
                decided_at=r.decided_at.isoformat() if r.decided_at else None,
                reason=r.reason,
            )
            for r in refunds
        ],
    ).model_dump(by_alias=True)


@router.get("/requests/{request_id}", response_model=BusinessRequestView)
def get_request(request_id: str, me: Me, session: Db) -> dict[str, Any]:
    """One request with its offers, history and, once a credit arrived after the invoice was settled, the
    business's credit balance and its refunds (``creditBalance``)."""
    row = _mine(session, me, request_id)
    return request_view(session, row, detail=True) | {"creditBalance": credit_balance(session, row.id)}


@router.get("/requests/{request_id}/offers", response_model=RequestView)
def offers(request_id: str, me: Me, session: Db) -> dict[str, Any]:
    """The request's offers (best first) in the request."""
    return request_view(session, _mine(session, me, request_id), detail=True)


@router.post("/requests/{request_id}/accept", response_model=StatusAnswer)
def accept(request: Request, request_id: str, body: AcceptIn, me: Me, session: Db, bound: UpdateBound) -> dict:
    """Accept one offer (by ``lenderId``) while OFFERED: the request goes to staff approval (maker-checker)."""
    row = _mine(session, me, request_id)
    before = {"status": row.status}
    session.rollback()
    client = call_async(request.app.state.temporal.get)
    answer = call_async(customer_update, 
        client, workflow_id(row.id), InvoiceFinancingWorkflow.accept_offer,
        OfferAcceptance(row.business_id, body.lender_id), timeout=bound,
    )  # fmt: skip
    after = {"status": answer["status"], "lenderId": body.lender_id}
    audit_business(session, request, me, "sme.request.accept", "sme_request", row.id, before=before, after=after)
    session.commit()
    return {"id": row.id, "status": answer["status"]}


@router.post("/requests/{request_id}/cancel", response_model=StatusAnswer)
def cancel(request: Request, request_id: str, body: ReasonIn, me: Me, session: Db, bound: UpdateBound) -> dict:
    """Withdraw the request while OFFERED or awaiting approval (409 after)."""
    row = _mine(session, me, request_id)
    before = {"status": row.status}
    session.rollback()
    client = call_async(request.app.state.temporal.get)
    answer = call_async(customer_update, 
        client, workflow_id(row.id), InvoiceFinancingWorkflow.cancel, BusinessCancel(row.business_id, body.reason),
        timeout=bound,
    )  # fmt: skip
    after = {"status": answer["status"], "reason": body.reason}
    audit_business(session, request, me, "sme.request.cancel", "sme_request", row.id, before=before, after=after)
    session.commit()
    return {"id": row.id, "status": answer["status"]}


@router.post("/webhooks/{brand_id}/{vendor}", response_model=WebhookAnswer)
def webhook(request: Request, brand_id: str, vendor: str, session: Db) -> dict[str, str]:
    """A gateway's payment (the buyer paid the link: ``buyer_paid``) or a bank's transfer callback (the advance
    or the reserve: ``transfer_event``), checked by the vendor's adapter (signature, fields). 403 on a bad
    signature; an event for no request of the brand is IGNORED."""
    brand = session.get(Brand, brand_id) if is_uuid(brand_id) else None
    if brand is None:
        raise NotFound("brand not found")
    adapter = webhook_adapter(dict(brand.config or {}), vendor, request.app.state.http)
    session.rollback()
    if adapter is None:
        raise NotFound(f"the brand has no vendor {vendor}", field="vendor")
    raw = call_async(request.body)
    if not adapter.verify_webhook(raw, request.headers):
        raise PermissionDenied("signature does not match")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ValidationError("the body is not JSON", field="body") from exc
    event = adapter.parse_webhook(payload, request.headers)
    signal, arg = _signal(event)
    if signal is None or event.loan_ref is None or not is_uuid(str(event.loan_ref)):
        return {"outcome": "IGNORED"}
    row = session.get(SmeFinancingRequest, str(event.loan_ref))
    if row is None or row.brand_id != brand.id:
        return {"outcome": "IGNORED"}
    client = call_async(request.app.state.temporal.get)
    try:
        call_async(client.get_workflow_handle(workflow_id(row.id)).signal, signal, arg)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return {"outcome": "IGNORED"}
        raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc
    return {"outcome": "SIGNALLED"}


def _signal(event: Any) -> tuple[Any, Any]:
    """The workflow's signal for a parsed event: a payment → ``buyer_paid``; a bank's transfer callback →
    ``transfer_event`` CHECK (the workflow asks the bank's status API by its own reference); else None."""
    arg = event.arg
    if event.is_payment and hasattr(arg, "payment_id"):
        paid = BuyerPayment(str(arg.payment_id), int(arg.amount), _now(), str(getattr(arg, "gateway", "LINK"))[:20])
        return InvoiceFinancingWorkflow.buyer_paid, paid
    if hasattr(arg, "transfer_id") and hasattr(arg, "status"):
        return InvoiceFinancingWorkflow.transfer_event, TransferEvent("ANY", "CHECK")
    return None, None


def _now() -> datetime:
    return datetime.now(UTC)
