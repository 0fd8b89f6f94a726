"""The loan workflow's own input and result, the messages it receives (signals, updates) and the value types
they share with the activities. Dataclasses, so fields can be added later without breaking recorded histories.
Money is integer paise."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain import product
from domain.outcomes import AgreementStatus, TransferStatus
from domain.status import LoanStatus
from workflows.contracts.collections import RestructureState, SettlementState

# --- search attributes (registered on the Temporal server by `los up` and the tests) -------------
SEARCH_ATTRIBUTES = {
    "LoanStatus": "Keyword",
    "BrandId": "Keyword",
    "LoanAmount": "Int",
    "NextDueAt": "Datetime",
    "DPD": "Int",
}


@dataclass
class InstallmentState:
    number: int
    due_at: datetime  # when the installment becomes overdue (timer); see LoanWorkflow
    principal: int
    interest: int
    principal_paid: int = 0
    interest_paid: int = 0
    overdue: bool = False
    due_date: date | None = None  # the calendar due date on the schedule
    days: int = 0
    fees: int = 0
    fees_paid: int = 0
    penal: int = 0  # penal charges levied on this installment (a charge, never principal)
    penal_paid: int = 0
    penal_accrued_to: date | None = None  # percent-basis penal computed up to this day
    # Accrual basis (workflows.money_in): the interest posted as receivable at the period's end, and how much of it
    # later payments cleared.
    interest_accrued: int = 0
    accrued: bool = False
    receivable_cleared: int = 0

    @property
    def paid(self) -> bool:
        return (
            self.principal_paid >= self.principal
            and self.interest_paid >= self.interest
            and self.fees_paid >= self.fees
            and self.penal_paid >= self.penal
        )

    @property
    def remaining(self) -> int:
        return (
            self.principal
            - self.principal_paid
            + self.interest
            - self.interest_paid
            + self.fees
            - self.fees_paid
            + self.penal
            - self.penal_paid
        )


@dataclass
class PaymentEvent:
    """Money received for a loan (signal ``payment_received``): the gateway's payment id (or an offline payment's
    row id with gateway ``offline``), the amount in paise. ``purpose`` comes back from the link's notes
    (INSTALLMENT, PREPAYMENT, FORECLOSURE, COOLING_OFF, OVERDUE); ``mandate_debit_id`` names the autopay debit it
    settles; ``mode`` (UPI, CARD, EMANDATE, NEFT, CASH...) and ``reference`` (UTR) go on the receipt."""

    payment_id: str
    amount: int
    gateway: str = "razorpay"
    link_id: str | None = None
    mode: str | None = None
    reference: str | None = None
    purpose: str | None = None
    mandate_debit_id: str | None = None
    paid_on: date | None = None  # an offline payment's value date (IST); None: the day it arrives


def payment_as_json(payment: PaymentEvent) -> dict[str, Any]:
    """``payment``'s fields as JSON (``webhook_events.signal_arg``): ``paid_on`` as ISO ``YYYY-MM-DD``."""
    kept = dataclasses.asdict(payment)
    if payment.paid_on is not None:
        kept["paid_on"] = payment.paid_on.isoformat()
    return kept


def payment_from_json(kept: dict[str, Any]) -> PaymentEvent:
    """The ``PaymentEvent`` :func:`payment_as_json` kept; a key it does not know is left out (a field removed since)."""
    names = {f.name for f in dataclasses.fields(PaymentEvent)}
    values = {k: v for k, v in kept.items() if k in names}
    if values.get("paid_on"):
        values["paid_on"] = date.fromisoformat(values["paid_on"])
    return PaymentEvent(**values)


@dataclass
class PaymentFailure:
    """A gateway reported a payment attempt failed (signal ``payment_failed``): it changes no dues. The loan
    tells the borrower and, for an autopay debit (``mandate_debit_id``), falls back to the payment link."""

    payment_id: str
    gateway: str
    amount: int
    reason: str | None = None
    order_id: str | None = None
    mandate_debit_id: str | None = None


@dataclass
class RefundSettled:
    """A refund of the loan's credit balance reached the borrower's account (signal ``refund_settled``, sent by
    ``workflows.refund.RefundWorkflow``): ``amount`` paise, once per ``refund_id``."""

    refund_id: str
    amount: int
    utr: str | None = None


@dataclass
class MandateEvent:
    """An autopay mandate changed at the gateway (signal ``mandate_updated``): ACTIVE (token confirmed),
    REJECTED, CANCELLED or PAUSED. ``mandate_id`` is ours."""

    mandate_id: str
    status: str
    token_id: str | None = None
    reason: str | None = None


