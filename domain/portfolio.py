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
  ratio is at most 100 %. The *overall* efficiency (all collections ÷ billing plus opening arrears) needs the
  arrears as they stood at the period's start, which the schedule no longer holds once paid; it is not computed.
* **PAR X** (portfolio at risk, CGAP / MIX definition): the principal outstanding of loans with DPD above X (one
  or more installments more than X days past due) ÷ AUM; PAR 30, PAR 60 and PAR 90 use X = 30, 60, 90. DPD as
  ``domain.delinquency`` counts it (RBI IRACP day-end convention).
* **GNPA %** (RBI, IRACP master circular: gross NPAs ÷ gross advances): the principal outstanding of loans
  classified NPA ÷ AUM. An NPA stays NPA until all its arrears are paid (``domain.delinquency.classify``), so it
  can differ from PAR 90 (an NPA whose DPD fell, or a restructured loan held NPA).
* **Vintage curve** (static-pool analysis, as in the Basel II / rating agencies' ABS methodology): loans grouped by
  the calendar month of disbursal (the cohort); for each month on book *m* (0 in the disbursal month), the share
  of the cohort's disbursed principal (and of its loans) that had reached DPD above 30 (or above 90) by the end of
  month *m*. Cumulative ("ever 30+"), so each curve never falls; a month not yet reached is left out.

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


# --------------------------------------------------------------------------- vintage curves
def months_between(start: date, end: date) -> int:
    """Calendar months from ``start``'s month to ``end``'s month (same month: 0)."""
    return (end.year - start.year) * 12 + end.month - start.month


def reached_dpd_on(installments: Iterable[tuple[date, date | None]], days: int, as_of: date) -> date | None:
    """The first day-end date at which the loan's DPD went above ``days``, from its installments' due dates and
    the IST dates they were paid in full (None: unpaid); None if it has not by the day-end of ``as_of``.

    An installment due on D and unpaid is DPD ``days`` + 1 at the day-end of D + ``days`` (``domain.delinquency``:
    the due date's own day-end is DPD 1), so it got there unless it was paid on or before D + ``days``. Part
    payments are not dated, so an installment counts as unpaid until it is paid in full."""
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
