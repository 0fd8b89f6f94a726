"""How each sandbox vendor writes a vendor-neutral analysis (``scenarios._analysis``): rupee strings or
numbers, its own field names and date formats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

CART_STATUS = {"PENDING": "PENDING", "APPROVED": "ACTIVE", "REJECTED": "REJECTED", "REVOKED": "REVOKED"}


def rupees(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"


def rupee_number(paise: int) -> float:
    """Finbox sends JSON numbers; 2-decimal values survive the float round trip through ``str``."""
    return float(Decimal(paise) / 100)


def dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d-%m-%Y")


def cart_format(a: dict) -> dict:
    """A vendor-neutral analysis (``scenarios._analysis``) as CART writes it: rupee strings, camelCase."""
    return {
        "accountDetails": {"holderName": a["holder"], "bankName": a["bank"], "accountNumber": a["account_masked"]},
        "period": {"from": a["from"], "to": a["to"]},
        "salaryCredits": [
            {"date": c["date"], "amount": rupees(c["amount"]), "narration": c["narration"]} for c in a["salary_credits"]
        ],
        "emiDebits": [
            {"date": d["date"], "amount": rupees(d["amount"]), "lender": d["lender"]} for d in a["emi_debits"]
        ],
        "bounces": [{"date": b["date"], "amount": rupees(b["amount"]), "reason": b["reason"]} for b in a["bounces"]],
        "averageBalance": rupees(a["average_balance"]),
    }


def finbox_format(a: dict) -> dict:
    """As Finbox writes it: snake_case, amounts as JSON numbers in rupees."""
    return {
        "account": {"account_holder": a["holder"], "bank": a["bank"], "account_number": a["account_masked"]},
        "period": {"start": a["from"], "end": a["to"]},
        "salary": {
            "transactions": [
                {"transaction_date": c["date"], "amount": rupee_number(c["amount"]), "description": c["narration"]}
                for c in a["salary_credits"]
            ]
        },
        "recurring_debits": {
            "emi": [
                {"transaction_date": d["date"], "amount": rupee_number(d["amount"]), "merchant": d["lender"]}
                for d in a["emi_debits"]
            ]
        },
        "bounces": [
            {"transaction_date": b["date"], "amount": rupee_number(b["amount"]), "description": b["reason"]}
            for b in a["bounces"]
        ],
        "average_balance": rupee_number(a["average_balance"]),
    }


def scoreme_format(a: dict) -> dict:
    """As ScoreMe writes it: DD-MM-YYYY dates, rupee strings."""
    return {
        "accountHolderName": a["holder"],
        "bankName": a["bank"],
        "accountNumber": a["account_masked"],
        "statementPeriod": {"fromDate": dmy(a["from"]), "toDate": dmy(a["to"])},
        "salaryDetails": [
            {"creditDate": dmy(c["date"]), "amount": rupees(c["amount"]), "narration": c["narration"]}
            for c in a["salary_credits"]
        ],
        "emiDetails": [
            {"debitDate": dmy(d["date"]), "amount": rupees(d["amount"]), "lenderName": d["lender"]}
            for d in a["emi_debits"]
        ],
        "bounceDetails": [
            {"date": dmy(b["date"]), "amount": rupees(b["amount"]), "reason": b["reason"]} for b in a["bounces"]
        ],
        "averageMonthlyBalance": rupees(a["average_balance"]),
    }


def finduit_format(a: dict) -> dict:
    """As FINDUIT writes it: integer paise."""
    return {
        "holder": a["holder"],
        "fip_name": a["bank"],
        "masked_account": a["account_masked"],
        "from": a["from"],
        "to": a["to"],
        "salary_credits": [
            {"date": c["date"], "amount_paise": c["amount"], "narration": c["narration"]} for c in a["salary_credits"]
        ],
        "emi_debits": [
            {"date": d["date"], "amount_paise": d["amount"], "lender": d["lender"]} for d in a["emi_debits"]
        ],
        "bounces": [{"date": b["date"], "amount_paise": b["amount"], "reason": b["reason"]} for b in a["bounces"]],
        "average_balance_paise": a["average_balance"],
    }
