"""AiSensy WhatsApp: the API campaign send.

As documented (https://aisensy.com/docs/api-docs/api-reference-docs/ and
https://help.aisensy.com/en/articles/5358962-api-reference-docs):

- ``POST /campaign/t1/api/v2`` (``https://backend.aisensy.com``), a JSON body ``{"apiKey", "campaignName" (a
  live API campaign whose pre-approved WhatsApp template is sent), "destination" (the number with its country
  code), "userName", "templateParams": [string, ...] (exactly as many as the template has), "source"?,
  "media"?, "tags"?, "attributes"?}`` — the key travels in the body, not a header;
- a 200 means the message was accepted; the answer's ``submitted_message_id`` is its id (AiSensy documents only
  the status; an answer without an id is logged with none). A wrong key, an unknown or paused campaign or a
  wrong number of parameters is a 4xx refusal.

AiSensy's delivery events are not documented for the API campaign: this adapter has no webhook. Config:
``api_key``; option ``source`` (the lead source tag, default ``loan``). Path prefix ``/aisensy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import MessagingProvider, indian_msisdn

PATH = "/aisensy/campaign/t1/api/v2"


class AiSensyWhatsApp(MessagingProvider):
    """AiSensy API campaigns (see the module docstring)."""

    async def send_whatsapp(
        self, *, to: str, name: str, campaign: str, params: list[str], reference: str | None = None
    ) -> str:
        body: dict[str, Any] = {
            "apiKey": self.config.api_key,
            "campaignName": campaign,
            "destination": "+" + indian_msisdn(to),
            "userName": name or "Customer",
            "templateParams": [str(p) for p in params],
            "source": str(self.config.options.get("source") or "loan"),
        }
        if reference:
            body["attributes"] = {"reference": reference}
        resp = await self.send("POST", PATH, json=body)
        answer = self.json_of(resp) if resp.content else {}
        if resp.status_code >= 400:
            why = answer.get("message") if isinstance(answer, Mapping) else answer
            raise BusinessRefusal(f"aisensy: HTTP {resp.status_code}: {str(why)[:200]}", vendor=self.vendor)
        if not isinstance(answer, Mapping):
            raise ProviderError(f"{self.vendor}: answer is not a JSON object", vendor=self.vendor)
        return str(answer.get("submitted_message_id") or "")
