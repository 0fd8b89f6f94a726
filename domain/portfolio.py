"""Portfolio figures a lender's board reads: AUM, collection efficiency, portfolio at risk (PAR 30/60/90), the gross
NPA ratio and vintage curves. Pure functions over plain values (integer paise, DPD, calendar dates); the database
queries that feed them are ``db/portfolio.py``, the dashboards that show them ``api/partner/dashboard.py``
(docs/dashboards.md).

Definitions and sources:

* **AUM** (assets under management, on book): the principal outstanding of the loans being repaid (DISBURSED,
  OVERDUE, OVERPAID). Interest, fees and penal charges receivable are not in it; written-off and settled loans are
  off the book. This is RBI's "gross advances" for a lender that holds every loan it makes (no co-lending or
  assignment here), the denominator of the ratios below.
* **Collection efficiency**, the *current collection efficiency* rating agencies report for retail pools (ICRA,
  CRISIL: "current collections ÷ current billing"): of the installments falling due in a period, what was collected
  towards them ÷ what was billed (principal + interest + fees; penal charges, levied only after a miss, are
  neither billed nor counted). Collections towards arrears of earlier periods and prepayments are left out, so the
  ratio is at most 100 %.
* **Overall collection efficiency** (ICRA, CRISIL: "total collections excluding prepayments ÷ (current billing +
  opening overdues)"), by amount: what was collected in the period towards installment dues ÷ what was due in
  the period. Per loan on book in the period: *due* = the principal, interest and fees of its installments due up
  to the period's end, less what its payments before the period paid towards them (opening arrears plus this
  period's billing, net of anything paid ahead; never below 0); *collected* = the principal, interest and fees
  parts of its successful payments in the period (advance to principal and excess left out, as prepayments),
  capped at its *due* (a foreclosure's future principal is not a collection of dues). Penal charges are in
  neither. Sums over the loans, then the ratio; a loan closed before the period (repaid, settled, written off)
  is not in it. Unlike the current efficiency it counts arrears recovered, so it falls when arrears pile up.
* **PAR X** (portfolio at risk, CGAP / MIX definition): the principal outstanding of loans with DPD above X (one
  or more installments more than X days past due) ÷ AUM; PAR 30, PAR 60 and PAR 90 use X = 30, 60, 90. DPD as
  ``domain.delinquency`` counts it (RBI IRACP day-end convention).
* **GNPA %** (RBI, IRACP master circular: gross NPAs ÷ gross advances): the principal outstanding of loans
  classified NPA ÷ AUM. An NPA stays NPA until all its arrears are paid (``domain.delinquency.classify``), so it
  can differ from PAR 90 (an NPA whose DPD fell, or a restructured loan held NPA).
* **Vintage curve** (static-pool analysis, as in the Basel II / rating agencies' ABS methodology): loans grouped by
  the calendar month of disbursal (the cohort); for each month on book *m* (0 in the disbursal month), the share
  of the cohort's disbursed principal (and of its loans) that had reached DPD above 30 (or above 90) by the end of
  month *m*. Cumulative ("ever 30+"), so each curve never falls; a month not yet reached is left out. DPD as the
  book counts it (``domain.delinquency``): an installment is overdue while any of its principal or interest is
  unpaid (a part payment does not stop the count), and no longer once both are paid, even with fees or penal
  charges still owed (``principal_interest_cleared_on``).

Ratios are percentages rounded half-up to 2 decimals (``Decimal``); a ratio over an empty denominator is None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

REPAYING = frozenset({"DISBURSED", "OVERDUE", "OVERPAID"})
PAR_DAYS = (30, 60, 90)
VINTAGE_DAYS = (30, 90)
_CENT = Decimal("0.01")


def _paise(value: object, name: str) -> int:
    if isinstance(value, float):
        raise TypeError(f"{name}: float is not allowed, use integer paise")
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: integer paise expected")
    if value < 0:
        raise ValueError(f"{name}: must not be negative")
    return value


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` ÷ ``whole`` as a percentage rounded half-up to 2 decimals; None when ``whole`` is 0."""
    _paise(part, "part")
    _paise(whole, "whole")
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- the book at one moment
@dataclass(frozen=True)
class Position:
    """One loan as the book holds it: status, principal outstanding (paise), DPD and RBI asset class."""

    status: str
    outstanding_principal: int
    dpd: int = 0
    asset_class: str = "STANDARD"

    def __post_init__(self) -> None:
        _paise(self.outstanding_principal, "outstanding_principal")
        _paise(self.dpd, "dpd")

    @property
    def on_book(self) -> bool:
        return self.status in REPAYING


