"""CART Account Aggregator (CART's AA gateway; its data comes back in CART's BSA analysis format).

- ``create_consent`` is idempotent by ``Idempotency-Key`` (same key → same consent handle).
- Webhooks: CART forwards the AA's ReBIT ``ConsentNotification`` (spec
  https://api.rebit.org.in/viewSpec/FIU_2_0_0.yaml) signed with hex HMAC-SHA256 of the raw body in
  ``X-Cart-Signature``; ReBIT says ACTIVE for an approved consent and PAUSED/REVOKED for a withdrawn one —
  ``parse_webhook`` maps them onto our statuses. CART's own AA docs are not public; ReBIT is the standard
  every AA's notification follows, so the body is ReBIT's. Failed deliveries are retried with backoff.
- ``fetch_data`` needs an ACTIVE consent (else ``BusinessRefusal``, code CONSENT_NOT_ACTIVE).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from activities.providers.aa.base import (
    REBIT_STATUS,
    AaConsent,
    AaConsentEvent,
    parse_consent_notification,
)
from activities.providers.base import HttpProvider
from activities.providers.bsa.base import BsaReport
from activities.providers.bsa.cart import cart_report
from activities.providers.signing import SIGNATURE_HEADERS

CART_STATUS = REBIT_STATUS  # CART's consent API speaks ReBIT's ConsentStatus names


class CartAa(HttpProvider):
    signature_header = SIGNATURE_HEADERS["cart"]

    async def create_consent(
        self,
        *,
        phone: str,
        reference_id: str,
        callback_url: str,
        idempotency_key: str,
        months: int = 12,
        fi_types: tuple[str, ...] = ("DEPOSIT",),
    ) -> AaConsent:
        """A consent request; the customer approves at ``consent_url`` (CART's ``redirectUrl``)."""
        body = await self.call(
            "POST",
            "/cart/aa/consent-requests",
            json={
                "mobileNumber": phone,
                "clientRefId": reference_id,
                "webhookUrl": callback_url,
                "fiTypes": list(fi_types),
                "fetchMonths": months,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        with self.reading("CART consent"):
            return AaConsent(
                str(body["consentHandle"]),
                str(body["redirectUrl"]),
                CART_STATUS[body["consentStatus"]],
                datetime.fromisoformat(body["consentExpiry"]) if body.get("consentExpiry") else None,
                body,
            )

    async def consent_status(self, consent_handle: str) -> str:
        """The consent's status now (for when a webhook was missed). Read-only."""
        body = await self.call("GET", f"/cart/aa/consent-requests/{consent_handle}")
        with self.reading("CART consent status"):
            return CART_STATUS[body["consentStatus"]]

    async def fetch_data(self, consent_handle: str) -> BsaReport:
        """The consented accounts' data, analysed by CART (same report as a statement upload)."""
        body = await self.call("POST", f"/cart/aa/consent-requests/{consent_handle}/data", timeout=60.0)
        with self.reading("CART AA data"):
            return cart_report(body["analysis"], report_id=str(body["dataSessionId"]), source="AA")

    def parse_webhook(self, body: Mapping[str, Any]) -> AaConsentEvent:
        """A consent notification (ReBIT ``ConsentNotification``, see
        :func:`activities.providers.aa.base.parse_consent_notification`) → :class:`AaConsentEvent`;
        ``domain.errors.ValidationError`` naming the field when malformed."""
        return parse_consent_notification(body)
