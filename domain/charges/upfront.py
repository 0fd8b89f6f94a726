"""Upfront charges for one sanctioned principal: each fee's line, its GST on its own line, and the net disbursed
amount (RBI KFS circular of 15 April 2024, Annex A part 1 item 8 and Annex B row 7: the sanctioned amount minus
every fee and charge, those payable to the RE and those payable to a third party through it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.charges.common import DEFAULT_GST_PERCENT, HUNDRED, ChargeKind, KfsHead, _paise, _percent_text
from domain.charges.config import ChargeConfig
from domain.errors import ValidationError
from domain.money import round_paise


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
