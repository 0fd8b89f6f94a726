"""Karza business verification: GSTIN search, GST return filing status, MCA company master data and GSTR-1
invoice confirmation.

What this adapter follows (public documentation, read for the field names and meanings):

- GSTN's taxpayer search (the GST common portal's public search; the same fields Karza's "GST Authentication"
  relays): ``lgnm`` legal name, ``sts`` status (Active / Cancelled / Suspended), ``ctb`` constitution of business,
  ``rgdt`` registration date (DD/MM/YYYY);
- the taxpayer return status API (IRIS GST knowledge base, "Taxpayer Return Status"): per filing ``ret_prd`` tax
  period (MMYYYY), ``rtntype`` (GSTR3B, GSTR1), ``dof`` date of filing (DD-MM-YYYY), ``status`` (Filed), ``arn``;
  GSTR-3B is due on the 20th of the next month (CGST Rules, rule 61(5));
- MCA company master data (MCA21 "View company/LLP master data"): CIN, company name, company status (Active /
  Strike Off / Under liquidation), date of incorporation, directors with DIN;
- Karza's response envelope: ``statusCode`` 101 (valid), 102 (invalid input), 103 (no record), ``result`` the
  data; its API key travels in the ``x-karza-key`` header.

Turnover per period comes with the returns (``txval``, rupees).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from activities.providers.base import HttpProvider, ProviderError, parse_date, rupees_to_paise
from activities.providers.sme.base import CompanyRecord, Director, GstinRecord, GstPeriod, InvoiceConfirmation

VALID, INVALID, NO_RECORD = 101, 102, 103


def _due(period: str) -> date:
    """GSTR-3B's due date for tax period ``MMYYYY``: the 20th of the next month."""
    month, year = int(period[:2]), int(period[2:])
    return date(year + month // 12, month % 12 + 1, 20)


class KarzaBusiness(HttpProvider):
    """Karza's business APIs over HTTP (``HttpProvider``: errors classified, the brand's key)."""

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        answer = await self.call("POST", path, json=body, headers={"x-karza-key": self.config.api_key})
        code = answer.get("statusCode")
        if code in (INVALID, NO_RECORD):
            return None
        if code != VALID or not isinstance(answer.get("result"), dict):
            raise ProviderError(f"karza: unexpected statusCode {code!r}", vendor=self.vendor)
        return answer["result"]

    async def gstin(self, gstin: str) -> GstinRecord | None:
        """The GSTIN's registration; None when the GSTIN does not exist."""
        result = await self._post("/karza/v3/gst-verification", {"gstin": gstin, "consent": "Y"})
        if result is None:
            return None
        with self.reading("GSTIN record"):
            status = str(result["sts"])
            registered = parse_date(result["rgdt"], "%d/%m/%Y") if result.get("rgdt") else None
            return GstinRecord(
                gstin, status == "Active", status, str(result["lgnm"]), str(result.get("ctb", "")), registered, result
            )

    async def returns(self, gstin: str) -> Sequence[GstPeriod]:
        """The GSTR-3B filings of the last 12 periods, oldest first (a period not filed is listed unfiled)."""
        result = await self._post("/karza/v3/gst-returns", {"gstin": gstin, "returnType": "GSTR3B", "consent": "Y"})
        if result is None:
            return []
        with self.reading("GST returns"):
            periods = []
            for filing in result["filings"]:
                period = str(filing["ret_prd"])
                filed = str(filing.get("status", "")) == "Filed"
                on = parse_date(filing["dof"], "%d-%m-%Y") if filed and filing.get("dof") else None
                turnover = rupees_to_paise(filing.get("txval", 0))
                periods.append(
                    GstPeriod(f"{period[2:]}-{period[:2]}", filed, on is not None and on <= _due(period), turnover)
                )
            return sorted(periods, key=lambda p: p.period)[-12:]

    async def company(self, cin: str) -> CompanyRecord | None:
        """The company's MCA master data with its directors; None when no company has the CIN."""
        result = await self._post("/karza/v2/mca-details", {"cin": cin, "consent": "Y"})
        if result is None:
            return None
        with self.reading("MCA master data"):
            status = str(result["companyStatus"])
            doi = result.get("dateOfIncorporation")
            incorporated = parse_date(doi, "%d/%m/%Y") if doi else None
            directors = tuple(Director(str(d["din"]), str(d["name"])) for d in result.get("directors", []))
            name = str(result["companyName"])
            return CompanyRecord(cin, name, status == "Active", status, incorporated, directors, result)

    async def confirm_invoice(self, seller: str, buyer: str, number: str, amount: int) -> InvoiceConfirmation:
        """Whether the seller's GSTR-1 B2B supplies carry invoice ``number`` to ``buyer`` for ``amount`` paise."""
        body = {"gstin": seller, "ctin": buyer, "inum": number, "val": f"{amount / 100:.2f}", "consent": "Y"}
        result = await self._post("/karza/v3/gstr1-invoice", body)
        if result is None:
            return InvoiceConfirmation(False, "the invoice is not in the seller's GSTR-1")
        with self.reading("GSTR-1 invoice"):
            if bool(result["found"]):
                return InvoiceConfirmation(True)
            return InvoiceConfirmation(False, str(result.get("reason") or "the buyer disputes the invoice"))
