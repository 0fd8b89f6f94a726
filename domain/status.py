"""Loan statuses: the names seed 001 gives a loan's lifecycle ("Loan Lifecycle States"), plus the two the
workflow needs between and after its steps (DISBURSAL_PENDING, EXPIRED).

The values are stored (``loans.status``, ``loan_status_history``) and searched (the ``LoanStatus`` search
attribute): never rename one. Which moves are allowed between them is ``domain.lifecycle``.
"""

from __future__ import annotations

from enum import StrEnum


class LoanStatus(StrEnum):
    # Origination. Fineract's SUBMITTED_AND_PENDING_APPROVAL is split in two, as seed 001 does.
    APPLIED = "APPLIED"  # application in; KYC, bureau, rules and evaluation run
    UNDER_REVIEW = "UNDER_REVIEW"  # staff review, stage by stage (domain.access.ReviewStage)
    SANCTIONED = "SANCTIONED"  # RBI's word for an approved loan (Fineract: APPROVED)
    AGREEMENT_PENDING = "AGREEMENT_PENDING"  # agreement + KFS sent for eSign
    AGREEMENT_SIGNED = "AGREEMENT_SIGNED"  # signed; waits for loan ops to release the money
    DISBURSAL_PENDING = "DISBURSAL_PENDING"  # bank transfer initiated, not yet settled (not in seed 001)
    # A hold, not an end: a step was refused in a way retrying cannot fix (no provider configured, the account
    # closed, a vendor's permanent error); loan ops resume it (the step runs again) or reject the loan.
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    # Servicing. Fineract's ACTIVE is split in two, as seed 001 does: OVERDUE while an installment is unpaid
    # after its due date. DPD and the SMA/NPA asset class are not statuses (domain.delinquency).
    DISBURSED = "DISBURSED"
    OVERDUE = "OVERDUE"
    # Everything is paid and the loan holds more than it is owed (a credit balance) until that is refunded
    # (Fineract: OVERPAID).
    OVERPAID = "OVERPAID"
    # Ends.
    SETTLED = "SETTLED"  # closed by a compromise settlement (no move leads here yet)
    WRITTEN_OFF = "WRITTEN_OFF"  # closed by a write-off (Fineract: CLOSED_WRITTEN_OFF; no move leads here yet)
    COMPLETED = "COMPLETED"  # repaid in full (Fineract: CLOSED_OBLIGATIONS_MET)
    REJECTED = "REJECTED"  # refused before sanction (KYC, rules, or staff)
    EXPIRED = "EXPIRED"  # sanctioned but the agreement was not signed (not in seed 001)
    # staff cancelled a sanctioned loan before disbursal (Fineract: WITHDRAWN), or the borrower exited a disbursed
    # loan within the cooling-off period (RBI Digital Lending)
    CANCELLED = "CANCELLED"


# No move leads out of these (``domain.lifecycle.allowed_moves`` is empty for each): the workflow ends.
TERMINAL = frozenset(
    {
        LoanStatus.COMPLETED,
        LoanStatus.REJECTED,
        LoanStatus.EXPIRED,
        LoanStatus.CANCELLED,
        LoanStatus.SETTLED,
        LoanStatus.WRITTEN_OFF,
    }
)
