"""Gupshup Enterprise SMS: ``SendMessage`` on the GatewayAPI, and its real-time delivery reports.

As documented (https://docs.gupshup.io/docs/send-message-to-single-number, terms and DLT ids at
https://docs.gupshup.io/docs/sms-api-doc-overview, authentication at
https://docs.gupshup.io/docs/getting-started-with-sms-api):

- ``GET|POST /GatewayAPI/rest`` (``https://enterprise.smsgupshup.com``) with form/query parameters
  ``method=SendMessage``, ``userid`` (the numeric account), ``password``, ``auth_scheme=plain``, ``v=1.1``,
  ``send_to`` (digits only, 91 and the number), ``msg``, ``msg_type=TEXT``, ``format=text``, ``mask`` (the sender
  id / header), and the DLT fields ``principalEntityId`` (the entity registered on the DLT platform) and
  ``dltTemplateId`` (the template registered for it);
- the answer (``format=text``) is one line, fields separated by ``|``: ``success | 919812345678 | <message id>``,
  or ``error | <code> | <description>`` (a refusal: wrong credentials, a number or template the operator refuses).

Delivery reports (https://docs.gupshup.io/docs/real-time-delivery-reports): the POST form is a JSON array of up to
20 events ``{"externalId", "eventType" (DELIVERED / FAILED...), "eventTs" (epoch ms), "destAddr", "srcAddr",
"cause", "errCode", "channel", "noOfFrags"}`` where ``externalId`` is the id ``SendMessage`` answered. Gupshup
documents no signature on its callbacks: the URL registered with Gupshup carries the brand's ``webhook_secret`` as
``?token=``, and a report without it is refused.

The path carries the vendor prefix like every adapter's (``/gupshup/GatewayAPI/rest``; twin in
``sandbox/messaging.py``). Config: ``api_key`` is the account password; options ``userid``, ``sender_id`` (the
mask) and ``dlt_entity_id`` (principalEntityId).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import (
    DELIVERED,
    FAILED,
    SENT,
    UNDELIVERED,
    DeliveryUpdate,
    MessagingProvider,
    indian_msisdn,
    token_matches,
)

PATH = "/gupshup/GatewayAPI/rest"
STATUSES = {"DELIVERED": DELIVERED, "SUCCESS": DELIVERED, "FAILED": FAILED, "FAIL": FAILED, "UNDELIV": UNDELIVERED}


def send_params(
    *, userid: str, password: str, to: str, text: str, mask: str, entity_id: str, dlt_template_id: str
) -> dict[str, str]:
    """The documented ``SendMessage`` parameters for one text message."""
    return {
        "method": "SendMessage",
        "userid": userid,
        "password": password,
        "auth_scheme": "plain",
        "v": "1.1",
        "send_to": to,
        "msg": text,
        "msg_type": "TEXT",
        "format": "text",
        "mask": mask,
        "principalEntityId": entity_id,
        "dltTemplateId": dlt_template_id,
    }


class GupshupSms(MessagingProvider):
    """Gupshup Enterprise SMS (see the module docstring for the documented shapes)."""

    async def send_sms(
        self,
        *,
        to: str,
        text: str,
        template: str,
        dlt_template_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> str:
        params = send_params(
            userid=self.option("userid"),
            password=self.config.api_key,
            to=indian_msisdn(to),
            text=text,
            mask=self.option("sender_id"),
            entity_id=self.option("dlt_entity_id"),
            dlt_template_id=dlt_template_id or self.option("default_dlt_template_id"),
        )
        resp = await self.send("POST", PATH, data=params)
        return self.message_id(resp.text)

    def message_id(self, answer: str) -> str:
        """The message id from ``success | <phone> | <id>``; ``error | <code> | <why>`` is a refusal."""
        parts = [p.strip() for p in answer.strip().split("|")]
        if parts[0].lower() == "success" and len(parts) >= 3 and parts[2]:
            return parts[2]
        if parts[0].lower() == "error" and len(parts) >= 2:
            code = parts[1]
            raise BusinessRefusal(
                f"gupshup: error {code}: {' | '.join(parts[2:])[:200]}", code=code, vendor=self.vendor
            )
        raise ProviderError(f"{self.vendor}: unexpected answer {answer[:80]!r}", vendor=self.vendor)

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> bool:
        """No signature is documented: the registered URL's ``token`` must be the brand's webhook secret."""
        return token_matches(self.config.webhook_secret, (query or {}).get("token"))

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str] | None = None) -> list[DeliveryUpdate]:
        """The POST form: a JSON array of events → one update each (ValueError when it is not that)."""
        events = json.loads(raw)
        if not isinstance(events, list):
            raise ValueError("a JSON array of delivery events")
        updates = []
        for event in events:
            if not isinstance(event, Mapping) or not event.get("externalId"):
                raise ValueError("each event needs externalId")
            kind = str(event.get("eventType") or "").upper()
            ts = event.get("eventTs")
            at = datetime.fromtimestamp(int(ts) / 1000, UTC) if isinstance(ts, int | float) else None
            reason = None if kind in ("DELIVERED", "SUCCESS") else f"{event.get('cause')} ({event.get('errCode')})"
            updates.append(DeliveryUpdate(str(event["externalId"]), STATUSES.get(kind, SENT), kind, at, reason))
        return updates
