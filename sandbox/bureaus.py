"""Sandbox credit bureaus: CIBIL and Equifax, each writing the same file in its own format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, Request

from sandbox import scenarios
from sandbox.context import Sandbox


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- Credit bureaus -----------------------------------------------------------------------------
    @app.post("/cibil/report")
    async def cibil_report(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """CIBIL consumer report (amounts in whole rupees). Same Idempotency-Key → the same report."""
        body = await sbx.json_body(request)
        pan = str(body.get("pan", "")).upper()
        if fault := scenarios.bureau_fault(pan, "cibil"):
            return await sbx.misbehave(request, fault)
        if (done := sbx.idempotent(idempotency_key, "cibil")) is not None:
            return done
        profile = scenarios.bureau_profile(pan, sbx.today())
        accounts = [
            {
                "type": a["type"],
                "member": a["lender"],
                "account_number": a["account_number"],
                "status": a["status"],
                "sanctioned_amount": a["sanctioned_amount"] // 100,
                "current_balance": a["current_balance"] // 100,
                "overdue_amount": a["overdue_amount"] // 100,
                "opened_on": a["opened_on"],
                "dpd_history": a["dpd_history"],
                "dpd_max_12m": max(a["dpd_history"]),
            }
            for a in profile["accounts"]
        ]
        report = {
            "report_id": sbx.new_id("cir"),
            "pan": pan,
            "score": profile["score"],
            "accounts": accounts,
            "active_loans": profile["active_loans"],
            "enquiries_30d": profile["enquiries_30d"],
            "generated_at": datetime.now(UTC).isoformat(),
        }
        return sbx.remember(idempotency_key, "cibil", report)

    @app.post("/equifax/v2/credit-report")
    async def equifax_report(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """Equifax CCR (strings, rupees, "MM-YY"-keyed payment history). Same Idempotency-Key → same report."""
        body = await sbx.json_body(request)
        pan = str((body.get("RequestBody") or {}).get("PANId", "")).upper()
        if len(pan) != 10:
            sbx.refuse(400, "INVALID_PAN", "RequestBody.PANId must be a 10-character PAN")
        if fault := scenarios.bureau_fault(pan, "equifax"):
            return await sbx.misbehave(request, fault)
        if (done := sbx.idempotent(idempotency_key, "equifax")) is not None:
            return done
        now = sbx.today()
        profile = scenarios.bureau_profile(pan, now)
        names = {"PERSONAL_LOAN": "Personal Loan", "CREDIT_CARD": "Credit Card", "CONSUMER_LOAN": "Consumer Loan"}
        months = [scenarios._months_back(now, n + 1).strftime("%m-%y") for n in range(12)]
        report = {
            "InquiryResponseHeader": {
                "ReportOrderNO": sbx.new_id("eqx"),
                "Date": now.isoformat(),
                "ProductCode": ["PCS"],
            },
            "CCRResponse": {
                "Status": "1",
                "CIRReportDataLst": [
                    {
                        "CIRReportData": {
                            "IDAndContactInfo": {"IdentityInfo": {"PANId": [{"IdNumber": pan}]}},
                            "ScoreDetails": [{"Type": "ERS", "Version": "4.0", "Value": str(profile["score"])}],
                            "RetailAccountDetails": [
                                {
                                    "AccountNumber": a["account_number"],
                                    "Institution": a["lender"],
                                    "AccountType": names.get(a["type"], a["type"].title()),
                                    "Open": "Yes" if a["status"] == "ACTIVE" else "No",
                                    "SanctionAmount": str(a["sanctioned_amount"] // 100),
                                    "Balance": str(a["current_balance"] // 100),
                                    "AmountPastDue": str(a["overdue_amount"] // 100),
                                    "DateOpened": a["opened_on"],
                                    "History48Months": [
                                        {"key": key, "PaymentStatus": f"{dpd:03d}"}
                                        for key, dpd in zip(months, a["dpd_history"], strict=True)
                                    ],
                                }
                                for a in profile["accounts"]
                            ],
                            "RetailAccountsSummary": {
                                "NoOfAccounts": str(len(profile["accounts"])),
                                "NoOfActiveAccounts": str(sum(a["status"] == "ACTIVE" for a in profile["accounts"])),
                                "NoOfActiveLoans": str(profile["active_loans"]),
                            },
                            "EnquirySummary": {"Past30Days": str(profile["enquiries_30d"])},
                        }
                    }
                ],
            },
        }
        return sbx.remember(idempotency_key, "equifax", report)
