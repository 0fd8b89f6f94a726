"""NimbusIT SMS: its HTTP send API.

NimbusIT's API documentation is not among the pages this project could consult (it is handed to account holders).
The adapter follows the parameters NimbusIT publishes for its DLT-era single-message call, as integrators quote
them: ``GET /api/SmsApi/SendSingleApi`` (``https://nimbusit.biz``) with query parameters ``UserID``,
``Password``, ``SenderID``, ``Phno`` (the 10-digit number), ``Msg``, ``EntityID`` (the DLT principal entity id)
and ``TemplateID`` (the DLT template id). The answer is read as JSON ``{"Status": "OK", "Response": {"Message":
..., "MessageId": ...}}`` — a ``Status`` other than ``OK`` is a refusal; an answer without a message id is a
malformed answer (the next vendor is tried). NimbusIT delivery reports are fetched, not pushed, so this adapter
has no webhook. Config: ``api_key`` is the password; options ``userid``, ``sender_id``, ``dlt_entity_id``.
Path prefix ``/nimbusit``.
"""

from __future__ import annotations

from collections.abc import Mapping

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import MessagingProvider, indian_msisdn

PATH = "/nimbusit/api/SmsApi/SendSingleApi"


class NimbusItSms(MessagingProvider):
    """NimbusIT HTTP SMS API (see the module docstring: its documentation was not available)."""

    async def send_sms(
        self,
        *,
        to: str,
        text: str,
        template: str,
        dlt_template_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> str:
        params = {
            "UserID": self.option("userid"),
            "Password": self.config.api_key,
            "SenderID": self.option("sender_id"),
            "Phno": indian_msisdn(to)[2:],
            "Msg": text,
            "EntityID": self.option("dlt_entity_id"),
            "TemplateID": dlt_template_id or self.option("default_dlt_template_id"),
        }
        resp = await self.send("GET", PATH, params=params)
        answer = self.json_of(resp)
        if not isinstance(answer, Mapping):
            raise ProviderError(f"{self.vendor}: answer is not a JSON object", vendor=self.vendor)
        response = answer.get("Response")
        detail: Mapping = response if isinstance(response, Mapping) else {}
        if str(answer.get("Status", "")).upper() != "OK" or resp.status_code >= 400:
            why = detail.get("Message") or answer.get("Response") or answer.get("Status")
            raise BusinessRefusal(f"nimbusit: {str(why)[:200]}", vendor=self.vendor, details=answer)
        if not detail.get("MessageId"):
            raise ProviderError(f"{self.vendor}: answer without a message id", vendor=self.vendor)
        return str(detail["MessageId"])
