"""Credits to a financed invoice's virtual account: Razorpay Smart Collect's ``virtual_account.credited`` webhook,
``POST /api/v1/sme/webhooks/{brandId}/virtual-accounts/razorpay`` (docs/invoice-financing.md, "Collection").

Sources (Razorpay docs): the event and its payload https://razorpay.com/docs/webhooks/smart-collect/ and
https://razorpay.com/docs/payments/smart-collect/va-vpa-qr/notification/ (``contains`` payment, virtual_account,
bank_transfer; the bank transfer's ``bank_reference`` is the UTR, ``mode`` NEFT / RTGS / IMPS, ``amount`` paise);
signature and event id https://razorpay.com/docs/webhooks/validate-test/ (hex HMAC-SHA256 of the raw body keyed
with the webhook secret in ``X-Razorpay-Signature``; ``X-Razorpay-Event-Id`` the same on every retry).

Smart Collect belongs to the brand's Razorpay account, so the signature is checked with its ``payments`` vendor
``razorpay``'s webhook secret (and its previous one during a rotation), by that adapter's own check. Then:

- a bad signature: 401, nothing stored; a malformed body or field: 422 naming it, nothing stored;
- the event is stored once per event id (``webhook_events``, provider ``razorpay_smart_collect``; the payer's
  account number masked to its last 4 digits); a delivered one again answers DUPLICATE and changes nothing;
- a credit to a request's account (FUNDED or OVERDUE) signals ``buyer_paid`` with the payment id
  ``UTR:<bank_reference>`` (``domain.sme.credits.credit_key``), so one transfer counts once however often it is
  reported and whoever reported it (a staff-recorded credit with that UTR included): SIGNALLED;
- a credit to a request being settled (PAID: the reserve being released) is signalled too: the workflow counts it
  once, applied to the invoice's dues left, the rest the business's credit balance (``sme_record_late_credit``);
- a credit to a request already CLOSED (its workflow ended) is counted here, once, the same way
  (``db.sme_credit_balances.keep_late_credit``): RECORDED_AS_CREDIT_BALANCE with the amount kept;
- a credit to no account of the brand is stored undelivered for ops (UNMATCHED), one to a request in any other
  state (not funded, or held) likewise (PARKED); any other event is stored (IGNORED).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from temporalio.service import RPCError, RPCStatusCode

from activities.providers import ProviderConfig, adapter_for
from activities.providers import webhooks as w
from api.deps import call_async, is_uuid
from api.guards import GUARDS
from api.responses import ApiModel
from db.models import Brand, SmeFinancingRequest, SmeVirtualAccount, WebhookEvent
from db.sme_credit_balances import keep_late_credit
from domain.errors import AuthenticationError, NotFound, ServiceUnavailable
from domain.sme.credits import credit_key, source
from workflows.contracts.sme import BuyerPayment
from workflows.invoice_financing import InvoiceFinancingWorkflow

log = logging.getLogger("los.webhooks")
router = APIRouter(dependencies=GUARDS)  # also on the including router; declared here so each route carries it
PROVIDER = "razorpay_smart_collect"
CREDITED = "virtual_account.credited"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
MODES = ("NEFT", "RTGS", "IMPS", "UPI")
COLLECTING = frozenset({"FUNDED", "OVERDUE", "PAID"})  # the workflow takes the credit (PAID: a late one)


class CollectAnswer(ApiModel):
    """What was done with a verified Smart Collect event."""

    outcome: str = Field(description="SIGNALLED, RECORDED_AS_CREDIT_BALANCE, DUPLICATE, IGNORED, UNMATCHED or PARKED")
    event_id: str = Field(description="Razorpay's event id (X-Razorpay-Event-Id)")
    reason: str | None = Field(default=None, description="why it was not delivered (absent when it was)")
    amount_paise: int | None = Field(
        default=None, description="RECORDED_AS_CREDIT_BALANCE: the paise kept as the business's credit balance"
    )


@dataclass(frozen=True)
class Credit:
    """A ``virtual_account.credited`` event, checked: the account (``va_...``), Razorpay's payment id, the UTR,
    the mode, the amount in paise and when it was paid."""

    account_id: str
    payment_id: str
    utr: str
    mode: str
    amount: int
    paid_at: datetime


def parse_credit(body: dict[str, Any]) -> Credit:
    """The credit in a ``virtual_account.credited`` body. Raises ``ValidationError`` naming the field (a dotted
    path into the body) when one is missing, of the wrong type or out of range: the payment's id, amount (integer
    paise), currency (INR) and status (captured); the bank transfer's UTR (``bank_reference``), mode, amount (the
    payment's) and account."""
    payment, transfer = w.at(body, "payload.payment.entity"), w.at(body, "payload.bank_transfer.entity")
    p, t = "payload.payment.entity", "payload.bank_transfer.entity"
    if not isinstance(payment, dict) or not isinstance(transfer, dict):
        raise w.invalid("payload", "payment and bank_transfer entities are required")
    payment_id = w.text(payment.get("id"), f"{p}.id") or ""
    amount = w.paise(payment.get("amount"), f"{p}.amount")
    w.inr(payment.get("currency"), f"{p}.currency")
    if payment.get("status") != "captured":
        raise w.invalid(f"{p}.status", "must be captured")
    utr = w.text(transfer.get("bank_reference"), f"{t}.bank_reference", w.UTR_MAX) or ""
    mode = w.one_of(str(transfer.get("mode") or "").upper(), f"{t}.mode", MODES)
    if w.paise(transfer.get("amount"), f"{t}.amount") != amount:
        raise w.invalid(f"{t}.amount", "must be the payment's amount")
    account_id = w.text(transfer.get("virtual_account_id"), f"{t}.virtual_account_id") or ""
    created = payment.get("created_at")
    paid_at = datetime.fromtimestamp(created, UTC) if isinstance(created, int) and created > 0 else datetime.now(UTC)
    return Credit(account_id, payment_id, utr.strip().upper(), mode, amount, paid_at)


