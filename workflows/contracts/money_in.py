"""Activity inputs of money in (``workflows.money_in``): customer notices, receipts, autopay debits, accruals and
refunds. Dataclasses, so fields can be added later without breaking recorded histories; money is integer paise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.contracts.messages import PaymentEvent, PaymentFailure


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
class ReceiptSweepWindow:
    """The receipt sweep's question (``payments_without_receipt``): credited payments collected in [``since``,
    ``before``) (UTC instants) with no stored receipt, at most ``limit``."""

    since: datetime
    before: datetime
    limit: int


@dataclass
class UnreceiptedPayment:
    """A credited payment with no stored receipt (``payments_without_receipt``): its loan, gateway, gateway payment
    id, amount (paise) and the IST date the money came (ISO ``YYYY-MM-DD``: the notice's ``paid_on``): the day it was
    collected, or an offline payment's value date."""

    loan_id: str
    gateway: str
    payment_id: str
    amount: int
    collected_on: str


@dataclass
class RedeliveryWindow:
    """The payment redelivery's question (``undelivered_payments``): payment events received in [``since``,
    ``before``) (UTC instants), matched to a loan and never delivered, at most ``limit``."""

    since: datetime
    before: datetime
    limit: int


@dataclass
class UndeliveredPayment:
    """A stored payment event never delivered to its loan (``undelivered_payments``): its ``webhook_events`` row,
    the payment as the loan takes it, the loan, its workflow id (None: none was started), whether the loan is in a
    terminal status, and ``offline_twin``: the APPROVED offline payment with the same reference, if any (the same
    money, recorded by staff: the payment is parked for ops, not credited)."""

    row_id: str
    payment: PaymentEvent
    loan_id: str
    workflow_id: str | None
    loan_terminal: bool
    offline_twin: str | None = None


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
class MandateDebitCheck:
    """What the gateway has for a sent debit whose outcome never arrived (``find_mandate_debit``, asked when the
    debit's patience runs out): ``payment`` — it was captured: the money as its ``payment.captured`` webhook would
    have given it (credited once per payment id, whenever the webhook also comes); ``failure`` — it failed, with the
    gateway's reason; ``pending`` — the bank is still processing it (an e-mandate can take days); none of them — the
    gateway has no payment for it (the charge never reached it)."""

    debit_id: str
    payment: PaymentEvent | None = None
    failure: PaymentFailure | None = None
    pending: bool = False


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
