"""Employment verification through EPFO records: the UAN(s) registered to a phone, then the UAN's
employment history (employer, joining/exit dates, latest PF wage in paise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class UanLookup:
    """``found`` False when no UAN is linked to the phone."""

    found: bool
    uans: tuple[str, ...]
    name: str | None
    raw: dict


@dataclass(frozen=True)
class EmploymentRecord:
    employer: str
    establishment_id: str | None
    joined_on: date | None
    exited_on: date | None
    latest_wage: int | None  # paise, the last month's EPF wage
    wage_month: str | None  # YYYY-MM of ``latest_wage``

    @property
    def current(self) -> bool:
        return self.exited_on is None


@dataclass(frozen=True)
class EmploymentHistory:
    """``found`` False when EPFO has no such UAN. Records are most recent first."""

    found: bool
    uan: str
    name: str | None
    records: tuple[EmploymentRecord, ...]
    raw: dict

    @property
    def current(self) -> EmploymentRecord | None:
        return next((r for r in self.records if r.current), None)


class EmploymentProvider(Protocol):
    async def phone_to_uan(self, phone: str) -> UanLookup: ...

    async def uan_to_employment(self, uan: str) -> EmploymentHistory: ...
