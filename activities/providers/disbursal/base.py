from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    status: str


class DisbursalProvider(Protocol):
    async def transfer(
        self, *, amount: int, reference_id: str, beneficiary: dict, callback_url: str, idempotency_key: str
    ) -> Transfer: ...
