from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PanResult:
    valid: bool
    name: str | None
    dob: str | None
    reason: str | None
    raw: dict


class KycProvider(Protocol):
    async def verify_pan(self, pan: str) -> PanResult: ...
