"""Gapless numbers for a brand's documents: receipts (``DEMO/2026-27/000123``) and closure certificates
(``NOC/DEMO/2026-27/000007``), a sequence per brand and prefix (the prefix carries the financial year).

A number is taken by advancing the brand's counter row for the prefix (``document_sequences``) in the issuing
transaction: the row stays locked until that transaction ends, so two transactions never take the same number,
and a transaction that rolls back gives its number back (no gap). Taking one costs the same whatever the number
of documents already issued; reading ``max()`` over them (as before) cost more with every receipt of the year
and held a brand-wide lock while it did.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

SEQ_WIDTH = 6

_ADVANCE = text(
    "INSERT INTO document_sequences (brand_id, prefix, last_value) VALUES (:brand_id, :prefix, 1) "
    "ON CONFLICT (brand_id, prefix) DO UPDATE SET last_value = document_sequences.last_value + 1 "
    "RETURNING last_value"
)


def next_number(session: Session, brand_id: str, prefix: str, taken: Callable[[str], bool]) -> str:
    """The brand's next number under ``prefix`` (``prefix`` + the counter, zero-padded to :data:`SEQ_WIDTH`),
    in ``session``'s transaction. ``taken(number)`` says whether a document already has that number (a point
    lookup on its unique column): a number written by a process still numbering the old way, during a rolling
    upgrade, is skipped instead of failing every retry on the unique constraint."""
    while True:
        value = session.execute(_ADVANCE, {"brand_id": brand_id, "prefix": prefix}).scalar_one()
        number = f"{prefix}{value:0{SEQ_WIDTH}d}"
        if not taken(number):
            return number
