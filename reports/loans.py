"""User and loan reports: the master dump, disbursal tracking, due dates, closures, outstanding, rejections,
sanctions and affiliates. Every one reads ``loans`` of one brand joined to its ``customers``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased

from db.models import BankAccount, Customer, Employment, Loan, LoanStatusHistory, RepaymentInstallment
from reports.base import Range, Report, Spec, cols, in_range

OPEN = ("DISBURSED", "OVERDUE", "OVERPAID")


def _loans(brand_id: str, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Loan)
        .join(Customer, Customer.id == Loan.customer_id)
        .where(Loan.brand_id == brand_id)
    )


def _unpaid(inst: Any = RepaymentInstallment) -> Any:
    """What is still owed on an installment: its total and penal less what was paid (paise)."""
    paid = inst.principal_paid + inst.interest_paid + inst.fees_paid + inst.penal_paid
    return inst.total + inst.penal - paid


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
        _loans(
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
        _loans(
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
        _loans(
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


# ------------------------------------------------------------------------------------ due and closures
def _active_by_due(brand_id: str, span: Range) -> Select[Any]:
    i = RepaymentInstallment
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            i.installment_no,
            i.due_date,
            i.total.label("installment_total"),
            _unpaid(i).label("due_now"),
            i.status.label("installment_status"),
            Loan.status,
            Loan.dpd,
        )
        .join(i, i.loan_id == Loan.id)
        .where(Loan.status.in_(OPEN), i.status != "PAID", i.due_date.between(span.from_date, span.to_date))
        .order_by(i.due_date, Loan.id, i.installment_no)
    )


def _completed_no_repeat(brand_id: str, span: Range) -> Select[Any]:
    later = aliased(Loan)
    repeat = exists().where(
        later.customer_id == Loan.customer_id,
        later.id != Loan.id,
        (later.previous_loan_id == Loan.id) | (later.created_at > Loan.closed_at),
    )
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Customer.email,
            Loan.amount,
            Loan.total_collected,
            Loan.closed_as,
            Loan.closed_at,
        )
        .where(Loan.status == "COMPLETED", in_range(Loan.closed_at, span), ~repeat)
        .order_by(Loan.closed_at, Loan.id)
    )


def _closed(brand_id: str, span: Range) -> Select[Any]:
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Loan.status,
            Loan.closed_as,
            Loan.amount,
            Loan.total_collected,
            Loan.disbursed_at,
            Loan.closed_at,
        )
        .where(in_range(Loan.closed_at, span))
        .order_by(Loan.closed_at, Loan.id)
    )


def _outstanding(brand_id: str, span: Range) -> Select[Any]:
    i = RepaymentInstallment
    overdue = (
        select(func.coalesce(func.sum(_unpaid(i)), 0))
        .where(i.loan_id == Loan.id, i.status == "OVERDUE")
        .scalar_subquery()
    )
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Loan.status,
            Loan.disbursed_at,
            Loan.amount,
            Loan.outstanding_principal,
            overdue.label("overdue_amount"),
            Loan.dpd,
            Loan.asset_class,
            Loan.next_due_at,
        )
        .where(Loan.status.in_(OPEN), in_range(Loan.disbursed_at, span))
        .order_by(Loan.disbursed_at, Loan.id)
    )


# ----------------------------------------------------------------------------------- decisions, sources
def _moved_to(brand_id: str, span: Range, status: str, *extra: Any) -> Select[Any]:
    h = LoanStatusHistory
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            h.created_at.label(f"{status.lower()}_at"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Loan.amount,
            *extra,
            h.actor,
            Loan.status,
        )
        .join(h, and_(h.loan_id == Loan.id, h.to_status == status))
        .where(in_range(h.created_at, span))
        .order_by(h.created_at, Loan.id)
    )


def _rejected(brand_id: str, span: Range) -> Select[Any]:
    reason = func.coalesce(LoanStatusHistory.reason, Loan.status_reason).label("reason")
    return _moved_to(brand_id, span, "REJECTED", reason)


def _sanctioned(brand_id: str, span: Range) -> Select[Any]:
    return _moved_to(brand_id, span, "SANCTIONED", Loan.tenure, Loan.annual_rate_bps)


def utm(key: str) -> Any:
    """A customer's UTM value (``customers.utm``), empty as null."""
    return func.nullif(Customer.utm[key].astext, "")


def _affiliate(brand_id: str, span: Range) -> Select[Any]:
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Loan.created_at.label("applied_at"),
            Customer.full_name.label("customer_name"),
            utm("utm_source").label("utm_source"),
            utm("utm_medium").label("utm_medium"),
            utm("utm_campaign").label("utm_campaign"),
            Loan.amount,
            Loan.status,
            Loan.disbursed_at,
        )
        .where(in_range(Loan.created_at, span), utm("utm_source").is_not(None))
        .order_by(Loan.created_at, Loan.id)
    )


