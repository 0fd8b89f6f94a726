"""Inputs and outputs of the loan workflow's activities (one dataclass per call, so fields can be added later
without breaking recorded histories; money is integer paise). Import them from :mod:`workflows.contracts`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.outcomes import AgreementStatus, CreditOutcome, DisbursalStatus, KycStepStatus
from domain.status import LoanStatus
from workflows.contracts.messages import InstallmentState, LoanTerms, PaymentEvent


# --- activity inputs / outputs -------------------------------------------------------------------
@dataclass
class StatusChange:
    loan_id: str
    seq: int
    from_status: LoanStatus | None
    to_status: LoanStatus
    reason: str | None = None
    actor: str = "system"
    # Staff actions (sanction hierarchy): what was done, by whom, the stage the loan moves to, and extras
    # (score override, conditions, reason code) that the activity also writes onto the loan.
    action: str | None = None
    actor_id: str | None = None
    review_stage: str | None = None
    details: dict | None = None
    brand_id: str | None = None
    assign_to: str | None = None  # the staff member the loan goes to with this move (None: the stage's pool)
    reassign: bool = False  # True: set the loan's assignee to ``assign_to`` (else the assignment is kept)


@dataclass
class ProviderRequest:
    loan_id: str
    brand_id: str
    provider: str
    idempotency_key: str


@dataclass
class KycResult:
    verified: bool
    name: str | None
    reason: str | None
    provider: str


@dataclass
class BureauResult:
    score: int
    provider: str


@dataclass
class AgreementRequest:
    loan_id: str
    brand_id: str
    provider: str
    idempotency_key: str
    terms: LoanTerms
    expires_in_seconds: int
    now: datetime
    kfs_hash: str | None = None  # the KFS version the borrower accepted (carried as the agreement's annex)
    replaces_docket: str | None = None  # an unsigned docket to cancel at its vendor before the new one opens


@dataclass
class AgreementResult:
    docket_id: str
    signing_url: str
    storage_key: str
    sha256: str


@dataclass
class DisbursalRequest:
    loan_id: str
    brand_id: str
    provider: str
    idempotency_key: str
    amount: int
    approved_by: str
    bank_account_id: str | None = None  # the verified beneficiary (BeneficiaryCheck); None: older loans


@dataclass
class DisbursalResult:
    transfer_id: str
    status: DisbursalStatus  # PENDING once sent to the bank (SETTLED if asked again after settling)
    reason: str | None = None  # FAILED: the bank's reason (its status API said so before any callback)
    mode: str | None = None  # IMPS / NEFT / RTGS
    account_last4: str | None = None


@dataclass
class BeneficiaryCheckRequest:
    """Penny drop on the loan's beneficiary account right before a transfer, unless one younger than the brand's
    ``pennydrop_max_age_hours`` exists."""

    loan_id: str
    brand_id: str
    idempotency_key: str
    now: datetime


@dataclass
class BeneficiaryCheck:
    verified: bool
    reason: str | None = None  # why not: no account, account closed, the name does not match
    bank_account_id: str | None = None
    account_last4: str | None = None
    ifsc: str | None = None
    reverified: bool = False  # a penny drop ran now (False: a recent one was trusted)


@dataclass
class TransferFailure:
    """A transfer failed at the bank (its callback or its status API): recorded with the bank's reason."""

    loan_id: str
    transfer_id: str
    reason: str | None
    source: str  # webhook / reconciler / status_api (a retried attempt asked the bank)


@dataclass
class StaleTransfer:
    """A transfer pending past its brand's SLA with no callback: the reconciler asks the bank about it."""

    loan_id: str
    brand_id: str
    transfer_id: str
    idempotency_key: str
    provider: str


@dataclass
class TransferCheck:
    """The bank's status API on a stale transfer: NOT_FOUND / PENDING / SUCCESS / FAILED."""

    state: str
    utr: str | None = None
    reason: str | None = None


@dataclass
class SignedAgreementRequest:
    loan_id: str
    brand_id: str
    docket_id: str


@dataclass
class SignedAgreement:
    storage_key: str
    sha256: str


@dataclass
class DisbursalNotice:
    """The borrower is told the money left: amount (paise), UTR, and where the KFS and agreement are."""

    loan_id: str
    brand_id: str
    amount: int
    utr: str | None


@dataclass
class DisbursedRecord:
    loan_id: str
    utr: str | None
    transfer_id: str
    amount: int
    disbursed_at: datetime
    installments: list[InstallmentState]
    ledger_key: str
    upfront_fees: int = 0
    upfront_fees_gst: int = 0
    third_party: dict[str, int] = field(default_factory=dict)


@dataclass
class PaymentLinkRequest:
    loan_id: str
    brand_id: str
    provider: str
    installment_no: int
    amount: int


@dataclass
class PaymentPart:
    number: int
    penal: int = 0
    fees: int = 0
    interest: int = 0
    principal: int = 0


