"""What the loan reports share (``reports/loans_money.py``, ``reports/loans_book.py``, and the collections, marketing
and bureau families): a brand's loans joined to their customers, what an installment still owes, a customer's UTM
value and the columns most reports list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from db.models import Customer, Loan, RepaymentInstallment
from reports.base import Spec

OPEN = ("DISBURSED", "OVERDUE", "OVERPAID")
LOAN: Spec = ("loan_id", "text", "the loan")
NAME: Spec = ("customer_name", "text", "the customer's full name")
PHONE: Spec = ("phone", "text", "the customer's mobile")
AMOUNT: Spec = ("amount", "paise", "principal")
STATUS: Spec = ("status", "text", "the loan's status now")


def loan_rows(brand_id: str, *columns: Any) -> Select[Any]:
    """A SELECT of ``columns`` over the brand's ``loans`` joined to their ``customers`` (one row a loan)."""
    return (
        select(*columns)
        .select_from(Loan)
        .join(Customer, Customer.id == Loan.customer_id)
        .where(Loan.brand_id == brand_id)
    )


def unpaid(inst: Any = RepaymentInstallment) -> Any:
    """What is still owed on an installment: its total and penal less what was paid (paise)."""
    paid = inst.principal_paid + inst.interest_paid + inst.fees_paid + inst.penal_paid
    return inst.total + inst.penal - paid


def utm(key: str) -> Any:
    """A customer's UTM value (``customers.utm``), empty as null."""
    return func.nullif(Customer.utm[key].astext, "")
