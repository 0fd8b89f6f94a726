"""The dialers' call events: ``POST /api/v1/webhooks/{brandId}/acefone`` and ``…/{brandId}/stringee`` (beside every
other vendor's ``/api/v1/webhooks/{brandId}/{vendor}``; this router is included before that one).

Each request is checked as the vendor documents it — Acefone signs nothing, so the header the lender added in
Acefone's webhook form must carry the brand's webhook secret; Stringee signs the body (HMAC-SHA1, base64, in
``X-STRINGEE-SIGNATURE``) — and refused 401 (logged) when it does not verify; then the body is read (a JSON object;
Acefone's form-encoded body too) and parsed by the vendor's adapter (422 naming the field), and the event is stored
once (``dialer_call_events``, phone numbers masked) and applied to its call forward only (``db.dialer``). Answers:
``recorded``, ``duplicate`` (this event was stored before: nothing changes) or ``unmatched`` (stored, no call of the
brand found). The vendor is configured for the brand (active or not: a vendor switched off still reports the calls
it placed); otherwise 404.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from pydantic import Field

from activities.providers import BusinessRefusal, ProviderConfig, adapter_for
from activities.providers.dialer import KIND, CallEvent, mask_payload
from activities.providers.webhooks import MAX_BODY_BYTES, check_body, invalid, verified
from api.deps import call_async, is_uuid
from api.responses import ApiModel
from db import dialer as calls_db
from db.models import Brand
from domain.errors import AuthenticationError, NotFound

log = logging.getLogger("los.webhooks.dialer")
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class DialerWebhookAnswer(ApiModel):
    """The 200 answer to a verified call event."""

    status: Literal["recorded", "duplicate", "unmatched"] = Field(
        description="recorded (applied to its call), duplicate (stored before), unmatched (no call of the brand)"
    )
    event_key: str = Field(description="the vendor's identity of this event")


def _adapter(request: Request, brand_id: str, vendor: str) -> Any:
    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    with request.app.state.db.unit_of_work() as session:
        brand = session.get(Brand, brand_id)
        config = dict(brand.config or {}) if brand is not None else None
    if config is None:
        raise NotFound("unknown webhook endpoint")
    try:
        found = next((c for c in ProviderConfig.configured(config, KIND) if c.vendor == vendor), None)
    except BusinessRefusal:
        found = None
    if found is None:
        raise NotFound("unknown webhook endpoint")
    return adapter_for(found, request.app.state.http)


def _body(request: Request, raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; a form-encoded one (Acefone's webhook form offers that content type) as its fields."""
    if request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        if len(raw) > MAX_BODY_BYTES:
            raise invalid("body", f"is larger than {MAX_BODY_BYTES} bytes")
        try:
            fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise invalid("body", "is not UTF-8") from exc
        if any("\x00" in k or "\x00" in v for k, v in fields.items()):
            raise invalid("body", "contains a NUL character")
        return fields
    return check_body(raw)


def _receive(request: Request, brand_id: str, vendor: str) -> dict:
    """Run in the thread pool (its transaction takes the call row's lock): the body is read on the loop."""
    adapter = _adapter(request, brand_id, vendor)
    raw = call_async(request.body)
    if not verified(adapter, lambda a: a.verify_webhook(request.headers, raw, a.config.webhook_secret)):
        client = request.client.host if request.client else "?"
        log.warning("refused a %s dialer webhook for brand %s from %s: it does not verify", vendor, brand_id, client)
        raise AuthenticationError("webhook signature does not verify")
    body = _body(request, raw)
    event: CallEvent = adapter.parse_webhook(body)
    with request.app.state.db.unit_of_work() as session:
        done = calls_db.record_event(
            session,
            brand_id=brand_id,
            provider=vendor,
            event=event.event,
            key=event.event_key,
            payload=mask_payload(body),
            provider_call_id=event.provider_call_id,
            ref=event.ref,
            status=event.status,
            started_at=event.started_at,
            answered_at=event.answered_at,
            ended_at=event.ended_at,
            duration_seconds=event.duration_seconds,
            recording_url=event.recording_url,
            hangup_cause=event.hangup_cause,
            agent_number=event.agent_number,
        )
    if done.outcome == calls_db.UNMATCHED:
        log.info("%s dialer event %s for brand %s names no call of the brand", vendor, event.event_key, brand_id)
    return {"status": done.outcome, "eventKey": event.event_key}


@router.post("/{brand_id}/acefone", response_model=DialerWebhookAnswer)
def acefone_events(brand_id: str, request: Request) -> dict:
    """Acefone's call webhooks (the "answered" and "hangup" triggers), as configured in Acefone's panel with the
    body and header of docs/dialer.md."""
    return _receive(request, brand_id, "acefone")


@router.post("/{brand_id}/stringee", response_model=DialerWebhookAnswer)
def stringee_events(brand_id: str, request: Request) -> dict:
    """Stringee's call events (the project's event URL), signed in ``X-STRINGEE-SIGNATURE``."""
    return _receive(request, brand_id, "stringee")
