"""What the business data vendors answer, typed (``activities.providers.sme``). Money in paise, dates ISO."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.sme.scoring import GstPeriod


@dataclass(frozen=True)
class GstinRecord:
    """A GSTIN's registration (GSTN taxpayer search): ``active`` when its status is Active; legal name,
    constitution of business, registration date."""

    gstin: str
    active: bool
    status: str
    legal_name: str
    constitution: str
    registered_on: date | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Director:
    """A director of a company (MCA master data): DIN and name."""

    din: str
    name: str


@dataclass(frozen=True)
class CompanyRecord:
    """A company's MCA master data: CIN, name, status (``active`` when Active), incorporation date, directors."""

    cin: str
    name: str
    active: bool
    status: str
    incorporated_on: date | None
    directors: tuple[Director, ...]
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceConfirmation:
    """Whether the seller's GSTR-1 carries the invoice as a B2B supply to the buyer (number, value)."""

    found: bool
    reason: str | None = None


@dataclass(frozen=True)
class StatementSummary:
    """A bank statement's summary over its months: average balance (paise), cheque/ECS bounces."""

    average_balance: int
    bounces: int
    months: int


@dataclass(frozen=True)
class CommercialReport:
    """A commercial bureau report: the score (300-900, 0 no history)."""

    score: int
    raw: dict[str, Any] = field(default_factory=dict)


__all__ = [
    "CommercialReport",
    "CompanyRecord",
    "Director",
    "GstPeriod",
    "GstinRecord",
    "InvoiceConfirmation",
    "StatementSummary",
]
