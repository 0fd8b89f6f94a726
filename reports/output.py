"""How report rows are written: JSON values (paise as integers, dates and instants ISO, decimals as strings) and
CSV cells (paise as rupees with 2 decimals, dates ISO, text guarded against formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reports.base import Column

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns that hold a customer's identifier: an export shows only its masked form (docs/security.md).
MASKED = {
    "phone": lambda v: "XXXXXX" + v[-4:],
    "pan": lambda v: f"{v[:2]}XXXXX{v[-3:]}" if len(v) == 10 else "X" * len(v),
}


def json_value(value: Any) -> Any:
    """A value as plain JSON: ISO dates and instants, decimals as strings, the rest as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def json_rows(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as objects keyed by the column names; paise always integers (a SQL sum comes back as a decimal)."""
    out = []
    for row in rows:
        item = {}
        for column, value in zip(columns, row, strict=True):
            paise = column.type == "paise" and value is not None
            item[column.name] = int(value) if paise else json_value(masked(column, value))
        out.append(item)
    return out


def rupees(paise: int) -> str:
    """Integer paise as rupees with 2 decimals: 1234567 -> '12345.67', -5 -> '-0.05'."""
    sign = "-" if paise < 0 else ""
    whole, part = divmod(abs(int(paise)), 100)
    return f"{sign}{whole}.{part:02d}"


def masked(column: Column, value: Any) -> Any:
    """``value`` masked when its column holds a customer identifier (:data:`MASKED`), else as is."""
    return MASKED[column.name](str(value)) if value is not None and column.name in MASKED else value


def csv_value(column: Column, value: Any) -> str:
    value = masked(column, value)
    if value is None:
        return ""
    if column.type == "paise":
        return rupees(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if column.type == "text" and text.startswith(FORMULA_START):
        return "'" + text  # a spreadsheet would run it as a formula (OWASP CSV injection)
    return text


def csv_lines(columns: Sequence[Column], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[str]:
    """The header, then one chunk of CSV text per batch of rows (so memory holds one batch at a time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            writer.writerow([csv_value(c, v) for c, v in zip(columns, row, strict=True)])
        yield buffer.getvalue()
