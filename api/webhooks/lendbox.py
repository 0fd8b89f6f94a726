"""Lendbox's co-lending callbacks: one signed webhook for all of them, ``POST
/api/v1/webhooks/{brandId}/partners/lendbox`` (``activities.providers.partners.lendbox_colending`` documents the
body and the signature). Not the generic ``/{brandId}/{vendor}`` route: a partner lender's credentials are its
partner settings (``partner_lenders.settings``), not the brand's provider settings the generic route reads.

A forged or stale signature answers 401 and a malformed body 422 (the field named), nothing stored. A verified
event is stored once per its ``event_id``: a duplicate answers 200 ``duplicate`` and changes nothing. What each
event does, on the co-lent loan's records only (the loan's own workflow does not wait for any of them):

- ``DISBURSED``: the partner funded its share: its UTR and date kept, its funding posted on its sub-ledger
  (CL_FUNDING_DUE → CL_FUNDING);
- ``ESIGN``: its eSign's outcome on the ESIGN step; ``CREDIT_ORDER``: a wallet order's status and UTR;
- ``LOAN_STATUS``: the partner's status of the loan (CLOSED once its share is repaid).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.providers.partners.lendbox_colending import (
    LendboxEvent,
    WebhookRejected,
    colending_adapter,
    paise,
)
from api.deps import is_uuid
from api.responses import ApiModel
from db import colending as q
from db.models import CoLentLoan, PartnerLender
from domain.colending import ledger as cl
from domain.errors import AuthenticationError, NotFound, ValidationError

log = logging.getLogger("los.webhooks")
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
IST = timezone(timedelta(hours=5, minutes=30), "IST")
MAX_BODY = 64 * 1024


class PartnerWebhookAnswer(ApiModel):
    """What was done with a verified callback: ``applied``, ``duplicate`` or ``ignored`` (with the reason)."""

    status: str = Field(description="applied, duplicate or ignored")
    event_id: str
    reason: str | None = None


def _partners(session: Session, brand_id: str) -> list[PartnerLender]:
    query = select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.adapter == "lendbox")
    return list(session.scalars(query.order_by(PartnerLender.code)))


def _verify(request: Request, partners: list[PartnerLender], raw: bytes) -> tuple[PartnerLender, LendboxEvent]:
    """The partner whose secret signs ``raw`` and its event; 401 when none does, 422 for a bad body."""
    refusal: WebhookRejected | None = None
    for partner in partners:
        api = colending_adapter(request.app.state.http, partner.adapter, dict(partner.settings or {}))
        if api is None:
            continue
        try:
            return partner, api.parse_callback(raw, request.headers)
        except WebhookRejected as no:
            if no.reason == "payload":
                raise ValidationError(str(no).split(": ", 1)[-1], field=str(no).split(":", 1)[0]) from no
            refusal = no
    client = request.client.host if request.client else "?"
    log.warning("refused a lendbox webhook from %s: %s", client, refusal)
    raise AuthenticationError("webhook signature does not verify" if refusal is None or refusal.reason ==
                              "signature" else "webhook signature is stale")  # fmt: skip


def _apply(session: Session, row: CoLentLoan, event: LendboxEvent) -> str:
    """Apply a new event to the co-lent loan; the words kept as its result."""
    data = event.data
    if event.event == "DISBURSED":
        utr = str(data.get("utr") or "")[:60]
        if not utr:
            raise ValidationError("required", field="data.utr")
        amount = paise(data.get("amount", "0")) if data.get("amount") is not None else row.partner_principal
        if amount != row.partner_principal:
            return f"funding of {amount} paise is not the partner's share {row.partner_principal}: kept for ops"
        on = datetime.now(UTC).astimezone(IST).date()
        row.partner_utr, row.partner_funded_on = utr, on
        q.post(session, row, cl.PARTNER, cl.partner_funded(amount), f"colending:{row.loan_id}:partner-funded", on)
        q.set_step(row, "FUNDING", status="DONE", utr=utr)
        return f"partner funded {amount} paise, UTR {utr}"
    if event.event == "ESIGN":
        q.set_step(row, "ESIGN", esign=str(data.get("status") or "")[:20])
        return f"eSign {data.get('status')}"
    if event.event == "CREDIT_ORDER":
        order_id = str(data.get("order_id") or "")
        orders = dict((row.steps or {}).get("orders") or {})
        if order_id not in orders:
            return f"unknown order {order_id!r}"
        orders[order_id] = {**orders[order_id], "status": str(data.get("status") or "")[:20],
                            "utr": data.get("utr"), "walletOrderId": data.get("wallet_order_id")
                            or orders[order_id].get("walletOrderId")}  # fmt: skip
        row.steps = {**(row.steps or {}), "orders": orders}
        return f"order {order_id} {data.get('status')}"
    row.partner_status = str(data.get("status") or "")[:40] or row.partner_status
    return f"loan status {row.partner_status}"


@router.post("/{brand_id}/partners/lendbox", response_model=PartnerWebhookAnswer, response_model_exclude_none=True)
async def receive_lendbox(brand_id: str, request: Request) -> dict[str, Any]:
    """Lendbox's co-lending callback (ESIGN, DISBURSED, CREDIT_ORDER, LOAN_STATUS), verified with the brand's
    Lendbox partner's webhook secret, applied once."""
    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValidationError(f"at most {MAX_BODY} bytes", field="body")
    # Its transaction waits for the co-lent loan's row lock: in a worker thread, so the wait never blocks the event
    # loop (and with it a request on the same loop holding that lock, which would then never commit).
    return await run_in_threadpool(_receive, request, brand_id, raw)


def _receive(request: Request, brand_id: str, raw: bytes) -> dict[str, Any]:
    """``receive_lendbox``'s verification and its one transaction (run in a worker thread)."""
    with request.app.state.db.unit_of_work() as session:
        partners = _partners(session, brand_id)
        if not partners:
            raise NotFound("unknown webhook endpoint")
        partner, event = _verify(request, partners, raw)
        row = q.by_partner_reference(session, partner.id, event.partner_loan_id)
        if row is not None:
            row = q.co_lent(session, row.loan_id, lock=True)
        stored = q.record_event(session, brand_id=brand_id, partner_id=partner.id, event_id=event.event_id,
                                event_type=event.event, loan_id=row.loan_id if row else None,
                                payload={"event": event.event, "partnerLoanId": event.partner_loan_id,
                                         "lendboxLoanId": event.lendbox_loan_id, "data": event.data})  # fmt: skip
        if stored is None:
            return {"status": "duplicate", "eventId": event.event_id}
        if row is None:
            stored.result = "no co-lent loan of this brand has that reference"
            session.commit()
            return {"status": "ignored", "eventId": event.event_id, "reason": stored.result}
        stored.result = _apply(session, row, event)
        session.commit()
        return {"status": "applied", "eventId": event.event_id, "reason": stored.result}
