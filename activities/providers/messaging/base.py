"""The messaging kinds' interfaces (SMS, WhatsApp; email is in ``email_base``), what a delivery report becomes,
and the HTTP call the messaging adapters share.

Every sender returns the vendor's message id: the key a delivery report carries back. A vendor that sends delivery
reports has ``verify_webhook(raw, headers, query)`` (its documented check: a signature, or the brand's secret token
where the vendor documents none) and ``parse_webhook(raw, headers)`` → a list of :class:`DeliveryUpdate`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from activities.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    TRANSIENT_STATUSES,
    BusinessRefusal,
    HttpProvider,
    ProviderError,
)
from activities.providers.heartbeat import keep_alive

#: the delivery log's statuses (``customer_messages.status``), in the order a message moves through them
QUEUED, SENT, DELIVERED, READ, FAILED, UNDELIVERED = "QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "UNDELIVERED"
STATUS_RANK = {QUEUED: 0, SENT: 1, DELIVERED: 2, FAILED: 2, UNDELIVERED: 2, READ: 3}


class SmsProvider(Protocol):
    async def send_sms(
        self,
        *,
        to: str,
        text: str,
        template: str,
        dlt_template_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> str:
        """Send ``text`` (exactly the DLT-registered template with its variables filled) to ``to`` (10 digits or
        with 91); ``template`` is our name for it (an event), ``dlt_template_id`` the id registered on the DLT
        platform (TRAI TCCCPR 2018), ``values`` the variables (vendors that fill templates themselves take them).
        The vendor's message id back."""
        ...


class WhatsAppProvider(Protocol):
    async def send_whatsapp(
        self, *, to: str, name: str, campaign: str, params: list[str], reference: str | None = None
    ) -> str:
        """Send the pre-approved template behind ``campaign`` to ``to`` with ``params`` in order; message id back."""
        ...


@dataclass(frozen=True)
class DeliveryUpdate:
    """One delivery report: the vendor's message id, our status (DELIVERED / FAILED / UNDELIVERED / READ / SENT),
    the vendor's own word for it, when (None: not given), and the vendor's reason for a failure."""

    message_id: str
    status: str
    vendor_status: str
    at: datetime | None = None
    reason: str | None = None
    event_id: str | None = None


def indian_msisdn(phone: str) -> str:
    """A mobile number as the Indian gateways take it: 91 followed by the 10 digits."""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    if len(digits) == 10:
        return "91" + digits
    if len(digits) == 12 and digits.startswith("91"):
        return digits
    raise BusinessRefusal(f"not an Indian mobile number: ending {digits[-4:]}", code="INVALID_PHONE")


def token_matches(secret: str, given: str | None) -> bool:
    """The brand's secret token against the one a vendor sent back (constant time; no secret: refused)."""
    return bool(secret) and given is not None and hmac.compare_digest(secret.encode(), given.strip().encode())


class MessagingProvider(HttpProvider):
    """The HTTP call of vendors whose answers are not the JSON-object-with-status the base call expects."""

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw answer; a transport error, 5xx, 429, 408 → :class:`ProviderError` (the next vendor is tried)."""
        vendor = self.config.vendor
        limit = self.config.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        try:
            async with keep_alive(f"waiting for {vendor}"):
                resp = await self.http.request(method, f"{self.config.base_url}{path}", timeout=limit, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{vendor}: {type(exc).__name__}: {exc}", vendor=vendor) from exc
        if resp.status_code >= 500 or resp.status_code in TRANSIENT_STATUSES:
            raise ProviderError(f"{vendor}: HTTP {resp.status_code}", vendor=vendor, status=resp.status_code)
        return resp

    def json_of(self, resp: httpx.Response) -> Any:
        """The answer's JSON, or :class:`ProviderError` (a gateway page instead of the API's answer)."""
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderError(f"{self.vendor}: non-JSON answer", vendor=self.vendor, status=resp.status_code) from exc

    def option(self, name: str) -> str:
        """A required vendor option (sender id, entity id...); missing: a configuration refusal."""
        value = self.config.options.get(name)
        if not value:
            raise BusinessRefusal(
                f"{self.vendor}: option {name!r} is not configured", code="NO_PROVIDER", vendor=self.vendor
            )
        return str(value)
