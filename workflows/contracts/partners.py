"""Inputs and outputs of partner-lender routing (``workflows.partner_routing``, ``activities.partners``).
Dataclasses, so fields can be added later without breaking recorded histories; money is integer paise, rates
basis points, times milliseconds or seconds as named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.contracts.messages import LoanTerms


@dataclass
class PartnerRouteRequest:
    """Compute round ``round`` of a loan's offers: each active partner's table over the application, an offer
    from each eligible one (on the loan's ``terms``)."""

    loan_id: str
    brand_id: str
    idempotency_key: str
    terms: LoanTerms
    round: int = 1


@dataclass
class PartnerOfferView:
    """One eligible partner's offer as the workflow carries it (``apr`` a percent string, 2 decimals)."""

    offer_id: str
    partner_id: str
    partner_code: str
    partner_name: str
    priority: int
    amount: int
    tenure: int
    annual_rate_bps: int
    emi: int
    fees: int
    gst: int
    net_disbursed: int
    apr: str
    sla_seconds: int


@dataclass
class PartnerRoute:
    """The offers of a round (eligible partners only, in no particular order), the partners found ineligible
    (code → reasons) and the brand's choice of a borrower pick with its window (seconds)."""

    offers: list[PartnerOfferView] = field(default_factory=list)
    ineligible: dict[str, list[str]] = field(default_factory=dict)
    borrower_pick: bool = False
    pick_window_seconds: int = 0


@dataclass
class PartnerSubmitRequest:
    """Submit the loan to the partner of ``offer_id``; ``timeout_seconds`` bounds the HTTP call (the SLA)."""

    loan_id: str
    brand_id: str
    offer_id: str
    idempotency_key: str
    timeout_seconds: float


@dataclass
class PartnerAnswer:
    """The partner's answer: ACCEPTED (with its loan reference) or REJECTED (with its reason)."""

    outcome: str
    partner_reference: str | None = None
    reason: str | None = None


@dataclass
class PartnerAttemptRecord:
    """One attempt to record (``domain.partners.AttemptOutcome``): the time it took on the workflow's clock and the
    SLA it had. On ACCEPTED the loan takes the offer's rate and fees."""

    loan_id: str
    brand_id: str
    offer_id: str
    outcome: str
    elapsed_ms: int
    sla_seconds: int
    started_at: datetime
    idempotency_key: str
    reason: str | None = None
    partner_reference: str | None = None
    picked: bool = False  # the borrower chose this offer


@dataclass
class PartnerPick:
    """The borrower picks one offer (update ``pick_partner_offer`` from the borrower's app)."""

    customer_id: str
    offer_id: str
    expires_at: datetime | None = None  # the caller's bound (see StaffAction.expires_at)