@dataclass
class EsignEvent:
    docket_id: str
    status: AgreementStatus  # the vendor's final word: SIGNED / DECLINED / EXPIRED (ESIGN_OUTCOMES)
    event_id: str = ""


@dataclass
class DisbursalEvent:
    transfer_id: str
    status: TransferStatus  # SUCCESS / FAILED
    utr: str | None = None
    event_id: str = ""
    reason: str | None = None  # the bank's failure reason, as it words it (FAILED)
    source: str = "webhook"  # webhook (the bank's callback) / reconciler / status_api (the bank's status API)


@dataclass
class KfsAcceptance:
    """The borrower accepted a Key Fact Statement (RBI KFS circular, 15 April 2024): the version's SHA-256
    (``domain.kfs.kfs_hash``), the date it was issued on (its schedule assumes disbursal that day) and the last IST
    date it stays valid (3 working days for tenors of 7 days or more, 1 below)."""

    customer_id: str
    kfs_hash: str
    issued_on: date
    valid_until: date
    accepted_at: datetime
    expires_at: datetime | None = None  # the caller's bound (see StaffAction.expires_at)


@dataclass
class AgreementResendRequest:
    """The borrower asks for a fresh signing link (the old docket is cancelled at the vendor first)."""

    customer_id: str
    expires_at: datetime | None = None


@dataclass
class StaffAction:
    """A staff member's decision, sent as a workflow update from the partner API."""

    staff_id: str
    staff_email: str
    role: str
    brand_id: str
    reason: str | None = None
    # Sanction hierarchy extras (all optional, so older histories decode unchanged):
    reason_code: str | None = None  # from the brand's status reasons (reject, send back)
    score_override: str | None = None  # Decimal as text, 0-100 (credit executive, on forward)
    conditions: str | None = None  # sanction manager's conditions of approval
    # The caller waits a bounded time for the answer; an update that reaches the workflow after this instant
    # (no worker was running) is refused by the validator, so it is never applied silently later.
    expires_at: datetime | None = None


@dataclass
class LoanTerms:
    """The product options frozen onto one loan at application (names as in ``domain.product``)."""

    amount: int
    tenure: int
    annual_rate_bps: int
    repay_every: int = 1
    repay_unit: str = "MONTHS"
    period_seconds: int | None = None
    interest_method: str = "DECLINING_BALANCE"
    amortization: str = "EQUAL_INSTALLMENTS"
    interest_calc: str = "SAME_AS_REPAYMENT_PERIOD"
    days_in_year: str = "ACTUAL"
    days_in_month: str = "ACTUAL"
    in_multiples_of: int = 1
    grace_principal: int = 0
    grace_interest: int = 0
    daily_rate: str | None = None  # % per day, as a decimal string (daily-rate bullet loans)
    holidays: list[date] = field(default_factory=list)  # brand non-repayment dates
    # domain.product.HolidayStrategy. Terms recorded before strategies existed carry none: they keep the schedule
    # their KFS showed (and their workflows replay) under LEGACY_NEXT_WORKING_DAY; new loans get their product's.
    holiday_strategy: str = "LEGACY_NEXT_WORKING_DAY"
    # Upfront deductions at disbursal (domain.charges): lender fees, their GST, pass-through charges.
    upfront_fees: int = 0
    upfront_fees_gst: int = 0
    third_party: dict[str, int] = field(default_factory=dict)  # ledger payable account → paise
    net_disbursed: int | None = None  # what reaches the borrower's bank; None = the whole amount

    def schedule_terms(self, disbursed_on: date) -> product.LoanTerms:
        """The engine's terms for a loan disbursed on ``disbursed_on``."""
        return product.LoanTerms(
            principal=self.amount,
            annual_rate=Decimal(self.annual_rate_bps) / 100,
            installments=self.tenure,
            disbursed_on=disbursed_on,
            repay_every=self.repay_every,
            frequency=product.Frequency(self.repay_unit),
            interest_method=product.InterestMethod(self.interest_method),
            amortization=product.Amortization(self.amortization),
            interest_calc=product.InterestCalc(self.interest_calc),
            days_in_year=product.DaysInYear(self.days_in_year),
            days_in_month=product.DaysInMonth(self.days_in_month),
            in_multiples_of=self.in_multiples_of,
            grace_principal=self.grace_principal,
            grace_interest=self.grace_interest,
            daily_rate=Decimal(self.daily_rate) if self.daily_rate is not None else None,
            holidays=frozenset(self.holidays),
            holiday_strategy=product.HolidayStrategy(self.holiday_strategy),
        )


