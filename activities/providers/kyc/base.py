"""Identity verification (KYC): PAN, Aadhaar OTP e-KYC, mobile-to-PAN / mobile-to-address look-ups
(Digitap), and DigiLocker documents. Dates are ``datetime.date``; photos are base64 strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class PanResult:
    valid: bool
    name: str | None
    dob: str | None
    reason: str | None
    raw: dict


@dataclass(frozen=True)
class Address:
    line: str
    city: str | None = None
    state: str | None = None
    pincode: str | None = None

    def one_line(self) -> str:
        tail = ", ".join(p for p in (self.city, self.state) if p)
        text = ", ".join(p for p in (self.line, tail) if p)
        return f"{text} {self.pincode}".strip() if self.pincode else text


@dataclass(frozen=True)
class AadhaarOtpStarted:
    """The OTP was sent to the Aadhaar-linked mobile; submit it with ``reference_id``."""

    reference_id: str
    masked_aadhaar: str
    raw: dict


@dataclass(frozen=True)
class AadhaarKyc:
    """The outcome of submitting an Aadhaar OTP.

    ``verified`` False with ``reason`` ``OTP_MISMATCH`` (``attempts_left`` > 0: ask again) or
    ``ATTEMPTS_EXCEEDED`` (start over); identity fields are filled only when verified."""

    verified: bool
    reference_id: str
    reason: str | None
    attempts_left: int | None
    name: str | None
    dob: date | None
    gender: str | None
    address: Address | None
    photo_base64: str | None
    masked_aadhaar: str | None
    raw: dict


@dataclass(frozen=True)
class MobilePanResult:
    """Mobile-to-PAN: the PAN registered against a phone (fraud check: it should be the applicant's)."""

    found: bool
    pan: str | None
    name: str | None
    raw: dict


@dataclass(frozen=True)
class MobileAddressResult:
    """Mobile-to-address: the address telecom/utility records hold for a phone."""

    found: bool
    address: Address | None
    raw: dict


@dataclass(frozen=True)
class DigiLockerSession:
    """Send the customer to ``authorization_url``; DigiLocker redirects back with ``?code=&state=``."""

    request_id: str
    authorization_url: str
    raw: dict


@dataclass(frozen=True)
class DigiLockerDocument:
    """One issued document: ``doc_type`` PAN / AADHAAR / DRIVING_LICENCE. Aadhaar numbers are masked."""

    doc_type: str
    number: str
    name: str
    dob: date | None
    gender: str | None
    address: Address | None
    issued_on: date | None
    valid_until: date | None
    raw: dict


@dataclass(frozen=True)
class DigiLockerDocuments:
    documents: tuple[DigiLockerDocument, ...]
    raw: dict

    def of_type(self, doc_type: str) -> DigiLockerDocument | None:
        return next((d for d in self.documents if d.doc_type == doc_type), None)


class KycProvider(Protocol):
    async def verify_pan(self, pan: str) -> PanResult: ...


class AadhaarOtpProvider(Protocol):
    async def aadhaar_otp_initiate(self, aadhaar: str) -> AadhaarOtpStarted: ...

    async def aadhaar_otp_submit(self, reference_id: str, otp: str) -> AadhaarKyc: ...


class MobileLookupProvider(Protocol):
    async def mobile_to_pan(self, phone: str) -> MobilePanResult: ...

    async def mobile_to_address(self, phone: str) -> MobileAddressResult: ...


class DigiLockerProvider(Protocol):
    async def start_session(self, *, redirect_url: str, state: str) -> DigiLockerSession: ...

    async def fetch_documents(self, code: str) -> DigiLockerDocuments: ...
