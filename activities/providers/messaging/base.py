from __future__ import annotations

from typing import Protocol


class SmsProvider(Protocol):
    async def send_sms(self, *, to: str, text: str, template: str) -> str: ...
