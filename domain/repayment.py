"""Allocating a collected payment to installments.

Walking-skeleton waterfall: oldest unpaid installment first; within it interest before principal.
Anything left after every installment is paid becomes a credit balance (excess). Conserves money:
sum of parts + excess == amount, always.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ValidationError


@dataclass(frozen=True)
class Due:
    number: int
    interest_due: int  # unpaid interest, paise
    principal_due: int  # unpaid principal, paise


@dataclass(frozen=True)
class Allocation:
    number: int
    interest: int
    principal: int


@dataclass(frozen=True)
class AllocationResult:
    parts: list[Allocation]
    excess: int

    @property
    def interest(self) -> int:
        return sum(p.interest for p in self.parts)

    @property
    def principal(self) -> int:
        return sum(p.principal for p in self.parts)


def allocate(amount: int, dues: list[Due]) -> AllocationResult:
    if isinstance(amount, float) or amount <= 0:
        raise ValidationError("payment amount must be a positive number of paise", field="amount")
    left = amount
    parts: list[Allocation] = []
    for due in sorted(dues, key=lambda d: d.number):
        if left == 0:
            break
        interest = min(left, due.interest_due)
        left -= interest
        principal = min(left, due.principal_due)
        left -= principal
        if interest or principal:
            parts.append(Allocation(due.number, interest, principal))
    return AllocationResult(parts, left)
