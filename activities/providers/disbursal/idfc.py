"""IDFC FIRST Bank payouts (IMPS/NEFT); settles by webhook with the UTR."""

from __future__ import annotations

from activities.providers.base import HttpProvider
from activities.providers.disbursal.base import Transfer


class IdfcDisbursal(HttpProvider):
    async def transfer(
        self, *, amount: int, reference_id: str, beneficiary: dict, callback_url: str, idempotency_key: str
    ) -> Transfer:
        body = await self.call(
            "POST",
            "/idfc/transfers",
            json={
                "amount": amount,
                "reference_id": reference_id,
                "beneficiary": beneficiary,
                "callback_url": callback_url,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        return Transfer(body["transfer_id"], body["status"])
