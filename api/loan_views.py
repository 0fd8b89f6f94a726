"""Response models of the loan read views (``api/views.py``): what the customer and staff loan routes answer.

The views build the JSON themselves (the hot staff routes send it through orjson, ``api.views.json_response``);
these models document it in /docs, and the routes that do not take the orjson shortcut are validated against
them. Amounts are integer paise (a ledger amount is signed: debit > 0, credit < 0), rates basis points, instants
ISO 8601 strings with their offset, calendar dates (IST) ISO ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from api.responses import ApiModel
from api.types import Whole
from domain.access import ReviewStage
from domain.status import LoanStatus

INSTANT = "ISO 8601 instant with its offset"
DATE = "IST calendar date, ISO YYYY-MM-DD"
DECIMAL = 'a decimal string, e.g. "72.50"'


class LoanSummary(ApiModel):
    """A loan as its customer sees it in a list (``api.views.loan_summary``)."""

    id: str = Field(description="the loan id (UUID)")
    workflow_id: str = Field(description="its Temporal workflow, loan-<loanId>")
    brand_id: str
    customer_id: str
    status: LoanStatus
    status_reason: str | None = Field(description="why it reached its status (rejections, expiry...)")
    amount_paise: int = Field(description="the principal applied for, paise")
    tenure: int = Field(description="number of installments")
    annual_rate_bps: int = Field(description="interest rate per annum, basis points")
    credit_score: int | None = Field(description="the bureau score, once pulled")
    outstanding_principal_paise: int = Field(description="principal still owed, paise")
    total_collected_paise: int = Field(description="everything collected so far, paise")
    disbursed_at: str | None = Field(description=f"when the money was released; {INSTANT}")
    disbursal_utr: str | None = Field(description="the bank's reference of the disbursal transfer")
    next_due_at: str | None = Field(description=f"when the next installment falls overdue; {INSTANT}")
    closed_as: str | None = Field(
        default=None, description="how a repaid loan closed: REPAID, FORECLOSED or COOLING_OFF_EXIT (null while open)"
    )
    created_at: str = Field(description=f"when the application came in; {INSTANT}")


class StaffLoanSummary(LoanSummary):
    """A loan in the staff lists and queues (``api.views.staff_loan_summary``): the customer view plus review
    stage, scores, assignment and delinquency."""

    review_stage: ReviewStage | None = Field(description="where an UNDER_REVIEW loan stands in the hierarchy")
    evaluation_score: str | None = Field(description=f"the automatic evaluation's score, {DECIMAL}")
    score_override: str | None = Field(description=f"a credit executive's override of that score, {DECIMAL}")
    assigned_to: str | None = Field(description="the staff id holding the loan; null: in the pool")
    assigned_at: str | None = Field(description=f"when it was assigned; {INSTANT}")
    dpd: int = Field(description="days past due")
    asset_class: str = Field(description="RBI asset class: STANDARD, SMA-0, SMA-1, SMA-2 or NPA")
    asset_class_since: str | None = Field(description=f"the day-end that produced the class; {DATE}")


class LoanPage(ApiModel):
    """One page of staff loan summaries (the loan list and every queue)."""

    items: list[StaffLoanSummary]
    page: Whole = Field(description="1-based page number")
    limit: Whole = Field(description="page size")
    total: int = Field(description="loans matching the filters, over all pages")


class StatusChange(ApiModel):
    """One move of the loan's status, oldest first."""

    seq: int = Field(description="0 for the application, then one more per move")
    from_status: LoanStatus | None = Field(alias="from", description="null for the application")
    to: LoanStatus
    reason: str | None
    actor: str = Field(description="who moved it: system, customer:<id> or <role>:<email>")
    at: str = Field(description=INSTANT)


class StaffStatusChange(StatusChange):
    """A status move as staff see it: with the staff action behind it."""

    action: str | None = Field(description="the staff action (FORWARD, APPROVE, SEND_BACK...); null if none")
    actor_id: str | None = Field(description="the staff id that acted")
    details: dict[str, Any] | None = Field(description="the action's details (reason code, override...)")


class Installment(ApiModel):
    """One installment of the repayment schedule."""

    installment_no: int = Field(description="1-based")
    due_at: str = Field(description=f"when it falls overdue (the end of its due date); {INSTANT}")
    principal_paise: int
    interest_paise: int
    total_paise: int = Field(description="principal + interest (+ installment fees), paise")
    balance_after_paise: int = Field(description="principal left once it is paid, paise")
    penal_paise: int = Field(description="penal charges levied on it, paise")
    paid_paise: int = Field(description="paid so far (principal, interest, fees, penal), paise")
    due_paise: int = Field(description="still due: total + penal - paid, paise")
    status: str = Field(description="PENDING, OVERDUE or PAID")
    paid_at: str | None = Field(description=INSTANT)


