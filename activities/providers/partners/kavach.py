"""Kavach Finvest (a fictional NBFC-ICC standing in for a lender whose API speaks camelCase JSON with a bearer
token): its loan-application decision call.

Request ``POST /kavach/api/v2/loan-applications``, ``Authorization: Bearer <api key>``, idempotent on
``externalRef``::

    {"externalRef", "applicant": {"fullName", "panNumber", "dateOfBirth", "mobileNumber", "emailId",
     "address": {"state", "pinCode"}, "creditScore"}, "loanAmount" (rupees, number with 2 decimals),
     "tenureMonths", "interestRate" (percent), "processingFee", "apr"}

Answer: ``{"applicationId", "decision": "APPROVE" | "DECLINE", "declineReasons": [{"code", "description"}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from activities.providers.partners.base import PartnerAdapter, PartnerApplication, PartnerDecision, percent, rupees


class Kavach(PartnerAdapter):
    code = "kavach"
    name = "Kavach Finvest"
    submit_path = "/kavach/api/v2/loan-applications"

    def payload(self, app: PartnerApplication) -> dict[str, Any]:
        return {
            "externalRef": app.reference,
            "applicant": {
                "fullName": app.full_name,
                "panNumber": app.pan,
                "dateOfBirth": app.dob.isoformat() if app.dob else None,
                "mobileNumber": app.phone[-10:],
                "emailId": app.email,
                "address": {"state": app.state, "pinCode": app.pincode},
                "creditScore": app.bureau_score,
            },
            "loanAmount": float(Decimal(rupees(app.amount))),
            "tenureMonths": app.tenure,
            "interestRate": float(Decimal(percent(app.annual_rate_bps))),
            "processingFee": float(Decimal(rupees(app.fees + app.gst))),
            "apr": float(Decimal(app.apr)),
        }

    def parse(self, body: Mapping[str, Any]) -> PartnerDecision:
        decision = str(body["decision"]).upper()
        if decision == "APPROVE":
            return PartnerDecision(True, partner_reference=str(body["applicationId"]))
        if decision == "DECLINE":
            reasons = body.get("declineReasons") or []
            first = reasons[0] if reasons and isinstance(reasons[0], Mapping) else {}
            text = "; ".join(str(r.get("description", "")) for r in reasons if isinstance(r, Mapping)) or "declined"
            return PartnerDecision(False, reason=text, code=first.get("code"))
        raise ValueError(f"unknown decision {decision!r}")
