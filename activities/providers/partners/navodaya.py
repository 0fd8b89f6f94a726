"""Navodaya Credit (a fictional NBFC standing in for a lender whose API speaks snake_case JSON with HMAC-signed
requests): its disbursal-request decision call.

Request ``POST /navodaya/v1/disbursal_requests`` with headers ``X-Navodaya-Key: <api key>``,
``X-Navodaya-Timestamp: <unix seconds>`` and ``X-Navodaya-Signature: hex HMAC-SHA256(secret, timestamp + "." +
body)`` (the secret is the partner's ``webhook_secret`` setting; the lender refuses a timestamp more than 300 s
old), idempotent on ``request_id``::

    {"request_id", "customer": {"name", "pan", "dob", "mobile", "pincode", "cibil_score"},
     "principal_paise", "tenor_months", "rate_bps", "fee_paise", "gst_paise"}

Answer: ``{"result": "accepted", "loan_account_number"}`` or ``{"result": "declined", "decline_code",
"decline_text"}``.

Its disbursal of an accepted request (the shape of lenders' public disbursal APIs, e.g. OneFin's disbursal status
API and webhook, https://onefin.readme.io/reference/disburse-loan-api, https://onefin.readme.io/reference/webhooks-1):

- ``GET /navodaya/v1/disbursal_requests/{request_id}``, signed as above over an empty body →
  ``{"request_id", "loan_account_number", "disbursal_status": "disbursed" | "processing" | "failed", "utr",
  "amount_paise", "failure_reason"}``;
- callback ``POST`` of ``{"event_id", "request_id", "loan_account_number", "disbursal_status", "utr",
  "amount_paise", "failure_reason"}`` with ``X-Navodaya-Timestamp`` and ``X-Navodaya-Signature`` (the same HMAC of
  ``timestamp.body``);
- re-sending a failed or lost disbursal: ``POST /navodaya/v1/disbursal_requests/{request_id}/redisburse``, signed
  as above, with ``{"request_id", "redisbursal_id", "amount_paise"}``; ``redisbursal_id`` is its idempotency field
  (the same id again answers as the first time, nothing paid twice) → ``{"request_id", "redisbursal_id",
  "disbursal_status": "processing"}``; 404 for a request it does not have, 409 ``already_disbursed``.

Navodaya Credit is fictional, so it publishes no documentation of its own: the shapes above are this adapter's
contract with its sandbox twin (``sandbox/partners/``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from activities.providers.partners.base import (
    DisbursalCallback,
    PartnerAdapter,
    PartnerApplication,
    PartnerDecision,
    PartnerDisbursalStatus,
    ResendAnswer,
)

SIGNATURE_WINDOW_SECONDS = 300
STATUS = {"disbursed": "DISBURSED", "processing": "PENDING", "failed": "FAILED"}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Navodaya's request signature: hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Navodaya(PartnerAdapter):
    code = "navodaya"
    name = "Navodaya Credit"
    submit_path = "/navodaya/v1/disbursal_requests"
    status_path = "/navodaya/v1/disbursal_requests/{reference}"
    resend_path = "/navodaya/v1/disbursal_requests/{reference}/redisburse"
    callback_headers = ("X-Navodaya-Timestamp", "X-Navodaya-Signature")

    def payload(self, app: PartnerApplication) -> dict[str, Any]:
        return {
            "request_id": app.reference,
            "customer": {
                "name": app.full_name,
                "pan": app.pan,
                "dob": app.dob.isoformat() if app.dob else None,
                "mobile": app.phone[-10:],
                "pincode": app.pincode,
                "cibil_score": app.bureau_score,
            },
            "principal_paise": app.amount,
            "tenor_months": app.tenure,
            "rate_bps": app.annual_rate_bps,
            "fee_paise": app.fees,
            "gst_paise": app.gst,
        }

    def headers(self, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        return {
            "X-Navodaya-Key": self.config.api_key,
            "X-Navodaya-Timestamp": stamp,
            "X-Navodaya-Signature": signature(self.config.webhook_secret, stamp, body),
        }

    def refusal(self, body: Any) -> tuple[str | None, str]:
        if isinstance(body, Mapping) and isinstance(body.get("decline_code"), str):
            return body["decline_code"], f"{body['decline_code']}: {body.get('decline_text') or 'refused'}"
        return super().refusal(body)

    def parse(self, body: Mapping[str, Any]) -> PartnerDecision:
        result = str(body["result"]).lower()
        if result == "accepted":
            return PartnerDecision(True, partner_reference=str(body["loan_account_number"]))
        if result == "declined":
            return PartnerDecision(
                False, reason=str(body.get("decline_text") or "declined"), code=body.get("decline_code")
            )
        raise ValueError(f"unknown result {result!r}")

    def parse_status(self, body: Mapping[str, Any]) -> PartnerDisbursalStatus:
        amount = body.get("amount_paise")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
            raise ValueError("amount_paise: a whole number of paise")
        return PartnerDisbursalStatus(
            STATUS.get(str(body["disbursal_status"]).lower(), "UNKNOWN"),
            utr=str(body["utr"]) if body.get("utr") else None,
            amount=amount,
            detail=str(body["failure_reason"])[:200] if body.get("failure_reason") else None,
        )

    def parse_disbursal_callback(self, body: Mapping[str, Any]) -> DisbursalCallback:
        said = self.parse_status(body)
        return DisbursalCallback(str(body["event_id"]), str(body["request_id"]),
                                 str(body.get("loan_account_number") or "") or None,
                                 said.status, said.utr, said.amount, said.detail)  # fmt: skip

    def resend_payload(self, *, reference: str, partner_reference: str, resend_reference: str, amount: int) -> (
        dict[str, Any]
    ):
        return {"request_id": reference, "redisbursal_id": resend_reference, "amount_paise": amount}

    def parse_resend(self, body: Mapping[str, Any]) -> ResendAnswer:
        status = str(body["disbursal_status"]).lower()
        detail = str(body.get("failure_reason") or "") or None
        return ResendAnswer(status in ("processing", "disbursed"), status, detail)
