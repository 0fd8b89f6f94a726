"""Risk score of a business for one invoice, 0-100, from its GST returns, bank statement and bureau record
(docs/invoice-financing.md, "Risk scoring"). Weights follow the usual GST-based MSME underwriting (SIDBI's
"GST-based lending" note; the GSTN account aggregator's "filing regularity and turnover trend" signals):

| factor | points | rule |
|---|---|---|
| GST filing regularity | 25 | 25 × filed share of the last 12 months × on-time share of those filed |
| turnover trend | 15 | last 6 months vs the 6 before: ≥ 0 % → 15; a fall of f % (to 30 %) → 15 × (1 − f/30) |
| bank conduct | 25 | bounces in 6 months: 0 → 15, 1-2 → 8, more → 0; balance ≥ 10 % of the invoice → 10, pro rata |
| bureau | 25 | (score − 300) / 600 × 25; no history (0) → 12 |
| vintage | 10 | ≥ 36 months → 10, ≥ 12 → 6, else 2 |

Grade A ≥ 75, B ≥ 60, C ≥ 45, D below. Integer arithmetic only, so the same inputs give the same score anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GstPeriod:
    """One month's GSTR-3B: ``period`` ``YYYY-MM``, whether it was ``filed`` and ``on_time`` (by the 20th of the
    next month), and its taxable ``turnover`` in paise."""

    period: str
    filed: bool
    on_time: bool
    turnover: int


@dataclass(frozen=True)
class ScoreInputs:
    """What the score reads: up to 12 GST periods (oldest first), bank statement figures for 6 months (average
    balance and the invoice amount in paise, bounces), the bureau score (300-900, 0 no history) and the business's
    age in months."""

    gst: Sequence[GstPeriod]
    average_balance: int
    bounces: int
    bureau_score: int
    vintage_months: int
    invoice_amount: int


@dataclass(frozen=True)
class RiskScore:
    """The score (0-100), its grade (A-D) and each factor's points, named."""

    score: int
    grade: str
    factors: dict[str, int] = field(default_factory=dict)


def _filing(gst: Sequence[GstPeriod]) -> int:
    periods = list(gst)[-12:]
    filed = [p for p in periods if p.filed]
    if not filed:
        return 0
    on_time = sum(1 for p in filed if p.on_time)
    return 25 * len(filed) * on_time // (12 * len(filed))


def _trend(gst: Sequence[GstPeriod]) -> int:
    periods = list(gst)[-12:]
    if len(periods) < 12:
        return 7  # under a year of returns: neither rewarded nor punished
    before = sum(p.turnover for p in periods[:6])
    recent = sum(p.turnover for p in periods[6:])
    if before <= 0:
        return 15 if recent > 0 else 0
    if recent >= before:
        return 15
    fall_pct100 = (before - recent) * 10_000 // before  # hundredths of a per cent
    return max(0, 15 * (3_000 - fall_pct100) // 3_000)


def _bank(average_balance: int, bounces: int, invoice_amount: int) -> int:
    conduct = 15 if bounces == 0 else 8 if bounces <= 2 else 0
    if invoice_amount <= 0:
        return conduct
    cushion = min(10, max(0, average_balance) * 100 // invoice_amount)
    return conduct + cushion


def _bureau(score: int) -> int:
    if score == 0:
        return 12
    return max(0, min(25, (score - 300) * 25 // 600))


def _vintage(months: int) -> int:
    return 10 if months >= 36 else 6 if months >= 12 else 2


def grade(score: int) -> str:
    """A ≥ 75, B ≥ 60, C ≥ 45, D below."""
    return "A" if score >= 75 else "B" if score >= 60 else "C" if score >= 45 else "D"


def risk_score(inp: ScoreInputs) -> RiskScore:
    """The business's risk score for this invoice (higher is safer), with each factor's points."""
    factors = {
        "gstFiling": _filing(inp.gst),
        "turnoverTrend": _trend(inp.gst),
        "bankConduct": _bank(inp.average_balance, inp.bounces, inp.invoice_amount),
        "bureau": _bureau(inp.bureau_score),
        "vintage": _vintage(inp.vintage_months),
    }
    total = sum(factors.values())
    return RiskScore(total, grade(total), factors)
