from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Docket:
    docket_id: str
    signing_url: str


class EsignProvider(Protocol):
    async def create_docket(
        self,
        *,
        reference_id: str,
        pdf: bytes,
        signer_name: str,
        signer_phone: str,
        expires_in_seconds: int,
        callback_url: str,
        idempotency_key: str,
    ) -> Docket: ...
