"""What every charge shares: who a charge line is for (``ChargeKind``), the KFS Annex A part 1 item 8 row it is
shown under (``KfsHead``), the penal charge bases (``PenalBasis``), the defaults (GST 18% on lender fees, a
3-day cooling-off period) and the checks of paise and percents (a float → ``TypeError``, a bad value →
``ValidationError`` naming the field).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import ValidationError

HUNDRED = Decimal(100)
DEFAULT_GST_PERCENT = Decimal("18")
DEFAULT_COOLING_OFF_DAYS = 3  # meets both the 2022 guidelines (3 days for tenor ≥ 7 days) and the 2025 minimum


class ChargeKind(StrEnum):
    """Who a charge line is for. GST lines are derived; a configured fee cannot be of kind GST."""

    LENDER_FEE = "LENDER_FEE"  # payable to the RE, GST applies by default (processing, documentation fee)
    GST = "GST"  # tax on a lender fee, its own line
    THIRD_PARTY = "THIRD_PARTY"  # collected by the RE for a third party at actuals (insurance): no lender GST
    OTHER = "OTHER"  # anything else payable to the RE (e.g. stamp duty at actuals); GST only if configured


class KfsHead(StrEnum):
    """The KFS Annex A part 1 item 8 row a charge is shown under."""

    PROCESSING_FEE = "PROCESSING_FEE"
    INSURANCE = "INSURANCE"
    VALUATION_FEE = "VALUATION_FEE"
    OTHER = "OTHER"


class PenalBasis(StrEnum):
    FLAT_PER_OCCURRENCE = "FLAT_PER_OCCURRENCE"
    PERCENT_PER_ANNUM = "PERCENT_PER_ANNUM"


def _no_float(value: object, field_name: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{field_name}: float is not allowed in money code, use int paise or Decimal")


def _paise(value: object, field_name: str, *, positive: bool = False) -> int:
    _no_float(value, field_name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field_name)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field_name)
    return value


def _percent(value: object, field_name: str, *, maximum: Decimal = HUNDRED) -> Decimal:
    _no_float(value, field_name)
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("must be a Decimal percent", field=field_name)
    try:
        pct = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"not a decimal percent: {value!r}", field=field_name) from exc
    if not pct.is_finite() or not Decimal(0) <= pct <= maximum:
        raise ValidationError(f"must be between 0 and {maximum} percent", field=field_name)
    return pct


def _percent_text(pct: Decimal) -> str:
    return f"{pct.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
