"""TransUnion CIBIL consumer report."""

from __future__ import annotations

from activities.providers.base import HttpProvider, ProviderError
from activities.providers.bureau.base import BureauReport


class CibilBureau(HttpProvider):
    async def pull(self, pan: str, name: str | None, idempotency_key: str) -> BureauReport:
        body = await self.call(
            "POST", "/cibil/report", json={"pan": pan, "name": name}, headers={"Idempotency-Key": idempotency_key}
        )
        score = body.get("score")
        if not isinstance(score, int):
            raise ProviderError("cibil: report without a score")
        return BureauReport(score, body)
