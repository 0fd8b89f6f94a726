"""Loan statuses (seed 001's lifecycle) and the moves between them."""

from __future__ import annotations

from enum import StrEnum


class LoanStatus(StrEnum):
    APPLIED = "APPLIED"
    UNDER_REVIEW = "UNDER_REVIEW"
    SANCTIONED = "SANCTIONED"
    AGREEMENT_PENDING = "AGREEMENT_PENDING"
    AGREEMENT_SIGNED = "AGREEMENT_SIGNED"
    DISBURSAL_PENDING = "DISBURSAL_PENDING"
    DISBURSED = "DISBURSED"
    OVERDUE = "OVERDUE"
    SETTLED = "SETTLED"
    WRITTEN_OFF = "WRITTEN_OFF"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


TERMINAL = frozenset(
    {LoanStatus.COMPLETED, LoanStatus.REJECTED, LoanStatus.EXPIRED, LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF}
)

ALLOWED: dict[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.APPLIED: frozenset({LoanStatus.UNDER_REVIEW, LoanStatus.SANCTIONED, LoanStatus.REJECTED}),
    LoanStatus.UNDER_REVIEW: frozenset({LoanStatus.SANCTIONED, LoanStatus.REJECTED}),
    LoanStatus.SANCTIONED: frozenset({LoanStatus.AGREEMENT_PENDING}),
    LoanStatus.AGREEMENT_PENDING: frozenset({LoanStatus.AGREEMENT_SIGNED, LoanStatus.EXPIRED}),
    LoanStatus.AGREEMENT_SIGNED: frozenset({LoanStatus.DISBURSAL_PENDING}),
    LoanStatus.DISBURSAL_PENDING: frozenset({LoanStatus.DISBURSED, LoanStatus.AGREEMENT_SIGNED}),
    LoanStatus.DISBURSED: frozenset({LoanStatus.OVERDUE, LoanStatus.COMPLETED}),
    LoanStatus.OVERDUE: frozenset({LoanStatus.DISBURSED, LoanStatus.COMPLETED}),
}


def can_move(current: LoanStatus, target: LoanStatus) -> bool:
    return target in ALLOWED.get(current, frozenset())
