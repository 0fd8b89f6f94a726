"""Servicing rules over a loan's installments, pure: what is due, what a payment's allocation does to them, which
penal charges accrue. The loan workflow keeps the installments in its state and calls these; the activities record
what they decide.

An installment here is anything shaped like ``workflows.contracts.InstallmentState`` (the ``Installment``
protocol): amounts in integer paise, dates as IST calendar dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from domain.allocation import AllocationConfig, Bucket, InstallmentAllocation, InstallmentDue, allocate_payment
from domain.charges import PenalBasis, PenalChargeSpec, penal_charge


class Installment(Protocol):
    """One installment's schedule and what has been paid of it (paise)."""

    number: int
    due_date: date | None
    principal: int
    interest: int
    fees: int
    penal: int
    principal_paid: int
    interest_paid: int
    fees_paid: int
    penal_paid: int
    overdue: bool
    penal_accrued_to: date | None

    @property
    def paid(self) -> bool: ...


def due_of(inst: Installment, due_date: date) -> InstallmentDue:
    """What is still owed on ``inst`` by component, as the allocation waterfall and DPD count it."""
    return InstallmentDue(
        inst.number,
        due_date,
        inst.principal - inst.principal_paid,
        inst.interest - inst.interest_paid,
        inst.fees - inst.fees_paid,
        inst.penal - inst.penal_paid,
    )


def payable_dues(installments: Iterable[Installment], today: date) -> list[InstallmentDue]:
    """Every unpaid installment's dues, in order, for allocating a payment received ``today`` (an installment
    without a calendar due date, a demo product's, counts as due today)."""
    return [due_of(i, i.due_date or today) for i in installments if not i.paid]


def dated_dues(installments: Iterable[Installment]) -> list[InstallmentDue]:
    """Every unpaid installment with a calendar due date: what DPD and the asset class are counted on
    (``domain.delinquency.assess``)."""
    return [due_of(i, i.due_date) for i in installments if not i.paid and i.due_date is not None]


def apply_parts(installments: Sequence[Installment], parts: Iterable[InstallmentAllocation]) -> None:
    """Add an allocation's parts (``domain.allocation.allocate_payment``) to the installments they pay: each
    part's penal, fees, interest and principal to the installment of its number. Raises KeyError for a part
    whose installment is not in ``installments``."""
    by_number = {i.number: i for i in installments}
    for part in parts:
        inst = by_number[part.number]
        inst.penal_paid += part.penal
        inst.fees_paid += part.fees
        inst.interest_paid += part.interest
        inst.principal_paid += part.principal


def untouched_future(installments: Iterable[Installment], *, skip_paid: bool = False) -> list[Installment]:
    """The installments an advance to principal re-amortises: nothing paid of them yet and not overdue, in order.
    ``skip_paid``: not one already paid either, as a grace period's installment of nothing is (no principal and no
    interest, so nothing of it is ever paid: counted, the new schedule would start at it, before the installment the
    advance came with)."""
    return [
        i
        for i in installments
        if i.principal_paid == 0 and i.interest_paid == 0 and not i.overdue and not (skip_paid and i.paid)
    ]


def advance_as_principal(
    installments: Sequence[Installment], advance: int, today: date
) -> tuple[list[InstallmentAllocation], int]:
    """An advance to principal (paise) when no installment is left to re-amortise (``untouched_future`` is empty:
    every unpaid one is overdue or part-paid, which the waterfall's calendar buckets can still count as future):
    paid straight to the unpaid principal of the unpaid installments, the last first (the tenure shortens, as
    Fineract's "reduce number of installments" does), as principal-only parts. Returns the parts and what is left
    over once every installment's principal is paid (a credit balance for the caller). Conserves money exactly:
    ``sum(part.principal) + left == advance``."""
    parts: list[InstallmentAllocation] = []
    left = advance
    for inst in sorted((i for i in installments if not i.paid), key=lambda i: i.number, reverse=True):
        room = inst.principal - inst.principal_paid
        take = min(room, left)
        if take > 0:
            parts.append(InstallmentAllocation(inst.number, inst.due_date or today, Bucket.ADVANCE, principal=take))
            left -= take
        if left == 0:
            break
    return parts, left


