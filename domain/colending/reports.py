"""Partners' books and settlement statements of co-lent loans, from each lender's sub-ledger legs and the loans'
schedules (pure: the SQL is ``db.colending``).

- **Book** of a lender on an IST date: principal disbursed (funded), principal outstanding, collected (by
  component) and overdue by DPD bucket. A loan's overdue on the date is what its schedule had fallen due before
  that day less what was collected by it (principal and interest, oldest installment first), its DPD counted from
  the oldest installment not covered; the lender's part of it is its share (principal by share, interest by its
  rate's weight: ``domain.colending.split``). Buckets as RBI's SMA classes: 1-30, 31-60, 61-90 days, and 90+
  (NPA: RBI Master Circular on IRACP norms).
- **Settlement** of a period: what each lender was collected in the period, by component; what the partner is owed
  is its part, less what was already sent to its wallet or remitted from the escrow in the period
  (``domain.colending.escrow``); and each lender's part of what was waived, settled below dues or written off in
  the period (``lost``, by component: it moves no money, so it is never owed).

Money is integer paise, dates IST.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.colending import ledger as cl
from domain.colending.split import Agreement, Parts, largest_remainder

BUCKETS = ("1-30", "31-60", "61-90", "90+")


def bucket_of(dpd: int) -> str | None:
    """The DPD bucket of ``dpd`` days (None when not overdue)."""
    if dpd <= 0:
        return None
    return "1-30" if dpd <= 30 else "31-60" if dpd <= 60 else "61-90" if dpd <= 90 else "90+"


@dataclass(frozen=True)
class Due:
    """One installment of a loan's schedule: its due date, principal and interest (paise)."""

    due_date: date
    principal: int
    interest: int


def overdue_on(
    schedule: Sequence[Due], collected_principal: int, collected_interest: int, on: date
) -> tuple[Parts, int]:
    """A loan's overdue on ``on`` (principal, interest) and its DPD: installments due before ``on`` less what was
    collected by then, oldest first."""
    due = [d for d in schedule if d.due_date < on]
    principal = max(0, sum(d.principal for d in due) - collected_principal)
    interest = max(0, sum(d.interest for d in due) - collected_interest)
    dpd, covered = 0, collected_principal + collected_interest
    for d in due:
        covered -= d.principal + d.interest
        if covered < 0:
            dpd = (on - d.due_date).days
            break
    return Parts(principal=principal, interest=interest), dpd if principal + interest > 0 else 0


def lender_part(agreement: Agreement, blended_rate_bps: int, whole: Parts, lender: str) -> Parts:
    """``lender``'s share of an amount by component (``whole``): principal by share, interest by its rate."""
    weights = agreement.weights(blended_rate_bps)
    index = 1 if lender == cl.PARTNER else 0
    parts = {c: largest_remainder(whole.get(c), weights[c])[index] if whole.get(c) else 0 for c in weights}
    return Parts(**parts)


@dataclass
class Book:
    """One lender's book: loans, principal disbursed and outstanding, collected by component, lost (waived, settled
    below dues, written off) by component, overdue by bucket."""

    lender: str
    loans: int = 0
    disbursed: int = 0
    outstanding: int = 0
    collected: Parts = field(default_factory=Parts)
    lost: Parts = field(default_factory=Parts)
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())


def add_loan(book: Book, legs: Iterable[tuple[str, str, int]], overdue: Parts, dpd: int) -> None:
    """Add one loan to ``book``: its ``legs`` for the book's lender (kind, account, signed amount) and its overdue
    part for the lender with the loan's DPD."""
    book.loans += 1
    got = dict.fromkeys(("principal", "interest", "fees", "penal"), 0)
    gone = dict(got)
    for kind, account, amount in legs:
        if kind == "CL_DISBURSAL" and account == cl.CL_PRINCIPAL:
            book.disbursed += amount
        if account == cl.CL_PRINCIPAL:
            book.outstanding += amount
        component = cl.resolved_component(kind, account)
        if component is not None:
            (got if kind == "CL_REPAYMENT" else gone)[component] -= amount
    book.collected = book.collected.plus(Parts(**got))
    book.lost = book.lost.plus(Parts(**gone))
    name = bucket_of(dpd)
    if name is not None:
        book.overdue[name] += overdue.principal + overdue.interest


@dataclass
class Statement:
    """What a lender was collected in a period (by component: the escrow's apportionment to it), what of it was
    already remitted to it, and its part of what was lost in the period (by component; no money)."""

    lender: str
    collected: Parts = field(default_factory=Parts)
    remitted: int = 0
    lost: Parts = field(default_factory=Parts)

    @property
    def owed(self) -> int:
        """Collected in the period less remitted in it (paise; never negative)."""
        return max(0, self.collected.total - self.remitted)
