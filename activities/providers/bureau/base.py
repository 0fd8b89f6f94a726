from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class BureauReport:
    score: int
    raw: dict


class BureauProvider(Protocol):
    async def pull(self, pan: str, name: str | None, idempotency_key: str) -> BureauReport: ...
