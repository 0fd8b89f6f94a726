"""Loan charges: upfront fees and GST, pass-through (third-party) charges, penal charges, cooling-off exit.

Money is integer paise at every boundary; percentages are ``Decimal`` percents (``Decimal("2")`` is 2%).
A float anywhere in money code raises ``TypeError``; a bad value raises ``ValidationError`` naming the field.

Sources and conventions
-----------------------
* Upfront charges and the net disbursed amount follow RBI's "Key Facts Statement (KFS) for Loans &
  Advances" (RBI/2024-25/18, DOR.STR.REC.13/13.03.00/2024-25, 15 April 2024): Annex A part 1 item 8 splits
  fees/charges into those *payable to the RE* (A) and those *payable to a third party through the RE* (B)
  (processing fees, insurance charges, valuation fees, any other); Annex B row 7 defines the net disbursed
  amount as the sanctioned amount minus all fees/charges (A and B). Para 7 of the circular: charges
  recovered on behalf of third parties (insurance, legal charges …) on actual basis are also part of the APR.
* GST: lender fees (processing, documentation …) are taxable financial services, 18% by default
  (configurable). GST is shown as its own line per taxable fee, computed on that fee and rounded half-up
  to the paisa (one line per fee, as a tax invoice does). Third-party charges are passed through at the
  amount the third party bills: the lender adds no GST to them. The KFS allows fees to be *disclosed* net
  of GST, but the GST is still deducted from the disbursal, so it is part of the deductions here.
* Penal charges follow RBI's "Fair Lending Practice – Penal Charges in Loan Accounts"
  (RBI/2023-24/53, DoR.MCS.REC.28/01.01.001/2023-24, 18 August 2023, in force for new loans from
  1 April 2024): a penalty for non-compliance is a *penal charge*, never *penal interest* added to the rate
  of interest; there is no capitalisation of penal charges and no further interest is computed on them;
  the quantum must be reasonable and disclosed in the KFS. Here a product configures either a flat amount
  per occurrence or a percent per annum of the overdue amount for the days overdue (simple, never
  compounded); the result is a separate receivable (see ``Outstanding``) that never joins the principal.
  No GST is added to penal charges (treated as a penalty, not consideration for a supply).
* Cooling-off (look-up) exit follows RBI's digital lending rules ("Guidelines on Digital Lending",
  2 September 2022, para 6; carried into the RBI (Digital Lending) Directions, 2025): during the cooling-off
  period the borrower may exit by paying the principal and the proportionate APR, without any penalty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import ValidationError
from domain.money import format_inr, round_paise
from domain.product import parse_enum

HUNDRED = Decimal(100)
DEFAULT_GST_PERCENT = Decimal("18")
DEFAULT_COOLING_OFF_DAYS = 3  # meets both the 2022 guidelines (3 days for tenor ≥ 7 days) and the 2025 minimum


class ChargeKind(StrEnum):
    """Who a charge line is for. GST lines are derived; a configured fee cannot be of kind GST."""

    LENDER_FEE = "LENDER_FEE"  # payable to the RE, GST applies by default (processing, documentation fee)
    GST = "GST"  # tax on a lender fee, its own line
    THIRD_PARTY = "THIRD_PARTY"  # collected by the RE for a third party at actuals (insurance): no lender GST
    OTHER = "OTHER"  # anything else payable to the RE (e.g. stamp duty at actuals); GST only if configured


class KfsHead(StrEnum):
    """The KFS Annex A part 1 item 8 row a charge is shown under."""

    PROCESSING_FEE = "PROCESSING_FEE"
    INSURANCE = "INSURANCE"
    VALUATION_FEE = "VALUATION_FEE"
    OTHER = "OTHER"


class PenalBasis(StrEnum):
    FLAT_PER_OCCURRENCE = "FLAT_PER_OCCURRENCE"
    PERCENT_PER_ANNUM = "PERCENT_PER_ANNUM"


# ------------------------------------------------------------------------------------------ checks
def _no_float(value: object, field_name: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{field_name}: float is not allowed in money code, use int paise or Decimal")


def _paise(value: object, field_name: str, *, positive: bool = False) -> int:
    _no_float(value, field_name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field_name)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field_name)
    return value


def _percent(value: object, field_name: str, *, maximum: Decimal = HUNDRED) -> Decimal:
    _no_float(value, field_name)
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("must be a Decimal percent", field=field_name)
    try:
        pct = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"not a decimal percent: {value!r}", field=field_name) from exc
    if not pct.is_finite() or not Decimal(0) <= pct <= maximum:
        raise ValidationError(f"must be between 0 and {maximum} percent", field=field_name)
    return pct


def _percent_text(pct: Decimal) -> str:
    return f"{pct.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


# ----------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class FeeSpec:
    """One configured upfront charge, deducted from the disbursal.

    Exactly one of ``flat`` (paise) or ``percent`` (Decimal percent of the sanctioned principal) is set.
    ``minimum``/``maximum`` (paise) bound a percent fee ("2%, minimum ₹500, maximum ₹5,000").
    ``gst_applicable`` defaults to True for LENDER_FEE and False otherwise; it cannot be True for a
    THIRD_PARTY charge (the lender passes those through without adding GST).
    """

    name: str
    kind: ChargeKind = ChargeKind.LENDER_FEE
    flat: int | None = None
    percent: Decimal | None = None
    minimum: int | None = None
    maximum: int | None = None
    gst_applicable: bool | None = None
    kfs_head: KfsHead = KfsHead.OTHER

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("a charge needs a name", field="name")
        kind = parse_enum(ChargeKind, self.kind, "kind")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "kfs_head", parse_enum(KfsHead, self.kfs_head, "kfs_head"))
        if kind == ChargeKind.GST:
            raise ValidationError("GST is derived from lender fees, it cannot be configured as a fee", field="kind")
        if (self.flat is None) == (self.percent is None):
            raise ValidationError("set exactly one of a flat amount or a percent of principal", field="flat")
        if self.flat is not None:
            _paise(self.flat, "flat")
        if self.percent is not None:
            object.__setattr__(self, "percent", _percent(self.percent, "percent"))
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is not None:
                _paise(value, name)
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValidationError("minimum is above maximum", field="minimum")
        if self.gst_applicable is None:
            object.__setattr__(self, "gst_applicable", kind == ChargeKind.LENDER_FEE)
        elif not isinstance(self.gst_applicable, bool):
            raise ValidationError("must be true or false", field="gst_applicable")
        if kind == ChargeKind.THIRD_PARTY and self.gst_applicable:
            raise ValidationError("the lender adds no GST to a third-party charge", field="gst_applicable")

    @classmethod
    def processing_fee(
        cls,
        *,
        flat: int | None = None,
        percent: Decimal | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        name: str = "Processing fee",
    ) -> FeeSpec:
        """A lender processing fee (GST applies), flat paise or percent of principal."""
        return cls(
            name=name,
            kind=ChargeKind.LENDER_FEE,
            flat=flat,
            percent=percent,
            minimum=minimum,
            maximum=maximum,
            kfs_head=KfsHead.PROCESSING_FEE,
        )

    @classmethod
    def insurance(
        cls, *, flat: int | None = None, percent: Decimal | None = None, name: str = "Insurance premium"
    ) -> FeeSpec:
        """An insurance premium collected for the insurer at actuals (third party, no lender GST)."""
        return cls(name=name, kind=ChargeKind.THIRD_PARTY, flat=flat, percent=percent, kfs_head=KfsHead.INSURANCE)

    def amount_for(self, principal: int) -> int:
        """The fee in paise for ``principal``: flat as configured, or principal × percent / 100 rounded
        half-up to the paisa, then held within ``minimum``/``maximum``."""
        principal = _paise(principal, "principal", positive=True)
        if self.flat is not None:
            return self.flat
        assert self.percent is not None
        amount = round_paise(Decimal(principal) * self.percent / HUNDRED)
        if self.minimum is not None:
            amount = max(amount, self.minimum)
        if self.maximum is not None:
            amount = min(amount, self.maximum)
        return amount

    def describe(self) -> str:
        if self.flat is not None:
            return format_inr(self.flat)
        assert self.percent is not None
        text = f"{_percent_text(self.percent)} of the loan amount"
        if self.minimum is not None:
            text += f", minimum {format_inr(self.minimum)}"
        if self.maximum is not None:
            text += f", maximum {format_inr(self.maximum)}"
        return text


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


@dataclass(frozen=True)
class ChargeConfig:
    """Everything a product charges: upfront fees (deducted at disbursal), GST rate on lender fees, and
    the contingent charges the KFS discloses (penal, bounce, foreclosure, switching, other)."""

    upfront: tuple[FeeSpec, ...] = ()
    gst_percent: Decimal = DEFAULT_GST_PERCENT
    penal: PenalChargeSpec | None = None
    other_penal: str | None = None  # other penal charges, as text for the KFS
    bounce_charge: int = 0  # paise per dishonoured instrument / mandate
    foreclosure_percent: Decimal | None = None  # percent of principal outstanding; None = not applicable
    switching_charges: str | None = None  # floating ↔ fixed switch, as text
    other_contingent: tuple[str, ...] = ()
    cooling_off_days: int = DEFAULT_COOLING_OFF_DAYS

    def __post_init__(self) -> None:
        upfront = tuple(self.upfront)
        for fee in upfront:
            if not isinstance(fee, FeeSpec):
                raise ValidationError("each upfront charge must be a FeeSpec", field="upfront")
        names = [f.name for f in upfront]
        if len(set(names)) != len(names):
            raise ValidationError("upfront charge names must be unique", field="upfront")
        object.__setattr__(self, "upfront", upfront)
        object.__setattr__(self, "gst_percent", _percent(self.gst_percent, "gst_percent"))
        if self.penal is not None and not isinstance(self.penal, PenalChargeSpec):
            raise ValidationError("penal must be a PenalChargeSpec", field="penal")
        _paise(self.bounce_charge, "bounce_charge")
        if self.foreclosure_percent is not None:
            object.__setattr__(self, "foreclosure_percent", _percent(self.foreclosure_percent, "foreclosure_percent"))
        _no_float(self.cooling_off_days, "cooling_off_days")
        if (
            isinstance(self.cooling_off_days, bool)
            or not isinstance(self.cooling_off_days, int)
            or self.cooling_off_days < 1
        ):
            raise ValidationError("cooling-off period must be at least one day", field="cooling_off_days")
        object.__setattr__(self, "other_contingent", tuple(self.other_contingent))


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ChargeLine:
    name: str
    kind: ChargeKind
    amount: int  # paise
    kfs_head: KfsHead = KfsHead.OTHER
    basis: str = ""  # how it was computed, for the KFS ("2.00% of the loan amount", "18.00% on Processing fee")
    applies_to: str | None = None  # for a GST line: the fee it is levied on

    @property
    def payable_to_third_party(self) -> bool:
        return self.kind == ChargeKind.THIRD_PARTY


@dataclass(frozen=True)
class UpfrontCharges:
    """The upfront charge lines for one sanctioned principal. ``net_disbursed + total_deductions ==
    principal`` always (RBI KFS Annex B row 7)."""

    principal: int
    lines: tuple[ChargeLine, ...]
    gst_percent: Decimal = DEFAULT_GST_PERCENT

    def _sum(self, *kinds: ChargeKind) -> int:
        return sum(line.amount for line in self.lines if line.kind in kinds)

    @property
    def lender_fees(self) -> int:
        return self._sum(ChargeKind.LENDER_FEE)

    @property
    def gst(self) -> int:
        return self._sum(ChargeKind.GST)

    @property
    def third_party(self) -> int:
        return self._sum(ChargeKind.THIRD_PARTY)

    @property
    def other(self) -> int:
        return self._sum(ChargeKind.OTHER)

    @property
    def payable_to_re(self) -> int:
        """KFS item 8(A): lender fees, their GST and other charges collected by the RE."""
        return self._sum(ChargeKind.LENDER_FEE, ChargeKind.GST, ChargeKind.OTHER)

    @property
    def payable_to_third_party(self) -> int:
        """KFS item 8(B): charges paid to a third party through the RE."""
        return self.third_party

    @property
    def total_deductions(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def net_disbursed(self) -> int:
        return self.principal - self.total_deductions

    def by_head(self, head: KfsHead) -> int:
        """Total of the non-GST lines shown under one KFS item 8 row."""
        return sum(line.amount for line in self.lines if line.kfs_head == head and line.kind != ChargeKind.GST)


def compute_upfront_charges(principal: int, config: ChargeConfig) -> UpfrontCharges:
    """Upfront charge lines for a sanctioned ``principal`` (paise) under ``config``.

    Convention: each fee in configuration order; a percent fee is principal × percent / 100 rounded
    half-up to the paisa (then clamped to its minimum/maximum); each GST-able fee is followed by its own GST
    line, fee × gst_percent / 100 rounded half-up to the paisa. Third-party charges are passed through as
    configured with no GST. The net disbursed amount is the principal minus every line (RBI KFS circular,
    15 April 2024, Annex B row 7); it must stay positive.
    """
    principal = _paise(principal, "principal", positive=True)
    if not isinstance(config, ChargeConfig):
        raise ValidationError("config must be a ChargeConfig", field="config")
    lines: list[ChargeLine] = []
    for fee in config.upfront:
        amount = fee.amount_for(principal)
        lines.append(ChargeLine(fee.name, fee.kind, amount, fee.kfs_head, fee.describe()))
        if fee.gst_applicable and config.gst_percent > 0:
            gst = round_paise(Decimal(amount) * config.gst_percent / HUNDRED)
            lines.append(
                ChargeLine(
                    f"GST on {fee.name}",
                    ChargeKind.GST,
                    gst,
                    fee.kfs_head,
                    f"{_percent_text(config.gst_percent)} on {fee.name}",
                    applies_to=fee.name,
                )
            )
    result = UpfrontCharges(principal, tuple(lines), config.gst_percent)
    if result.net_disbursed <= 0:
        raise ValidationError("upfront charges leave nothing to disburse", field="upfront")
    return result


# ------------------------------------------------------------------------------------ penal charges
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


# ------------------------------------------------------------------------------------- cooling off
def cooling_off_exit_amount(
    principal: int,
    apr_percent: Decimal,
    days_held: int,
    days_in_year: int = 365,
    *,
    cooling_off_days: int | None = None,
) -> int:
    """What a borrower pays to exit a digital loan during the cooling-off (look-up) period, in paise.

    RBI Guidelines on Digital Lending (2 September 2022, para 6; retained in the RBI (Digital Lending)
    Directions, 2025): the borrower may exit "by paying the principal and the proportionate APR without any
    penalty". Convention: principal + principal × apr_percent / 100 × days_held / days_in_year, simple
    interest on actual days held (disbursal date to exit date, ``(exit - disbursed).days``), the APR part
    rounded half-up to the paisa; no foreclosure or other penalty is added. ``principal`` is the amount to
    be returned: the circular says "principal"; pass the net disbursed amount instead if the product
    refunds the upfront charges on exit. If ``cooling_off_days`` is given, an exit after it is refused.
    """
    principal = _paise(principal, "principal", positive=True)
    apr = _percent(apr_percent, "apr_percent", maximum=Decimal(10_000))
    _no_float(days_held, "days_held")
    if isinstance(days_held, bool) or not isinstance(days_held, int) or days_held < 0:
        raise ValidationError("days held must be a whole number, not negative", field="days_held")
    if isinstance(days_in_year, bool) or days_in_year not in (360, 364, 365, 366):
        raise ValidationError("days in year must be 360, 364, 365 or 366", field="days_in_year")
    if cooling_off_days is not None and days_held > cooling_off_days:
        raise ValidationError("the cooling-off period is over", field="days_held")
    return principal + round_paise(Decimal(principal) * apr * days_held / (HUNDRED * days_in_year))


__all__ = [
    "ChargeConfig",
    "ChargeKind",
    "ChargeLine",
    "DEFAULT_COOLING_OFF_DAYS",
    "DEFAULT_GST_PERCENT",
    "FeeSpec",
    "KfsHead",
    "Outstanding",
    "PenalBasis",
    "PenalChargeSpec",
    "UpfrontCharges",
    "compute_upfront_charges",
    "cooling_off_exit_amount",
    "levy_penal_charges",
    "penal_charge",
]


def _decimal_field(value: object, field_name: str) -> Decimal:
    """A percent from configuration JSON: a string or an int (a JSON float is read via its shortest repr)."""
    if isinstance(value, bool):
        raise ValidationError("must be a number", field=field_name)
    try:
        return Decimal(str(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except Exception as exc:  # decimal.InvalidOperation, TypeError
        raise ValidationError(f"not a number: {value!r}", field=field_name) from exc


def charge_config_from_dict(data: dict | None) -> ChargeConfig:
    """A product's charge configuration as stored (JSON): amounts in integer paise, percents as strings.

    ``{"upfront": [{"name": "Processing fee", "kind": "LENDER_FEE", "percent": "2", "minimum": 50000,
    "kfs_head": "PROCESSING_FEE"}, {"name": "Insurance", "kind": "THIRD_PARTY", "flat": 120000}],
    "gst_percent": "18", "penal": {"basis": "PERCENT_PER_ANNUM", "annual_percent": "24"},
    "bounce_charge": 50000, "foreclosure_percent": "2", "cooling_off_days": 3}``
    """
    data = dict(data or {})
    known = {
        "upfront",
        "gst_percent",
        "penal",
        "other_penal",
        "bounce_charge",
        "foreclosure_percent",
        "switching_charges",
        "other_contingent",
        "cooling_off_days",
    }
    unknown = set(data) - known
    if unknown:
        raise ValidationError(f"unknown charge settings: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    upfront = []
    for i, raw in enumerate(data.get("upfront") or []):
        if not isinstance(raw, dict):
            raise ValidationError("each upfront charge is an object", field=f"upfront.{i}")
        spec = dict(raw)
        if spec.get("percent") is not None:
            spec["percent"] = _decimal_field(spec["percent"], f"upfront.{i}.percent")
        try:
            upfront.append(FeeSpec(**spec))
        except TypeError as exc:
            raise ValidationError(f"bad upfront charge: {exc}", field=f"upfront.{i}") from exc
    penal = None
    if data.get("penal"):
        raw = dict(data["penal"])
        if "annual_percent" in raw:
            raw["annual_percent"] = _decimal_field(raw["annual_percent"], "penal.annual_percent")
        try:
            penal = PenalChargeSpec(**raw)
        except TypeError as exc:
            raise ValidationError(f"bad penal charge: {exc}", field="penal") from exc
    kwargs: dict = {"upfront": tuple(upfront), "penal": penal}
    for name in ("gst_percent", "foreclosure_percent"):
        if data.get(name) is not None:
            kwargs[name] = _decimal_field(data[name], name)
    for name in ("other_penal", "bounce_charge", "switching_charges", "cooling_off_days"):
        if data.get(name) is not None:
            kwargs[name] = data[name]
    if data.get("other_contingent"):
        kwargs["other_contingent"] = tuple(data["other_contingent"])
    return ChargeConfig(**kwargs)
