"""MSG91 SMS: the Flow (OneAPI) send with a template, and its delivery-report webhook.

As documented (the DLT template mapping at
https://msg91.com/help/dlt-registration-in-india/map-sms-content-template-on-msg91-api-panel; the Flow call as
MSG91's own SDKs and integrations make it):

- ``POST /api/v5/flow`` (``https://control.msg91.com``), header ``authkey: <auth key>``, JSON
  ``{"template_id": <MSG91 template id>, "sender": <sender id>, "short_url": "0", "recipients": [{"mobiles":
  "91XXXXXXXXXX", <VAR>: <value>, ...}]}`` — the template (with its DLT template id and entity mapped in the MSG91
  panel) is stored at MSG91; each recipient carries the template's variables by name;
- the answer ``{"type": "success", "message": <request id>}``; a refusal ``{"type": "error", "message": ...}``
  (HTTP 200 or 4xx).

Delivery reports (https://msg91.com/help/how-can-i-get-the-delivery-reports-on-my-webhook-url, version 3, JSON):
``{"requestId", "number", "status" ("1" delivered, "2" failed, "9" NDNC, "16"/"25" rejected, "17" blocked),
"desc", "date", "senderId", ...}`` — ``requestId`` is the id the send answered. MSG91 documents no signature on
it: the URL registered in the panel carries the brand's ``webhook_secret`` as ``?token=``.

Config: ``api_key`` is the auth key; options ``sender_id`` and ``template_ids`` (our DLT template id → MSG91's
template id; a DLT id not listed is sent as the template id itself). Path prefix ``/msg91``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

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

PATH = "/msg91/api/v5/flow"
IST = timezone(timedelta(hours=5, minutes=30))  # MSG91 reports Indian time without an offset
STATUSES = {"1": DELIVERED, "2": FAILED, "9": UNDELIVERED, "16": FAILED, "25": FAILED, "17": UNDELIVERED}


class Msg91Sms(MessagingProvider):
    """MSG91 Flow API (see the module docstring)."""

    async def send_sms(
        self,
        *,
        to: str,
        text: str,
        template: str,
        dlt_template_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> str:
        mapping = self.config.options.get("template_ids") or {}
        dlt = dlt_template_id or self.option("default_dlt_template_id")
        recipient = {"mobiles": indian_msisdn(to), **{k: str(v) for k, v in (values or {"text": text}).items()}}
        body = {
            "template_id": str(mapping.get(dlt, dlt)),
            "sender": self.option("sender_id"),
            "short_url": "0",
            "recipients": [recipient],
        }
        resp = await self.send("POST", PATH, json=body, headers={"authkey": self.config.api_key})
        answer = self.json_of(resp)
        if not isinstance(answer, Mapping):
            raise ProviderError(f"{self.vendor}: answer is not a JSON object", vendor=self.vendor)
        if answer.get("type") == "success" and answer.get("message"):
            return str(answer["message"])
        if answer.get("type") == "error" or resp.status_code >= 400:
            raise BusinessRefusal(f"msg91: {str(answer.get('message'))[:200]}", vendor=self.vendor, details=answer)
        raise ProviderError(f"{self.vendor}: unexpected answer", vendor=self.vendor)

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> bool:
        """No signature is documented: the registered URL's ``token`` must be the brand's webhook secret."""
        return token_matches(self.config.webhook_secret, (query or {}).get("token"))

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str] | None = None) -> list[DeliveryUpdate]:
        """Version 3 (one JSON object per number) → one update; ValueError when it is not that shape."""
        event = json.loads(raw)
        if not isinstance(event, Mapping) or not event.get("requestId"):
            raise ValueError("a JSON object with requestId")
        code = str(event.get("status") or "")
        at = None
        if event.get("date"):
            at = datetime.strptime(str(event["date"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
        status = STATUSES.get(code, SENT)
        reason = None if status in (DELIVERED, SENT) else str(event.get("desc") or event.get("failedReason") or code)
        return [DeliveryUpdate(str(event["requestId"]), status, str(event.get("desc") or code), at, reason)]
