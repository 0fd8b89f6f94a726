"""Bureau reports: the credit bureau pulls made for the brand's loans (``bureau_reports``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, or_, true

from db.models import BureauReport, Customer, Loan
from reports.base import Range, Report, cols, in_range
from reports.loans import _loans

NOTE = (
    "Reports the bureau pulls stored in bureau_reports; the submission files to the credit information companies "
    "(TUDF, weekly and monthly) are built and downloaded under bureau-files (docs/bureau-reporting.md)."
)


def _pulls(which: str) -> Any:
    provider = func.lower(BureauReport.provider)
    if which == "equifax":
        return provider.like("%equifax%")
    if which == "transunion":
        return or_(provider.like("%cibil%"), provider.like("%transunion%"))
    return true()


def _bureau(which: str) -> Any:
    def build(brand_id: str, span: Range) -> Select[Any]:
        b = BureauReport
        return (
            _loans(
                brand_id,
                b.created_at.label("pulled_at"),
                Loan.id.label("loan_id"),
                Customer.full_name.label("customer_name"),
                Customer.pan,
                b.provider,
                b.score,
                case((b.reused_from.is_(None), "NO"), else_="YES").label("reused"),
                Loan.amount,
                Loan.status,
            )
            .join(b, b.loan_id == Loan.id)
            .where(in_range(b.created_at, span), _pulls(which))
            .order_by(b.created_at, b.id)
        )

    return build


_COLUMNS = cols(
    ("pulled_at", "datetime", "when the report was pulled"),
    ("loan_id", "text", "the loan"),
    ("customer_name", "text", "the customer's full name"),
    ("pan", "text", "PAN"),
    ("provider", "text", "the bureau"),
    ("score", "number", "the score"),
    ("reused", "text", "YES when an earlier pull (within 24 h) was reused"),
    ("amount", "paise", "principal"),
    ("status", "text", "the loan's status now"),
)

REPORTS = (
    Report(
        "cic-report",
        "Credit bureau pulls",
        "Every bureau report pulled in the range for the brand's loans (CIBIL, Equifax...).",
        "bureau_reports.created_at",
        _COLUMNS,
        _bureau("all"),
        family="bureau",
        note=NOTE,
    ),
    Report(
        "equifax-credit-report",
        "Equifax pulls",
        "Equifax reports pulled in the range.",
        "bureau_reports.created_at",
        _COLUMNS,
        _bureau("equifax"),
        family="bureau",
        note=NOTE,
    ),
    Report(
        "transunion-report",
        "TransUnion CIBIL pulls",
        "TransUnion CIBIL reports pulled in the range.",
        "bureau_reports.created_at",
        _COLUMNS,
        _bureau("transunion"),
        family="bureau",
        note=NOTE,
    ),
)
