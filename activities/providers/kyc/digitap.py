"""Digitap KYC: PAN verification (pan-details-plus), Aadhaar OTP e-KYC, mobile-to-PAN and mobile-to-address.

Every call here is a read without side effects at our end, except ``aadhaar_otp_initiate`` which makes
UIDAI send an SMS: calling it again sends a new OTP under a new reference (not idempotent — call it once
per customer action). Submitting the right OTP again for a verified reference returns the same e-KYC.
"""

from __future__ import annotations

from typing import Any

from activities.providers.base import HttpProvider, parse_date
from activities.providers.kyc.base import (
    AadhaarKyc,
    AadhaarOtpStarted,
    Address,
    MobileAddressResult,
    MobilePanResult,
    PanResult,
)

FOUND, NOT_FOUND = 101, 102  # Digitap result codes


def _address(raw: Any) -> Address | None:
    if not raw:
        return None
    if isinstance(raw, str):
        return Address(raw)
    return Address(line=str(raw["line"]), city=raw.get("city"), state=raw.get("state"), pincode=raw.get("pincode"))


class DigitapKyc(HttpProvider):
    async def verify_pan(self, pan: str) -> PanResult:
        """PAN → the name and DOB in the Income Tax records. ``valid`` False (with a reason) when the ITD
        has no such PAN. Read-only, safe to repeat."""
        body = await self.call("POST", "/digitap/pan/verify", json={"pan": pan})
        valid = body.get("status") == "VALID"
        return PanResult(valid, body.get("name"), body.get("dob"), body.get("reason"), body)

    async def aadhaar_otp_initiate(self, aadhaar: str) -> AadhaarOtpStarted:
        """Ask UIDAI to send an OTP to the mobile linked to ``aadhaar`` (12 digits). A malformed number
        (length, first digit, Verhoeff checksum) is refused (``BusinessRefusal``, code AADHAAR_INVALID).
        Each call sends a fresh OTP under a new reference id."""
        body = await self.call("POST", "/digitap/aadhaar/otp/initiate", json={"aadhaar": aadhaar})
        with self.reading("aadhaar otp initiation"):
            return AadhaarOtpStarted(str(body["reference_id"]), str(body["masked_aadhaar"]), body)

    async def aadhaar_otp_submit(self, reference_id: str, otp: str) -> AadhaarKyc:
        """Submit the customer's OTP: on success the e-KYC (name, DOB, gender, address, photo, masked
        number). A wrong OTP is an answer (``verified`` False, reason OTP_MISMATCH, ``attempts_left``);
        an unknown reference is refused (404). Idempotent once verified."""
        body = await self.call("POST", "/digitap/aadhaar/otp/submit", json={"reference_id": reference_id, "otp": otp})
        with self.reading("aadhaar e-KYC"):
            status = body["status"]
            attempts_left = body.get("attempts_left")
            if status != "VERIFIED":
                return AadhaarKyc(False, reference_id, status, attempts_left, None, None, None, None, None, None, body)
            kyc = body["aadhaar"]
            return AadhaarKyc(
                verified=True,
                reference_id=reference_id,
                reason=None,
                attempts_left=attempts_left,
                name=str(kyc["name"]),
                dob=parse_date(kyc["dob"]) if kyc.get("dob") else None,
                gender=kyc.get("gender"),
                address=_address(kyc.get("address")),
                photo_base64=kyc.get("photo_base64"),
                masked_aadhaar=kyc.get("masked_aadhaar"),
                raw=body,
            )

    async def mobile_to_pan(self, phone: str) -> MobilePanResult:
        """The PAN (and its name) registered against ``phone``; ``found`` False when none is. Read-only."""
        body = await self.call("POST", "/digitap/mobile/pan", json={"mobile": phone})
        with self.reading("mobile-to-PAN answer"):
            if body["result_code"] == NOT_FOUND:
                return MobilePanResult(False, None, None, body)
            if body["result_code"] != FOUND:
                raise ValueError(f"result_code {body['result_code']}")
            return MobilePanResult(True, str(body["result"]["pan"]), body["result"].get("name"), body)

    async def mobile_to_address(self, phone: str) -> MobileAddressResult:
        """The address on record for ``phone``; ``found`` False when there is none. Read-only."""
        body = await self.call("POST", "/digitap/mobile/address", json={"mobile": phone})
        with self.reading("mobile-to-address answer"):
            if body["result_code"] == NOT_FOUND:
                return MobileAddressResult(False, None, body)
            if body["result_code"] != FOUND:
                raise ValueError(f"result_code {body['result_code']}")
            return MobileAddressResult(True, _address(body["result"]["address"]), body)
