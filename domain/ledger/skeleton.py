"""The walking-skeleton postings, cash basis (interest is income when collected): a disbursal with no deductions
and a repayment by the ``domain.repayment`` allocation; used by ``activities/loan/``.
"""

from __future__ import annotations

from domain.ledger.accounts import COLLECTION_BANK, CUSTOMER_CREDIT, DISBURSAL_BANK, INTEREST_INCOME, LOAN_PRINCIPAL
from domain.ledger.transactions import Leg, Transaction
from domain.repayment import AllocationResult


def disbursal(principal: int) -> Transaction:
    """Walking-skeleton disbursal with no deductions: Dr LOAN_PRINCIPAL, Cr DISBURSAL_BANK the principal.
    See :func:`disbursal_with_deductions` for fees, GST and third-party charges. Kind ``DISBURSAL``."""
    return Transaction("DISBURSAL", (Leg(LOAN_PRINCIPAL, principal), Leg(DISBURSAL_BANK, -principal)))


def repayment(amount: int, allocation: AllocationResult) -> Transaction:
    """Walking-skeleton repayment, cash basis: Dr COLLECTION_BANK amount; Cr LOAN_PRINCIPAL,
    INTEREST_INCOME and CUSTOMER_CREDIT by the ``domain.repayment`` allocation (interest → principal,
    oldest first). See :func:`repayment_split` / :func:`repayment_from_waterfall` for fees and penal
    charges. Kind ``REPAYMENT``."""
    return Transaction("REPAYMENT", tuple(_repayment_legs(amount, allocation)))


def _repayment_legs(amount: int, allocation: AllocationResult) -> list[Leg]:
    legs = [Leg(COLLECTION_BANK, amount)]
    if allocation.principal:
        legs.append(Leg(LOAN_PRINCIPAL, -allocation.principal))
    if allocation.interest:
        legs.append(Leg(INTEREST_INCOME, -allocation.interest))
    if allocation.excess:
        legs.append(Leg(CUSTOMER_CREDIT, -allocation.excess))
    return legs
