"""Digitap PAN verification (pan-details-plus)."""

from __future__ import annotations

from activities.providers.base import HttpProvider
from activities.providers.kyc.base import PanResult


class DigitapKyc(HttpProvider):
    async def verify_pan(self, pan: str) -> PanResult:
        body = await self.call("POST", "/digitap/pan/verify", json={"pan": pan})
        valid = body.get("status") == "VALID"
        return PanResult(valid, body.get("name"), body.get("dob"), body.get("reason"), body)