@dataclass
class PaymentRecord:
    loan_id: str
    payment: PaymentEvent
    allocations: list[tuple[int, int, int]]  # (installment_no, interest, principal); kept for old histories
    excess: int
    outstanding_principal: int
    next_due_at: datetime | None
    parts: list[PaymentPart] = field(default_factory=list)
    advance_principal: int = 0
    # After an advance to principal the installments from this number on are replaced by ``rescheduled``.
    rescheduled_from: int | None = None
    rescheduled: list[InstallmentState] = field(default_factory=list)
    # Accrual basis: the part of the interest paid that clears interest accrued earlier (Cr INTEREST_RECEIVABLE);
    # the rest is income when collected.
    accrued_interest: int = 0
    # A foreclosure or a cooling-off exit reshapes the installments it closes: (number, interest, fees) as they now
    # stand, recorded before the parts are applied; ``fees_gst`` is the GST within the fees (a foreclosure charge's).
    reshaped: list[tuple[int, int, int]] = field(default_factory=list)
    fees_gst: int = 0
    value_date: date | None = None  # the IST date the loan took it (its ledger postings count from it)
    # STATUS_WITH_PAYMENT_PATCH: the move this payment makes (OVERDUE -> DISBURSED, arrears cleared), recorded in the
    # payment's transaction as record_status would; None: no move.
    status_change: StatusChange | None = None
    # VALUE_DATED_PENAL_PATCH: penal charges (installment number, paise) levied after the payment's value date on
    # installments it pays in full, reversed in its transaction (Dr PENAL_WAIVED / Cr PENAL_RECEIVABLE) before the
    # parts are applied; the parts never include them.
    penal_reversed: list[tuple[int, int]] = field(default_factory=list)
    # FORECLOSURE_INTEREST_CREDIT_PATCH: interest paid for days after the foreclosure, counted as principal:
    # (installment number, change of its interest paid (<= 0), change of its principal paid (>= 0)), paise; posted
    # Dr INTEREST_INCOME / Cr LOAN_PRINCIPAL before the parts are applied (``domain.closure.close_schedule``).
    interest_credited: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass
class PenalLevy:
    loan_id: str
    installment_no: int
    amount: int
    key: str
    reason: str


@dataclass
class DelinquencyRecord:
    loan_id: str
    dpd: int
    asset_class: str
    # The IST calendar date whose day-end produced this DPD/class (RBI IRACP: "the date of SMA/NPA is the
    # calendar date for which the day-end process is run"); None in histories recorded before it was kept.
    as_of: date | None = None
    class_changed: bool = False


@dataclass
class ParkedPayment:
    """A received payment the loan could not apply (malformed, or its recording refused for good): kept aside
    for ops with the reason, so the payments behind it go on. ``amount`` in paise as received (may be absurd)."""

    loan_id: str
    payment: PaymentEvent
    reason: str


@dataclass
class CreditBalanceRecord:
    """A payment received while no installment can take it (the loan has ended, or was never disbursed):
    recorded wholly as the loan's credit balance (activities.receipts)."""

    loan_id: str
    payment: PaymentEvent


@dataclass
class AgreementOutcome:
    loan_id: str
    docket_id: str
    status: AgreementStatus  # one of ESIGN_OUTCOMES: SIGNED / DECLINED / EXPIRED
    at: datetime


@dataclass
class OverdueRecord:
    loan_id: str
    installment_no: int
    dpd: int


@dataclass
class KycStepRequest:
    loan_id: str
    brand_id: str
    step: str
    idempotency_key: str
    ref_id: str | None = None
    aadhaar_number: str | None = None  # histories before sealing only; new requests carry aadhaar_sealed
    reference: str | None = None  # provider reference from the OTP initiation
    aadhaar_sealed: str | None = None  # histories before the Aadhaar Data Vault only; new requests carry aadhaar_ref
    otp: str | None = None
    aadhaar_ref: str | None = None  # the Aadhaar Data Vault's reference token (db.aadhaar_vault)


@dataclass
class KycStepResult:
    step: str
    # PASSED / FAILED / WAITING (needs customer input) / SKIPPED (not automated) / TIMED_OUT (made by the workflow
    # when the customer's input did not come in time)
    status: KycStepStatus
    reason: str | None = None
    provider: str | None = None
    score: str | None = None  # decimal string, e.g. a name-match score
    reference: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # what later rules and evaluation read


@dataclass
class DecisionRequest:
    loan_id: str
    brand_id: str
    idempotency_key: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecisionResult:
    outcome: CreditOutcome  # REJECT / MANUAL_REVIEW / AUTO_SANCTION
    reasons: list[str] = field(default_factory=list)
    score: str | None = None
    assigned_to: str | None = None


# --- the credit decision in three activities (patch kyc-activity-per-step-v1) ---------------------------
@dataclass
class BureauPullRequest:
    loan_id: str
    brand_id: str
    idempotency_key: str


@dataclass
class BureauPullResult:
    """The loan's bureau report as stored (the report itself stays in the database for the rules)."""

    score: int
    provider: str
    reused: bool = False  # a report on the same customer younger than 24 hours was reused
    active_loans: int | None = None
    enquiries_30d: int | None = None


@dataclass
class CreditRulesRequest:
    loan_id: str
    brand_id: str
    idempotency_key: str
    facts: dict[str, Any] = field(default_factory=dict)  # the KYC phase's facts (kyc.<name>)


@dataclass
class CreditRulesResult:
    outcome: CreditOutcome  # REJECT / MANUAL_REVIEW / AUTO_SANCTION
    reasons: list[str] = field(default_factory=list)
    score: str | None = None  # the evaluation score (decimal string); None when the BRE rejected
    stage: str = "EVALUATION"  # the stage that decided: BRE or EVALUATION


@dataclass
class AllocationRequest:
    loan_id: str
    brand_id: str
    idempotency_key: str


@dataclass
class AllocationResult:
    assigned_to: str | None = None  # the staff member, or None: left in the unallocated queue
