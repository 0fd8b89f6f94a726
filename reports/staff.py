"""Staff reports: sign-ins of the brand's staff, and which credit staff loans were allocated to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, select

from db.models import Customer, Loan, StaffBrandRole, StaffLoginLog, StaffUser
from reports.base import Range, Report, cols, in_range


def _logins(brand_id: str, span: Range) -> Any:  # a Select of the columns
    log = StaffLoginLog
    return (
        select(
            log.created_at.label("logged_at"),
            log.staff_id,
            log.email,
            StaffUser.name.label("staff_name"),
            StaffBrandRole.role,
            case((log.success, "YES"), else_="NO").label("success"),
            log.reason,
            log.ip,
            log.user_agent,
            case((log.new_device, "YES"), else_="NO").label("new_device"),
        )
        .join(StaffUser, StaffUser.id == log.staff_id)
        .join(StaffBrandRole, and_(StaffBrandRole.staff_id == log.staff_id, StaffBrandRole.brand_id == brand_id))
        .where(in_range(log.created_at, span))
        .order_by(log.created_at, log.id)
    )


def _credit_allocations(brand_id: str, span: Range) -> Any:  # a Select of the columns
    return (
        select(
            Loan.assigned_at,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Loan.assigned_to.label("staff_id"),
            StaffUser.name.label("staff_name"),
            StaffBrandRole.role.label("staff_role"),
            Loan.review_stage,
            Loan.status,
            Loan.amount,
        )
        .join(Customer, Customer.id == Loan.customer_id)
        .join(StaffUser, StaffUser.id == Loan.assigned_to)
        .outerjoin(StaffBrandRole, and_(StaffBrandRole.staff_id == StaffUser.id, StaffBrandRole.brand_id == brand_id))
        .where(Loan.brand_id == brand_id, in_range(Loan.assigned_at, span))
        .order_by(Loan.assigned_at, Loan.id)
    )


REPORTS = (
    Report(
        "login-sessions-report",
        "Staff sign-ins",
        "Every sign-in attempt in the range (successful or not) by staff who work in the brand.",
        "staff_login_logs.created_at",
        cols(
            ("logged_at", "datetime", "when"),
            ("staff_id", "text", "the staff member"),
            ("email", "text", "the email signed in with"),
            ("staff_name", "text", "their name"),
            ("role", "text", "their role in this brand"),
            ("success", "text", "YES or NO"),
            ("reason", "text", "why it failed"),
            ("ip", "text", "client IP"),
            ("user_agent", "text", "browser"),
            ("new_device", "text", "YES when from a device not seen before"),
        ),
        _logins,
        family="staff",
        note="Attempts with an unknown email belong to no staff member, so to no brand, and are not listed. Sign-in "
        "logs are per person, not per brand: someone working in two brands appears in both brands' reports.",
    ),
    Report(
        "credit-executive-allocation-report",
        "Credit allocations",
        "Loans allocated in the range to a staff member for review or processing (the loan's current allocation).",
        "loans.assigned_at",
        cols(
            ("assigned_at", "datetime", "when allocated"),
            ("loan_id", "text", "the loan"),
            ("customer_name", "text", "the customer's full name"),
            ("staff_id", "text", "the staff member"),
            ("staff_name", "text", "their name"),
            ("staff_role", "text", "their role in this brand"),
            ("review_stage", "text", "the sanction stage the loan is at"),
            ("status", "text", "the loan's status now"),
            ("amount", "paise", "principal"),
        ),
        _credit_allocations,
        family="staff",
        note="Only the current allocation of each loan is kept (loans.assigned_to); earlier ones are not listed.",
    ),
)
