"""Equifax credit report (CCR response: strings everywhere, amounts in rupees, payment history as
"MM-YY" keyed DPD strings). Same interface as CIBIL, so a brand can fail over from one to the other.
Send an ``Idempotency-Key``: the same key returns the same report (one enquiry)."""

from __future__ import annotations

from activities.providers.base import HttpProvider, parse_date, rupees_to_paise
from activities.providers.bureau.base import BureauAccount, BureauReport

ACCOUNT_TYPES = {
    "Personal Loan": "PERSONAL_LOAN",
    "Credit Card": "CREDIT_CARD",
    "Housing Loan": "HOME_LOAN",
    "Auto Loan": "AUTO_LOAN",
    "Consumer Loan": "CONSUMER_LOAN",
}


def _dpd(status: str) -> int:
    """Equifax payment status: "000"/"030"/… days past due; "STD"/"*"/"" count as current."""
    text = str(status).strip()
    return int(text) if text.isdigit() else 0


class EquifaxBureau(HttpProvider):
    async def pull(self, pan: str, name: str | None, idempotency_key: str) -> BureauReport:
        """The customer's Equifax report by PAN, mapped onto :class:`BureauReport`."""
        first, _, last = (name or "").partition(" ")
        body = await self.call(
            "POST",
            "/equifax/v2/credit-report",
            json={
                "RequestHeader": {"ProductCode": ["PCS"]},
                "RequestBody": {"InquiryPurpose": "05", "FirstName": first, "LastName": last, "PANId": pan},
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        with self.reading("Equifax report"):
            data = body["CCRResponse"]["CIRReportDataLst"][0]["CIRReportData"]
            score = int(data["ScoreDetails"][0]["Value"])
            accounts = tuple(
                BureauAccount(
                    account_type=ACCOUNT_TYPES.get(a["AccountType"], str(a["AccountType"]).upper().replace(" ", "_")),
                    lender=str(a.get("Institution", "")),
                    status="ACTIVE" if a.get("Open") == "Yes" else "CLOSED",
                    sanctioned_amount=rupees_to_paise(a.get("SanctionAmount") or "0"),
                    current_balance=rupees_to_paise(a.get("Balance") or "0"),
                    overdue_amount=rupees_to_paise(a.get("AmountPastDue") or "0"),
                    opened_on=parse_date(a["DateOpened"]) if a.get("DateOpened") else None,
                    dpd_history=tuple(_dpd(h["PaymentStatus"]) for h in a.get("History48Months", [])[:12]),
                    account_number=a.get("AccountNumber"),
                )
                for a in data.get("RetailAccountDetails", [])
            )
            summary = data.get("RetailAccountsSummary", {})
            return BureauReport(
                score=score,
                raw=body,
                report_id=body.get("InquiryResponseHeader", {}).get("ReportOrderNO"),
                accounts=accounts,
                active_loans=int(summary.get("NoOfActiveLoans", 0)),
                enquiries_30d=int(data.get("EnquirySummary", {}).get("Past30Days", 0)),
                bureau="equifax",
            )