class Agreement(ApiModel):
    """The loan agreement and its eSign docket."""

    status: str = Field(description="SENT, SIGNED, DECLINED or EXPIRED")
    docket_id: str | None = Field(description="the eSign provider's docket")
    signing_url: str | None = Field(description="where the customer signs")
    provider: str = Field(description="the eSign vendor")
    expires_at: str | None = Field(description=INSTANT)
    signed_at: str | None = Field(description=INSTANT)
    sha256: str = Field(description="hex digest of the agreement PDF")


class PaymentLinkView(ApiModel):
    """The active payment link of the earliest unpaid installment."""

    installment_no: int
    url: str
    link_id: str = Field(description="the gateway's link id")
    amount_paise: int


class Payment(ApiModel):
    """A payment received, and how it was applied."""

    gateway: str
    payment_id: str = Field(description="the gateway's payment id")
    amount_paise: int
    principal_paise: int = Field(description="applied to principal, paise")
    interest_paise: int = Field(description="applied to interest, paise")
    excess_paise: int = Field(description="beyond what was due: a credit balance owed to the borrower, paise")
    collected_at: str = Field(description=INSTANT)


class LoanDetailBase(ApiModel):
    """The parts of the loan detail both audiences see (``api.views.loan_detail``)."""

    status_history: Sequence[StatusChange]  # a list; staff see StaffStatusChange items
    schedule: list[Installment]
    agreement: Agreement | None
    payment_link: PaymentLinkView | None
    payments: list[Payment]
    credit_balance_paise: int = Field(description="money received beyond what was due, owed to the borrower")


class KycProgress(ApiModel):
    """Where the KYC phase is (the workflow's ``kyc_status`` query)."""

    steps: list[str] = Field(description="the brand's KYC steps, in order")
    current: str | None = Field(description="the step (or comma-joined steps) running now")
    waiting_for: str | None = Field(description="the step waiting for the customer")
    results: dict[str, str] = Field(description="step → its outcome so far")
    aadhaar_otp_sent: bool
    links: dict[str, str] = Field(description="step → the link the customer follows (DigiLocker, AA...)")
    notes: dict[str, str] = Field(description="step → why it stands where it does")
    inputs_received: int = Field(
        0, description="inputs the customer gave the KYC steps so far (an added account, an uploaded statement...)"
    )
    accepts_ahead: list[str] = Field(
        default_factory=list,
        description="steps whose input the customer may give now, before the step waits for it (`BANK_STATEMENT`: "
        "the statement upload, while the checks before it run)",
    )


class CustomerLoanDetail(LoanDetailBase, LoanSummary):
    """The customer's loan: summary, status history, schedule, agreement, payment link and payments."""

    kyc: KycProgress | None = Field(description="with ?include=kyc while APPLIED, else null")


class ParkedPaymentView(ApiModel):
    """Money received that could not be applied, for ops to resolve."""

    gateway: str
    payment_id: str
    amount_paise: str = Field(description="paise as received, a decimal string (possibly beyond any integer type)")
    reason: str
    status: str = Field(description="PARKED or RESOLVED")
    parked_at: str = Field(description=INSTANT)


class ReviewState(ApiModel):
    """The review's state on the loan."""

    stage: ReviewStage | None
    score_override: str | None = Field(description=DECIMAL)
    score_override_reason: str | None
    sanction_conditions: str | None


class BureauSummary(ApiModel):
    """The bureau pull behind the credit score."""

    provider: str
    score: int
    pulled_at: str = Field(description=INSTANT)


class TransferView(ApiModel):
    """One transfer attempt of the disbursal (a new approval is a new attempt), oldest first."""

    id: str
    idempotency_key: str = Field(description="the key the bank deduplicates the attempt by")
    amount_paise: int = Field(description="what was sent (the net disbursal), paise")
    mode: str | None = Field(description="IMPS, NEFT or RTGS")
    account_masked: str | None = Field(description="the beneficiary account, XXXX + its last 4 digits")
    ifsc: str | None
    provider: str = Field(description="the disbursing bank")
    transfer_id: str | None = Field(description="the bank's id of the transfer")
    utr: str | None = Field(description="the bank's reference once settled")
    status: str = Field(description="INITIATED, PENDING, SETTLED or FAILED")
    failure_reason: str | None = Field(description="the bank's words when it FAILED")
    outcome_source: str | None = Field(description="how the outcome was learnt: webhook or reconciler")
    approved_by: str | None = Field(description="the staff member that released it")
    created_at: str = Field(description=INSTANT)
    sent_at: str | None = Field(description=f"when the request left for the bank; {INSTANT}")
    settled_at: str | None = Field(description=INSTANT)


