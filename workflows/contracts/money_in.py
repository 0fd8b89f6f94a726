"""Activity inputs of money in (``workflows.money_in``): customer notices, receipts, autopay debits, accruals and
refunds. Dataclasses, so fields can be added later without breaking recorded histories; money is integer paise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class NoticeRequest:
    """One customer notice for an event (``activities.messaging.events.NoticeEvent`` names them: SANCTIONED,
    AGREEMENT_READY, DISBURSED, DUE_REMINDER, DUE_TODAY, PAYMENT_RECEIVED, PAYMENT_FAILED, MANDATE_DEBIT_NOTICE,
    OVERDUE, CLOSED...). The brand's template for each kind it sends (SMS, email, WhatsApp) is rendered with
    ``values`` (plus the loan's and customer's own), sent with failover across the kind's vendors, and logged once
    per ``key`` (a retried activity finds its row and sends nothing twice). Best effort: never fails the loan."""

    loan_id: str
    event: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReceiptRequest:
    """Issue the receipt of one credited payment (PDF stored, number given, linked from the notice)."""

    loan_id: str
    gateway: str
    payment_id: str


@dataclass
class ReceiptNotice:
    """Issue one credited payment's receipt, then send the borrower's PAYMENT_RECEIVED notice with its number, in one
    activity (``receipt-with-notice-v1``). ``key`` logs the notice once (as ``NoticeRequest.key``); ``values`` are the
    notice's own (amount in paise, paymentId), the receipt number is added."""

    loan_id: str
    gateway: str
    payment_id: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class MandateDebitRequest:
    """An autopay debit of ``amount`` paise for installment ``installment_no`` (try ``attempt``): the pre-debit
    notice goes first (``notify_mandate_debit``), the charge at ``charge_at`` (``charge_mandate``)."""

    loan_id: str
    mandate_id: str
    installment_no: int
    attempt: int
    amount: int
    due_date: date | None
    charge_at: datetime


@dataclass
class MandateDebitResult:
    """What the gateway said to a charge: ``debit_id`` (ours), ``status`` SENT (outcome by webhook), CAPTURED or
    FAILED (refused at once), and its reason."""

    debit_id: str
    status: str
    reason: str | None = None


@dataclass
class AccrualRecord:
    """Interest recognised on the accrual basis: for each (installment number, paise) the interest of that
    period not already collected, posted Dr INTEREST_RECEIVABLE / Cr INTEREST_INCOME with value date ``as_of``."""

    loan_id: str
    as_of: date
    amounts: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class ClosureRecord:
    """How the loan closed (``loans.closed_as``): REPAID, FORECLOSED or COOLING_OFF_EXIT."""

    loan_id: str
    closed_as: str
