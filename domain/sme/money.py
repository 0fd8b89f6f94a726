"""The money of one financed invoice, in integer paise (docs/invoice-financing.md, "The maths").

- **Advance** = invoice amount × advance rate (bps / 10 000), rounded down to the paisa (never more than the rate).
- **Discount** (the lender's charge, interest-style, collected at the end, not deducted up front) = advance ×
  discount rate (bps / 10 000 a year) × days / 365, rounded half-up to the paisa. Day count: **Actual/365 (fixed)**,
  the convention of Indian money markets for rupee discounting (FIMMDA); days = due date − disbursal date, IST
  calendar days, at least 1.
- **Reserve** = invoice amount − advance − discount: what the seller is owed back once the buyer pays in full.
- **Late charge**: after the due date, advance × overdue rate (bps a year) × days late / 365, half-up; taken from
  the reserve (the seller's buyer paid late), never more than the reserve.
- **Release** on settlement = collected − advance − discount − late charge, at least 0 (a buyer's overpayment goes
  to the seller with the reserve). RBI's fair-practices code for NBFCs (2023): every charge stated up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from domain.errors import ValidationError

BPS = 10_000
DAYS_IN_YEAR = 365  # Actual/365 (fixed)


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def days_between(start: date, end: date) -> int:
    """Actual days from ``start`` to ``end`` (IST dates), at least 1 (a same-day due date still costs a day)."""
    return max(1, (end - start).days)


def advance_amount(invoice_amount: int, advance_rate_bps: int) -> int:
    """The advance for an invoice: amount × rate / 10 000, rounded down (paise). Raises ValidationError on a
    non-positive amount or a rate outside 1..10 000 bps."""
    if invoice_amount <= 0:
        raise ValidationError("invoice amount must be positive", field="amount")
    if not 0 < advance_rate_bps <= BPS:
        raise ValidationError("advance rate must be 1..10000 bps", field="advanceRateBps")
    return int((Decimal(invoice_amount) * advance_rate_bps / BPS).to_integral_value(rounding=ROUND_DOWN))


def discount_amount(advance: int, discount_rate_bps: int, days: int) -> int:
    """Interest-style discount on ``advance`` paise at ``discount_rate_bps`` a year for ``days`` (Actual/365),
    half-up to the paisa. Raises ValidationError on a negative rate or days below 1."""
    if discount_rate_bps < 0:
        raise ValidationError("discount rate must not be negative", field="discountRateBps")
    if days < 1:
        raise ValidationError("days must be at least 1", field="days")
    return _half_up(Decimal(advance) * discount_rate_bps * days / (BPS * DAYS_IN_YEAR))


@dataclass(frozen=True)
class Terms:
    """One invoice's financing terms in paise: ``advance`` paid to the seller, ``discount`` charged, ``reserve``
    held back (amount − advance − discount), over ``days`` (Actual/365)."""

    amount: int
    advance: int
    discount: int
    reserve: int
    days: int
    advance_rate_bps: int
    discount_rate_bps: int


def terms(amount: int, advance_rate_bps: int, discount_rate_bps: int, start: date, due: date) -> Terms:
    """The advance, discount and reserve of an invoice of ``amount`` paise funded on ``start`` and due on ``due``.
    Raises ValidationError when the discount would exceed what the advance leaves (reserve below 0)."""
    days = days_between(start, due)
    advance = advance_amount(amount, advance_rate_bps)
    discount = discount_amount(advance, discount_rate_bps, days)
    reserve = amount - advance - discount
    if reserve < 0:
        raise ValidationError("the discount exceeds the invoice amount left after the advance", field="discountRateBps")
    return Terms(amount, advance, discount, reserve, days, advance_rate_bps, discount_rate_bps)


@dataclass(frozen=True)
class Settlement:
    """What a buyer's payment settles: ``late_charge`` (paise, from the reserve), ``release`` to the seller, and
    ``shortfall`` still owed to the lender (0 once the advance, discount and late charge are covered)."""

    collected: int
    late_charge: int
    release: int
    shortfall: int


def late_charge(advance: int, overdue_rate_bps: int, days_late: int, reserve: int) -> int:
    """The late charge for ``days_late`` past the due date (Actual/365 on the advance), capped at ``reserve``."""
    if days_late <= 0:
        return 0
    return min(reserve, _half_up(Decimal(advance) * overdue_rate_bps * days_late / (BPS * DAYS_IN_YEAR)))


def settle(t: Terms, collected: int, overdue_rate_bps: int, due: date, paid_on: date) -> Settlement:
    """Split ``collected`` paise from the buyer (paid in full on ``paid_on``): the lender's advance, discount and
    late charge first, the rest released to the seller."""
    charge = late_charge(t.advance, overdue_rate_bps, (paid_on - due).days, t.reserve)
    owed = t.advance + t.discount + charge
    return Settlement(collected, charge, max(0, collected - owed), max(0, owed - collected))