class StaffLoanDetail(LoanDetailBase, StaffLoanSummary):
    """The loan as staff see it: the staff summary, the detail, parked payments, review state, bureau and the
    disbursal's transfer attempts."""

    status_history: list[StaffStatusChange] = Field(description="with the staff action behind each move")
    parked_payments: list[ParkedPaymentView]
    review: ReviewState
    bureau: BureauSummary | None
    transfers: list[TransferView] = Field(
        default_factory=list, description="every transfer attempt of the disbursal, oldest first"
    )


class LedgerEntryView(ApiModel):
    """One posting of a double-entry transaction."""

    kind: str = Field(description="the transaction: DISBURSAL, REPAYMENT, FEE_CHARGE, PENAL_CHARGE, WAIVER...")
    key: str = Field(description="the transaction's idempotency key")
    at: str = Field(description=INSTANT)
    value_date: str | None = Field(default=None, description="the IST date it counts from, YYYY-MM-DD")
    account: str
    amount_paise: int = Field(description="debit > 0, credit < 0, paise")


class TrialBalanceLine(ApiModel):
    """One account's balance: debits positive, credits negative, paise."""

    account: str
    debit_paise: int
    credit_paise: int
    balance_paise: int


class LoanLedger(ApiModel):
    """The loan's double-entry postings in order, and its trial balance (as of a date when asked)."""

    loan_id: str
    as_of: str | None = Field(default=None, description="the IST date the ledger is as of (null: everything)")
    entries: list[LedgerEntryView]
    trial_balance: list[TrialBalanceLine] = Field(default_factory=list)
    balanced: bool = Field(default=True, description="debits equal credits")


class BrandTrialBalance(ApiModel):
    """The brand's trial balance over every loan's ledger, as of a date."""

    brand_id: str
    as_of: str | None
    accounts: list[TrialBalanceLine]
    total_debit_paise: int
    total_credit_paise: int
    balanced: bool


# ------------------------------------------------------------------------------------------- money out
class TransferList(ApiModel):
    """Every transfer attempt of a loan, oldest first."""

    loan_id: str
    transfers: list[TransferView]


class HeldLoanSummary(StaffLoanSummary):
    """A loan on hold (NEEDS_ATTENTION): the staff summary plus the step that stopped and why."""

    hold_step: str | None = Field(description="the step refused (e.g. disbursal, agreement)")
    hold_reason: str | None = Field(description="why it was refused (the provider's words)")
    held_since: str | None = Field(description=f"when the loan was put on hold; {INSTANT}")


class HeldLoanPage(LoanPage):
    """One page of loans on hold."""

    items: list[HeldLoanSummary]


class PennyDrop(ApiModel):
    """The penny drop of the beneficiary account."""

    status: str = Field(description="PENDING, VERIFIED or FAILED")
    name_match_score: str | None = Field(description=f"the beneficiary name against the PAN name, {DECIMAL}")
    verified_at: str | None = Field(description=f"the last penny drop that verified it; {INSTANT}")
    age_hours: int | None = Field(description="whole hours since verifiedAt; null if never verified")


class Beneficiary(ApiModel):
    """Where the money goes: the latest attempt's account, else the borrower's primary account."""

    bank_account_id: str
    account_masked: str = Field(description="XXXX + the last 4 digits; the number itself is never shown")
    ifsc: str
    bank_name: str | None
    holder_name: str | None = Field(description="the beneficiary name the bank returned")
    penny_drop: PennyDrop


class LatestTransfer(ApiModel):
    """The latest transfer attempt, in short (``GET .../loans/{loanId}/transfers`` has them all)."""

    id: str
    status: str = Field(description="INITIATED, PENDING, SETTLED or FAILED")
    utr: str | None
    failure_reason: str | None
    created_at: str = Field(description=INSTANT)


class LoansOpsSummary(StaffLoanSummary):
    """A loan in the loan-ops queue: the staff summary plus the beneficiary, its penny drop, the net disbursal and
    the latest transfer attempt."""

    net_disbursed_paise: int = Field(description="what reaches the borrower (amount less upfront charges), paise")
    beneficiary: Beneficiary | None = Field(description="null when the borrower has no account on file")
    latest_transfer: LatestTransfer | None = Field(description="null before the first attempt")


class LoansOpsPage(LoanPage):
    """One page of the loan-ops queue."""

    items: list[LoansOpsSummary]
