"""Which payment rail a disbursal takes.

Sources: NPCI's IMPS per-transaction limit (₹5 lakh, NPCI circular OC-129, 2021-22); RBI's RTGS minimum (₹2 lakh;
RBI Master Direction on RTGS, 2021); NEFT has no minimum or maximum. Amounts are integer paise.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import ValidationError

IMPS_MAX = 500_000_00  # NPCI's per-transaction cap
RTGS_MIN = 200_000_00


class TransferMode(StrEnum):
    """The payment rail: IMPS (instant), NEFT (half-hourly batches), RTGS (₹2 lakh and above, real time)."""

    IMPS = "IMPS"
    NEFT = "NEFT"
    RTGS = "RTGS"


def transfer_mode(amount: int, imps_limit: int = IMPS_MAX) -> TransferMode:
    """IMPS up to the brand's ``imps_limit`` (never above NPCI's cap); above it RTGS from ₹2 lakh, else NEFT.
    ``ValidationError`` for an amount that is not positive."""
    if amount <= 0:
        raise ValidationError("amount must be positive paise", field="amount")
    if amount <= min(imps_limit, IMPS_MAX):
        return TransferMode.IMPS
    return TransferMode.RTGS if amount >= RTGS_MIN else TransferMode.NEFT
