"""What a product charges: each upfront fee (``FeeSpec``: flat or a percent of the principal, bounded, GST or
not) and the whole configuration (``ChargeConfig``: upfront fees, the GST rate, the contingent charges the KFS
discloses and the cooling-off period), read from the product's stored JSON by ``charge_config_from_dict``
(amounts in integer paise, percents as strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.charges.common import (
    DEFAULT_COOLING_OFF_DAYS,
    DEFAULT_GST_PERCENT,
    HUNDRED,
    ChargeKind,
    KfsHead,
    _no_float,
    _paise,
    _percent,
    _percent_text,
)
from domain.charges.penal import PenalChargeSpec
from domain.errors import ValidationError
from domain.money import format_inr, round_paise
from domain.product import parse_enum


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
