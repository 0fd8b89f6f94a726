"""Provider webhooks: verify the signature, validate every field at the door, store the raw event once,
signal the loan's workflow.

Each vendor's adapter owns its webhook: ``verify_webhook(raw, headers)`` (the vendor's signature header)
and ``parse_webhook(body[, headers])`` (its documented body; event id, types, ranges, lengths checked —
``activities.providers.webhooks``). A bad signature answers 401; a malformed or out-of-range event 422
naming the field — in both cases nothing is stored and nothing is signalled. A duplicate (same provider
event id) answers 200 and changes nothing. An event whose signal could not be delivered (workflow engine
down) answers 503 so the provider retries; the retry finds the stored event undelivered and signals again
(the workflow ignores a repeat on its side too). Money is never dropped: see :mod:`api.webhooks.intake`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from activities.messaging import reports
from activities.providers import ProviderConfig, adapter_for, webhook_adapter
from activities.providers.webhooks import MAX_BODY_BYTES, InboundEvent, LoanSignal, check_body, verified
from api.deps import is_uuid
from api.responses import ApiModel
from api.webhooks import intake
from db.models import AaConsent, Brand
from domain.errors import AuthenticationError, NotFound, ValidationError
from domain.outcomes import WebhookOutcome
from workflows.contracts import KycInput

log = logging.getLogger("los.webhooks")
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


def refuse(request: Request, brand_id: str, vendor: str) -> AuthenticationError:
    """Log a webhook whose signature does not verify (vendor, brand, sender; nothing of the body) and return the
    401 to raise: a forged or stale delivery leaves this line and nothing else."""
    client = request.client.host if request.client else "?"
    log.warning("refused a %s webhook for brand %s from %s: it does not verify", vendor, brand_id, client)
    return AuthenticationError("webhook signature does not verify")


class WebhookAnswer(ApiModel):
    """The 200 answer to a verified webhook: what was done with the event (``api.webhooks.intake``)."""

    status: WebhookOutcome = Field(
        description="delivered, duplicate, ignored, parked, unmatched or recorded_as_credit_balance"
    )
    event_id: str = Field(description="the vendor's id of this event")
    reason: str | None = Field(default=None, description="why it was not delivered (absent when it was)")
    amount_paise: int | None = Field(
        default=None, description="recorded_as_credit_balance: the amount kept as the loan's credit balance"
    )


# The brand's providers alone (``config -> 'providers'``), built once: a webhook needs only its vendor's settings
# (secret, keys) to be verified and parsed, not the brand's whole config (templates, policies), read and parsed on
# every event of a due-date storm.
_BRAND_PROVIDERS = select(Brand.id, Brand.config["providers"]).where(Brand.id == bindparam("brand"))


def _providers(session: Session, brand_id: str) -> dict[str, Any]:
    """The part of the brand's config a webhook reads: ``{"providers": ...}`` (what ``webhook_adapter`` and
    ``ProviderConfig.configured`` look at), read in ``session``. NotFound for an unknown brand."""
    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    found = session.execute(_BRAND_PROVIDERS, {"brand": brand_id}).first()
    if found is None:
        raise NotFound("unknown webhook endpoint")
    return {"providers": found[1]} if found[1] is not None else {}


def _brand_config(request: Request, brand_id: str) -> dict[str, Any]:
    """:func:`_providers` in a transaction of its own."""
    with request.app.state.db.unit_of_work() as session:
        return _providers(session, brand_id)


@router.post("/{brand_id}/aa", response_model=WebhookAnswer, response_model_exclude_none=True)
async def receive_account_aggregator(brand_id: str, request: Request) -> dict:
    """Account Aggregator consent notifications (ReBIT ConsentNotification: approved / rejected / revoked /
    paused / expired). The signature is checked against each of the brand's AA vendors; the event is
    stored once and the loan's KYC step resumes (it asks the AA for the consent's status itself)."""
    raw = await request.body()
    adapter = None
    config = await run_in_threadpool(_brand_config, request, brand_id)
    for candidate_config in ProviderConfig.configured(config, "aa"):
        candidate = adapter_for(candidate_config, request.app.state.http)
        if verified(candidate, lambda a: a.verify_webhook(raw, request.headers)):
            adapter = candidate
            break
    if adapter is None:
        raise refuse(request, brand_id, "aa")
    body = check_body(raw)
    consent_event = adapter.parse_webhook(body)
    db = request.app.state.db

    def find_consent() -> tuple[str | None, str | None]:
        with db.unit_of_work() as session:
            consent = session.scalars(
                select(AaConsent).where(
                    AaConsent.consent_handle == consent_event.consent_handle, AaConsent.brand_id == brand_id
                )
            ).first()
            return (consent.loan_id, consent.id) if consent is not None else (None, None)

    loan_ref, consent_id = await run_in_threadpool(find_consent)
    event = InboundEvent(
        consent_event.event_id,
        f"consent.{consent_event.status.lower()}",
        loan_ref,
        LoanSignal.KYC_INPUT if consent_id else None,
        KycInput("BANK_STATEMENT", consent_id) if consent_id else None,
    )
    answer = await intake.handle(db, request.app.state.temporal, f"aa:{adapter.config.vendor}", brand_id, event, body)
    if answer["status"] == WebhookOutcome.IGNORED and consent_id is None:
        answer["reason"] = "no matching consent"
    return answer


@router.post("/{brand_id}/{vendor}", response_model=WebhookAnswer, response_model_exclude_none=True)
async def receive(brand_id: str, vendor: str, request: Request) -> dict:
    """A vendor's callback (eSign, bank transfer, payment: ``activities.providers.CALLBACK_KINDS``), in the
    vendor's documented shape. The brand's adapter for ``vendor`` checks the signature and parses the body
    (see each adapter's docstring); nothing here knows one vendor from another."""
    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    raw = await request.body()
    taken = await run_in_threadpool(_take, request, brand_id, vendor, raw)
    if isinstance(taken, dict):  # a delivery report, recorded
        return taken
    event, stored = taken
    return await intake.act(request.app.state.db, request.app.state.temporal, event, stored)


def _take(request: Request, brand_id: str, vendor: str, raw: bytes) -> dict | tuple[InboundEvent, intake.Stored]:
    """Everything of a callback before its loan is told, in one transaction (a due-date storm's every payment
    event comes through here): the brand's providers read, the brand's adapter for ``vendor`` (NotFound: none
    configured), the signature verified (401), the body parsed (422 naming the field), the event stored once with
    its payment attempt (``intake.store_in``). Returns the event and what its stored rows say, or a delivery
    report's answer (recorded). A refusal rolls the transaction back: nothing is stored."""
    with request.app.state.db.unit_of_work() as session:
        adapter = webhook_adapter(_providers(session, brand_id), vendor, request.app.state.http)
        if adapter is None:
            raise NotFound("unknown webhook endpoint")
        if adapter.config.kind in DELIVERY_REPORT_KINDS:
            return _delivery_report(request, session, brand_id, adapter, raw)
        if not verified(adapter, lambda a: a.verify_webhook(raw, request.headers)):
            raise refuse(request, brand_id, vendor)
        body = check_body(raw, getattr(adapter, "max_body_bytes", MAX_BODY_BYTES))
        event = adapter.parse_webhook(body, request.headers)
        stored = adapter.stored_payload(body) if hasattr(adapter, "stored_payload") else body
        return event, intake.store_in(session, vendor, brand_id, event, stored)


DELIVERY_REPORT_KINDS = ("sms", "email", "whatsapp")


def _delivery_report(request: Request, session: Session, brand_id: str, adapter: Any, raw: bytes) -> dict:
    """A messaging vendor's delivery report (``activities.messaging.reports``): checked as the vendor documents
    (signature, or the brand's token in the URL or header where it documents none: 401), parsed (422 naming
    ``body``), stored once and applied to ``customer_messages`` in ``session``'s transaction. A report for an
    unknown message id is stored and answered 200 (``unmatched``)."""
    if not verified(adapter, lambda a: a.verify_webhook(raw, request.headers, request.query_params)):
        raise refuse(request, brand_id, adapter.config.vendor)
    limit = getattr(adapter, "max_body_bytes", MAX_BODY_BYTES)  # SendGrid's batches reach 768 KB
    if len(raw) > limit:
        raise ValidationError(f"body: is larger than {limit} bytes", field="body")
    try:
        updates = adapter.parse_webhook(raw, request.headers)
        payload = json.loads(raw)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValidationError(f"body: not a delivery report: {exc}", field="body") from exc
    answer = reports.record(session, brand_id, adapter.config.vendor, raw, updates, payload)
    matched = answer.pop("matched")
    if answer["status"] == WebhookOutcome.UNMATCHED:
        answer["reason"] = f"no message with that id ({matched} of {len(updates)} matched)"
    return answer