@dataclass
class LoanPolicy:
    min_credit_score: int = 650
    auto_sanction_score: int = 750
    esign_expiry_seconds: int = 3 * 24 * 3600
    kyc_provider: str = "digitap"
    bureau_provider: str = "cibil"
    esign_provider: str = "signzy"
    disbursal_provider: str = "idfc"
    payment_provider: str = "razorpay"
    allocation: dict[str, Any] = field(default_factory=dict)  # domain.allocation.AllocationConfig fields
    penal: dict[str, Any] | None = None  # domain.charges.PenalChargeSpec fields (percents as strings)
    prepayment_mode: str = "REDUCE_TENURE"  # what an advance to principal does to the schedule
    npa_days: int = 90
    kyc_steps: list[str] = field(default_factory=lambda: ["PAN"])  # the brand's steps, in order
    kyc_timeout_seconds: int = 7 * 24 * 3600  # how long a step waits for the customer
    # Money in (workflows.money_in). Loans started before these existed read the defaults: no cooling-off exit,
    # no foreclosure charge.
    foreclosure_percent: str | None = None  # the product's foreclosure charge, % of principal outstanding
    gst_percent: str = "18"  # GST on lender charges (the foreclosure charge)
    cooling_off_days: int | None = None  # the look-up period (never below RBI's floor); None: no exit offered
    apr: str | None = None  # the loan's APR (percent), for the cooling-off exit's proportionate cost
    reminder_days: int = 3  # a reminder this many days before each due date (and one on it)
    autopay_retries: int = 2  # further debits of a mandate after a failed one
    autopay_retry_days: int = 2  # days between them
    # Collections (workflows.collections): the brand's collections rules when the loan started (buckets and the
    # rest; domain.collection_policy), None: the defaults.
    collections: dict[str, Any] | None = None


@dataclass
class HeldNotice:
    """A customer notice about overdue dues held for RBI's contact hours (08:00-19:00 IST, domain.contact_hours):
    ``event`` and its ``values`` as ``_notice`` takes them, sent once per ``key``. With ``installment`` its ``amount``
    is read again when it goes (what that installment still asks); it is dropped if the installment is paid, is not
    overdue, or belongs to a schedule a restructure replaced. A settlement's offer is dropped unless that settlement is
    still open, its deadline not past and the link offered still its current one."""

    event: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    installment: int | None = None
    schedule_version: int = 0  # the schedule the installment was in (a restructure since drops the notice)
    settlement_id: str | None = None  # a SETTLEMENT_OFFER: the settlement, and which of its links it offers
    link_version: int = 0


@dataclass
class ServicingState:
    installments: list[InstallmentState]
    disbursed_at: datetime
    processed_payments: list[str] = field(default_factory=list)
    total_collected: int = 0
    excess: int = 0
    asset_class: str = "STANDARD"
    dpd: int = 0
    woke_for_day_end: bool = False  # the last wake was a day-end timer (its date is the day before)
    # Money in (workflows.money_in): the autopay mandate in force, the debits sent per installment, the reminders
    # already sent (keys), interest accrued to (IST date), and refunds approved or paid (paise).
    mandate_id: str | None = None  # the ACTIVE mandate (None: none, or cancelled/rejected/paused)
    debit: DebitState | None = None  # the autopay debit of the current installment in progress
    # installment number → the highest debit attempt number it used (tries failed or captured, debits dropped
    # uncharged, attempts carried over by a restructure): its next debit is attempt + 1
    debit_failures: dict[str, int] = field(default_factory=dict)
    # installment number → when its last try ended failed (or, autopay-capture-spaces-retry-v1, captured): the next
    # try comes autopay_retry_days after it
    debit_failed_at: dict[str, datetime] = field(default_factory=dict)
    # "<schedule version>:<installment number>" → "" when that installment's last autopay try ended with its outcome
    # known (captured, failed, nothing at the gateway), else the id of its debit whose outcome never came: autopay
    # goes past an installment whose tries are spent only in the first case (autopay-later-installments-v1)
    debit_last_try: dict[str, str] = field(default_factory=dict)
    # installment number → its debit attempt numbers that are not its tries: those its number had when a restructure
    # gave it a new installment (autopay-restructure-tries-v1) and debits dropped uncharged as their mandate stopped
    # (autopay-dropped-debit-frees-attempt-v1); its tries count from there
    debit_tries_before: dict[str, int] = field(default_factory=dict)
    # installment number → the id of a debit of its number whose outcome never came when a restructure gave it a new
    # installment (it may still be captured): no try of the new one until that outcome arrives
    debit_blocked_by: dict[str, str] = field(default_factory=dict)
    notices_sent: list[str] = field(default_factory=list)
    # notices about overdue dues found outside 08:00-19:00 IST, to send once the window opens (CONTACT_HOURS_PATCH)
    held_notices: list[HeldNotice] = field(default_factory=list)
    refunded: int = 0
    refund_ids: list[str] = field(default_factory=list)
    closed_as: str | None = None  # FORECLOSED or COOLING_OFF_EXIT once a payment closed it so
    accrual_since: datetime | None = None  # accrual began (the first money-in pass); periods ended before: cash basis
    # Collections (workflows.collections): the worst DPD reached, the DPD last reviewed for allocation, the settlement
    # and restructure in progress, and until when a restructured loan stays NPA (RBI's specified period).
    max_dpd: int = 0
    reviewed_dpd: int = 0
    settlement: SettlementState | None = None
    restructure: RestructureState | None = None
    npa_until: date | None = None
    schedule_version: int = 0  # restructures approved: penal keys of a later schedule carry it (no collision)


