"""User and loan reports: the master dump, disbursal tracking, due dates, closures, outstanding, rejections,
sanctions and affiliates. Every one reads ``loans`` of one brand joined to its ``customers``: the money out
(master, disbursals) is ``reports/loans_money.py``, the book (due dates, closures, outstanding, decisions,
affiliates) ``reports/loans_book.py``, what they share ``reports/loans_base.py``."""

from __future__ import annotations

from reports import loans_book, loans_money
from reports.loans_base import OPEN, loan_rows, unpaid, utm

# The names the other families import from here.
_loans = loan_rows
_unpaid = unpaid

REPORTS = (*loans_money.REPORTS, *loans_book.REPORTS)

__all__ = ["OPEN", "REPORTS", "_loans", "_unpaid", "utm"]
