"""The statuses and outcomes that cross a boundary: workflow ↔ activity (recorded in workflow histories),
provider ↔ adapter, activity → database, API → caller.

Each is a ``StrEnum`` whose values are the strings already on the wire and in the database, so a member
compares equal to its string (``KycStepStatus.PASSED == "PASSED"``), serialises as it, and a recorded history
or a stored row written before these types existed reads back unchanged (pydantic decodes ``"PASSED"`` into
``KycStepStatus.PASSED`` by value). Never rename a value; add members only. Loan statuses are
``domain.status.LoanStatus``; review stages and staff actions ``domain.access``.
"""

from __future__ import annotations

from enum import StrEnum

from domain.rules import Decision

__all__ = [
    "AgreementStatus",
    "ConsentStatus",
    "CreditOutcome",
    "DisbursalStatus",
    "ESIGN_OUTCOMES",
    "InstallmentStatus",
    "KycStepStatus",
    "PaymentLinkStatus",
    "PaymentStatus",
    "ProviderCallStatus",
    "TransferStatus",
    "WebhookOutcome",
]


class KycStepStatus(StrEnum):
    """``workflows.contracts.KycStepResult.status``: one KYC step's result (activities.kyc, workflows.kyc)."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    WAITING = "WAITING"  # needs the customer's input (a bank account, a statement, the Aadhaar OTP...)
    SKIPPED = "SKIPPED"  # the step is not automated
    TIMED_OUT = "TIMED_OUT"  # the workflow's own: the customer's input did not come within the brand's timeout


#: ``workflows.contracts.DecisionResult.outcome``: the credit decision (bureau, BRE, evaluation).
#: One definition with the rules engine's verdict: REJECT / MANUAL_REVIEW / AUTO_SANCTION.
CreditOutcome = Decision


class AgreementStatus(StrEnum):
    """``loan_agreements.status``; the eSign vendor's final word (``EsignEvent.status``) and what the workflow
    records (``AgreementOutcome.status``) are one of :data:`ESIGN_OUTCOMES`."""

    PENDING = "PENDING"  # the column's default; an agreement is written SENT
    SENT = "SENT"  # docket created, signing link sent to the customer
    SIGNED = "SIGNED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"  # not signed in time (the vendor's expiry, or the workflow's timer)
    CANCELLED = "CANCELLED"  # cancelled at the vendor: a new docket replaced it


ESIGN_OUTCOMES = frozenset({AgreementStatus.SIGNED, AgreementStatus.DECLINED, AgreementStatus.EXPIRED})


class TransferStatus(StrEnum):
    """How the bank settled a disbursal transfer (``DisbursalEvent.status``, from the bank's webhook)."""

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class DisbursalStatus(StrEnum):
    """``disbursals.status`` and ``DisbursalResult.status``: reserved, sent to the bank, settled or failed."""

    INITIATED = "INITIATED"
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    FAILED = "FAILED"  # the bank failed or reversed it (``disbursals.failure_reason``); a new approval retries


class PaymentStatus(StrEnum):
    """``payment_transactions.status``: a payment recorded against a loan."""

    SUCCESS = "SUCCESS"


class PaymentLinkStatus(StrEnum):
    """``payment_links.status``."""

    ACTIVE = "ACTIVE"
    PAID = "PAID"
    SUPERSEDED = "SUPERSEDED"  # the amount due changed: a new link replaced it
    # the amount due changed as the borrower paid it: its payment not yet recorded, no successor while it is
    # (activities.loan.link_holds, held_since)
    HELD = "HELD"
    CANCELLED = "CANCELLED"  # made at the gateway while its installment was being paid: cancelled there, never offered


class InstallmentStatus(StrEnum):
    """``repayment_installments.status``."""

    PENDING = "PENDING"
    OVERDUE = "OVERDUE"
    PAID = "PAID"


class ProviderCallStatus(StrEnum):
    """``provider_calls.outcome``: a verification's result (PAN, penny drop), or a bureau report pulled."""

    VERIFIED = "VERIFIED"
    FAILED = "FAILED"
    PULLED = "PULLED"


class ConsentStatus(StrEnum):
    """An Account Aggregator consent's status (``aa_consents.status``; ReBIT's mapped onto these)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class WebhookOutcome(StrEnum):
    """The ``status`` of a webhook endpoint's 200 answer (``api.webhooks.intake``)."""

    DELIVERED = "delivered"  # the loan's workflow was signalled
    DUPLICATE = "duplicate"  # handled before
    IGNORED = "ignored"  # needs no action, or its loan/workflow is gone
    RECORDED_AS_CREDIT_BALANCE = "recorded_as_credit_balance"  # money no running loan can take
    RECORDED_AS_RECOVERY = "recorded_as_recovery"  # money reaching a written-off loan: recovery income
    PARKED = "parked"  # money that could not be recorded: kept for ops
    UNMATCHED = "unmatched"  # money whose loan cannot be identified: stored for ops