def stored_payload(body: dict[str, Any]) -> dict[str, Any]:
    """The event as kept in ``webhook_events``: the payer's account number (Razorpay sends it in full) masked to
    its last 4 digits; everything else as it came."""
    kept = copy.deepcopy(body)
    payer = (((kept.get("payload") or {}).get("bank_transfer") or {}).get("entity") or {}).get("payer_bank_account")
    if isinstance(payer, dict) and isinstance(payer.get("account_number"), str):
        number = payer["account_number"]
        payer["account_number"] = "X" * max(len(number) - 4, 0) + number[-4:]
    return kept


def _razorpay(brand_config: dict[str, Any]) -> ProviderConfig | None:
    return next((c for c in ProviderConfig.configured(brand_config, "payments") if c.vendor == "razorpay"), None)


@router.post("/webhooks/{brand_id}/virtual-accounts/razorpay", response_model=CollectAnswer)
def virtual_account_credited(brand_id: str, request: Request) -> dict[str, Any]:
    """Razorpay Smart Collect's webhook (``virtual_account.credited``): the buyer's transfer into a financed
    invoice's virtual account, counted once towards the invoice (see the module's docstring). 401 on a bad
    signature, 404 for an unknown brand or a brand without Razorpay, 422 naming a malformed field."""
    db, http = request.app.state.db, request.app.state.http
    with db.unit_of_work() as session:
        brand = session.get(Brand, brand_id) if is_uuid(brand_id) else None
        config = _razorpay(dict(brand.config or {})) if brand is not None else None
    if config is None:
        raise NotFound("unknown webhook endpoint")
    raw = call_async(request.body)
    if not w.verified(adapter_for(config, http), lambda a: a.verify_webhook(raw, request.headers)):
        client = request.client.host if request.client else "?"
        log.warning("refused a Smart Collect webhook for brand %s from %s: it does not verify", brand_id, client)
        raise AuthenticationError("webhook signature does not verify")
    body = w.check_body(raw)
    event_id = w.header(request.headers, EVENT_ID_HEADER)
    event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
    credit = parse_credit(body) if event == CREDITED else None
    with db.unit_of_work() as session:
        session.execute(
            insert(WebhookEvent)
            .values(provider=PROVIDER, event_id=event_id, event_type=event, payload=stored_payload(body))
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        )
        stored = session.scalars(
            select(WebhookEvent).where(WebhookEvent.provider == PROVIDER, WebhookEvent.event_id == event_id)
        ).one()
        if stored.delivered_at is not None:
            return {"outcome": "DUPLICATE", "eventId": event_id}
        if credit is None:
            stored.delivered_at = datetime.now(UTC)
            return {"outcome": "IGNORED", "eventId": event_id, "reason": f"{event} needs no action"}
        account = session.scalars(
            select(SmeVirtualAccount).where(
                SmeVirtualAccount.vendor == "razorpay",
                SmeVirtualAccount.vendor_account_id == credit.account_id,
                SmeVirtualAccount.brand_id == brand_id,
            )
        ).first()
        if account is None:
            return {"outcome": "UNMATCHED", "eventId": event_id, "reason": "no virtual account of the brand"}
        row = session.get_one(SmeFinancingRequest, account.request_id)
        request_id, stored_id, status = row.id, stored.id, row.status
        if status not in COLLECTING and status != "CLOSED":
            return {"outcome": "PARKED", "eventId": event_id, "reason": f"the request is {row.status}"}
    if status == "CLOSED":  # its workflow has ended: counted here
        return _kept(db, request_id, stored_id, credit, event_id)
    paid = BuyerPayment(credit_key(credit.utr), credit.amount, credit.paid_at, source("VA", credit.mode))
    client = call_async(request.app.state.temporal.get)
    try:
        call_async(
            client.get_workflow_handle(f"invoice-{request_id}").signal, InvoiceFinancingWorkflow.buyer_paid, paid
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # it ended meanwhile: counted here
            return _kept(db, request_id, stored_id, credit, event_id)
        raise ServiceUnavailable(f"workflow engine error: {exc.message}; send it again") from exc
    with db.unit_of_work() as session:
        session.get_one(WebhookEvent, stored_id).delivered_at = datetime.now(UTC)
    return {"outcome": "SIGNALLED", "eventId": event_id}


def _kept(db: Any, request_id: str, stored_id: str, credit: Credit, event_id: str) -> dict:
    """A credit to a request whose workflow has ended (CLOSED): counted once here, applied to the dues left, the rest
    the business's credit balance (``db.sme_credit_balances``), in one transaction with the event marked delivered.
    Run in a worker thread: it waits for the request's row lock, never on the API's event loop."""
    with db.unit_of_work() as session:
        row = session.get_one(SmeFinancingRequest, request_id, with_for_update=True)
        kept = keep_late_credit(
            session, row, payment_id=credit_key(credit.utr), amount=credit.amount, source=source("VA", credit.mode),
            paid_at=credit.paid_at, received_while=row.status,
        )  # fmt: skip
        session.get_one(WebhookEvent, stored_id).delivered_at = datetime.now(UTC)
        if not kept.counted:
            return {"outcome": "DUPLICATE", "eventId": event_id, "reason": "that UTR was counted before"}
        return {"outcome": "RECORDED_AS_CREDIT_BALANCE", "eventId": event_id, "amountPaise": kept.kept}
