"""CRIF High Mark commercial bureau report (the business's credit history).

Follows CRIF's commercial report as its documentation describes it: the score (300-900) and its ``NH`` (no
history) answer, which this adapter reads as 0. Every pull is an enquiry: an idempotency key keeps a retried
activity to one.
"""

from __future__ import annotations

from activities.providers.base import HttpProvider
from activities.providers.sme.base import CommercialReport


class CrifCommercial(HttpProvider):
    """CRIF's commercial report by the business PAN."""

    async def report(self, pan: str, name: str, idempotency_key: str) -> CommercialReport:
        """The business's commercial bureau score (0: no history)."""
        key = {"Idempotency-Key": idempotency_key}
        body = await self.call("POST", "/crif/commercial/report", json={"pan": pan, "name": name}, headers=key)
        with self.reading("commercial report"):
            score = body["score"]
            return CommercialReport(0 if score == "NH" else int(score), body)
