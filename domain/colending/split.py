"""The co-lending split: a co-lent loan's principal, interest, fees and penal charges divided between the
originating brand and its partner lender, to the paisa.

Rules followed (docs/co-lending.md):

- RBI (Co-Lending Arrangements) Directions, 2025 (6 August 2025, in force from 1 January 2026): each lender retains
  at least 10 % of each co-lent loan on its books, the borrower is charged one blended rate, and the sharing of
  fees and charges is set in the arrangement. The earlier Co-Lending Model for priority-sector lending (RBI circular
  FIDD.CO.Plan.BC.No.8/04.09.01/2020-21, 5 November 2020) asked the NBFC to keep at least 20 %. An agreement's
  ``min_originator_share_bps`` is the floor it follows (default 1,000 bps = the 2025 directions' 10 %; 2,000 for CLM).
- **Principal** is split by the partner's share of the principal (basis points of 10,000).
- **Interest** is each lender's own rate on its share of the outstanding: with the principal split by share, the
  partner's part of any period's interest is ``share × partner rate ÷ blended rate`` of it, the same fraction every
  period, so one cumulative split over the loan's life is exact.
- **Fees and penal charges** go by the agreement's rule per component: ``SHARE`` (by principal share),
  ``ORIGINATOR`` or ``PARTNER`` (all of it).
- **Rounding** is largest-remainder (Hamilton) on the *cumulative* amount of each component: a payment's part for a
  lender is its share of everything collected so far minus its share of what was collected before. Each payment's
  parts sum to the payment's figure, no part is negative, and once a component is fully collected each lender holds
  exactly its share of the loan's figure; ties go to the originator.

Money is integer paise, rates and shares basis points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from domain.errors import ValidationError

BPS = 10_000
COMPONENTS = ("principal", "interest", "fees", "penal")
CLM_2020_MIN_ORIGINATOR_BPS = 2_000  # RBI CLM circular, 5 Nov 2020: the NBFC keeps at least 20 %
CLA_2025_MIN_ORIGINATOR_BPS = 1_000  # RBI Co-Lending Arrangements Directions 2025: each lender keeps at least 10 %


class Rule(StrEnum):
    """Who a component of a payment (fees, penal charges) belongs to: by principal ``SHARE``, or all of it to the
    ``ORIGINATOR`` or the ``PARTNER``."""

    SHARE = "SHARE"
    ORIGINATOR = "ORIGINATOR"
    PARTNER = "PARTNER"


def largest_remainder(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """``total`` paise divided in proportion to ``weights`` (non-negative, not all zero) by the largest-remainder
    method: each gets the floor of its exact quota, the paise left go to the largest remainders, ties to the
    earlier weight. The parts sum to ``total``. ValueError for a negative total, negative or all-zero weights."""
    if total < 0:
        raise ValueError("total cannot be negative")
    ws = [Fraction(w) for w in weights]
    if any(w < 0 for w in ws) or not any(ws):
        raise ValueError("weights must be non-negative and not all zero")
    whole = sum(ws)
    quotas = [total * w / whole for w in ws]
    parts = [q.numerator // q.denominator for q in quotas]
    left = total - sum(parts)
    order = sorted(range(len(ws)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Agreement:
    """A brand's co-lending agreement with one partner: the partner's share of the principal (bps), the partner's
    rate on its share (bps a year), who gets fees and penal charges (:class:`Rule`) and the originator's minimum
    share the agreement follows (bps; 2025 directions' 10 % by default)."""

    partner_share_bps: int
    partner_rate_bps: int
    fees: Rule = Rule.ORIGINATOR
    penal: Rule = Rule.SHARE
    min_originator_share_bps: int = CLA_2025_MIN_ORIGINATOR_BPS

    def check(self, blended_rate_bps: int) -> None:
        """ValidationError (naming the field) unless the agreement can carry a loan at ``blended_rate_bps``: the
        partner's share between 1 bps and 100 % less the originator's floor, and the partner's rate on its share no
        more than the whole loan's interest (the originator's own rate may not be negative)."""
        if not 1_000 <= self.min_originator_share_bps <= 9_999:
            raise ValidationError("must be 1000-9999 bps (RBI: at least 10 %)", field="minOriginatorShareBps")
        if not 1 <= self.partner_share_bps <= BPS - self.min_originator_share_bps:
            raise ValidationError(
                f"must be 1-{BPS - self.min_originator_share_bps} bps: the originator keeps at least "
                f"{self.min_originator_share_bps} bps",
                field="partnerShareBps",
            )
        if self.partner_rate_bps < 0 or self.partner_rate_bps * self.partner_share_bps > blended_rate_bps * BPS:
            raise ValidationError(
                "the partner's rate on its share exceeds the loan's blended rate", field="partnerRateBps"
            )

    def originator_rate(self, blended_rate_bps: int) -> Fraction:
        """The originator's own rate on its share (bps, exact): what makes the two shares' interest the blended
        rate's interest on the whole loan."""
        return Fraction(blended_rate_bps * BPS - self.partner_rate_bps * self.partner_share_bps,
                        BPS - self.partner_share_bps)  # fmt: skip

    def weights(self, blended_rate_bps: int) -> dict[str, tuple[Fraction, Fraction]]:
        """(originator, partner) weights per component (``COMPONENTS``) for a loan at ``blended_rate_bps``."""
        share = (Fraction(BPS - self.partner_share_bps), Fraction(self.partner_share_bps))
        partner_interest = Fraction(self.partner_rate_bps * self.partner_share_bps)
        # interest-free loans (blended 0) carry no interest to split: any part is divided by principal share
        interest = (blended_rate_bps * BPS - partner_interest, partner_interest) if blended_rate_bps > 0 else share
        by_rule = {Rule.SHARE: share, Rule.ORIGINATOR: (Fraction(1), Fraction(0)),
                   Rule.PARTNER: (Fraction(0), Fraction(1))}  # fmt: skip
        return {"principal": share, "interest": interest, "fees": by_rule[self.fees], "penal": by_rule[self.penal]}


@dataclass(frozen=True)
class Parts:
    """A payment's (or a schedule line's) figures by component, paise."""

    principal: int = 0
    interest: int = 0
    fees: int = 0
    penal: int = 0

    def get(self, component: str) -> int:
        return int(getattr(self, component))

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penal

    def plus(self, other: Parts) -> Parts:
        return Parts(*(self.get(c) + other.get(c) for c in COMPONENTS))


@dataclass(frozen=True)
class Split:
    """One payment divided: the ``originator``'s and the ``partner``'s parts (each component sums to the
    payment's)."""

    originator: Parts
    partner: Parts


@dataclass
class Splitter:
    """The cumulative splitter of one co-lent loan: ``collected`` so far (whole-loan parts) and the weights of its
    agreement at the loan's blended rate. ``split(parts)`` divides the next payment and advances ``collected``."""

    agreement: Agreement
    blended_rate_bps: int
    collected: Parts = field(default_factory=Parts)

    def partner_of(self, component: str, cumulative: int) -> int:
        """The partner's share of ``cumulative`` paise of ``component`` (largest remainder; ties to the originator)."""
        if cumulative == 0:
            return 0
        weights = self.agreement.weights(self.blended_rate_bps)[component]
        return largest_remainder(cumulative, weights)[1]

    def split(self, parts: Parts) -> Split:
        """The next payment's ``parts`` divided; ValueError for a negative part."""
        if any(parts.get(c) < 0 for c in COMPONENTS):
            raise ValueError("parts cannot be negative")
        partner: dict[str, int] = {}
        for c in COMPONENTS:
            before = self.collected.get(c)
            partner[c] = self.partner_of(c, before + parts.get(c)) - self.partner_of(c, before)
        mine = Parts(**partner)
        self.collected = self.collected.plus(parts)
        return Split(Parts(*(parts.get(c) - mine.get(c) for c in COMPONENTS)), mine)


def principal_split(agreement: Agreement, amount: int) -> tuple[int, int]:
    """(originator, partner) principal of a loan of ``amount`` paise: what each lender funds at disbursal."""
    originator, partner = largest_remainder(amount, agreement.weights(0)["principal"])
    return originator, partner


def schedule_split(agreement: Agreement, blended_rate_bps: int, lines: Sequence[Parts]) -> list[Split]:
    """Each schedule line (installment: principal, interest, fees) divided in order with the cumulative rule, so
    the partner's schedule (what it is sent) sums to its share of the whole schedule."""
    splitter = Splitter(agreement, blended_rate_bps)
    return [splitter.split(line) for line in lines]


def remaining_schedule(
    agreement: Agreement, blended_rate_bps: int, partner_outstanding: int, lines: Sequence[Parts]
) -> list[Parts]:
    """The partner's part of each installment still to be paid after a restructure (``lines``: what is left of each
    installment, in order), as it is sent to the partner again: its principal is exactly ``partner_outstanding``
    (its principal outstanding on its sub-ledger) divided in proportion to the lines' principal (largest remainder,
    ties to the earlier line), and its interest and fees are its weights' share of each line, cumulatively over the
    lines (as :func:`schedule_split`). A schedule with no principal left carries the partner's principal on its
    last line. ValueError for a negative figure."""
    if partner_outstanding < 0 or any(line.get(c) < 0 for line in lines for c in COMPONENTS):
        raise ValueError("figures cannot be negative")
    if not lines:
        return []
    weights = [line.principal for line in lines]
    if not any(weights):
        weights = [0] * (len(lines) - 1) + [1]
    principal = largest_remainder(partner_outstanding, weights)
    income = schedule_split(agreement, blended_rate_bps, [Parts(0, x.interest, x.fees, x.penal) for x in lines])
    return [Parts(p, s.partner.interest, s.partner.fees, s.partner.penal) for p, s in zip(principal, income,
                                                                                         strict=True)]  # fmt: skip
