"""Loan reports of the money out: the master dump (every application with its customer, employment, bank account
and money) and disbursal tracking (disbursed, not disbursed, both). Part of the loans family (``reports/loans.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, literal, select

from db.models import BankAccount, Customer, Employment, Loan
from reports.base import Range, Report, cols, in_range
from reports.loans_base import AMOUNT, LOAN, NAME, PHONE, STATUS, loan_rows

# ---------------------------------------------------------------------------------------------- master
MASTER_COLUMNS = cols(
    ("loan_id", "text", "the loan"),
    ("applied_at", "datetime", "when the application was made"),
    ("status", "text", "the loan's status now"),
    ("customer_id", "text", "the customer"),
    ("customer_name", "text", "full name"),
    ("phone", "text", "mobile number"),
    ("email", "text", "email"),
    ("pan", "text", "PAN"),
    ("aadhaar_masked", "text", "Aadhaar, masked (only the last 4 digits are kept)"),
    ("dob", "date", "date of birth"),
    ("gender", "text", "gender"),
    ("city", "text", "city"),
    ("state", "text", "state"),
    ("pincode", "text", "pincode"),
    ("employer_name", "text", "the latest employment's employer"),
    ("employment_type", "text", "SALARIED / SELF_EMPLOYED ..."),
    ("monthly_salary", "paise", "declared monthly salary"),
    ("bank_name", "text", "the primary bank account's bank"),
    ("account_last4", "text", "its last 4 digits"),
    ("ifsc", "text", "its IFSC"),
    ("amount", "paise", "principal applied for / sanctioned"),
    ("tenure", "number", "number of installments"),
    ("annual_rate_bps", "number", "annual interest rate, basis points"),
    ("credit_score", "number", "bureau score"),
    ("disbursed_at", "datetime", "when the money left"),
    ("net_disbursed", "paise", "what reached the borrower's bank"),
    ("outstanding_principal", "paise", "principal still owed"),
    ("total_collected", "paise", "everything received"),
    ("dpd", "number", "days past due as of the last day-end"),
    ("closed_at", "datetime", "when it closed"),
)


def _master(brand_id: str, span: Range) -> Any:  # a Select of MASTER_COLUMNS
    emp = (
        select(Employment.employer_name, Employment.employment_type, Employment.monthly_salary)
        .where(Employment.customer_id == Customer.id)
        .order_by(Employment.created_at.desc(), Employment.id.desc())
        .limit(1)
        .lateral("emp")
    )
    bank = (
        select(BankAccount.bank_name, BankAccount.account_last4, BankAccount.ifsc)
        .where(BankAccount.customer_id == Customer.id)
        .order_by(BankAccount.is_primary.desc(), BankAccount.created_at.desc(), BankAccount.id.desc())
        .limit(1)
        .lateral("bank")
    )
    return (
        select(
            Loan.id.label("loan_id"),
            Loan.created_at.label("applied_at"),
            Loan.status,
            Customer.id.label("customer_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Customer.email,
            Customer.pan,
            Customer.aadhaar_masked,
            Customer.dob,
            Customer.gender,
            Customer.city,
            Customer.state,
            Customer.pincode,
            emp.c.employer_name,
            emp.c.employment_type,
            emp.c.monthly_salary,
            bank.c.bank_name,
            bank.c.account_last4,
            bank.c.ifsc,
            Loan.amount,
            Loan.tenure,
            Loan.annual_rate_bps,
            Loan.credit_score,
            Loan.disbursed_at,
            Loan.net_disbursed,
            Loan.outstanding_principal,
            Loan.total_collected,
            Loan.dpd,
            Loan.closed_at,
        )
        .select_from(Loan)
        .join(Customer, Customer.id == Loan.customer_id)
        .outerjoin(emp, literal(True))
        .outerjoin(bank, literal(True))
        .where(Loan.brand_id == brand_id, in_range(Loan.created_at, span))
        .order_by(Loan.created_at, Loan.id)
    )


# ------------------------------------------------------------------------------------------ disbursal
def _disbursed(brand_id: str, span: Range) -> Select[Any]:
    return (
        loan_rows(
            brand_id,
            Loan.id.label("loan_id"),
            Loan.disbursed_at,
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Customer.pan,
            Loan.amount,
            Loan.net_disbursed,
            Loan.tenure,
            Loan.annual_rate_bps,
            Loan.disbursal_utr.label("utr"),
            Loan.status,
        )
        .where(in_range(Loan.disbursed_at, span))
        .order_by(Loan.disbursed_at, Loan.id)
    )


def _not_disbursed(brand_id: str, span: Range) -> Select[Any]:
    return (
        loan_rows(
            brand_id,
            Loan.id.label("loan_id"),
            Loan.created_at.label("applied_at"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Loan.amount,
            Loan.status,
            Loan.status_reason,
        )
        .where(in_range(Loan.created_at, span), Loan.disbursed_at.is_(None))
        .order_by(Loan.created_at, Loan.id)
    )


def _both(brand_id: str, span: Range) -> Select[Any]:
    return (
        loan_rows(
            brand_id,
            Loan.id.label("loan_id"),
            Loan.created_at.label("applied_at"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            case((Loan.disbursed_at.is_not(None), "YES"), else_="NO").label("disbursed"),
            Loan.disbursed_at,
            Loan.amount,
            Loan.net_disbursed,
            Loan.status,
        )
        .where(in_range(Loan.created_at, span))
        .order_by(Loan.created_at, Loan.id)
    )


REPORTS = (
    Report(
        "master-report",
        "Master report",
        "Every loan applied for in the range with its customer: identity, employment, bank account and money.",
        "loans.created_at (application)",
        MASTER_COLUMNS,
        _master,
        note="References are not listed: the project keeps no references table yet.",
    ),
    Report(
        "disbursed-loan-report",
        "Disbursed loans",
        "Loans disbursed in the range.",
        "loans.disbursed_at",
        cols(
            LOAN,
            ("disbursed_at", "datetime", "when the money left"),
            NAME,
            PHONE,
            ("pan", "text", "PAN"),
            AMOUNT,
            ("net_disbursed", "paise", "what reached the borrower's bank"),
            ("tenure", "number", "installments"),
            ("annual_rate_bps", "number", "annual rate, basis points"),
            ("utr", "text", "the bank's UTR of the transfer"),
            STATUS,
        ),
        _disbursed,
    ),
    Report(
        "non-disbursed-loan-report",
        "Loans not disbursed",
        "Loans applied for in the range that were never disbursed, with where they stand.",
        "loans.created_at (application)",
        cols(
            LOAN,
            ("applied_at", "datetime", "when applied"),
            NAME,
            PHONE,
            AMOUNT,
            STATUS,
            ("status_reason", "text", "why it stands there"),
        ),
        _not_disbursed,
    ),
    Report(
        "disburse-non-disburse-report",
        "Disbursed and not disbursed",
        "Every loan applied for in the range, marked disbursed YES or NO.",
        "loans.created_at (application)",
        cols(
            LOAN,
            ("applied_at", "datetime", "when applied"),
            NAME,
            PHONE,
            ("disbursed", "text", "YES or NO"),
            ("disbursed_at", "datetime", "when the money left"),
            AMOUNT,
            ("net_disbursed", "paise", "what reached the borrower's bank"),
            STATUS,
        ),
        _both,
    ),
)