@dataclass(frozen=True)
class AtRisk:
    """Loans and their principal outstanding in one risk class, and the share of AUM it is."""

    loans: int
    principal: int
    percent: Decimal | None


def aum(positions: Iterable[Position]) -> int:
    """Principal outstanding of the loans being repaid (paise)."""
    return sum(p.outstanding_principal for p in positions if p.on_book)


def par(positions: Sequence[Position], days: int) -> AtRisk:
    """PAR ``days``: loans being repaid with DPD above ``days``, their principal outstanding, and ÷ AUM."""
    _paise(days, "days")
    risky = [p for p in positions if p.on_book and p.dpd > days]
    principal = sum(p.outstanding_principal for p in risky)
    return AtRisk(len(risky), principal, percent(principal, aum(positions)))


def gnpa(positions: Sequence[Position]) -> AtRisk:
    """Gross NPA: loans being repaid classified NPA, their principal outstanding, and ÷ AUM."""
    npa = [p for p in positions if p.on_book and p.asset_class == "NPA"]
    principal = sum(p.outstanding_principal for p in npa)
    return AtRisk(len(npa), principal, percent(principal, aum(positions)))


# --------------------------------------------------------------------------- collection efficiency
@dataclass(frozen=True)
class Billing:
    """One installment due in the period: what was billed (principal + interest + fees) and collected towards it."""

    billed: int
    collected: int

    def __post_init__(self) -> None:
        _paise(self.billed, "billed")
        _paise(self.collected, "collected")


@dataclass(frozen=True)
class Efficiency:
    billed: int
    collected: int
    percent: Decimal | None


def collection_efficiency(installments: Iterable[Billing]) -> Efficiency:
    """Current collection efficiency: Σ collected ÷ Σ billed over the installments due in the period. What an
    installment received beyond its billing (never, by the waterfall; penal is not billed) is capped at it."""
    billed = collected = 0
    for item in installments:
        billed += item.billed
        collected += min(item.collected, item.billed)
    return Efficiency(billed, collected, percent(collected, billed))


@dataclass(frozen=True)
class LoanDues:
    """One loan for the overall collection efficiency (paise): principal + interest + fees of its installments due
    up to the period's end, what its payments before the period paid towards them, and in the period."""

    billed_to_end: int
    paid_before: int
    paid_in_period: int

    def __post_init__(self) -> None:
        _paise(self.billed_to_end, "billed_to_end")
        _paise(self.paid_before, "paid_before")
        _paise(self.paid_in_period, "paid_in_period")


def overall_collection_efficiency(loans: Iterable[LoanDues]) -> Efficiency:
    """Overall collection efficiency (see the module docstring): Σ collected ÷ Σ due, where per loan due =
    max(0, billed to the period's end − paid before it) and collected = min(paid in the period, due).
    ``Efficiency.billed`` holds the due. Percent None when nothing was due."""
    due = collected = 0
    for loan in loans:
        owed = max(0, loan.billed_to_end - loan.paid_before)
        due += owed
        collected += min(loan.paid_in_period, owed)
    return Efficiency(due, collected, percent(collected, due))


# --------------------------------------------------------------------------- vintage curves
def months_between(start: date, end: date) -> int:
    """Calendar months from ``start``'s month to ``end``'s month (same month: 0)."""
    return (end.year - start.year) * 12 + end.month - start.month


@dataclass(frozen=True)
class ScheduledDue:
    """One installment for the vintage: due date, principal + interest billed and paid so far (paise), and the IST
    date it was paid in full, penal and fees included (None: not yet)."""

    due: date
    owed: int
    paid: int
    paid_in_full_on: date | None = None

    def __post_init__(self) -> None:
        _paise(self.owed, "owed")
        _paise(self.paid, "paid")