@dataclass
class DebitState:
    """An autopay debit in progress: installment, try number, our debit row id, the amount notified and when the
    charge goes; ``sent`` once the gateway took it (the outcome arrives as a payment event)."""

    installment_no: int
    attempt: int
    charge_at: datetime
    amount: int
    debit_id: str | None = None
    sent: bool = False
    checks: int = 0  # times the gateway was asked for its outcome after its patience (AUTOPAY_DEBIT_CHECK_PATCH)
    unanswered: bool = False  # the charge itself got no answer past its retries (AUTOPAY_CHARGE_UNANSWERED_PATCH)


@dataclass
class LoanWorkflowInput:
    loan_id: str
    brand_id: str
    customer_id: str
    terms: LoanTerms
    policy: LoanPolicy
    # Carried across continue-as-new (phase boundary after disbursal, or when history grows).
    status: LoanStatus = LoanStatus.APPLIED
    status_seq: int = 0
    servicing: ServicingState | None = None
    pending_payments: list[PaymentEvent] = field(default_factory=list)
    pending_failures: list[PaymentFailure] = field(default_factory=list)
    pending_mandate_events: list[MandateEvent] = field(default_factory=list)
    refunds_settled: list[RefundSettled] = field(default_factory=list)
    # The task queue of the loan's follow-up work: receipts, customer notices and payment links, which no balance
    # waits on (docs/scaling.md, "Follow-up queue"). Its own worker takes a bounded number at once, so on a due-date
    # storm the payments are credited first. None (loans started before it, tests): the loan's own task queue.
    followup_task_queue: str | None = None
    # The customer had no other loan when this one was applied for (the API's check): no earlier KYC result can be
    # valid, so the KYC phase does not look for one (kyc_reuse_lookup), where it runs under kyc-inputs-ahead-v1 (a
    # worker before it ignores the field and looks). False for loans started before it.
    first_loan: bool = False


@dataclass
class LoanWorkflowResult:
    loan_id: str
    status: LoanStatus
    installments_paid: int = 0
    total_collected: int = 0


# --- customer input during the KYC phase ------------------------------------------------------------
@dataclass
class AadhaarInitiate:
    """The customer's Aadhaar for e-KYC: ``aadhaar_ref``, the reference token of the number in the Aadhaar Data
    Vault (``db.aadhaar_vault``), and the masked form are all that reach workflow history. ``aadhaar_sealed`` (the
    number sealed with the field key) and ``aadhaar_number`` are kept empty and exist only so histories recorded
    before the vault (and before sealing) still decode and their loans still send the OTP."""

    aadhaar_number: str = ""
    aadhaar_sealed: str | None = None
    aadhaar_masked: str | None = None
    expires_at: datetime | None = None  # as StaffAction.expires_at
    aadhaar_ref: str | None = None  # the vault's reference token (adv_…)


@dataclass
class AadhaarOtp:
    otp: str
    expires_at: datetime | None = None  # as StaffAction.expires_at


@dataclass
class KycInput:
    """The customer added or changed data a KYC step needs (employment, bank account, statement...)."""

    step: str
    ref_id: str | None = None


@dataclass
class KycProgressSeen:
    """The KYC progress a reader holds (a ``kyc_status`` answer, JSON-decoded): what ``kyc_progress_changed`` waits
    for the workflow to move from."""

    progress: dict[str, Any]
