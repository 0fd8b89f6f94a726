"""Lendbox (Transactree Technologies Pvt Ltd, an RBI-registered NBFC-P2P that also co-lends with NBFCs): the loan
booking call of its partner (lending-platform) API.

Lendbox's partner API reference is shared with partners under agreement and is not published; this adapter
follows the shape Lendbox describes for its platform partners on lendbox.in (a partner submits the borrower and
the loan, Lendbox's credit policy approves or declines it and returns its own loan id) and keeps every field name
in :meth:`payload` and :meth:`parse`, so matching the signed specification is a change to this module alone.
Auth: the partner's API key in ``X-Api-Key`` with the partner id in ``X-Partner-Id`` (options ``partner_id``).
Amounts are rupees with 2 decimals, the rate a percent a year, the tenure in months.

Request ``POST /lendbox/v1/partner/loans``::

    {"partner_loan_id": ..., "borrower": {"name", "pan", "dob", "mobile", "email", "state", "pincode",
     "bureau_score"}, "loan": {"amount", "tenure_months", "roi", "processing_fee", "gst", "net_disbursal",
     "emi", "apr"}}

Answer: ``{"status": "APPROVED", "lendbox_loan_id": "LBX..."}`` or ``{"status": "DECLINED", "reason_code",
"reason"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers.partners.base import PartnerAdapter, PartnerApplication, PartnerDecision, percent, rupees


class Lendbox(PartnerAdapter):
    code = "lendbox"
    name = "Lendbox"
    submit_path = "/lendbox/v1/partner/loans"

    def payload(self, app: PartnerApplication) -> dict[str, Any]:
        return {
            "partner_loan_id": app.reference,
            "borrower": {
                "name": app.full_name,
                "pan": app.pan,
                "dob": app.dob.isoformat() if app.dob else None,
                "mobile": app.phone[-10:],
                "email": app.email,
                "state": app.state,
                "pincode": app.pincode,
                "bureau_score": app.bureau_score,
            },
            "loan": {
                "amount": rupees(app.amount),
                "tenure_months": app.tenure,
                "roi": percent(app.annual_rate_bps),
                "processing_fee": rupees(app.fees),
                "gst": rupees(app.gst),
                "net_disbursal": rupees(app.net_disbursed),
                "emi": rupees(app.emi),
                "apr": app.apr,
            },
        }

    def headers(self, body: bytes) -> dict[str, str]:
        return {"X-Api-Key": self.config.api_key, "X-Partner-Id": str(self.config.options.get("partner_id", ""))}

    def refusal(self, body: Any) -> tuple[str | None, str]:
        if isinstance(body, Mapping) and isinstance(body.get("reason"), str):
            return body.get("reason_code"), body["reason"][:200]
        return super().refusal(body)

    def parse(self, body: Mapping[str, Any]) -> PartnerDecision:
        status = str(body["status"]).upper()
        if status == "APPROVED":
            return PartnerDecision(True, partner_reference=str(body["lendbox_loan_id"]))
        if status == "DECLINED":
            return PartnerDecision(False, reason=str(body.get("reason") or "declined"), code=body.get("reason_code"))
        raise ValueError(f"unknown status {status!r}")
