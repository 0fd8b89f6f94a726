"""Duplicate invoices (docs/invoice-financing.md, "Duplicate detection"): double financing of one receivable,
the fraud RBI's TReDS framework (Payment and Settlement Systems Act, TReDS guidelines 2014/2018) is built to stop.

An invoice is a **duplicate** when an earlier one of the same seller GSTIN has the same invoice number (compared
without case, spaces, ``-``, ``/``, ``.``, ``_`` or the leading zeros of a digit run) and the same amount; it is
**already financed** when an earlier one of the same seller with the same number, or of any seller with the same
buyer GSTIN, number and amount, is in a financed request (a buyer's payable is financed once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.sme.status import RefusalReason

_NOISE = re.compile(r"[\s\-/._]")


def normalise_number(number: str) -> str:
    """An invoice number as compared: upper case, no spaces or separators, no leading zeros in a digit run
    (``INV-0042`` and ``inv 42`` are the same; ``100`` and ``10`` are not)."""
    text = _NOISE.sub("", number.upper())
    return re.sub(r"(?<!\d)0+(?=\d)", "", text)


@dataclass(frozen=True)
class InvoiceKey:
    """What duplicates are judged on: the seller's and buyer's GSTIN, the invoice number, its amount (paise), and
    whether a request for it is or was financed; ``invoice_id`` names the earlier invoice in the reason."""

    invoice_id: str
    seller_gstin: str
    buyer_gstin: str
    number: str
    amount: int
    financed: bool = False


@dataclass(frozen=True)
class Duplicate:
    """The refusal: ``reason`` (RefusalReason) and the earlier invoice it matched."""

    reason: RefusalReason
    invoice_id: str


def find_duplicate(candidate: InvoiceKey, earlier: Iterable[InvoiceKey]) -> Duplicate | None:
    """The first rule ``candidate`` breaks against the ``earlier`` invoices (itself excluded by id): already
    financed before duplicate; None when it is new."""
    number = normalise_number(candidate.number)
    dup: Duplicate | None = None
    for other in earlier:
        if other.invoice_id == candidate.invoice_id:
            continue
        same_number = normalise_number(other.number) == number
        same_seller = other.seller_gstin == candidate.seller_gstin
        same_payable = other.buyer_gstin == candidate.buyer_gstin and other.amount == candidate.amount
        if other.financed and same_number and (same_seller or same_payable):
            return Duplicate(RefusalReason.ALREADY_FINANCED, other.invoice_id)
        if dup is None and same_seller and same_number and other.amount == candidate.amount:
            dup = Duplicate(RefusalReason.DUPLICATE_INVOICE, other.invoice_id)
    return dup
