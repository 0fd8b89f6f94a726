"""Account Aggregator (RBI AA framework): ask the customer's consent to share bank data, learn the
consent's fate by signed webhook (or by asking), then fetch the data — analysed like a statement
(:class:`activities.providers.bsa.base.BsaReport`, ``source`` AA)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from activities.providers.bsa.base import BsaReport

PENDING, APPROVED, REJECTED, REVOKED, EXPIRED = "PENDING", "APPROVED", "REJECTED", "REVOKED", "EXPIRED"
STATUSES = (PENDING, APPROVED, REJECTED, REVOKED, EXPIRED)


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
    status: str
    reference_id: str | None
    raw: dict


@contextlib.contextmanager
def webhook_fields(vendor: str) -> Iterator[None]:
    """Reading an inbound webhook: a missing or wrong field is bad input (``ValueError`` → HTTP 400 at the
    webhook endpoint), not a transient vendor fault."""
    try:
        yield
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{vendor}: malformed consent webhook: {exc!r}") from exc


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

    def parse_webhook(self, body: dict) -> AaConsentEvent: ...
