"""Ops resending a failed wallet order of a co-lent loan, under /api/v1/partner/brand/{brandId}/co-lending (on
``api.partner.colending.router``; docs/co-lending.md, "Ops: resending a failed wallet order"), maker-checker as the
escrow's remittances are:

- ``POST loans/{loanId}/wallet-orders/{orderRef}/resend`` (``loan_ops.disburse``, the maker, audited): ask for an
  order the partner refused or failed to be sent again (PENDING). 409 naming ``orderRef`` when the order already
  succeeded (saying so), when the partner holds it unanswered, or while a resend of it awaits approval or is in
  flight.
- ``POST .../resend/approve`` (``settings.manage``, another person, audited): send it again through the partner's
  adapter (the same order id and parts: Lendbox takes an order once per id), 403 for the maker, 409 while it is in
  flight or when none awaits approval; a refusal is recorded on the order (REFUSED, ask again later), a partner
  that does not answer leaves the resend PENDING and answers 503. ``.../resend/reject`` with a ``reason``.

Money is integer paise; nothing is written for a refused request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.partners.lendbox_colending import colending_adapter
from api.access import Allow, audit
from api.deps import call_async
from api.partner.colending import BASE, Manager, _co_lent, router
from api.partner.common import Db
from api.responses import ApiModel
from api.security import Principal
from db import colending as q
from db.models import PartnerLender
from domain.access import Permission as P
from domain.colending import ledger as cl
from domain.colending.orders import RESEND_PENDING, RESEND_SENDING, check_resend, check_resend_decision
from domain.errors import Conflict, NotFound, ServiceUnavailable, ValidationError

Ops = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]
ORDER = BASE + "/loans/{loan_id}/wallet-orders/{order_ref}/resend"


class ResendView(ApiModel):
    status: str = Field(description="PENDING (awaiting approval), SENDING, SENT, REFUSED or REJECTED")
    requested_by: str | None
    decided_by: str | None
    reason: str | None


class WalletOrderView(ApiModel):
    loan_id: str
    order_ref: str = Field(description="our reference of the order (CL-<paymentId>), the id the partner knows")
    payment_id: str | None
    amount: int = Field(description="the partner's part of the payment, paise")
    status: str | None = Field(description="the partner's status of the order (SUCCESS, PENDING, REFUSED: ...)")
    wallet_order_id: str | None
    utr: str | None
    resend: ResendView | None


class ResendDecisionIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


def _now() -> datetime:
    return datetime.now(UTC)


def _view(loan_id: str, order_ref: str, order: dict[str, Any]) -> dict[str, Any]:
    resend = order.get("resend")
    return {"loanId": loan_id, "orderRef": order_ref, "paymentId": order.get("paymentId"),
            "amount": int(order.get("amount") or 0), "status": order.get("status"),
            "walletOrderId": order.get("walletOrderId"), "utr": order.get("utr"),
            "resend": None if not resend else {"status": resend.get("status"), "requestedBy": resend.get("requestedBy"),
                                               "decidedBy": resend.get("decidedBy"),
                                               "reason": resend.get("reason")}}  # fmt: skip


def _locked_order(session: Db, brand_id: str, loan_id: str, order_ref: str) -> tuple[Any, dict[str, Any]]:
    """The co-lent loan (row-locked: two staff acting at once get one outcome) and its order ``order_ref``."""
    row = _co_lent(session, brand_id, loan_id)
    row = q.co_lent(session, row.loan_id, lock=True)
    order = ((row.steps or {}).get("orders") or {}).get(order_ref)
    if order is None:
        raise NotFound("no such wallet order on this loan", field="orderRef")
    return row, dict(order)


def _save(row: Any, order_ref: str, order: dict[str, Any]) -> None:
    orders = dict((row.steps or {}).get("orders") or {})
    orders[order_ref] = order
    row.steps = {**(row.steps or {}), "orders": orders}


@router.post(ORDER, response_model=WalletOrderView)
def request_wallet_order_resend(
    request: Request, brand_id: str, loan_id: str, order_ref: str, staff: Ops, session: Db
) -> dict[str, Any]:
    """Ask for a failed wallet order to be sent to the partner again (the maker): PENDING until another person
    approves it. 409 naming ``orderRef`` when it succeeded, is held by the partner, or a resend of it is pending or
    in flight."""
    row, order = _locked_order(session, brand_id, loan_id, order_ref)
    check_resend(order, _now())
    before = _view(row.loan_id, order_ref, order)
    order["resend"] = {"status": RESEND_PENDING, "requestedBy": staff.id, "requestedAt": _now().isoformat()}
    _save(row, order_ref, order)
    after = _view(row.loan_id, order_ref, order)
    audit(session, request, staff, "co_lending.wallet_order.resend", "colending_loans", row.id, before=before,
          after=after)  # fmt: skip
    session.commit()
    return after


@router.post(ORDER + "/approve", response_model=WalletOrderView, responses={503: {"description": "no answer"}})
def approve_wallet_order_resend(
    request: Request, brand_id: str, loan_id: str, order_ref: str, staff: Manager, session: Db
) -> dict[str, Any]:
    """Approve a pending resend (another person than who asked: 403 otherwise) and send the order through the
    partner's adapter: the same order id and the partner's parts of the payment, as first sent. 409 while it is
    being sent or when no resend awaits approval; 503 (the resend stays PENDING) when the partner does not answer."""
    row, order = _locked_order(session, brand_id, loan_id, order_ref)
    check_resend_decision(order, staff.id, _now())
    before = _view(row.loan_id, order_ref, order)
    partner = session.get_one(PartnerLender, row.partner_id)
    api = colending_adapter(request.app.state.http, partner.adapter, dict(partner.settings or {}))
    if api is None or not row.partner_loan_id:
        raise Conflict("the partner has no co-lending loan to send the order to", field="orderRef")
    parts = q.collected_for(session, f"colending:payment:{order.get('paymentId')}", cl.PARTNER)
    if parts.total <= 0:
        raise Conflict("the payment's split gives the partner nothing to send", field="orderRef")
    ids = (row.id, row.loan_id, row.partner_loan_id)
    order["resend"] = {**order["resend"], "status": RESEND_SENDING, "decidedBy": staff.id,
                       "sendingAt": _now().isoformat()}  # fmt: skip
    _save(row, order_ref, order)
    session.commit()  # stamped in flight: a second approval meanwhile is 409; no lock held while the partner answers
    body = {"principal": parts.principal, "interest": parts.interest, "fees": parts.fees, "penal": parts.penal}
    outcome: dict[str, Any]
    try:
        wallet_id, status = call_async(api.wallet_order, ids[2], order_ref, body)
        outcome = {"walletOrderId": wallet_id, "status": status, "resend": "SENT", "reason": None}
    except BusinessRefusal as no:
        outcome = {"walletOrderId": None, "status": f"REFUSED: {no}"[:200], "resend": "REFUSED", "reason": str(no)}
    except ProviderError as exc:
        outcome = {"resend": RESEND_PENDING, "reason": f"the partner did not answer: {exc}"[:300]}
    row, order = _locked_order(session, brand_id, ids[1], order_ref)
    if outcome["resend"] != RESEND_PENDING:
        if order.get("status") != "SUCCESS":  # its callback may have come first
            order["status"] = outcome["status"]
        order["walletOrderId"] = order.get("walletOrderId") if outcome["walletOrderId"] is None else \
            outcome["walletOrderId"]  # fmt: skip
    order["resend"] = {**order["resend"], "status": outcome["resend"], "reason": outcome["reason"]}
    _save(row, order_ref, order)
    after = _view(row.loan_id, order_ref, order)
    audit(session, request, staff, "co_lending.wallet_order.resend_approved", "colending_loans", ids[0],
          before=before, after=after)  # fmt: skip
    session.commit()
    if outcome["resend"] == RESEND_PENDING:
        raise ServiceUnavailable(f"{outcome['reason']}; the resend still awaits approval")
    return after


@router.post(ORDER + "/reject", response_model=WalletOrderView)
def reject_wallet_order_resend(
    request: Request, brand_id: str, loan_id: str, order_ref: str, body: ResendDecisionIn, staff: Manager, session: Db
) -> dict[str, Any]:
    """Reject a pending resend with a ``reason`` (422 naming it without one), as another person (403 for who
    asked; 409 when none awaits approval or it is in flight)."""
    reason = (body.reason or "").strip()
    if not reason:
        raise ValidationError("a rejection needs a reason", field="reason")
    row, order = _locked_order(session, brand_id, loan_id, order_ref)
    check_resend_decision(order, staff.id, _now())
    before = _view(row.loan_id, order_ref, order)
    order["resend"] = {**order["resend"], "status": "REJECTED", "decidedBy": staff.id, "reason": reason}
    _save(row, order_ref, order)
    after = _view(row.loan_id, order_ref, order)
    audit(session, request, staff, "co_lending.wallet_order.resend_rejected", "colending_loans", row.id,
          before=before, after=after)  # fmt: skip
    session.commit()
    return after
