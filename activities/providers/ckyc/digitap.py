"""CKYC search and download through Digitap (the KYC vendor the seeds name; vendor ``digitap`` of kind
``ckyc``). Both calls are read-only and safe to repeat.

Digitap documents these calls ("CKYC - Search API" and "CKYC - Download API", success ``result_code`` 101) in its
*Digitap.ai CKYC SDK Suite: API Doc & Integration Guide* (version 1.40, 5 January 2024), which it gives to its
customers and does not publish. Its field names are not public, so the request and response fields here (and the
sandbox's twin, ``sandbox/identity.py``) are the project's reading, to be checked against the lender's copy of that
guide before going live. What the registry itself defines is kept: a search by PAN (CERSAI's identity type "C"), a
14-digit CKYC number, and a download that asks for the date of birth as a second factor."""

from __future__ import annotations

from datetime import date

from activities.providers.base import HttpProvider, parse_date
from activities.providers.ckyc.base import CkycRecord, CkycSearchResult
from activities.providers.kyc.base import Address


class DigitapCkyc(HttpProvider):
    async def search(self, pan: str) -> CkycSearchResult:
        """Look the PAN up in the registry: the CKYC number and the name on the record, if any."""
        body = await self.call("POST", "/digitap/ckyc/search", json={"pan": pan, "id_type": "PAN"})
        with self.reading("CKYC search"):
            if not body["found"]:
                return CkycSearchResult(False, None, None, None, body)
            return CkycSearchResult(
                True,
                str(body["ckyc_number"]),
                body.get("name"),
                parse_date(body["kyc_date"]) if body.get("kyc_date") else None,
                body,
            )

    async def download(self, ckyc_number: str, *, dob: date) -> CkycRecord:
        """The full record (name, DOB, address, photo). The registry asks for the date of birth as a second
        factor: a wrong one is refused (``BusinessRefusal``, code CKYC_AUTH_MISMATCH)."""
        body = await self.call(
            "POST", "/digitap/ckyc/download", json={"ckyc_number": ckyc_number, "dob": dob.isoformat()}
        )
        with self.reading("CKYC record"):
            rec = body["record"]
            addr = rec["address"]
            return CkycRecord(
                ckyc_number=str(rec["ckyc_number"]),
                name=str(rec["name"]),
                fathers_name=rec.get("fathers_name"),
                dob=parse_date(rec["dob"]),
                gender=rec.get("gender"),
                address=Address(str(addr["line"]), addr.get("city"), addr.get("state"), addr.get("pincode")),
                photo_base64=rec.get("photo_base64"),
                raw=body,
            )

    async def fetch(self, pan: str, *, dob: date) -> CkycRecord | None:
        """Search, then download: the record, or None when the registry has none for the PAN."""
        found = await self.search(pan)
        if not found.found or not found.ckyc_number:
            return None
        return await self.download(found.ckyc_number, dob=dob)