@dataclass(frozen=True)
class PenalAccrual:
    """A penal charge to levy on one installment: ``amount`` paise for ``days`` days on ``overdue`` paise of
    principal and interest, from ``since`` to ``until`` (``key`` makes its recording idempotent)."""

    number: int
    amount: int
    overdue: int
    days: int
    since: date
    until: date

    @property
    def key(self) -> str:
        return f"penal:{self.number}:{self.since.isoformat()}:{self.until.isoformat()}"

    @property
    def reason(self) -> str:
        return f"{self.days} day(s) on {self.overdue} paise overdue"


def penal_accruals(
    installments: Iterable[Installment], today: date, spec: PenalChargeSpec | None
) -> list[PenalAccrual]:
    """Percent-per-annum penal charges due ``today`` on each overdue installment's unpaid principal and interest,
    simple, for the days since they were last computed (from the due date the first time). RBI's Fair Lending
    Practice – Penal Charges in Loan Accounts (18 Aug 2023): a charge, never added to principal or interest and
    never compounded. Empty unless ``spec`` is on the PERCENT_PER_ANNUM basis; an accrual of 0 paise is kept (its
    dates still advance)."""
    if spec is None or spec.basis != PenalBasis.PERCENT_PER_ANNUM:
        return []
    out: list[PenalAccrual] = []
    for inst in installments:
        if not inst.overdue or inst.due_date is None:
            continue
        overdue = inst.principal - inst.principal_paid + inst.interest - inst.interest_paid
        since = inst.penal_accrued_to or inst.due_date
        days = (today - since).days
        if overdue <= 0 or days <= 0:
            continue
        out.append(PenalAccrual(inst.number, penal_charge(spec, overdue, days), overdue, days, since, today))
    return out


def flat_penal_on_overdue(inst: Installment, spec: PenalChargeSpec | None) -> int:
    """The per-occurrence penal charge (paise) when ``inst`` falls overdue, on its unpaid principal and interest;
    0 unless ``spec`` is on the FLAT_PER_OCCURRENCE basis."""
    if spec is None or spec.basis != PenalBasis.FLAT_PER_OCCURRENCE:
        return 0
    overdue = inst.principal - inst.principal_paid + inst.interest - inst.interest_paid
    return penal_charge(spec, overdue, 1)


def penal_after_value_date(
    installments: Sequence[Installment],
    value_date: date,
    amount: int,
    today: date,
    config: AllocationConfig | None = None,
) -> list[tuple[int, int]]:
    """The penal charges (installment number, paise) levied in error on a backdated payment: ``amount`` paise whose
    value date (IST) is ``value_date`` — an e-mandate debit presented on the due date and confirmed by the bank days
    later — applied ``today`` by the brand's waterfall (``config``) after installments fell overdue meanwhile.

    An installment that fell overdue after the value date (``value_date <= due_date < today``) and carries unpaid
    penal charges was not late when the money was paid if this payment pays its principal, interest and fees in
    full: its unpaid penal charges are reversed. Whether it does is decided by the real allocation
    (``allocate_payment`` as of ``today``, with the reversals applied), dropping any installment it leaves short and
    allocating again until nothing changes; so charges stand on an installment the money does not clear, and
    installments already late on the value date keep theirs and take the money the waterfall gives them first.
    Penal charges already paid are never reversed (they are money received). Nothing is changed in place; the
    caller reduces each installment's ``penal`` by what is returned.

    RBI, Fair Lending Practice – Penal Charges in Loan Accounts (18 Aug 2023): penal charges only for
    non-compliance with the loan's terms; money presented on the due date is compliance, whenever it was
    confirmed (Apache Fineract recomputes a loan's charges on a backdated repayment the same way)."""
    unpaid = [i for i in installments if not i.paid]
    candidates = {
        i.number
        for i in unpaid
        if i.overdue and i.due_date is not None and value_date <= i.due_date < today and i.penal > i.penal_paid
    }
    while candidates:
        dues = [replace(d, penal_due=0) if d.number in candidates else d for d in payable_dues(unpaid, today)]
        paid = {p.number: p for p in allocate_payment(amount, today, dues, config).parts}
        owed = {d.number: d.principal_due + d.interest_due + d.fees_due for d in dues}
        # this payment must pay it: an installment whose principal, interest and fees other money paid keeps its charge
        cleared = {n for n in candidates if n in paid and 0 < _cleared(paid[n]) >= owed[n]}
        if cleared == candidates:
            break
        candidates = cleared
    return [(i.number, i.penal - i.penal_paid) for i in unpaid if i.number in candidates]


def _cleared(part: InstallmentAllocation) -> int:
    return part.principal + part.interest + part.fees
