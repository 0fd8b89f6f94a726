"""The API's input types: one definition of what an amount, a count, a date and an id look like, used by every
request body, query and setting. See docs/api.md.

* ``Rupees``: a decimal **string** of rupees with at most 2 decimals (``"50000"``, ``"50000.50"``), more than
  zero and at most ``MAX_RUPEES``. A JSON number is refused: it would pass through a binary float
  (``50000.30000000000001`` is not an amount anybody typed).
* ``Score``: a percentage score 0..100 as a decimal string (``"72.5"``), JSON numbers refused likewise.
* ``Paise``: a whole number of paise, 0..``MAX_PAISE`` (a JSON integer, or digits in a query string). A JSON
  float (``100.0`` too), a boolean or a fraction is refused.
* ``Count`` / ``Tenure``: whole numbers with the same strictness, bounded so nothing reaching PostgreSQL
  overflows ``bigint``; ``Whole`` the same strictness with the field's own bounds (page numbers and sizes).
* ``IsoDate``: ``YYYY-MM-DD`` text only (pydantic's lax mode would turn ``9.9e-116`` into 1970-01-01), between
  ``MIN_DATE`` and ``MAX_DATE``. ``BirthDate`` and ``WorkStartDate`` add what is plausible for a person.
* ``IsoDateTime``: ISO 8601 text only (``2026-01-31T09:30:00+05:30``), in the same years as ``IsoDate``.
* ``Uuid``: the canonical 8-4-4-4-12 form only (what PostgreSQL stores and the API hands out).

A value outside these is a 422 naming the field, before anything reaches the database.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from api.deps import is_uuid
from domain.money import MAX_ENTERED_PAISE

MAX_PAISE = MAX_ENTERED_PAISE  # ₹10,000 crore
MAX_RUPEES = Decimal(MAX_PAISE) / 100
MAX_COUNT = 1_000_000  # counts, caps and thresholds a person sets
MAX_TENURE = 600  # installments (50 years of monthly EMIs)
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)  # a schedule of MAX_TENURE months from here still ends inside the calendar
MIN_AGE = 18  # a minor cannot contract (Indian Contract Act s.11); no brand's BRE may go lower
MAX_AGE = 105  # looser than the BRE's highest maxAge (domain.bre.MAX_AGE_LIMIT, 100)
MIN_WORK_AGE = 14  # the Child Labour Act's floor: nobody joins an employer younger
EARLIEST_JOINING = date(1950, 1, 1)

_RUPEES = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_TOO_MANY_DIGITS = re.compile(r"[0-9]{13,}(\.[0-9]*)?")  # a number, only too large for any amount
_WHOLE = re.compile(r"-?[0-9]{1,20}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _decimal_text(what: str, example: str) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, Decimal) and value.is_finite():
            return value
        if isinstance(value, str) and _RUPEES.fullmatch(value):
            if what == "rupees" and Decimal(value) == 0:  # as a negative amount is told (Rupees is more than zero)
                raise ValueError(f"must be more than zero (got {value})")
            return Decimal(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f'{what} go as a decimal string, e.g. "{example}", never a JSON number')
        if what == "rupees" and isinstance(value, str):
            number = value.removeprefix("-")
            if _RUPEES.fullmatch(number) or _TOO_MANY_DIGITS.fullmatch(number):  # a number, out of range
                if value.startswith("-"):
                    raise ValueError(f"must be more than zero (got {value})")
                raise ValueError(f"must be at most {MAX_RUPEES:.2f} (got {value})")
        raise ValueError(f'{what} as a decimal string with at most 2 decimals, e.g. "{example}"')

    return parse


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    raise ValueError("a whole number is expected (no decimals, no float, no quotes in JSON)")


def _rupees_decimal_places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]  # finite, checked above
        raise ValueError("at most 2 decimals")
    return value


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a calendar date") from None
    raise ValueError("a date as YYYY-MM-DD text")


def _iso_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value) and len(value) <= 40:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a date-time") from None
    raise ValueError("a date-time as ISO 8601 text, e.g. 2026-01-31T09:30:00+05:30")


def _datetime_range(value: datetime) -> datetime:
    _date_range(value.date())
    return value


def _date_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _years_between(earlier: date, later: date) -> int:
    """Completed years from ``earlier`` to ``later`` (a birthday on 29 February counts on 1 March)."""
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def _birth_date(value: date) -> date:
    age = _years_between(value, date.today())
    if age < MIN_AGE:
        raise ValueError(f"the customer must be at least {MIN_AGE} years old")
    if age > MAX_AGE:
        raise ValueError(f"not a plausible date of birth (over {MAX_AGE} years ago)")
    return value


def _work_start(value: date) -> date:
    if value > date.today():
        raise ValueError("must not be in the future")
    if value < EARLIEST_JOINING:
        raise ValueError(f"must not be before {EARLIEST_JOINING}")
    return value


def _uuid(value: Any) -> str:
    if isinstance(value, str) and is_uuid(value):
        return value.lower()
    raise ValueError("not an id: a UUID such as 3f2b6c1e-8d4a-4f5e-9b7a-2c1d0e9f8a7b")


def check_joined_after_birth(joined_on: date | None, dob: date | None) -> str | None:
    """The reason ``joined_on`` is implausible for someone born on ``dob`` (younger than ``MIN_WORK_AGE``), or
    None when it is plausible or either date is unknown."""
    if joined_on is None or dob is None or _years_between(dob, joined_on) >= MIN_WORK_AGE:
        return None
    return f"must be after the customer's {MIN_WORK_AGE}th birthday ({dob.isoformat()} is on file)"


_RUPEES_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "description": "rupees, e.g. 50000.50"}
)
_DATE_SCHEMA = WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"})

Rupees = Annotated[
    Decimal,
    Field(gt=0, le=MAX_RUPEES),
    BeforeValidator(_decimal_text("rupees", "50000.50")),
    AfterValidator(_rupees_decimal_places),
    _RUPEES_SCHEMA,
]
Score = Annotated[
    Decimal,
    Field(ge=0, le=100),
    BeforeValidator(_decimal_text("scores", "72.5")),
    AfterValidator(_rupees_decimal_places),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,2})?$", "description": "0-100"}),
]
Paise = Annotated[int, Field(ge=0, le=MAX_PAISE, description="integer paise"), BeforeValidator(_whole)]
PositivePaise = Annotated[int, Field(gt=0, le=MAX_PAISE, description="integer paise"), BeforeValidator(_whole)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), BeforeValidator(_whole)]
# a whole number whose bounds the field gives (a page number, a page size): "2.0", 2.0 and true refused, as for Count.
# ``Whole`` for a model's field (``page: Whole = Field(default=1, ge=1)``); a query parameter takes the validator after
# its Query, so the bounds reach the OpenAPI schema as minimum/maximum: ``Annotated[int, Query(ge=1), WHOLE]``.
WHOLE = BeforeValidator(_whole)
Whole = Annotated[int, WHOLE]
Tenure = Annotated[int, Field(gt=0, le=MAX_TENURE, description="number of installments"), BeforeValidator(_whole)]
IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_date_range), _DATE_SCHEMA]
BirthDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_birth_date), _DATE_SCHEMA]
WorkStartDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_work_start), _DATE_SCHEMA]
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_datetime),
    AfterValidator(_datetime_range),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Uuid = Annotated[str, BeforeValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]

__all__ = [
    "MAX_PAISE",
    "MAX_RUPEES",
    "BirthDate",
    "Count",
    "IsoDate",
    "IsoDateTime",
    "Paise",
    "PositivePaise",
    "Rupees",
    "Score",
    "Tenure",
    "Uuid",
    "WorkStartDate",
    "check_joined_after_birth",
]


def multipart_body(required: list[str], properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a ``multipart/form-data`` body itself (streamed, not parsed by
    FastAPI): the fields as /docs shows them, ``required`` those that must be sent (OpenAPI 3.1 schema objects)."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
