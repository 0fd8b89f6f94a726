"""The events a customer is told about, and the variables each event's templates may use.

Every template also has the common variables (:data:`COMMON`): the customer's name, the brand's name and the loan's
short reference. A variable's ``kind`` says how a value is written: ``money`` is integer paise, written ``₹1,234.50``;
``date`` an ISO date (``2026-01-05``), written ``05 Jan 2026``; ``text`` and ``number`` as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NoticeEvent(StrEnum):
    """What happened to the loan (``NoticeRequest.event``)."""

    SANCTIONED = "SANCTIONED"
    AGREEMENT_READY = "AGREEMENT_READY"
    AGREEMENT_SIGNED = "AGREEMENT_SIGNED"
    DISBURSED = "DISBURSED"
    DUE_REMINDER = "DUE_REMINDER"
    DUE_TODAY = "DUE_TODAY"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    MANDATE_DEBIT_NOTICE = "MANDATE_DEBIT_NOTICE"
    OVERDUE = "OVERDUE"
    CLOSED = "CLOSED"
    REFUND_PAID = "REFUND_PAID"
    OVERPAID = "OVERPAID"
    AA_CONSENT = "AA_CONSENT"
    DIGILOCKER = "DIGILOCKER"
    COLLECTION_PAYMENT_LINK = "COLLECTION_PAYMENT_LINK"
    SETTLEMENT_OFFER = "SETTLEMENT_OFFER"
    SETTLED = "SETTLED"
    WAIVER = "WAIVER"
    RESTRUCTURED = "RESTRUCTURED"
    NOC_ISSUED = "NOC_ISSUED"
    RELOAN_OFFER = "RELOAN_OFFER"


#: the message kinds, in the order a notice sends them
KINDS = ("sms", "whatsapp", "email")


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    kind: str = "text"  # text / money / date / number
    sample: object = ""


COMMON = (
    Variable("customer_name", "the customer's full name (or 'Customer')", sample="Asha Verma"),
    Variable("brand_name", "the lender's brand name", sample="Demo Finance"),
    Variable("loan_ref", "the loan's short reference (first 8 characters of its id)", sample="3f2a9c1d"),
)

_LINK = Variable(
    "payment_link",
    "a link the customer pays through (the loan's active payment link)",
    sample="https://pay.example/l/abc",
)
_INSTALLMENT = Variable("installment", "the installment's number", "number", 3)

EVENT_VARIABLES: dict[str, tuple[Variable, ...]] = {
    NoticeEvent.SANCTIONED: (
        Variable("amount", "the sanctioned amount", "money", 5_000_000),
        Variable("tenure_months", "the tenure in months", "number", 12),
    ),
    NoticeEvent.AGREEMENT_READY: (
        Variable("signing_url", "where the customer signs the agreement", sample="https://esign.example/s/1"),
    ),
    NoticeEvent.AGREEMENT_SIGNED: (
        Variable("agreement_link", "where the signed agreement is", sample="https://app.example/agreement"),
    ),
    NoticeEvent.DISBURSED: (
        Variable("amount", "the amount sent to the customer's bank account", "money", 4_900_000),
        Variable("utr", "the bank transfer's UTR", sample="IDFC0000123456"),
    ),
    NoticeEvent.DUE_REMINDER: (
        Variable("amount", "the installment due", "money", 450_000),
        Variable("due_date", "the due date", "date", "2026-01-05"),
        Variable("days_before", "days left until the due date", "number", 3),
        _LINK,
        _INSTALLMENT,
    ),
    NoticeEvent.DUE_TODAY: (
        Variable("amount", "the installment due today", "money", 450_000),
        Variable("due_date", "the due date (today)", "date", "2026-01-05"),
        _LINK,
        _INSTALLMENT,
    ),
    NoticeEvent.PAYMENT_RECEIVED: (
        Variable("amount", "the amount received", "money", 450_000),
        Variable("paid_on", "the payment's date", "date", "2026-01-05"),
        Variable("receipt_link", "where the receipt is", sample="https://app.example/receipts/R-1"),
        Variable("receipt_no", "the receipt's number", sample="DF/2025-26/000123"),
    ),
    NoticeEvent.PAYMENT_FAILED: (
        Variable("amount", "the amount that failed", "money", 450_000),
        Variable("reason", "why it failed, as the gateway said", sample="insufficient funds"),
        _LINK,
    ),
    NoticeEvent.MANDATE_DEBIT_NOTICE: (
        Variable("amount", "the amount to be debited", "money", 450_000),
        Variable("debit_date", "the debit's date", "date", "2026-01-05"),
        Variable(
            "mandate_ref",
            "the mandate's reference (its method and the end of the gateway's token)",
            sample="UPI-a1b2c3",
        ),
        _INSTALLMENT,
    ),
    NoticeEvent.OVERDUE: (
        Variable("amount", "the overdue amount", "money", 450_000),
        Variable("dpd", "days past due (1, 7, 30...)", "number", 7),
        Variable("due_date", "the missed due date", "date", "2026-01-05"),
        _LINK,
        _INSTALLMENT,
    ),
    NoticeEvent.CLOSED: (
        Variable("closed_on", "the closure date", "date", "2026-01-05"),
        Variable("noc_link", "where the no-objection certificate is (when issued)", sample="https://app.example/noc"),
        Variable("closed_as", "how it closed: PAID, FORECLOSED, COOLING_OFF_EXIT...", sample="PAID"),
    ),
    NoticeEvent.REFUND_PAID: (
        Variable("amount", "the refunded amount", "money", 12_000),
        Variable("utr", "the refund transfer's UTR", sample="IDFC0000654321"),
    ),
    NoticeEvent.OVERPAID: (
        Variable("amount", "the amount paid beyond what was due, kept as credit balance", "money", 12_000),
    ),
    NoticeEvent.AA_CONSENT: (
        Variable(
            "consent_url", "where the customer approves the Account Aggregator consent", sample="https://aa.example/c/1"
        ),
    ),
    NoticeEvent.DIGILOCKER: (
        Variable(
            "authorization_url", "where the customer shares DigiLocker documents", sample="https://digilocker.example/a"
        ),
    ),
    NoticeEvent.COLLECTION_PAYMENT_LINK: (
        Variable("amount", "the overdue amount to pay", "money", 450_000),
        Variable("dpd", "days past due", "number", 12),
        _LINK,
    ),
    NoticeEvent.SETTLEMENT_OFFER: (
        Variable("amount", "the settlement amount to pay", "money", 2_500_000),
        Variable("deadline", "the last day to pay it", "date", "2026-01-20"),
        Variable("waived", "the amount waived if paid in time", "money", 1_200_000),
        _LINK,
    ),
    NoticeEvent.SETTLED: (
        Variable("amount", "the amount paid in settlement", "money", 2_500_000),
        Variable("waived", "the amount waived", "money", 1_200_000),
    ),
    NoticeEvent.WAIVER: (Variable("amount", "the penal charges waived", "money", 50_000),),
    NoticeEvent.RESTRUCTURED: (
        Variable("emi", "the new installment", "money", 300_000),
        Variable("installments", "the number of installments left", "number", 18),
        Variable("first_due", "the first new due date", "date", "2026-02-05"),
    ),
    NoticeEvent.NOC_ISSUED: (
        Variable("certificate_no", "the certificate's number", sample="NOC/2026-27/000123"),
        Variable("noc_link", "where the certificate is", sample="https://app.example/noc"),
        Variable("kind", "NO_DUES or SETTLED", sample="NO_DUES"),
    ),
    NoticeEvent.RELOAN_OFFER: (
        Variable("amount", "the amount offered", "money", 6_000_000),
        Variable("expires_on", "the offer's last day", "date", "2026-02-05"),
    ),
}

#: a message name used before the catalogue existed → its event
ALIASES = {"ESIGN_LINK": NoticeEvent.AGREEMENT_READY}


def variables(event: str) -> tuple[Variable, ...]:
    """The common variables and the event's own; KeyError for an unknown event."""
    return COMMON + EVENT_VARIABLES[NoticeEvent(event)]


def event_of(name: str) -> str | None:
    """The catalogue event for a message name (an alias resolved), or None."""
    if name in ALIASES:
        return ALIASES[name].value
    return name if name in NoticeEvent.__members__ else None
