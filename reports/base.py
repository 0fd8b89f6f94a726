"""What a report is: a name, a title, its columns (name, type, description), the date column it filters on, and the
SQLAlchemy ``select`` that builds its rows for one brand and an IST date range.

Column types: ``text``, ``paise`` (integer paise; rupees with 2 decimals in CSV), ``date`` (an IST calendar date,
ISO), ``datetime`` (an instant, ISO 8601 with its offset), ``number`` (an integer or a decimal). A report's query
selects exactly its columns, labelled with their names and in their order, sorted by a stable key (so pages do not
overlap). Queries live here, outside ``domain/`` (which stays pure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Select

from workflows.options import IST

ColumnType = Literal["text", "paise", "date", "datetime", "number"]
Spec = tuple[str, ColumnType, str]  # (name, type, description)
MAX_DAYS = 366  # the widest date range one request may ask for


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Range:
    """An inclusive range of IST calendar dates, and the instants it spans: ``start`` (00:00 IST of ``from_date``)
    up to, not including, ``end`` (00:00 IST of the day after ``to_date``)."""

    from_date: date
    to_date: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.from_date, time.min, IST)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.to_date + timedelta(days=1), time.min, IST)


@dataclass(frozen=True)
class Report:
    """One report type. ``build(brand_id, range)`` is the select of its rows; ``date_column`` says which date the
    range filters on; ``note`` says what the report leaves out because the data does not exist yet."""

    name: str
    title: str
    description: str
    date_column: str
    columns: tuple[Column, ...]
    build: Callable[[str, Range], Select[Any]]
    family: str = ""
    note: str | None = None

    def query(self, brand_id: str, span: Range) -> Select[Any]:
        return self.build(brand_id, span)


def cols(*spec: Spec) -> tuple[Column, ...]:
    """Columns from ``(name, type, description)`` triples."""
    return tuple(Column(n, t, d) for n, t, d in spec)


def in_range(column: Any, span: Range) -> Any:
    """``column`` (a timestamp) within the range's instants."""
    return (column >= span.start) & (column < span.end)


def ist_date(column: Any) -> Any:
    """The IST calendar date of a timestamp column (SQL)."""
    from sqlalchemy import Date, cast, func

    return cast(func.timezone("Asia/Kolkata", column), Date)
