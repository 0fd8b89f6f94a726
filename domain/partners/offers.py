"""The offer engine: what one partner lender would lend on one application, priced by that partner.

Each offer is the loan's own schedule shape (repayment frequency, interest method, holidays: ``domain.product``)
at the partner's rate, the partner's processing fee and its GST (``domain.charges``), the product's pass-through
charges unchanged, and the APR of those flows (``domain.apr``, RBI KFS circular of 15 April 2024, Annex B). Money
is integer paise, rates in basis points (1 bp = 0.01 % a year), the APR a percent with 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain.apr import apr
from domain.charges import (
    ChargeConfig,
    ChargeKind,
    ChargeLine,
    FeeSpec,
    KfsHead,
    UpfrontCharges,
    compute_upfront_charges,
)
from domain.errors import ValidationError
from domain.product import LoanTerms
from domain.schedule import generate

MAX_RATE_BPS = 5_000  # 50 % a year: a partner's rate above this is a typing error, not a price
MAX_FEE_BPS = 1_000  # 10 % of the principal


@dataclass(frozen=True)
class PartnerPricing:
    """A partner's price: ``annual_rate_bps`` (nominal, basis points a year), the processing fee as
    ``processing_fee_bps`` of the principal within ``processing_fee_min``/``processing_fee_max`` (paise; max None:
    no cap), GST on it at ``gst_percent`` (18 by default). ValidationError naming the field (camelCase, as the
    API sends it) for a value out of range."""

    annual_rate_bps: int
    processing_fee_bps: int = 0
    processing_fee_min: int = 0
    processing_fee_max: int | None = None
    gst_percent: Decimal = Decimal("18")

    def __post_init__(self) -> None:
        for name, top in (("annual_rate_bps", MAX_RATE_BPS), ("processing_fee_bps", MAX_FEE_BPS)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ValidationError(f"must be a whole number of basis points from 0 to {top}", field=_camel(name))
        for name in ("processing_fee_min", "processing_fee_max"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValidationError("must be a whole number of paise, 0 or more", field=_camel(name))
        if self.processing_fee_max is not None and self.processing_fee_min > self.processing_fee_max:
            raise ValidationError("minimum fee is above the maximum", field="processingFeeMin")
        gst = Decimal(str(self.gst_percent))
        if not gst.is_finite() or not Decimal(0) <= gst <= Decimal(28):
            raise ValidationError("must be a percent from 0 to 28", field="gstPercent")
        object.__setattr__(self, "gst_percent", gst)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> PartnerPricing:
        """From the stored shape (snake_case keys; ``gst_percent`` a string)."""
        return cls(
            annual_rate_bps=data.get("annual_rate_bps"),  # type: ignore[arg-type]
            processing_fee_bps=data.get("processing_fee_bps", 0),
            processing_fee_min=data.get("processing_fee_min", 0),
            processing_fee_max=data.get("processing_fee_max"),
            gst_percent=Decimal(str(data.get("gst_percent", "18"))),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "annual_rate_bps": self.annual_rate_bps,
            "processing_fee_bps": self.processing_fee_bps,
            "processing_fee_min": self.processing_fee_min,
            "processing_fee_max": self.processing_fee_max,
            "gst_percent": str(self.gst_percent),
        }


@dataclass(frozen=True)
class Offer:
    """One partner's offer: ``amount`` (paise) over ``tenure`` installments at ``annual_rate_bps``; the regular
    installment ``emi``, ``total_interest``, the partner's ``fees`` and their ``gst``, the pass-through
    ``third_party`` total, ``net_disbursed`` (amount minus every deduction), ``total_payable`` (principal,
    interest and installment fees) and ``apr`` (percent, 2 decimals)."""

    amount: int
    tenure: int
    annual_rate_bps: int
    emi: int
    total_interest: int
    fees: int
    gst: int
    third_party: int
    net_disbursed: int
    total_payable: int
    apr: Decimal


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def compute_offer(pricing: PartnerPricing, terms: LoanTerms, third_party: Mapping[str, int] | None = None) -> Offer:
    """The partner's offer on ``terms`` (the loan's own schedule shape; its rate is replaced by the partner's).

    The processing fee is ``amount × processing_fee_bps / 10 000`` rounded half-up to the paisa, then held within
    the minimum and maximum, followed by its GST line (``domain.charges.compute_upfront_charges``); each
    ``third_party`` charge (name → paise) is passed through without GST. ValidationError when the deductions leave
    nothing to disburse."""
    schedule = generate(replace(terms, annual_rate=Decimal(pricing.annual_rate_bps) / 100))
    fees: list[FeeSpec] = []
    if pricing.processing_fee_bps or pricing.processing_fee_min:
        fees.append(
            FeeSpec.processing_fee(
                percent=Decimal(pricing.processing_fee_bps) / 100,
                minimum=pricing.processing_fee_min or None,
                maximum=pricing.processing_fee_max,
            )
        )
    for name, amount in sorted((third_party or {}).items()):
        if amount:
            fees.append(FeeSpec(name=name, kind=ChargeKind.THIRD_PARTY, flat=amount, kfs_head=KfsHead.OTHER))
    try:
        charges = compute_upfront_charges(
            terms.principal, ChargeConfig(upfront=tuple(fees), gst_percent=pricing.gst_percent)
        )
    except ValidationError as exc:
        raise ValidationError(f"the partner's fees do not fit this loan: {exc.message}", field="pricing") from exc
    if charges.net_disbursed <= 0:
        raise ValidationError("the partner's fees leave nothing to disburse", field="pricing")
    return Offer(
        amount=terms.principal,
        tenure=terms.installments,
        annual_rate_bps=pricing.annual_rate_bps,
        emi=schedule.emi,
        total_interest=schedule.total_interest,
        fees=charges.lender_fees,
        gst=charges.gst,
        third_party=charges.third_party,
        net_disbursed=charges.net_disbursed,
        total_payable=schedule.total_due,
        apr=apr(schedule, charges),
    )


def offer_charges(
    principal: int,
    fees: int,
    gst: int,
    *,
    lender: str,
    third_party: Sequence[ChargeLine] = (),
    third_party_total: int | None = None,
    gst_percent: Decimal = Decimal("18"),
) -> UpfrontCharges:
    """The upfront charge lines of a loan booked on a partner's offer, for its KFS (RBI KFS circular of 15 April
    2024, Annex A part 1 item 8 and Annex B) and its disbursal: the partner's processing fee ``fees`` (paise, KFS head
    *processing fees*), its GST ``gst`` (paise) on its own line, then the pass-through ``third_party`` lines as the
    product named them. ``third_party_total``: the offer's pass-through total; when the lines given do not sum to it
    they are replaced by one "Third-party charges" line of that total, so the lines always sum to the offer's
    deductions and ``net_disbursed`` is the offer's. ValidationError when nothing would be left to disburse."""
    name = f"Processing fee ({lender})"
    lines: list[ChargeLine] = []
    if fees:
        lines.append(ChargeLine(name, ChargeKind.LENDER_FEE, fees, KfsHead.PROCESSING_FEE, f"as offered by {lender}"))
    if gst:
        lines.append(
            ChargeLine(f"GST on {name}", ChargeKind.GST, gst, KfsHead.PROCESSING_FEE,
                       f"{gst_percent.normalize():f}% on {name}", applies_to=name)
        )  # fmt: skip
    passed = [line for line in third_party if line.kind == ChargeKind.THIRD_PARTY and line.amount]
    if third_party_total is not None and sum(line.amount for line in passed) != third_party_total:
        passed = [ChargeLine("Third-party charges", ChargeKind.THIRD_PARTY, third_party_total, KfsHead.OTHER)]
    lines.extend(line for line in passed if line.amount)
    charges = UpfrontCharges(principal, tuple(lines), Decimal(gst_percent))
    if charges.net_disbursed <= 0:
        raise ValidationError("the partner's fees leave nothing to disburse", field="pricing")
    return charges


def stored_lines(charges: UpfrontCharges) -> list[dict[str, str]]:
    """Charge lines as a loan row stores them (``loans.upfront_charges``): name, kind, rupee amount (2 decimals),
    basis."""
    return [
        {"name": line.name, "kind": str(line.kind), "amount": f"{line.amount // 100}.{line.amount % 100:02d}",
         "basis": line.basis}
        for line in charges.lines
    ]  # fmt: skip
