"""Provider webhooks: verify the signature, store the raw event once, signal the loan's workflow.

A duplicate (same provider event id) answers 200 and changes nothing. An event whose signal could not
be delivered (workflow engine down) answers 503 so the provider retries; the retry finds the stored
event undelivered and signals again (the workflow ignores a repeat on its side too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio.service import RPCError, RPCStatusCode

from activities.providers import signing
from activities.providers.base import BusinessRefusal, ProviderConfig
from api.deps import is_uuid
from db.models import AaConsent, Brand, Loan, WebhookEvent
from domain.errors import AuthenticationError, NotFound, ServiceUnavailable, ValidationError
from workflows.contracts import DisbursalEvent, EsignEvent, KycInput, PaymentEvent

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

VENDOR_KIND = {"signzy": "esign", "idfc": "disbursal", "razorpay": "payments"}


@dataclass
class Parsed:
    event_id: str
    event_type: str
    loan_id: str | None
    signal: str | None
    arg: Any


def _parse(vendor: str, body: dict[str, Any]) -> Parsed:
    try:
        if vendor == "signzy":
            return Parsed(
                body["event_id"],
                f"docket.{body['status'].lower()}",
                body["reference_id"],
                "esign_completed",
                EsignEvent(body["docket_id"], body["status"], body["event_id"]),
            )
        if vendor == "idfc":
            return Parsed(
                body["event_id"],
                f"transfer.{body['status'].lower()}",
                body["reference_id"],
                "disbursal_settled",
                DisbursalEvent(body["transfer_id"], body["status"], body.get("utr"), body["event_id"]),
            )
        if vendor == "razorpay":
            entity = body["payload"]["payment"]["entity"]
            loan_id = (entity.get("notes") or {}).get("loan_id")
            if body["event"] != "payment.captured":
                return Parsed(body["id"], body["event"], loan_id, None, None)
            amount = entity["amount"]
            if not isinstance(amount, int) or amount <= 0:
                raise ValidationError("payment amount must be a positive integer (paise)", field="payload.amount")
            return Parsed(
                body["id"],
                body["event"],
                loan_id,
                "payment_received",
                PaymentEvent(entity["id"], amount, "razorpay", entity.get("payment_link_id")),
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"malformed {vendor} event: missing {exc}", field="body") from exc
    raise NotFound(f"unknown provider {vendor!r}")


@router.post("/{brand_id}/aa")
async def receive_account_aggregator(brand_id: str, request: Request) -> dict:
    """Account Aggregator consent callbacks (approved / rejected / revoked). The signature is checked
    against each of the brand's AA vendors; the event is stored once and the loan's KYC step resumes
    (it asks the AA for the consent's status itself)."""
    from activities.providers import adapter_for

    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    raw = await request.body()
    db = request.app.state.db
    with db.unit_of_work() as session:
        brand = session.get(Brand, brand_id)
        if brand is None:
            raise NotFound("unknown webhook endpoint")
        candidates = ProviderConfig.configured(brand.config, "aa")
    adapter = None
    for config in candidates:
        candidate = adapter_for(config, request.app.state.http)
        if signing.verify(raw, config.webhook_secret, request.headers.get(candidate.signature_header)):
            adapter = candidate
            break
    if adapter is None:
        raise AuthenticationError("webhook signature does not verify")
    try:
        body = json.loads(raw)
        event = adapter.parse_webhook(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"malformed account aggregator event: {exc}", field="body") from exc
    vendor = f"aa:{adapter.config.vendor}"
    with db.unit_of_work() as session:
        consent = session.scalars(
            select(AaConsent).where(AaConsent.consent_handle == event.consent_handle, AaConsent.brand_id == brand_id)
        ).first()
        loan = session.get(Loan, consent.loan_id) if consent is not None and consent.loan_id else None
        session.execute(
            insert(WebhookEvent)
            .values(
                provider=vendor,
                event_id=event.event_id,
                event_type=f"consent.{event.status.lower()}",
                loan_id=loan.id if loan else None,
                payload=body,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        )
        stored = session.scalars(
            select(WebhookEvent).where(WebhookEvent.provider == vendor, WebhookEvent.event_id == event.event_id)
        ).one()
        workflow_id = loan.workflow_id if loan else None
        consent_id = consent.id if consent else None
    if stored.delivered_at is not None:
        return {"status": "duplicate", "eventId": event.event_id}
    if workflow_id is None:
        return {"status": "ignored", "eventId": event.event_id, "reason": "no matching consent"}
    client = await request.app.state.temporal.get()
    try:
        await client.get_workflow_handle(workflow_id).signal("kyc_input", KycInput("BANK_STATEMENT", consent_id))
        outcome = "delivered"
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable(f"could not deliver event: {exc.message}") from exc
        outcome = "ignored"
    with db.unit_of_work() as session:
        session.execute(update(WebhookEvent).where(WebhookEvent.id == stored.id).values(delivered_at=datetime.now(UTC)))
    return {"status": outcome, "eventId": event.event_id}


@router.post("/{brand_id}/{vendor}")
async def receive(brand_id: str, vendor: str, request: Request) -> dict:
    if vendor not in VENDOR_KIND or not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    raw = await request.body()
    db = request.app.state.db
    with db.unit_of_work() as session:
        brand = session.get(Brand, brand_id)
        if brand is None:
            raise NotFound("unknown webhook endpoint")
        try:  # any configured vendor of the kind, even one switched off since (its callbacks still count)
            config = ProviderConfig.for_vendor(brand.config, VENDOR_KIND[vendor], vendor)
        except BusinessRefusal as exc:
            raise NotFound("unknown webhook endpoint") from exc
    if not signing.verify(raw, config.webhook_secret, request.headers.get(signing.SIGNATURE_HEADERS[vendor])):
        raise AuthenticationError("webhook signature does not verify")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ValidationError("body is not JSON", field="body") from exc
    if not isinstance(body, dict):
        raise ValidationError("body must be a JSON object", field="body")
    event = _parse(vendor, body)

    with db.unit_of_work() as session:
        loan = session.get(Loan, event.loan_id) if event.loan_id and is_uuid(event.loan_id) else None
        if loan is not None and loan.brand_id != brand_id:
            loan = None
        session.execute(
            insert(WebhookEvent)
            .values(
                provider=vendor,
                event_id=event.event_id,
                event_type=event.event_type,
                loan_id=loan.id if loan else None,
                payload=body,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        )
        stored = session.scalars(
            select(WebhookEvent).where(WebhookEvent.provider == vendor, WebhookEvent.event_id == event.event_id)
        ).one()
        workflow_id = loan.workflow_id if loan else None
    if stored.delivered_at is not None:
        return {"status": "duplicate", "eventId": event.event_id}
    if workflow_id is None or event.signal is None:
        return {
            "status": "ignored",
            "eventId": event.event_id,
            "reason": "no matching loan" if workflow_id is None else f"{event.event_type} needs no action",
        }

    client = await request.app.state.temporal.get()
    try:
        await client.get_workflow_handle(workflow_id).signal(event.signal, event.arg)
        outcome = "delivered"
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable(f"could not deliver event: {exc.message}") from exc
        outcome = "ignored"  # the loan's workflow has already finished
    with db.unit_of_work() as session:
        session.execute(update(WebhookEvent).where(WebhookEvent.id == stored.id).values(delivered_at=datetime.now(UTC)))
    return {"status": outcome, "eventId": event.event_id}
