"""Gupshup SMS."""

from __future__ import annotations

from activities.providers.base import HttpProvider


class GupshupSms(HttpProvider):
    async def send_sms(self, *, to: str, text: str, template: str) -> str:
        body = await self.call("POST", "/gupshup/sms", json={"to": to, "text": text, "template": template})
        return str(body["message_id"])
