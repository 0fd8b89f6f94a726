"""Kavach Finvest (a fictional NBFC-ICC standing in for a lender whose API speaks camelCase JSON with a bearer
token): its loan-application decision call.

Request ``POST /kavach/api/v2/loan-applications``, ``Authorization: Bearer <api key>``, idempotent on
``externalRef``::

    {"externalRef", "applicant": {"fullName", "panNumber", "dateOfBirth", "mobileNumber", "emailId",
     "address": {"state", "pinCode"}, "creditScore"}, "loanAmount" (rupees, number with 2 decimals),
     "tenureMonths", "interestRate" (percent), "processingFee", "apr"}

Answer: ``{"applicationId", "decision": "APPROVE" | "DECLINE", "declineReasons": [{"code", "description"}]}``.

Its disbursal of an approved application (the shape lenders' public disbursal APIs share, e.g. OneFin's
``GET /api/v1/client/loan/<lead_id>/disburse/`` and its ``disbursal.status_update`` webhook,
https://onefin.readme.io/reference/disburse-loan-api and https://onefin.readme.io/reference/webhooks-1: a status,
the amount and the bank's transaction id):

- ``GET /kavach/api/v2/loan-applications/{applicationId}/disbursement`` (bearer) →
  ``{"applicationId", "disbursementStatus": "SUCCESS" | "IN_PROGRESS" | "FAILED", "utrNumber", "disbursedAmount"
  (rupees), "failureReason"}``;
- callback ``POST`` of ``{"eventId", "eventType": "DISBURSEMENT_STATUS", "externalRef", "applicationId",
  "disbursementStatus", "utrNumber", "disbursedAmount", "failureReason"}`` with ``X-Kavach-Timestamp`` and
  ``X-Kavach-Signature`` (hex HMAC-SHA256 of ``timestamp.body`` under the partner's ``webhook_secret``);
- re-sending a failed or lost disbursal (the retry call lenders' disbursal APIs offer for a failed payout, keyed by
  the caller's own reference so it never pays twice, as OneFin's disbursal API is keyed by the lead):
  ``POST /kavach/api/v2/loan-applications/{applicationId}/disbursement/retry`` (bearer) with ``{"externalRef",
  "retryRef", "amount"}`` (rupees); ``retryRef`` is its idempotency field (a retry with a ``retryRef`` it has seen
  answers as the first did) → ``{"applicationId", "retryRef", "disbursementStatus": "IN_PROGRESS"}``; 404 for an
  application it does not have, 409 ``ALREADY_DISBURSED``.

Kavach Finvest is fictional, so it publishes no documentation of its own: the shapes above are this adapter's
contract with its sandbox twin (``sandbox/partners/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from activities.providers.partners.base import (
    DisbursalCallback,
    PartnerAdapter,
    PartnerApplication,
    PartnerDecision,
    PartnerDisbursalStatus,
    ResendAnswer,
    percent,
    rupee_paise,
    rupees,
)

STATUS = {"SUCCESS": "DISBURSED", "IN_PROGRESS": "PENDING", "FAILED": "FAILED"}


class Kavach(PartnerAdapter):
    code = "kavach"
    name = "Kavach Finvest"
    submit_path = "/kavach/api/v2/loan-applications"
    status_path = "/kavach/api/v2/loan-applications/{partner_reference}/disbursement"
    resend_path = "/kavach/api/v2/loan-applications/{partner_reference}/disbursement/retry"
    callback_headers = ("X-Kavach-Timestamp", "X-Kavach-Signature")

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

    def parse_status(self, body: Mapping[str, Any]) -> PartnerDisbursalStatus:
        amount = body.get("disbursedAmount")
        return PartnerDisbursalStatus(
            STATUS.get(str(body["disbursementStatus"]).upper(), "UNKNOWN"),
            utr=str(body["utrNumber"]) if body.get("utrNumber") else None,
            amount=rupee_paise(amount) if amount is not None else None,
            detail=str(body["failureReason"])[:200] if body.get("failureReason") else None,
        )

    def parse_disbursal_callback(self, body: Mapping[str, Any]) -> DisbursalCallback:
        if body.get("eventType") != "DISBURSEMENT_STATUS":
            raise ValueError(f"unknown eventType {body.get('eventType')!r}")
        said = self.parse_status(body)
        return DisbursalCallback(str(body["eventId"]), str(body["externalRef"]), str(body["applicationId"]),
                                 said.status, said.utr, said.amount, said.detail)  # fmt: skip

    def resend_payload(self, *, reference: str, partner_reference: str, resend_reference: str, amount: int) -> (
        dict[str, Any]
    ):
        return {"externalRef": reference, "retryRef": resend_reference, "amount": float(Decimal(rupees(amount)))}

    def parse_resend(self, body: Mapping[str, Any]) -> ResendAnswer:
        status = str(body["disbursementStatus"]).upper()
        return ResendAnswer(status in ("IN_PROGRESS", "SUCCESS"), status, str(body.get("failureReason") or "") or None)
