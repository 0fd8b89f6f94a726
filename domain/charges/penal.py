"""Penal charges for delayed payment (RBI "Fair Lending Practice – Penal Charges in Loan Accounts",
RBI/2023-24/53, 18 August 2023): a charge, never penal interest; flat per occurrence or a percent per annum of
the overdue amount for the days overdue (simple); levied into its own bucket of ``Outstanding``, never
capitalised and never interest-bearing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.charges.common import HUNDRED, PenalBasis, _no_float, _paise, _percent, _percent_text
from domain.errors import ValidationError
from domain.money import format_inr, round_paise
from domain.product import parse_enum


@dataclass(frozen=True)
class PenalChargeSpec:
    """A product's penal charge for delayed payment (RBI, 18 August 2023: a charge, not penal interest).

    FLAT_PER_OCCURRENCE: ``flat`` paise once per overdue installment (occurrence), whatever the days.
    PERCENT_PER_ANNUM: ``annual_percent`` of the overdue amount for the days overdue, simple (never
    compounded), ``overdue × annual_percent/100 × days / days_in_year`` rounded half-up to the paisa.
    ``cap`` (paise) optionally limits one levy.
    """

    basis: PenalBasis
    flat: int = 0
    annual_percent: Decimal = Decimal(0)
    days_in_year: int = 365
    cap: int | None = None

    def __post_init__(self) -> None:
        basis = parse_enum(PenalBasis, self.basis, "basis")
        object.__setattr__(self, "basis", basis)
        _paise(self.flat, "flat")
        object.__setattr__(self, "annual_percent", _percent(self.annual_percent, "annual_percent"))
        if isinstance(self.days_in_year, bool) or self.days_in_year not in (360, 364, 365, 366):
            raise ValidationError("days in year must be 360, 364, 365 or 366", field="days_in_year")
        if self.cap is not None:
            _paise(self.cap, "cap")
        if basis == PenalBasis.FLAT_PER_OCCURRENCE and self.flat == 0:
            raise ValidationError("a flat penal charge needs an amount", field="flat")
        if basis == PenalBasis.PERCENT_PER_ANNUM and self.annual_percent == 0:
            raise ValidationError("a percent penal charge needs a rate", field="annual_percent")

    @classmethod
    def flat_per_occurrence(cls, amount: int, *, cap: int | None = None) -> PenalChargeSpec:
        return cls(basis=PenalBasis.FLAT_PER_OCCURRENCE, flat=amount, cap=cap)

    @classmethod
    def percent_per_annum(cls, percent: Decimal, *, days_in_year: int = 365, cap: int | None = None) -> PenalChargeSpec:
        return cls(basis=PenalBasis.PERCENT_PER_ANNUM, annual_percent=percent, days_in_year=days_in_year, cap=cap)

    def describe(self) -> str:
        if self.basis == PenalBasis.FLAT_PER_OCCURRENCE:
            text = f"{format_inr(self.flat)} per instance of delayed payment"
        else:
            text = f"{_percent_text(self.annual_percent)} per annum on the overdue amount for the days overdue"
        if self.cap is not None:
            text += f", at most {format_inr(self.cap)} per instance"
        return text + " (a charge: not capitalised, no interest on it)"


def penal_charge(spec: PenalChargeSpec, overdue_amount: int, days_overdue: int) -> int:
    """The penal charge in paise for one overdue installment.

    ``overdue_amount`` is the overdue installment (principal + interest) in paise and must exclude any
    penal charge already levied: RBI's circular of 18 August 2023 forbids capitalising penal charges or
    computing further interest on them. Nothing is charged when ``days_overdue`` is 0 or nothing is overdue.
    FLAT_PER_OCCURRENCE charges ``spec.flat`` once; PERCENT_PER_ANNUM charges
    overdue × annual_percent / 100 × days_overdue / days_in_year, simple, rounded half-up to the paisa.
    ``spec.cap`` bounds the result. The charge is a separate receivable (``Outstanding.penal``); it never
    changes the principal or the interest-bearing balance.
    """
    if not isinstance(spec, PenalChargeSpec):
        raise ValidationError("spec must be a PenalChargeSpec", field="spec")
    overdue_amount = _paise(overdue_amount, "overdue_amount")
    _no_float(days_overdue, "days_overdue")
    if isinstance(days_overdue, bool) or not isinstance(days_overdue, int) or days_overdue < 0:
        raise ValidationError("days overdue must be a whole number, not negative", field="days_overdue")
    if days_overdue == 0 or overdue_amount == 0:
        return 0
    if spec.basis == PenalBasis.FLAT_PER_OCCURRENCE:
        amount = spec.flat
    else:
        amount = round_paise(
            Decimal(overdue_amount) * spec.annual_percent * days_overdue / (HUNDRED * spec.days_in_year)
        )
    if spec.cap is not None:
        amount = min(amount, spec.cap)
    return amount


@dataclass(frozen=True)
class Outstanding:
    """What a borrower owes, kept in separate buckets (paise). Interest accrues on ``principal`` only;
    penal charges sit in their own bucket and are never capitalised (RBI, 18 August 2023)."""

    principal: int
    interest: int = 0
    fees: int = 0
    penal: int = 0

    def __post_init__(self) -> None:
        for name in ("principal", "interest", "fees", "penal"):
            _paise(getattr(self, name), name)

    @property
    def interest_bearing(self) -> int:
        """The balance interest is computed on: principal only (no interest on interest or charges)."""
        return self.principal

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penal

    def with_penal_charge(self, amount: int) -> Outstanding:
        """The same balances plus a penal charge, in the penal bucket only."""
        amount = _paise(amount, "amount")
        return Outstanding(self.principal, self.interest, self.fees, self.penal + amount)


def levy_penal_charges(
    outstanding: Outstanding, spec: PenalChargeSpec, overdue: Iterable[tuple[int, int]]
) -> Outstanding:
    """Levy the penal charge for each ``(overdue_amount, days_overdue)`` installment onto ``outstanding``.
    Each charge is computed on its overdue installment only, never on earlier penal charges."""
    for overdue_amount, days in overdue:
        outstanding = outstanding.with_penal_charge(penal_charge(spec, overdue_amount, days))
    return outstanding
