"""Activity inputs and update messages of collections, settlement, write-off and closure (``workflows.collections``).
Dataclasses, so fields can be added later without breaking recorded histories; money is integer paise, dates are
IST calendar dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


# ---------------------------------------------------------------- activities
@dataclass
class CollectionReview:
    """The loan's delinquency at a day-end, for the ``review_collection`` activity: (re)allocate the loan to a
    collector when its bucket changed (the role by bucket, by load, leave, area and rating; an allocation ends when
    the loan is current again, ``bucket`` None), and mark promises to pay dated before ``as_of`` and not kept as
    BROKEN. Idempotent per (loan, bucket, as_of). Returns the collector's staff id (or None)."""

    loan_id: str
    brand_id: str
    dpd: int
    bucket: str | None  # None: the loan is current (no collections)
    as_of: date
    overdue: int = 0  # paise overdue (principal, interest, fees, penal)


@dataclass
class CertificateRequest:
    """Issue the loan's closure certificate (``issue_closure_certificate``): NO_DUES (repaid, foreclosed) or SETTLED;
    rendered from the brand's template, numbered, stored, and sent by the brand's channels when ``send``."""

    loan_id: str
    kind: str = "NO_DUES"
    staff_id: str | None = None
    send: bool = True


@dataclass
class ReloanRequest:
    """Offer the customer a reloan if the closed loan ``loan_id`` qualifies (``offer_reloan``; the brand's reloan
    rules): one offer per closed loan, told by message. Returns the offer (id, amount, expires_on) or None."""

    loan_id: str


@dataclass
class ServicingDecisionRecord:
    """A staff decision on a servicing loan, recorded by ``record_servicing_decision``: ``kind`` SETTLEMENT (its row
    created or moved to ``status``), WAIVER, RESTRUCTURE; ``payload`` carries the kind's fields. Idempotent by
    ``key``."""

    loan_id: str
    kind: str
    key: str
    status: str
    payload: dict = field(default_factory=dict)


@dataclass
class ClosingPostings:
    """Zero the loan's receivables at SETTLED or WRITTEN_OFF (``record_closing_postings``): penal, fees and interest
    receivable are waived (contra-income), principal goes to WRITE_OFF_EXPENSE; ``kind`` SETTLEMENT or WRITE_OFF.
    Returns what was posted by component (paise). Idempotent by loan and kind."""

    loan_id: str
    kind: str
    reference: str | None = None  # the settlement id


@dataclass
class SettlementLinkRequest:
    """The payment link for an approved settlement's amount (purpose SETTLEMENT), at the brand's gateways."""

    loan_id: str
    settlement_id: str
    amount: int
    # 0: the settlement's link; n > 0: its n-th remake for what is still to pay after part-payments made another way
    # (SETTLEMENT_LINK_FOLLOWS_PATCH), a link of its own that supersedes the one before
    version: int = 0


# ---------------------------------------------------------------- updates (staff actions)
@dataclass
class ServicingAction:
    """A staff decision on a servicing loan (approve or reject a settlement or restructure, write off). The API fills
    ``limit`` (the most the actor's role may approve, in paise, under the brand's settings now; None: unlimited),
    ``write_off_dpd`` and ``settlement_days`` from the brand's collections rules; the workflow's validator enforces
    them."""

    staff_id: str
    staff_email: str
    role: str
    brand_id: str
    reason: str | None = None
    limit: int | None = None
    write_off_dpd: int = 180
    settlement_days: int = 15
    expires_at: datetime | None = None


@dataclass
class SettlementProposal:
    """A collection manager's proposal: collect ``amount`` (paise, below the outstanding) by ``deadline`` (IST date;
    default the brand's ``settlementDays`` after approval), waiving the rest penal first, then interest, then
    principal."""

    staff_id: str
    staff_email: str
    role: str
    brand_id: str
    amount: int
    reason: str
    deadline: date | None = None
    expires_at: datetime | None = None


@dataclass
class WaiverRequest:
    """Waive ``amount`` (paise) of unpaid penal charges, oldest installment first, within the role's limit."""

    staff_id: str
    staff_email: str
    role: str
    brand_id: str
    amount: int
    reason: str
    limit: int | None = None  # the role's waiver limit (paise) under the brand's settings now; None: unlimited
    expires_at: datetime | None = None


@dataclass
class RestructureProposal:
    """Restructure the outstanding principal into ``installments`` new installments (or find the count for the
    given ``emi``), the first due on ``first_due``; approved by a second person."""

    staff_id: str
    staff_email: str
    role: str
    brand_id: str
    reason: str
    installments: int | None = None
    emi: int | None = None
    first_due: date | None = None
    expires_at: datetime | None = None


@dataclass
class SettlementState:
    """The loan's settlement in progress (carried across continue-as-new)."""

    settlement_id: str
    amount: int
    outstanding: int
    waiver: dict[str, int]
    reason: str
    proposed_by: str
    deadline: date | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    collected_before: int = 0  # total collected when approved; the settlement counts what comes after
    status: str = "PROPOSED"  # PROPOSED / APPROVED
    applies_all: bool = False  # SETTLEMENT_APPLIES_ALL_PATCH, decided at approval
    link_follows: bool = False  # SETTLEMENT_LINK_FOLLOWS_PATCH, decided at approval
    link_amount: int = 0  # what the settlement's link offered now asks, paise (with link_follows)
    link_version: int = 0  # SettlementLinkRequest.version of that link


@dataclass
class RestructureState:
    """A restructure proposed and awaiting its second person (carried across continue-as-new)."""

    restructure_id: str
    installments: int
    emi: int
    first_due: date
    reason: str
    proposed_by: str
