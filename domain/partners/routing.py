"""Routing a loan across partner lenders: the order offers are tried in, what each attempt's outcome means, the
SLA of each step and the breach report.

Rules (docs/partner-lenders.md):

- Order: the offer the borrower picked first (brands that let the borrower pick), then the rest by APR, lowest
  first (what the borrower pays), ties broken by the partner's ``priority`` (lower first), then its code.
- An attempt ends ACCEPTED (the partner booked the loan: routing stops), REJECTED (its credit policy said no),
  SLA_BREACHED (no answer within the partner's SLA for the step: it is skipped, even if it answers later) or
  ERROR (its API kept failing within the SLA). Anything but ACCEPTED falls back to the next offer.
- Every attempt is recorded with its time taken (milliseconds, the workflow's clock) and its reason.

Seed 004: "handles success/failure fallbacks and SLA tracking".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError


class AttemptOutcome(StrEnum):
    """How one submission to a partner ended."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    SLA_BREACHED = "SLA_BREACHED"
    ERROR = "ERROR"


class SlaStep(StrEnum):
    """The partner steps with an SLA: its credit ``DECISION`` on a submitted loan (enforced: past it the partner
    is skipped) and its ``DISBURSAL`` once booked (tracked and reported)."""

    DECISION = "DECISION"
    DISBURSAL = "DISBURSAL"


DEFAULT_SLA_SECONDS = {SlaStep.DECISION: 30, SlaStep.DISBURSAL: 4 * 3600}
MAX_SLA_SECONDS = 7 * 24 * 3600


def parse_sla(data: Mapping[str, Any] | None) -> dict[str, int]:
    """``{"DECISION": seconds, "DISBURSAL": seconds}`` with the defaults for steps not given; ValidationError
    naming ``sla.<STEP>`` for an unknown step or seconds outside 1 s to 7 days."""
    sla = {str(step): seconds for step, seconds in DEFAULT_SLA_SECONDS.items()}
    for step, seconds in (data or {}).items():
        if step not in SlaStep.__members__:
            raise ValidationError(f"unknown step; one of {', '.join(SlaStep)}", field=f"sla.{step}")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_SLA_SECONDS:
            raise ValidationError(f"must be whole seconds from 1 to {MAX_SLA_SECONDS}", field=f"sla.{step}")
        sla[step] = seconds
    return sla


def route_order(offers: Sequence[Any], picked: str | None = None) -> list[Any]:
    """``offers`` in the order they are tried: ``picked`` (an offer id) first when it is one of them, then by
    APR (``apr`` as a percent string or Decimal), partner ``priority``, partner code."""

    def key(offer: Any) -> tuple[Decimal, int, str]:
        return (Decimal(str(offer.apr)), int(offer.priority), str(offer.partner_code))

    ordered = sorted(offers, key=key)
    first = [o for o in ordered if o.offer_id == picked]
    return first + [o for o in ordered if o.offer_id != picked]


def falls_back(outcome: AttemptOutcome | str) -> bool:
    """Whether routing moves on to the next offer after this outcome (everything but ACCEPTED)."""
    return AttemptOutcome(outcome) != AttemptOutcome.ACCEPTED


@dataclass(frozen=True)
class Attempt:
    """One recorded attempt, as the report reads it: partner code, outcome, time taken (ms), its SLA (s)."""

    partner_code: str
    outcome: str
    elapsed_ms: int
    sla_seconds: int


@dataclass(frozen=True)
class SlaSummary:
    """One partner's figures over a period: attempts, each outcome's count, SLA breaches (an SLA_BREACHED
    outcome, or an answer slower than the SLA), the breach rate (percent, 2 decimals), median and worst time
    taken (ms)."""

    partner_code: str
    attempts: int
    accepted: int
    rejected: int
    errors: int
    breaches: int
    breach_rate: Decimal
    median_ms: int
    max_ms: int


def sla_summary(attempts: Iterable[Attempt]) -> list[SlaSummary]:
    """Per partner (ordered by code) from the attempts of a period."""
    by_partner: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_partner.setdefault(a.partner_code, []).append(a)
    rows = []
    for code in sorted(by_partner):
        items = by_partner[code]
        times = sorted(a.elapsed_ms for a in items)
        breaches = sum(
            1 for a in items if a.outcome == AttemptOutcome.SLA_BREACHED or a.elapsed_ms > a.sla_seconds * 1000
        )
        rows.append(
            SlaSummary(
                partner_code=code,
                attempts=len(items),
                accepted=sum(1 for a in items if a.outcome == AttemptOutcome.ACCEPTED),
                rejected=sum(1 for a in items if a.outcome == AttemptOutcome.REJECTED),
                errors=sum(1 for a in items if a.outcome == AttemptOutcome.ERROR),
                breaches=breaches,
                breach_rate=(Decimal(breaches * 100) / len(items)).quantize(Decimal("0.01")),
                median_ms=times[(len(times) - 1) // 2],
                max_ms=times[-1],
            )
        )
    return rows
