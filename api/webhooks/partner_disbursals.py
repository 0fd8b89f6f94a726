"""A partner lender's signed disbursal callback: ``POST /api/v1/webhooks/{brandId}/partner/{partnerCode}``
(docs/partner-lenders.md, "The callback").

No staff token: the partner's signature under its ``webhookSecret`` is its credential. Each partner's adapter
(``activities.providers.partners``) names its two headers (``callback_headers``: a Unix timestamp and the hex
HMAC-SHA256 of ``"{timestamp}.{raw body}"``, refused beyond 300 s) and reads its own body
(``parse_disbursal_callback``). The partner's UTR is taken once (``db.partner_disbursals``), whoever brings it first.

The path has three segments after the brand, so the generic ``/{brandId}/{vendor}`` route (``api.webhooks.routes``)
can never take it, and ``partner`` (singular) keeps it apart from the co-lending webhook's ``partners/lendbox``
(``api.webhooks.lendbox``). The older ``POST /api/v1/partner/partner-lenders/callbacks/{brandId}/{code}/disbursal``
answers with the same handler, marked deprecated, so a partner configured with it keeps working.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from activities.providers.partners import CallbackRejected, adapter
from api.deps import is_uuid
from api.partner.partner_lenders_schemas import CallbackAnswer
from db import partner_disbursals as pd
from db.models import PartnerLender
from domain.errors import AuthenticationError, NotFound, ValidationError
from domain.partners.disbursal import PartnerTxnStatus

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
MAX_BODY_BYTES = 64 * 1024
PATH = "/{brand_id}/partner/{code}"


async def partner_disbursal_callback(brand_id: str, code: str, request: Request) -> dict[str, Any]:
    """A partner lender's disbursal callback, verified with that partner's ``webhookSecret`` (its adapter's
    ``verify_callback``: 401 for a bad or stale signature, 422 naming the field for a body that does not read, 404
    for an unknown brand or partner code; nothing stored in those cases). A DISBURSED status with a UTR confirms the
    loan's case once, even after a breach or an escalation (the breach stays marked): ``applied``; a repeat, or a
    second UTR, changes nothing: ``duplicate``; a status with no UTR is kept on the case's log once per event id:
    ``recorded``; a reference no disbursed loan of that partner has: ``ignored``."""
    if not is_uuid(brand_id):
        raise NotFound("unknown webhook endpoint")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(f"at most {MAX_BODY_BYTES} bytes", field="body")
    # Its transaction waits for the case's row lock (a watch check may hold it): in a worker thread, so the wait
    # never blocks the API's event loop.
    return await run_in_threadpool(_receive, request, brand_id, code, raw)


def _receive(request: Request, brand_id: str, code: str, raw: bytes) -> dict[str, Any]:
    """``partner_disbursal_callback``'s verification and its one transaction (run in a worker thread)."""
    with request.app.state.db.unit_of_work() as session:
        partner = session.scalars(
            select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.code == code)
        ).first()
        if partner is None:
            raise NotFound("unknown webhook endpoint")
        try:
            event = adapter(request.app.state.http, partner.adapter, dict(partner.settings or {})).verify_callback(
                raw, request.headers
            )
        except CallbackRejected as no:
            if no.reason == "payload":
                field, _, message = str(no).partition(": ")
                raise ValidationError(message or "invalid", field=field) from no
            raise AuthenticationError("webhook signature does not verify" if no.reason == "signature"
                                      else "webhook signature is stale") from no  # fmt: skip
        case = pd.case_of_reference(session, partner.id, event.reference)
        if case is None:
            pd.open_cases(session, partner_id=partner.id, reference=event.reference)  # disbursed before the next run
            case = pd.case_of_reference(session, partner.id, event.reference)
        if case is None:
            reason = "no disbursed loan of this partner has that reference"
            return {"status": "ignored", "eventId": event.event_id, "reason": reason}
        now = datetime.now(UTC)
        if event.status == PartnerTxnStatus.DISBURSED and event.utr:
            if not pd.confirm(case, event.utr, "CALLBACK", now, event.event_id):
                return {"status": "duplicate", "eventId": event.event_id, "reason": "a UTR was taken before"}
            session.commit()
            return {"status": "applied", "eventId": event.event_id}
        if not pd.log_callback(case, event.event_id, event.status, event.detail, now):
            return {"status": "duplicate", "eventId": event.event_id}
        session.commit()
        return {"status": "recorded", "eventId": event.event_id, "reason": f"{event.status}: no UTR"}


router.add_api_route(
    PATH,
    partner_disbursal_callback,
    methods=["POST"],
    response_model=CallbackAnswer,
    response_model_exclude_none=True,
    summary="A partner lender's signed disbursal callback",
)
