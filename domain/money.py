"""Exact money. Amounts are integer paise everywhere outside a calculation; inside one they are
``Decimal`` with explicit quantization. A float reaching this module is a bug and raises."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain.errors import ValidationError

PAISE_PER_RUPEE = 100
ONE_PAISA = Decimal("0.01")
# The largest amount a person may enter (₹10,000 crore): far above any retail loan, fee or salary, and far below
# PostgreSQL's BIGINT (2^63-1 paise), so an entered amount can always be stored and summed.
MAX_ENTERED_PAISE = 10**13


def _no_float(value: object, field: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use int paise or Decimal")


def to_paise(rupees: Decimal | int | str, field: str = "amount") -> int:
    """Rupees (Decimal/int/str) to integer paise, rounding half-up to the paisa."""
    _no_float(rupees, field)
    try:
        value = Decimal(rupees)
    except Exception as exc:  # decimal.InvalidOperation
        raise ValidationError(f"not a decimal amount: {rupees!r}", field=field) from exc
    if not value.is_finite():
        raise ValidationError("amount must be finite", field=field)
    return int((value * PAISE_PER_RUPEE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_rupees(paise: int) -> Decimal:
    """Integer paise to a 2-place rupee Decimal (exact)."""
    _no_float(paise, "paise")
    return (Decimal(paise) / PAISE_PER_RUPEE).quantize(ONE_PAISA)


def format_inr(paise: int) -> str:
    """Indian digit grouping, e.g. 12,34,567.89."""
    negative = paise < 0
    rupees, p = divmod(abs(paise), PAISE_PER_RUPEE)
    s = str(rupees)
    if len(s) > 3:
        head, tail = s[:-3], s[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        s = ",".join(groups + [tail])
    return f"{'-' if negative else ''}₹{s}.{p:02d}"


def round_paise(value: Decimal) -> int:
    """A Decimal amount in paise rounded half-up to a whole paisa."""
    _no_float(value, "value")
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` paise in proportion to integer ``weights`` so the parts sum back exactly
    (Hamilton / largest-remainder method; ties go to the earlier part)."""
    _no_float(total, "total")
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValidationError("weights must be non-negative and not all zero", field="weights")
    wsum = sum(weights)
    floors = [total * w // wsum for w in weights]
    remainders = [(total * w % wsum, -i) for i, w in enumerate(weights)]
    short = total - sum(floors)
    for _, neg_i in sorted(remainders, reverse=True)[:short]:
        floors[-neg_i] += 1
    return floors
