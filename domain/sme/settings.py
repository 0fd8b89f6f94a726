"""A brand's SME settings, the ``sme`` block of ``Brand.config`` (docs/invoice-financing.md, "Settings"), read
once into :class:`SmeSettings` with every default here. Keys are camelCase as stored::

    "sme": {"ownBook": {"name": "...", "minScore": 50, "advanceRateBps": 8000, "discountRateBps": 1400,
                        "overdueRateBps": 2400, "minDays": 7, "maxDays": 120,
                        "minAmount": 1000000, "maxAmount": 1000000000},
            "offerValidityDays": 7, "reminderDaysBeforeDue": 3, "overdueReminderDays": 3,
            "buyerConfirmationRequired": true, "virtualAccounts": true}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationError
from domain.sme.matching import LenderTerms

OWN_BOOK_ID = "own-book"
_LENDER_KEYS = {
    "name": "name",
    "minScore": "min_score",
    "advanceRateBps": "advance_rate_bps",
    "discountRateBps": "discount_rate_bps",
    "overdueRateBps": "overdue_rate_bps",
    "minDays": "min_days",
    "maxDays": "max_days",
    "minAmount": "min_amount",
    "maxAmount": "max_amount",
}
DEFAULT_BOOK = LenderTerms(OWN_BOOK_ID, "Own book", 50, 8_000, 1_400, 2_400, 7, 120, 10_000_00, 1_00_00_000_00)


@dataclass(frozen=True)
class SmeSettings:
    """The brand's own book's terms, how long an offer stays open (days), reminders before the due date and
    while overdue (days), whether the buyer must confirm the invoice, and whether a financed invoice gets a virtual
    account to be paid into (at the brand's Razorpay, Smart Collect; docs/invoice-financing.md, "Collection")."""

    own_book: LenderTerms = DEFAULT_BOOK
    offer_validity_days: int = 7
    reminder_days_before_due: int = 3
    overdue_reminder_days: int = 3
    buyer_confirmation_required: bool = True
    virtual_accounts: bool = True


def _int(block: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str = "sme") -> int:
    value = block.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"must be an integer {low}..{high}", field=f"{where}.{key}")
    return value


def sme_settings(config: Mapping[str, Any] | None) -> SmeSettings:
    """The ``sme`` block of a brand's config (None or absent: the defaults). Raises ValidationError naming the
    key (``sme.ownBook.advanceRateBps``...) on a value out of range."""
    block = (config or {}).get("sme") or {}
    if not isinstance(block, Mapping):
        raise ValidationError("must be an object", field="sme")
    book = block.get("ownBook") or {}
    values: dict[str, Any] = {}
    for key, attr in _LENDER_KEYS.items():
        if key not in book:
            continue
        if key == "name":
            if not isinstance(book[key], str) or not book[key].strip():
                raise ValidationError("must be a name", field="sme.ownBook.name")
            values[attr] = book[key].strip()
        else:
            high = 10_000 if key.endswith("Bps") or key == "minScore" else 10**13
            values[attr] = _int(book, key, 0, 0, high, "sme.ownBook")
    own = LenderTerms(**{**DEFAULT_BOOK.__dict__, **values})
    if own.min_days > own.max_days or own.min_amount > own.max_amount:
        raise ValidationError("minimum above maximum", field="sme.ownBook")
    if own.min_score > 100:
        raise ValidationError("must be 0..100", field="sme.ownBook.minScore")
    return SmeSettings(
        own,
        _int(block, "offerValidityDays", 7, 1, 90),
        _int(block, "reminderDaysBeforeDue", 3, 0, 30),
        _int(block, "overdueReminderDays", 3, 1, 30),
        bool(block.get("buyerConfirmationRequired", True)),
        bool(block.get("virtualAccounts", True)),
    )