def principal_interest_cleared_on(
    installments: Sequence[ScheduledDue], payments: Iterable[tuple[date, int]]
) -> list[tuple[date, date | None]]:
    """Each installment's due date and the IST date its principal and interest were both paid (None: some still
    unpaid), for ``reached_dpd_on``.

    ``installments`` are the loan's, in order; ``payments`` its successful payments as (IST date, principal +
    interest parts). Payments pay the oldest installment first (the waterfall clears arrears before anything
    newer), so installment *k* was cleared on the first day the loan's running total of principal and interest
    paid reached that of installments 1..*k*. Where the payments do not tell (a payment recorded without its
    parts), the date it was paid in full stands in; an installment with principal or interest still owed is not
    cleared, whatever part of it was paid (RBI IRACP: an amount partly unpaid is overdue)."""
    running: list[tuple[date, int]] = []
    total = 0
    for on, amount in sorted(payments):
        _paise(amount, "payment")
        total += amount
        running.append((on, total))
    out: list[tuple[date, date | None]] = []
    owed_so_far = 0
    for inst in installments:
        owed_so_far += inst.owed
        if inst.paid < inst.owed:
            out.append((inst.due, None))
            continue
        covered = next((on for on, paid in running if paid >= owed_so_far), None)
        candidates = [d for d in (covered, inst.paid_in_full_on) if d is not None]
        out.append((inst.due, min(candidates) if candidates else None))
    return out


def reached_dpd_on(installments: Iterable[tuple[date, date | None]], days: int, as_of: date) -> date | None:
    """The first day-end date at which the loan's DPD went above ``days``, from its installments' due dates and
    the IST dates their principal and interest were cleared (None: not yet; ``principal_interest_cleared_on``);
    None if it has not by the day-end of ``as_of``.

    An installment due on D and unpaid is DPD ``days`` + 1 at the day-end of D + ``days`` (``domain.delinquency``:
    the due date's own day-end is DPD 1), so it got there unless it was cleared on or before D + ``days``."""
    _paise(days, "days")
    first: date | None = None
    for due, paid_on in installments:
        crossed = due + timedelta(days=days)
        if crossed > as_of or (paid_on is not None and paid_on <= crossed):
            continue
        first = crossed if first is None else min(first, crossed)
    return first


@dataclass(frozen=True)
class VintageLoan:
    """A disbursed loan for the vintage curves: disbursal date, principal disbursed (paise), and for each DPD
    threshold the first day-end date at which its DPD went above it (``reached_dpd_on``), or None."""

    disbursed_on: date
    principal: int
    reached: dict[int, date | None]

    def __post_init__(self) -> None:
        _paise(self.principal, "principal")


@dataclass(frozen=True)
class VintagePoint:
    months_on_book: int
    loans: int  # loans of the cohort that had reached DPD above the threshold by the end of this month on book
    principal: int  # their principal disbursed
    percent_principal: Decimal | None
    percent_loans: Decimal | None


@dataclass(frozen=True)
class Cohort:
    month: str  # YYYY-MM of disbursal
    loans: int
    principal: int
    curves: dict[int, list[VintagePoint]]  # DPD threshold → one point per month on book observed


def vintage(loans: Iterable[VintageLoan], as_of: date, thresholds: Sequence[int] = VINTAGE_DAYS) -> list[Cohort]:
    """Vintage curves by disbursal month, oldest cohort first: for each threshold and each month on book from 0
    to the cohort's age at ``as_of``, the cumulative count and principal of its loans whose DPD had gone above the
    threshold by the end of that month (on or before ``as_of``), as shares of the cohort."""
    cohorts: dict[tuple[int, int], list[VintageLoan]] = {}
    for loan in loans:
        if loan.disbursed_on > as_of:
            continue
        cohorts.setdefault((loan.disbursed_on.year, loan.disbursed_on.month), []).append(loan)
    out: list[Cohort] = []
    for (year, month), members in sorted(cohorts.items()):
        start = date(year, month, 1)
        age = months_between(start, as_of)
        total = sum(m.principal for m in members)
        curves: dict[int, list[VintagePoint]] = {}
        for days in thresholds:
            # each member's month on book when it went above ``days`` (by as_of), then running totals
            loans_at = [0] * (age + 1)
            principal_at = [0] * (age + 1)
            for m in members:
                on = m.reached.get(days)
                if on is not None and on <= as_of:
                    mob = max(months_between(start, on), 0)
                    loans_at[mob] += 1
                    principal_at[mob] += m.principal
            points, hit_loans, hit_principal = [], 0, 0
            for mob in range(age + 1):
                hit_loans += loans_at[mob]
                hit_principal += principal_at[mob]
                points.append(
                    VintagePoint(
                        mob,
                        hit_loans,
                        hit_principal,
                        percent(hit_principal, total),
                        percent(hit_loans, len(members)),
                    )
                )
            curves[days] = points
        out.append(Cohort(f"{year:04d}-{month:02d}", len(members), total, curves))
    return out
