"""Servicing decisions on a stressed loan: a compromise settlement, a waiver of penal charges, a write-off, and
the rules each must meet. Pure: amounts are integer paise, dates IST calendar dates.

Sources:

* RBI, *Framework for Compromise Settlements and Technical Write-offs* (DOR.STR.REC.20/21.04.048/2023-24, 8 June
  2023): settlements and write-offs by a board-approved policy; the authority that approves a settlement is
  above the one that proposed it (here maker-checker: two different people, the approver within their limit,
  above it an admin); a settled account is reported to the credit bureaus as settled.
* RBI, *Fair Lending Practice – Penal Charges in Loan Accounts* (DOR.MCS.REC.28/01.01.001/2023-24, 18 August
  2023): penal charges are charges, never capitalised, never added to the rate; waiving them is the lender's
  choice.
* Seed 000: "Collection Head reviews case → Settlement Offer (reduced amount) → Write-Off (if unrecoverable)";
  "Write-Off Authority" in the roles' matrix.

The settlement's money and its waiver: what the borrower pays goes to principal first, then interest, then fees,
then penal charges, so what is waived (the outstanding less the amount) is penal charges first, then fees, then
interest, then principal (:func:`settlement_waiver`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain.allocation import Bucket, InstallmentAllocation
from domain.errors import ValidationError
from domain.money import format_inr

#: the order in which a settlement's waiver takes the outstanding's components
WAIVER_ORDER = ("penal", "fees", "interest", "principal")
#: the order in which a settlement's money pays them (the reverse)
PAYMENT_ORDER = tuple(reversed(WAIVER_ORDER))

PROPOSER_ROLES = frozenset({"COLLECTION_MANAGER", "COLLECTION_HEAD", "ADMIN", "SUPER_ADMIN"})
APPROVER_ROLES = frozenset({"COLLECTION_HEAD", "ADMIN", "SUPER_ADMIN"})
WAIVER_ROLES = frozenset({"COLLECTION_MANAGER", "COLLECTION_HEAD", "ADMIN", "SUPER_ADMIN"})
#: seed 000's "Write-Off Authority" (the roles holding ``collections.writeoff``)
WRITE_OFF_ROLES = frozenset({"COLLECTION_HEAD", "ADMIN", "SUPER_ADMIN"})
RESTRUCTURE_ROLES = frozenset({"COLLECTION_MANAGER", "COLLECTION_HEAD", "ADMIN", "SUPER_ADMIN"})


class Owed(Protocol):
    """An installment as settlement sees it (``workflows.contracts.InstallmentState`` fits)."""

    number: int
    due_date: date | None
    principal: int
    principal_paid: int
    interest: int
    interest_paid: int
    fees: int
    fees_paid: int
    penal: int
    penal_paid: int

    @property
    def paid(self) -> bool: ...


@dataclass(frozen=True)
class Outstanding:
    """What the borrower owes now, by component (paise): principal not yet repaid, interest due and to date,
    fees and penal charges unpaid."""

    principal: int
    interest: int
    fees: int
    penal: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penal

    def as_dict(self) -> dict[str, int]:
        return {"principal": self.principal, "interest": self.interest, "fees": self.fees, "penal": self.penal}


def settlement_waiver(outstanding: Outstanding, amount: int) -> dict[str, int]:
    """The waiver a settlement of ``amount`` paise gives on ``outstanding``, by component: the outstanding less the
    amount, taken from penal charges first, then fees, then interest, then principal. Raises ValidationError
    (field ``amount``) unless 0 < amount < outstanding.total (a settlement is for less than is owed)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError("must be whole paise", field="amount")
    if amount <= 0:
        raise ValidationError("must be more than 0", field="amount")
    if amount >= outstanding.total:
        raise ValidationError(
            f"must be less than the outstanding of {rupees_and_paise(outstanding.total)}"
            " (a settlement waives part of it)",
            field="amount",
        )
    left = outstanding.total - amount
    waiver: dict[str, int] = {}
    for component in WAIVER_ORDER:
        take = min(left, getattr(outstanding, component))
        waiver[component] = take
        left -= take
    return waiver


def settlement_parts(installments: Sequence[Owed], amount: int, today: date) -> tuple[list[InstallmentAllocation], int]:
    """How a settlement payment of ``amount`` paise is applied: principal first (oldest installment first), then
    interest, then fees, then penal charges. Returns the parts and what was left over (paise, when ``amount`` is
    more than everything owed). Installments are not changed."""
    left = amount
    by_number: dict[int, dict[str, int]] = {}
    for component in PAYMENT_ORDER:
        for inst in installments:
            owed = getattr(inst, component) - getattr(inst, f"{component}_paid")
            take = min(left, max(owed, 0))
            if take:
                by_number.setdefault(inst.number, {})[component] = take
                left -= take
    parts = []
    for inst in installments:
        if inst.number in by_number:
            due = inst.due_date or today
            parts.append(
                InstallmentAllocation(
                    inst.number, due, Bucket.OVERDUE if due < today else Bucket.CURRENT, **by_number[inst.number]
                )
            )
    return parts, left


def waive_remaining(installments: Sequence[Owed]) -> dict[str, int]:
    """Waive everything still unpaid, in place (each component owed becomes what was paid of it); returns what was
    waived by component (paise). After it every installment is paid."""
    waived = dict.fromkeys(WAIVER_ORDER, 0)
    for inst in installments:
        for component in WAIVER_ORDER:
            paid = getattr(inst, f"{component}_paid")
            owed = getattr(inst, component)
            if owed > paid:
                waived[component] += owed - paid
                setattr(inst, component, paid)
    return waived


def penal_waiver(installments: Sequence[Owed], amount: int) -> list[tuple[int, int]]:
    """Waive ``amount`` paise of unpaid penal charges, oldest installment first, in place; returns (installment
    number, paise) per installment touched. Raises ValidationError (field ``amount``) when ``amount`` is not
    positive or more than the unpaid penal charges."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("must be a positive whole number of paise", field="amount")
    unpaid = sum(max(i.penal - i.penal_paid, 0) for i in installments)
    if amount > unpaid:
        raise ValidationError(f"is more than the unpaid penal charges of {rupees_and_paise(unpaid)}", field="amount")
    left, out = amount, []
    for inst in installments:
        take = min(left, max(inst.penal - inst.penal_paid, 0))
        if take:
            inst.penal -= take
            out.append((inst.number, take))
            left -= take
    return out


def unpaid_penal(installments: Sequence[Owed]) -> int:
    """Penal charges levied and not paid (paise)."""
    return sum(max(i.penal - i.penal_paid, 0) for i in installments)


def check_limit(role: str, amount: int, limit: int | None, what: str) -> str | None:
    """Why ``role`` may not approve ``amount`` paise of ``what`` under ``limit`` (None = unlimited), or None."""
    if limit is None or amount <= limit:
        return None
    if limit == 0:
        return f"role {role} has no {what} authority; an admin must act"
    over, most = rupees_and_paise(amount), rupees_and_paise(limit)
    return f"{what} of {over} is above the {role} limit of {most}; an admin must act"


def rupees_and_paise(paise: int) -> str:
    """An amount for a refusal staff read: ``₹50,000.00 (5000000 paise)``, in rupees as people say it and in the
    paise the collections API takes."""
    return f"{format_inr(paise)} ({paise} paise)"


def can_write_off(dpd: int, write_off_dpd: int) -> str | None:
    """Why a loan at ``dpd`` may not be written off under the brand's threshold, or None."""
    if dpd < write_off_dpd:
        return f"the loan is {dpd} days past due; the brand writes off from {write_off_dpd} days"
    return None
