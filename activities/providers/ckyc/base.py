"""Central KYC Registry (CERSAI): find a customer's CKYC record by PAN and download it.

Matching the record's name to the PAN / Aadhaar name is the caller's job
(``activities.providers.matching.name_match_score``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from activities.providers.kyc.base import Address


@dataclass(frozen=True)
class CkycSearchResult:
    """``found`` False when the registry has no record for the PAN (an answer, not an error)."""

    found: bool
    ckyc_number: str | None
    name: str | None
    kyc_date: date | None
    raw: dict


@dataclass(frozen=True)
class CkycRecord:
    ckyc_number: str
    name: str
    fathers_name: str | None
    dob: date
    gender: str | None
    address: Address
    photo_base64: str | None
    raw: dict


class CkycProvider(Protocol):
    async def search(self, pan: str) -> CkycSearchResult: ...

    async def download(self, ckyc_number: str, *, dob: date) -> CkycRecord: ...

    async def fetch(self, pan: str, *, dob: date) -> CkycRecord | None: ...
