"""Loan reports of the book: active loans by due date, closures (with and without a repeat loan), outstanding,
decisions (rejections, sanctions) and affiliates. Part of the loans family (``reports/loans.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import aliased

from db.models import Customer, Loan, LoanStatusHistory, RepaymentInstallment
from reports.base import Range, Report, cols, in_range
from reports.loans_base import AMOUNT, LOAN, NAME, OPEN, PHONE, STATUS, loan_rows, unpaid, utm


# ------------------------------------------------------------------------------------ due and closures
def _active_by_due(brand_id: str, span: Range) -> Select[Any]:
    i = RepaymentInstallment
    return (
        loan_rows(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            i.installment_no,
            i.due_date,
            i.total.label("installment_total"),
            unpaid(i).label("due_now"),
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
        loan_rows(
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
        loan_rows(
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
        select(func.coalesce(func.sum(unpaid(i)), 0))
        .where(i.loan_id == Loan.id, i.status == "OVERDUE")
        .scalar_subquery()
    )
    return (
        loan_rows(
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
        loan_rows(
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


def _affiliate(brand_id: str, span: Range) -> Select[Any]:
    return (
        loan_rows(
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


REPORTS = (
    Report(
        "active-loans-by-due-date-report",
        "Active loans by due date",
        "Unpaid installments of open loans (disbursed, overdue, overpaid) falling due in the range.",
        "repayment_installments.due_date",
        cols(
            LOAN,
            NAME,
            PHONE,
            ("installment_no", "number", "installment number"),
            ("due_date", "date", "its due date"),
            ("installment_total", "paise", "principal, interest and fees of the installment"),
            ("due_now", "paise", "still owed on it: total and penal less what was paid"),
            ("installment_status", "text", "PENDING / OVERDUE"),
            STATUS,
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
            LOAN,
            NAME,
            PHONE,
            ("email", "text", "the customer's email"),
            AMOUNT,
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
            LOAN,
            NAME,
            PHONE,
            STATUS,
            ("closed_as", "text", "REPAID / FORECLOSED / COOLING_OFF_EXIT"),
            AMOUNT,
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
            LOAN,
            NAME,
            PHONE,
            STATUS,
            ("disbursed_at", "datetime", "when the money left"),
            AMOUNT,
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
            LOAN,
            ("rejected_at", "datetime", "when rejected"),
            NAME,
            PHONE,
            AMOUNT,
            ("reason", "text", "why"),
            ("actor", "text", "who: system or role:email"),
            STATUS,
        ),
        _rejected,
    ),
    Report(
        "total-approve-sanction-report",
        "Sanctions",
        "Loans sanctioned in the range, with the terms and who sanctioned.",
        "loan_status_history.created_at (the move to SANCTIONED)",
        cols(
            LOAN,
            ("sanctioned_at", "datetime", "when sanctioned"),
            NAME,
            PHONE,
            AMOUNT,
            ("tenure", "number", "installments"),
            ("annual_rate_bps", "number", "annual rate, basis points"),
            ("actor", "text", "who: system (auto-sanction) or role:email"),
            STATUS,
        ),
        _sanctioned,
    ),
    Report(
        "affiliate-report",
        "Affiliates",
        "Loans applied for in the range by customers who came through a source (utm_source), by source.",
        "loans.created_at (application)",
        cols(
            LOAN,
            ("applied_at", "datetime", "when applied"),
            NAME,
            ("utm_source", "text", "the affiliate / source"),
            ("utm_medium", "text", "medium"),
            ("utm_campaign", "text", "campaign"),
            AMOUNT,
            STATUS,
            ("disbursed_at", "datetime", "when the money left"),
        ),
        _affiliate,
        note="Affiliates are the customers' utm_source as captured at sign-up; there is no affiliate table yet.",
    ),
)
