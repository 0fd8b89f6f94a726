"""The version and the validity of a Key Fact Statement (RBI KFS circular RBI/2024-25/18, 15 April 2024).

* ``kfs_hash``: the SHA-256 (hex) of a KFS as ``KeyFactStatement.as_dict`` gives it, over its canonical JSON
  (keys sorted at every level, no whitespace, ASCII only, no NaN): the same statement gives the same hash in
  every process and on every machine, so the version a borrower accepted can be named and checked later.
* ``kfs_valid_until``: the last day a KFS binds the lender. The circular (para 5(iv)): "the validity period of
  KFS ... shall be at least three working days for loans having tenor of seven days or more, and one working
  day for loans having tenor of less than seven days". The issue day itself is not counted (it may be nearly
  over), so a KFS issued on a Friday before a weekend the brand does not work is valid to the Wednesday after.
  Working days are the caller's (``is_working_day``): the brand's holiday calendar.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from domain.errors import ValidationError

SHORT_TENOR_DAYS = 7  # below this many days of tenor the KFS is valid for one working day
LONG_VALIDITY_WORKING_DAYS = 3
SHORT_VALIDITY_WORKING_DAYS = 1
_GUARD_DAYS = 366


def canonical_json(kfs: dict[str, Any]) -> bytes:
    """``kfs`` as canonical JSON bytes: sorted keys, no whitespace, ASCII (``₹`` as ``\\u20b9``). Only JSON
    values are accepted (a ``Decimal`` or a ``date`` is a ``TypeError``: ``as_dict`` writes them as strings)."""
    return json.dumps(kfs, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def kfs_hash(kfs: dict[str, Any]) -> str:
    """SHA-256 hex of the KFS dict's canonical JSON (``canonical_json``)."""
    if not isinstance(kfs, dict):
        raise ValidationError("the KFS to hash must be its dict (KeyFactStatement.as_dict)", field="kfs")
    return hashlib.sha256(canonical_json(kfs)).hexdigest()


def validity_working_days(term_days: int) -> int:
    """Working days a KFS stays valid for a loan of ``term_days`` days (disbursal to the last due date)."""
    if isinstance(term_days, bool) or not isinstance(term_days, int) or term_days < 0:
        raise ValidationError("the loan term must be a whole number of days", field="term_days")
    return LONG_VALIDITY_WORKING_DAYS if term_days >= SHORT_TENOR_DAYS else SHORT_VALIDITY_WORKING_DAYS


def kfs_valid_until(issued_on: date, term_days: int, is_working_day: Callable[[date], bool]) -> date:
    """The last day a KFS issued on ``issued_on`` is valid: the 3rd working day after it for tenors of 7 days
    or more, the 1st below (the issue day not counted). Raises ValidationError (field ``holidays``) when no
    working day falls within a year."""
    needed = validity_working_days(term_days)
    day, counted = issued_on, 0
    for _ in range(_GUARD_DAYS):
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
            if counted == needed:
                return day
    raise ValidationError("no working day within a year of the KFS's issue", field="holidays")


def working_day_calendar(holidays: Iterable[date]) -> Callable[[date], bool]:
    """``is_working_day`` for a brand's holiday calendar (its non-repayment dates): every other day works."""
    closed = frozenset(holidays)
    return lambda day: day not in closed