_LOAN: Spec = ("loan_id", "text", "the loan")
_NAME: Spec = ("customer_name", "text", "the customer's full name")
_PHONE: Spec = ("phone", "text", "the customer's mobile")
_AMOUNT: Spec = ("amount", "paise", "principal")
_STATUS: Spec = ("status", "text", "the loan's status now")

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
            _LOAN,
            ("disbursed_at", "datetime", "when the money left"),
            _NAME,
            _PHONE,
            ("pan", "text", "PAN"),
            _AMOUNT,
            ("net_disbursed", "paise", "what reached the borrower's bank"),
            ("tenure", "number", "installments"),
            ("annual_rate_bps", "number", "annual rate, basis points"),
            ("utr", "text", "the bank's UTR of the transfer"),
            _STATUS,
        ),
        _disbursed,
    ),
    Report(
        "non-disbursed-loan-report",
        "Loans not disbursed",
        "Loans applied for in the range that were never disbursed, with where they stand.",
        "loans.created_at (application)",
        cols(
            _LOAN,
            ("applied_at", "datetime", "when applied"),
            _NAME,
            _PHONE,
            _AMOUNT,
            _STATUS,
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
            _LOAN,
            ("applied_at", "datetime", "when applied"),
            _NAME,
            _PHONE,
            ("disbursed", "text", "YES or NO"),
            ("disbursed_at", "datetime", "when the money left"),
            _AMOUNT,
            ("net_disbursed", "paise", "what reached the borrower's bank"),
            _STATUS,
        ),
        _both,
    ),
    Report(
        "active-loans-by-due-date-report",
        "Active loans by due date",
        "Unpaid installments of open loans (disbursed, overdue, overpaid) falling due in the range.",
        "repayment_installments.due_date",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            ("installment_no", "number", "installment number"),
            ("due_date", "date", "its due date"),
            ("installment_total", "paise", "principal, interest and fees of the installment"),
            ("due_now", "paise", "still owed on it: total and penal less what was paid"),
            ("installment_status", "text", "PENDING / OVERDUE"),
            _STATUS,
            ("dpd", "number", "days past due"),
        ),
        _active_by_due,
    ),
    Report(
        "completed-loan-with-no-repet-report",
        "Completed loans with no repeat",
        "Loans repaid in full in the range whose customer has taken no loan since (reloan prospects).",
        "loans.closed_at",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            ("email", "text", "the customer's email"),
            _AMOUNT,
            ("total_collected", "paise", "everything received"),
            ("closed_as", "text", "REPAID / FORECLOSED / COOLING_OFF_EXIT"),
            ("closed_at", "datetime", "when it closed"),
        ),
        _completed_no_repeat,
    ),
    Report(
        "loan-close-report",
        "Closed loans",
        "Loans closed in the range, however they closed.",
        "loans.closed_at",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            _STATUS,
            ("closed_as", "text", "REPAID / FORECLOSED / COOLING_OFF_EXIT"),
            _AMOUNT,
            ("total_collected", "paise", "everything received"),
            ("disbursed_at", "datetime", "when the money left"),
            ("closed_at", "datetime", "when it closed"),
        ),
        _closed,
    ),
    Report(
        "outstanding-data-report",
        "Outstanding",
        "Open loans disbursed in the range with what they still owe.",
        "loans.disbursed_at",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            _STATUS,
            ("disbursed_at", "datetime", "when the money left"),
            _AMOUNT,
            ("outstanding_principal", "paise", "principal still owed"),
            ("overdue_amount", "paise", "unpaid total and penal of overdue installments"),
            ("dpd", "number", "days past due"),
            ("asset_class", "text", "STANDARD / SMA-0..2 / NPA"),
            ("next_due_at", "datetime", "the next due instant"),
        ),
        _outstanding,
    ),
    Report(
        "reject-report",
        "Rejections",
        "Loans rejected in the range (KYC, rules or staff), with the reason and who rejected.",
        "loan_status_history.created_at (the move to REJECTED)",
        cols(
            _LOAN,
            ("rejected_at", "datetime", "when rejected"),
            _NAME,
            _PHONE,
            _AMOUNT,
            ("reason", "text", "why"),
            ("actor", "text", "who: system or role:email"),
            _STATUS,
        ),
        _rejected,
    ),
    Report(
        "total-approve-sanction-report",
        "Sanctions",
        "Loans sanctioned in the range, with the terms and who sanctioned.",
        "loan_status_history.created_at (the move to SANCTIONED)",
        cols(
            _LOAN,
            ("sanctioned_at", "datetime", "when sanctioned"),
            _NAME,
            _PHONE,
            _AMOUNT,
            ("tenure", "number", "installments"),
            ("annual_rate_bps", "number", "annual rate, basis points"),
            ("actor", "text", "who: system (auto-sanction) or role:email"),
            _STATUS,
        ),
        _sanctioned,
    ),
    Report(
        "affiliate-report",
        "Affiliates",
        "Loans applied for in the range by customers who came through a source (utm_source), by source.",
        "loans.created_at (application)",
        cols(
            _LOAN,
            ("applied_at", "datetime", "when applied"),
            _NAME,
            ("utm_source", "text", "the affiliate / source"),
            ("utm_medium", "text", "medium"),
            ("utm_campaign", "text", "campaign"),
            _AMOUNT,
            _STATUS,
            ("disbursed_at", "datetime", "when the money left"),
        ),
        _affiliate,
        note="Affiliates are the customers' utm_source as captured at sign-up; there is no affiliate table yet.",
    ),
)
