"""Offer matching across lenders (docs/invoice-financing.md, "Offers"): a pure function of the invoice, its risk
score and the lenders' terms, so partner lenders' terms can be passed in beside the brand's own book.

A lender offers when the score reaches its ``min_score``, the amount is within its limits and the days from the
funding date to the due date are within its tenor; the offer's advance, discount and reserve are
:func:`domain.sme.money.terms`. Offers are ranked by the seller's net cost: lowest discount first, then highest
advance, then lender id (a total order, so the ranking never depends on input order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.sme.money import days_between, terms


@dataclass(frozen=True)
class LenderTerms:
    """One lender's invoice financing terms: ``source`` OWN (the brand's book) or PARTNER; rates in bps a year
    (advance: of the invoice amount); limits in paise and days."""

    lender_id: str
    name: str
    min_score: int
    advance_rate_bps: int
    discount_rate_bps: int
    overdue_rate_bps: int
    min_days: int = 7
    max_days: int = 180
    min_amount: int = 10_000_00
    max_amount: int = 5_00_00_000_00
    source: str = "OWN"


@dataclass(frozen=True)
class Offer:
    """A lender's offer for one invoice: its terms in paise (advance, discount, reserve), the days (Actual/365)
    and the rates it was computed with."""

    lender_id: str
    lender_name: str
    source: str
    amount: int
    advance: int
    discount: int
    reserve: int
    days: int
    advance_rate_bps: int
    discount_rate_bps: int
    overdue_rate_bps: int


def match_offers(amount: int, score: int, funded_on: date, due: date, lenders: Iterable[LenderTerms]) -> list[Offer]:
    """Every lender's offer for an invoice of ``amount`` paise due on ``due`` funded on ``funded_on`` (IST dates)
    at risk score ``score``, best first; [] when none fits (past due, outside every lender's limits)."""
    if due <= funded_on:
        return []
    days = days_between(funded_on, due)
    offers: list[Offer] = []
    for lender in lenders:
        if score < lender.min_score or not lender.min_amount <= amount <= lender.max_amount:
            continue
        if not lender.min_days <= days <= lender.max_days:
            continue
        t = terms(amount, lender.advance_rate_bps, lender.discount_rate_bps, funded_on, due)
        offers.append(
            Offer(
                lender.lender_id,
                lender.name,
                lender.source,
                amount,
                t.advance,
                t.discount,
                t.reserve,
                t.days,
                lender.advance_rate_bps,
                lender.discount_rate_bps,
                lender.overdue_rate_bps,
            )  # fmt: skip
        )
    return sorted(offers, key=lambda o: (o.discount, -o.advance, o.lender_id))
