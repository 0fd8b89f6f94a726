"""Signzy eSign (docket with one signatory; the vendor calls back on sign / decline / expiry).

Signzy's eSign callback format is not in its public documentation (its API reference is behind a
customer login). The callback follows the common documented pattern of eSign vendors' webhooks (an event
id in the body, the document's id, our reference and the final status; HMAC-SHA256 of the raw body):

- body ``{"event_id", "docket_id", "reference_id" (the loan id we sent), "status": SIGNED | DECLINED |
  EXPIRED, "signed_at" (ISO 8601, when signed)}``;
- ``X-Signzy-Signature``: hex HMAC-SHA256 of the raw body keyed with the webhook secret;
- a non-2xx answer is retried with backoff.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import HttpProvider
from activities.providers.esign.base import Docket
from activities.providers.signing import SIGNATURE_HEADERS
from domain.outcomes import ESIGN_OUTCOMES, AgreementStatus
from workflows.contracts import EsignEvent

STATUSES = tuple(sorted(s.value for s in ESIGN_OUTCOMES))  # DECLINED / EXPIRED / SIGNED, as the callback spells them


class SignzyEsign(HttpProvider):
    signature_header = SIGNATURE_HEADERS["signzy"]

    async def create_docket(
        self,
        *,
        reference_id: str,
        pdf: bytes,
        signer_name: str,
        signer_phone: str,
        expires_in_seconds: int,
        callback_url: str,
        idempotency_key: str,
    ) -> Docket:
        body = await self.call(
            "POST",
            "/signzy/dockets",
            json={
                "reference_id": reference_id,
                "document_base64": base64.b64encode(pdf).decode(),
                "signer": {"name": signer_name, "phone": signer_phone},
                "expires_in": expires_in_seconds,
                "callback_url": callback_url,
            },
            headers={"Idempotency-Key": idempotency_key},
            timeout=30.0,
        )
        return Docket(body["docket_id"], body["signing_url"])

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified docket callback → :class:`InboundEvent` with an ``EsignEvent`` for the
        ``esign_completed`` signal. ``ValidationError`` naming the field when one is missing or wrong."""
        event_id = w.text(w.at(body, "event_id"), "event_id", w.EVENT_ID_MAX) or ""
        docket_id = w.text(w.at(body, "docket_id"), "docket_id") or ""
        loan_ref = w.text(w.at(body, "reference_id"), "reference_id")
        status = AgreementStatus(w.one_of(w.at(body, "status"), "status", STATUSES))
        return w.InboundEvent(
            event_id,
            f"docket.{status.lower()}",
            loan_ref,
            w.LoanSignal.ESIGN_COMPLETED,
            EsignEvent(docket_id, status, event_id),
        )
