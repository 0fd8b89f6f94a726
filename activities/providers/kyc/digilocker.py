"""DigiLocker 2.0 (optional KYC path): the customer signs in to DigiLocker and consents; we exchange the
consent code for their issued documents (PAN, Aadhaar, driving licence), which need no manual review.

``start_session`` creates a new authorisation request each time (not idempotent, harmless).
``fetch_documents`` is idempotent for a given code while DigiLocker keeps it (same documents again).
This vendor does no PAN verification: failover over ``kyc`` skips it for ``verify_pan``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from activities.providers.base import HttpProvider, UnsupportedOperation, parse_date
from activities.providers.kyc.base import (
    Address,
    DigiLockerDocument,
    DigiLockerDocuments,
    DigiLockerSession,
    PanResult,
)


def _optional_date(value: Any) -> date | None:
    return parse_date(value) if value else None


class DigiLockerKyc(HttpProvider):
    async def verify_pan(self, pan: str) -> PanResult:
        raise UnsupportedOperation("digilocker does not verify PANs; it issues documents")

    async def start_session(self, *, redirect_url: str, state: str) -> DigiLockerSession:
        """A DigiLocker authorisation request: send the customer to ``authorization_url``; DigiLocker
        redirects to ``redirect_url?code=…&state=…`` (or ``?error=access_denied&state=…``)."""
        body = await self.call("POST", "/digilocker/v2/sessions", json={"redirect_url": redirect_url, "state": state})
        with self.reading("DigiLocker session"):
            return DigiLockerSession(str(body["request_id"]), str(body["authorization_url"]), body)

    async def fetch_documents(self, code: str) -> DigiLockerDocuments:
        """The consenting customer's issued documents for ``code``. An unknown or expired code is refused
        (``BusinessRefusal``, code INVALID_CODE)."""
        body = await self.call("POST", "/digilocker/v2/documents", json={"code": code})
        with self.reading("DigiLocker documents"):
            docs = []
            for d in body["documents"]:
                addr = d.get("address")
                docs.append(
                    DigiLockerDocument(
                        doc_type=str(d["doc_type"]),
                        number=str(d["number"]),
                        name=str(d["name"]),
                        dob=_optional_date(d.get("dob")),
                        gender=d.get("gender"),
                        address=Address(addr["line"], addr.get("city"), addr.get("state"), addr.get("pincode"))
                        if addr
                        else None,
                        issued_on=_optional_date(d.get("issued_on")),
                        valid_until=_optional_date(d.get("valid_until")),
                        raw=d,
                    )
                )
            return DigiLockerDocuments(tuple(docs), body)
