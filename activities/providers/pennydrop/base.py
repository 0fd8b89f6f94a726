"""Penny drop: send ₹1 (100 paise) to an account + IFSC and read back the name the bank holds for it,
before disbursing to it. The name match against the PAN name is scored for the caller
(:func:`activities.providers.matching.name_match_score`); what passes is the brand's rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.outcomes import ProviderCallStatus

VERIFIED, FAILED = ProviderCallStatus.VERIFIED, ProviderCallStatus.FAILED


@dataclass(frozen=True)
class PennyDropResult:
    """``status`` VERIFIED (the account exists and took the rupee) or FAILED (``reason`` says why:
    invalid/closed account, …). ``amount`` is in paise."""

    status: ProviderCallStatus
    account_exists: bool
    beneficiary_name: str | None
    name_match_score: float | None
    validation_id: str
    utr: str | None
    bank_name: str | None
    amount: int
    reason: str | None
    raw: dict

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED


class PennyDropProvider(Protocol):
    async def verify_account(
        self, *, account_number: str, ifsc: str, name: str | None, reference_id: str, idempotency_key: str
    ) -> PennyDropResult: ...
