"""Inputs and outputs of the invoice financing workflow (``workflows.invoice_financing``) and its activities
(``activities.sme``). Dataclasses, so fields can be added later without breaking recorded histories; money is
integer paise, rates basis points, dates IST calendar dates. Offers and lender terms are the domain's own
dataclasses (``domain.sme.matching``), carried as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.sme.matching import LenderTerms, Offer


# ---------------------------------------------------------------- the workflow
@dataclass
class BuyerPayment:
    """Money from the buyer into the collection account (signal ``buyer_paid``): through the gateway's payment
    link webhook, a virtual account credit or the bank's callback. ``payment_id`` unique per credit."""

    payment_id: str
    amount: int
    paid_at: datetime
    source: str = "PAYMENT_LINK"


@dataclass
class InvoiceState:
    """Where a financing request stands: its status and refusal reason; the score; the offers and the one
    accepted; the maker's and checker's staff ids; the money (paise) advanced, collected, charged late and
    released; the held step (``hold_step``: ADVANCE or RESERVE, NEEDS_ATTENTION) and the sequence of status
    moves (the idempotency key of each recorded move)."""

    status: str = "SUBMITTED"
    reason: str | None = None
    reason_text: str | None = None
    score: int | None = None
    grade: str | None = None
    offers: list[Offer] = field(default_factory=list)
    offers_expire_at: datetime | None = None
    accepted: Offer | None = None
    maker_id: str | None = None
    checker_id: str | None = None
    advance_utr: str | None = None
    funded_on: date | None = None
    advance: int = 0
    discount: int = 0  # recomputed on the funding date (Actual/365 to the due date)
    reserve: int = 0
    days: int = 0
    pending: list[BuyerPayment] = field(default_factory=list)  # signalled, not yet recorded
    payments: list[str] = field(default_factory=list)  # payment ids taken (a webhook delivered twice counts once)
    collected: int = 0
    late_charge: int = 0
    release: int = 0
    release_utr: str | None = None
    hold_step: str | None = None
    hold_reason: str | None = None
    due_reminded: bool = False
    reminders: int = 0
    seq: int = 0


@dataclass
class InvoiceFinancingInput:
    """One financing request for one invoice of ``amount`` paise due on ``due_date`` (IST), on the workflow id
    ``invoice-<requestId>``. ``state``: carried over a continue-as-new."""

    request_id: str
    brand_id: str
    business_id: str
    invoice_id: str
    amount: int
    due_date: date
    state: InvoiceState | None = None


@dataclass
class OfferAcceptance:
    """The business accepts one offer (update ``accept_offer``): by lender id; ``business_id`` must own the
    request."""

    business_id: str
    lender_id: str
    expires_at: datetime | None = None


@dataclass
class BusinessCancel:
    """The business withdraws its request (update ``cancel``) before it is approved."""

    business_id: str
    reason: str | None = None
    expires_at: datetime | None = None


@dataclass
class SmeStaffDecision:
    """A staff decision on a request (updates ``decide`` and ``resume``): ``action`` APPROVE or REJECT (decide),
    RETRY or REJECT (resume a held step). ``step`` MAKER or CHECKER for approvals (the API's permission check
    picks it); the same person may not be both."""

    staff_id: str
    role: str
    brand_id: str
    action: str
    step: str = "MAKER"
    reason: str | None = None
    expires_at: datetime | None = None


@dataclass
class TransferEvent:
    """The bank's callback for a transfer (signal ``transfer_event``): ``kind`` ADVANCE or RESERVE, ``status``
    SUCCESS or FAILED, the UTR or the reason."""

    kind: str
    status: str
    utr: str | None = None
    reason: str | None = None


# ---------------------------------------------------------------- activities
@dataclass
class SmeRequestRef:
    """A request to act on (most activities read what they need from its rows)."""

    request_id: str


@dataclass
class SmeStatusChange:
    """``sme_record_status``: the request's new status, once per (request, ``seq``), with its reason and the
    history row's detail."""

    request_id: str
    status: str
    seq: int
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckAnswer:
    """A check's verdict (duplicate, business, buyer): ``ok`` or refused with ``reason`` (a RefusalReason) and
    words; ``detail`` what the vendor said (shown to staff)."""

    ok: bool
    reason: str | None = None
    text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoreAnswer:
    """``sme_score``: the risk score (0-100), grade and each factor's points."""

    score: int
    grade: str
    factors: dict[str, int] = field(default_factory=dict)


@dataclass
class SmeTerms:
    """``sme_terms``: the lenders to match (the brand's own book; partner lenders later) and the brand's SME
    timings in days."""

    lenders: list[LenderTerms]
    offer_validity_days: int = 7
    reminder_days_before_due: int = 3
    overdue_reminder_days: int = 3


@dataclass
class OffersRecord:
    """``sme_record_offers``: the score and the offers (best first), open until ``expires_at``."""

    request_id: str
    score: int
    grade: str
    offers: list[Offer]
    expires_at: datetime


@dataclass
class AcceptedRecord:
    """``sme_record_acceptance`` / ``sme_record_approval``: who did what on the request (the accepted lender;
    the maker's or checker's staff id)."""

    request_id: str
    lender_id: str | None = None
    staff_id: str | None = None
    step: str | None = None


@dataclass
class TransferRequest:
    """``sme_send_transfer`` / ``sme_check_transfer``: ``kind`` ADVANCE (the advance to the seller) or RESERVE
    (the reserve released), ``amount`` paise, sent once under ``sme-<kind>-<requestId>``."""

    request_id: str
    kind: str
    amount: int


@dataclass
class TransferAnswer:
    """What the bank said: SENT (taken, not settled), SUCCESS (``utr``) or FAILED (``reason``)."""

    status: str
    utr: str | None = None
    reason: str | None = None


@dataclass
class TransferOutcome:
    """``sme_record_transfer``: a transfer's final word (SUCCESS with ``utr``, FAILED with ``reason``)."""

    request_id: str
    kind: str
    amount: int
    status: str
    utr: str | None = None
    reason: str | None = None


@dataclass
class CollectionOpened:
    """``sme_open_collection``: the buyer's payment link (``url``) for the invoice amount, its reference."""

    reference: str
    url: str | None = None


@dataclass
class SmeNotice:
    """``sme_notify``: one message to the business (and a staff notification for queue events), once per
    ``key``: ``event`` OFFERED, FUNDED, DUE_SOON, OVERDUE, PAID, CLOSED, REFUSED..."""

    request_id: str
    event: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class OverdueMark:
    """``sme_mark_overdue``: the request entered collections (or was reminded again) ``days_late`` days past due."""

    request_id: str
    days_late: int
    reminder: int


@dataclass
class FundedRecord:
    """``sme_record_funded``: the advance reached the seller (``utr``) on ``funded_on`` (IST); the discount and
    reserve (paise) recomputed for that date (Actual/365 over ``days`` to the due date)."""

    request_id: str
    utr: str | None
    funded_on: date
    advance: int
    discount: int
    reserve: int
    days: int


@dataclass
class SettlementRecord:
    """``sme_record_settlement``: what the buyer's money paid (paise): collected, the late charge, the release."""

    request_id: str
    collected: int
    late_charge: int
    release: int
    paid_on: date
    release_utr: str | None = None


@dataclass
class PaymentRecord:
    """``sme_record_payment``: one credit from the buyer, once per ``payment_id``."""

    request_id: str
    payment: BuyerPayment
