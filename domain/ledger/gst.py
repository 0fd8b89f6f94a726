"""GST on fees and charges, in paise: on a taxable amount, and split out of a GST-inclusive one (18% by default:
financial services other than interest, SAC 9971; interest on loans is exempt).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain.errors import ValidationError
from domain.ledger.accounts import GST_RATE
from domain.ledger.transactions import _paise


def gst_on(amount: int, rate: Decimal = GST_RATE) -> int:
    """GST in paise on a taxable ``amount`` in paise: amount × rate / 100, half-up to the paisa.

    Convention: tax computed per line and rounded half-up to the paisa (not to the rupee: CGST Act
    s.170's rounding applies to the return, not the invoice line). Default rate 18% (financial services
    other than interest, SAC 9971). Interest is exempt (Notification 12/2017-CT(Rate) entry 27): don't
    call this on interest.
    """
    amount = _paise(amount, "amount")
    rate = _rate(rate)
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_gst_inclusive(gross: int, rate: Decimal = GST_RATE) -> tuple[int, int]:
    """(taxable value, GST) of a GST-inclusive ``gross`` in paise: taxable = gross × 100 / (100 + rate)
    half-up to the paisa, GST = gross − taxable (so the two always add back to ``gross``)."""
    gross = _paise(gross, "gross")
    rate = _rate(rate)
    taxable = int((Decimal(gross) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return taxable, gross - taxable


def _rate(rate: object) -> Decimal:
    if isinstance(rate, float):
        raise TypeError("rate: float is not allowed in money code, use Decimal")
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise ValidationError("rate must be a Decimal percentage", field="rate")
    value = Decimal(rate)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValidationError("rate must be between 0 and 100 percent", field="rate")
    return value
