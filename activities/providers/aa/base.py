"""Account Aggregator (RBI AA framework): ask the customer's consent to share bank data, learn the
consent's fate by signed webhook (or by asking), then fetch the data — analysed like a statement
(:class:`activities.providers.bsa.base.BsaReport`, ``source`` AA).

Consent webhooks from every AA vendor are ReBIT ``ConsentNotification`` bodies
(:func:`parse_consent_notification`). ReBIT signs them with a detached JWS (``x-jws-signature``) under the
AA's key pair; the FIU-side gateways we use (FINDUIT, CART) forward them signed with the brand's shared
webhook secret instead — hex HMAC-SHA256 of the raw body in their own header — which is what a brand's
provider settings hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from activities.providers import webhooks as w
from activities.providers.bsa.base import BsaReport
from domain.outcomes import ConsentStatus

PENDING, APPROVED, REJECTED, REVOKED, EXPIRED = (
    ConsentStatus.PENDING,
    ConsentStatus.APPROVED,
    ConsentStatus.REJECTED,
    ConsentStatus.REVOKED,
    ConsentStatus.EXPIRED,
)
STATUSES = tuple(s.value for s in ConsentStatus)


@dataclass(frozen=True)
class AaConsent:
    """A consent request: send ``consent_url`` to the customer (SMS/WhatsApp)."""

    consent_handle: str
    consent_url: str
    status: str
    expires_at: datetime | None
    raw: dict


@dataclass(frozen=True)
class AaConsentEvent:
    """A parsed consent webhook: ``status`` is one of PENDING/APPROVED/REJECTED/REVOKED/EXPIRED.
    ``event_id`` is unique per delivery of one event (store it once)."""

    event_id: str
    consent_handle: str
    status: ConsentStatus
    reference_id: str | None
    raw: dict


#: ReBIT ConsentStatus → ours (ACTIVE is an approved consent; a PAUSED one cannot be used, like a revoked one)
REBIT_STATUS = {
    "PENDING": PENDING,
    "ACTIVE": APPROVED,
    "REJECTED": REJECTED,
    "REVOKED": REVOKED,
    "PAUSED": REVOKED,
    "EXPIRED": EXPIRED,
}


def parse_consent_notification(body: Mapping[str, Any]) -> AaConsentEvent:
    """A ReBIT ``ConsentNotification`` (FIU API ``POST /Consent/Notification``, spec
    https://api.rebit.org.in/viewSpec/FIU_2_0_0.yaml; Sahamati's AA ecosystem follows it)::

        {"ver": "2.0.0", "timestamp": "<ISO 8601>", "txnid": "<uuid>", "Notifier": {"type": "AA", "id": "<AA id>"},
         "ConsentStatusNotification": {"consentId": "...", "consentHandle": "...", "consentStatus": "ACTIVE"}}

    → :class:`AaConsentEvent` (``event_id`` = ``txnid``, new for every notification; ``reference_id``
    None: the notification names the consent handle only). ``domain.errors.ValidationError`` naming the
    field when one is missing, too long or not a ReBIT consent status."""
    event_id = w.text(w.at(body, "txnid"), "txnid", w.EVENT_ID_MAX) or ""
    w.text(w.at(body, "ver"), "ver", 16)
    notifier = w.text(w.at(body, "Notifier.type"), "Notifier.type", 16)
    if notifier != "AA":
        raise w.invalid("Notifier.type", "must be AA")
    handle = w.text(w.at(body, "ConsentStatusNotification.consentHandle"), "ConsentStatusNotification.consentHandle")
    w.text(body["ConsentStatusNotification"].get("consentId"), "ConsentStatusNotification.consentId", required=False)
    status = w.one_of(
        w.at(body, "ConsentStatusNotification.consentStatus"), "ConsentStatusNotification.consentStatus", REBIT_STATUS
    )
    return AaConsentEvent(event_id, handle or "", REBIT_STATUS[status], None, dict(body))


class AaProvider(Protocol):
    signature_header: str

    async def create_consent(
        self,
        *,
        phone: str,
        reference_id: str,
        callback_url: str,
        idempotency_key: str,
        months: int = 12,
        fi_types: tuple[str, ...] = ("DEPOSIT",),
    ) -> AaConsent: ...

    async def consent_status(self, consent_handle: str) -> str: ...

    async def fetch_data(self, consent_handle: str) -> BsaReport: ...

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool: ...

    def parse_webhook(self, body: Mapping[str, Any]) -> AaConsentEvent: ...
