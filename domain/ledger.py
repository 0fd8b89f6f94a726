"""Double-entry ledger postings. Each transaction is a list of legs whose signed amounts sum to zero
(debit positive, credit negative, integer paise). The database enforces the same law."""

from __future__ import annotations

from dataclasses import dataclass

from domain.repayment import AllocationResult

LOAN_PRINCIPAL = "LOAN_PRINCIPAL_RECEIVABLE"
INTEREST_INCOME = "INTEREST_INCOME"
DISBURSAL_BANK = "DISBURSAL_BANK"
COLLECTION_BANK = "COLLECTION_BANK"
CUSTOMER_CREDIT = "CUSTOMER_CREDIT_BALANCE"


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int  # debit > 0, credit < 0


@dataclass(frozen=True)
class Transaction:
    kind: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if sum(leg.amount for leg in self.legs) != 0:
            raise ValueError(f"unbalanced ledger transaction {self.kind}: {self.legs}")
        if any(leg.amount == 0 for leg in self.legs):
            raise ValueError("zero-amount leg")


def disbursal(principal: int) -> Transaction:
    return Transaction("DISBURSAL", (Leg(LOAN_PRINCIPAL, principal), Leg(DISBURSAL_BANK, -principal)))


def repayment(amount: int, allocation: AllocationResult) -> Transaction:
    legs = [Leg(COLLECTION_BANK, amount)]
    if allocation.principal:
        legs.append(Leg(LOAN_PRINCIPAL, -allocation.principal))
    if allocation.interest:
        legs.append(Leg(INTEREST_INCOME, -allocation.interest))
    if allocation.excess:
        legs.append(Leg(CUSTOMER_CREDIT, -allocation.excess))
    return Transaction("REPAYMENT", tuple(legs))
