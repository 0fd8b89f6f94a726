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

Its disbursal of a booked loan (the shape of lenders' public disbursal APIs, e.g. OneFin's disbursal status API and
webhook, https://onefin.readme.io/reference/disburse-loan-api, https://onefin.readme.io/reference/webhooks-1; the
callback signed as Lendbox's co-lending callbacks are, ``lendbox_colending.py``):

- ``GET /lendbox/v1/partner/loans/{lendbox_loan_id}/disbursal`` → ``{"lendbox_loan_id", "status": "DISBURSED" |
  "PENDING" | "FAILED", "utr", "amount" (rupees), "reason"}``;
- callback ``POST`` of ``{"event_id", "event": "LOAN_DISBURSAL", "partner_loan_id", "lendbox_loan_id", "data":
  {"status", "utr", "amount", "reason"}}`` with ``X-Lendbox-Timestamp`` and ``X-Lendbox-Signature`` (hex
  HMAC-SHA256 of ``timestamp.body`` under the partner's ``webhook_secret``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers.partners.base import (
    DisbursalCallback,
    PartnerAdapter,
    PartnerApplication,
    PartnerDecision,
    PartnerDisbursalStatus,
    percent,
    rupee_paise,
    rupees,
)

DISBURSAL_STATUSES = frozenset({"DISBURSED", "PENDING", "FAILED"})


class Lendbox(PartnerAdapter):
    code = "lendbox"
    name = "Lendbox"
    submit_path = "/lendbox/v1/partner/loans"
    status_path = "/lendbox/v1/partner/loans/{partner_reference}/disbursal"
    callback_headers = ("X-Lendbox-Timestamp", "X-Lendbox-Signature")

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

    def parse_status(self, body: Mapping[str, Any]) -> PartnerDisbursalStatus:
        status = str(body["status"]).upper()
        amount = body.get("amount")
        return PartnerDisbursalStatus(
            status if status in DISBURSAL_STATUSES else "UNKNOWN",
            utr=str(body["utr"]) if body.get("utr") else None,
            amount=rupee_paise(amount) if amount is not None else None,
            detail=str(body["reason"])[:200] if body.get("reason") else None,
        )

    def parse_disbursal_callback(self, body: Mapping[str, Any]) -> DisbursalCallback:
        if body.get("event") != "LOAN_DISBURSAL":
            raise ValueError(f"unknown event {body.get('event')!r}")
        data = body["data"]
        if not isinstance(data, Mapping):
            raise ValueError("data: an object")
        said = self.parse_status(data)
        return DisbursalCallback(str(body["event_id"]), str(body["partner_loan_id"]),
                                 str(body.get("lendbox_loan_id") or "") or None,
                                 said.status, said.utr, said.amount, said.detail)  # fmt: skip
