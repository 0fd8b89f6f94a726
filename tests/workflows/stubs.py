"""Stub activities and builders for driving the real ``LoanWorkflow`` without a database, providers or a browser.

Each stub is registered under the same activity name as the production one (``LoanActivities.all()`` and
``KycActivities.all()``), answers with the contract type the workflow expects, and records every call in order,
so a test can assert exactly what the workflow asked the outside world to do. What a stub answers is scripted
per test (KYC results, the credit decision, Aadhaar answers, payments the database refuses).

``LoanRun`` drives one loan the way the API and the providers' webhooks do: updates for staff and customer
actions, signals for provider events, and the time-skipping test server's virtual clock for timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from tests.conftest import skip_time
from workflows.contracts import (
    AccrualRecord,
    AgreementOutcome,
    AgreementRequest,
    AgreementResult,
    AllocationRequest,
    AllocationResult,
    BeneficiaryCheck,
    BeneficiaryCheckRequest,
    BureauPullRequest,
    BureauPullResult,
    BureauResult,
    CertificateRequest,
    ClosingPostings,
    ClosureRecord,
    CollectionReview,
    CreditBalanceRecord,
    CreditRulesRequest,
    CreditRulesResult,
    DecisionRequest,
    DecisionResult,
    DelinquencyRecord,
    DisbursalEvent,
    DisbursalNotice,
    DisbursalRequest,
    DisbursalResult,
    DisbursedRecord,
    EsignEvent,
    KfsAcceptance,
    KycResult,
    KycStepRequest,
    KycStepResult,
    LoanPolicy,
    LoanTerms,
    LoanWorkflowInput,
    LoanWorkflowResult,
    MandateDebitCheck,
    MandateDebitRequest,
    MandateDebitResult,
    MandateEvent,
    NoticeRequest,
    OverdueRecord,
    ParkedPayment,
    PaymentEvent,
    PaymentLinkRequest,
    PaymentRecord,
    PenalLevy,
    ProviderRequest,
    ReceiptNotice,
    ReceiptRequest,
    ReceiptSweepWindow,
    RedeliveryWindow,
    ReloanRequest,
    ServicingDecisionRecord,
    SettlementLinkRequest,
    SignedAgreement,
    SignedAgreementRequest,
    StaffAction,
    StaleTransfer,
    StatusChange,
    TransferCheck,
    TransferFailure,
    UndeliveredPayment,
    UnreceiptedPayment,
)
from workflows.loan import LoanWorkflow
from workflows.options import IST_ANCHOR_PATCH

IST_ZONE = timezone(timedelta(hours=5, minutes=30))

BRAND_ID = "brand-stub"
CUSTOMER_ID = "customer-stub"
WAIT_SECONDS = 45.0  # real seconds a test waits for the workflow to reach a point (it takes milliseconds; a status
# query that reached a run just closed by continue-as-new can hang about 30 s on the time-skipping server)

# New loans run one activity per KYC step and the credit decision as bureau pull → rules and evaluation →
# allocation (manual review only), patch ``kyc-activity-per-step-v1``. ``kyc_step`` and ``decide_credit`` stay
# registered for loans started before it: stubbed too, and never called by a new loan.
KYC_STEP_ACTIVITIES = {
    "PAN": "kyc_pan",
    "MOBILE": "kyc_mobile",
    "CKYC": "kyc_ckyc",
    "BANK_ACCOUNT": "kyc_penny_drop",
    "EMPLOYMENT": "kyc_employment",
    "BANK_STATEMENT": "kyc_bank_statement",
    "DIGILOCKER": "kyc_digilocker",
}
KYC_ACTIVITIES = frozenset(KYC_STEP_ACTIVITIES.values()) | {"kyc_step"}
# What a serviced loan asks besides its repayment loop (workflows.money_in): asserted by the money-in tests.
MONEY_IN_ACTIVITIES = frozenset(
    {
        "send_notice",
        "issue_receipt",
        "accrue_interest",
        "record_closure",
        "record_mandate_event",
        "notify_mandate_debit",
        "charge_mandate",
        "find_mandate_debit",
        "record_debit_outcome",
    }
)
# What collections add to a serviced loan (workflows.collections): asserted by the collections tests.
COLLECTIONS_ACTIVITIES = frozenset(
    {
        "review_collection",
        "record_servicing_decision",
        "record_closing_postings",
        "settlement_link",
        "issue_closure_certificate",
        "offer_reloan",
    }
)
DECISION_ACTIVITIES = frozenset(
    {"decide_credit", "credit_bureau_pull", "credit_rules_and_evaluation", "credit_allocation"}
)


def kyc_activity(step: str) -> str:
    """The activity a new loan's KYC ``step`` runs as."""
    return KYC_STEP_ACTIVITIES[step]


def decision_activities(outcome: str) -> list[str]:
    """The activities, in order, of a new loan's credit decision that ends in ``outcome``."""
    allocation = ["credit_allocation"] if outcome == "MANUAL_REVIEW" else []
    return ["credit_bureau_pull", "credit_rules_and_evaluation", *allocation]


def decision_keys(loan_key: str, outcome: str) -> list[str]:
    """Their idempotency keys."""
    keys = [f"{loan_key}:decision:bureau", f"{loan_key}:decision:rules"]
    return keys + ([f"{loan_key}:decision:allocation"] if outcome == "MANUAL_REVIEW" else [])


def production_activity_names() -> set[str]:
    """The names the production worker registers for the loan workflow (worker.py: ``LoanActivities``, ``KycActivities``
    and ``MessagingActivities``)."""
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from activities.messaging import MessagingActivities

    # all() only lists bound methods; no client is touched, so an instance without __init__ is enough.
    loan = LoanActivities.__new__(LoanActivities)
    kyc = KycActivities.__new__(KycActivities)
    bound = loan.all() + kyc.all() + MessagingActivities.__new__(MessagingActivities).all()
    names = set()
    for fn in bound:
        defn = activity._Definition.from_callable(fn)
        assert defn is not None and defn.name is not None
        names.add(defn.name)
    return names


def docket_id(req: AgreementRequest) -> str:
    """The eSign docket the stub opens for an agreement request: ``DKT-<loan id's first 8>`` for the first round
    (``:agreement:1``), with ``-<round>`` after it for each later one (a new docket every round, as a vendor does)."""
    docket = f"DKT-{req.loan_id[:8]}"
    round_no = req.idempotency_key.rsplit(":", 1)[-1]
    return docket if round_no == "1" else f"{docket}-{round_no}"


# --- builders --------------------------------------------------------------------------------------
def terms(amount: int = 60_000_00, tenure: int = 3, period_seconds: int | None = 3600, **kw: Any) -> LoanTerms:
    """A 24% p.a. monthly-EMI loan. ``period_seconds`` (a demo product's "month") makes each installment fall due
    that many seconds after the previous one; None keeps real calendar due dates."""
    return LoanTerms(amount=amount, tenure=tenure, annual_rate_bps=2400, period_seconds=period_seconds, **kw)


def policy(**kw: Any) -> LoanPolicy:
    return LoanPolicy(**{"esign_expiry_seconds": 600, "kyc_timeout_seconds": 3600, **kw})


def loan_input(loan_terms: LoanTerms | None = None, loan_policy: LoanPolicy | None = None) -> LoanWorkflowInput:
    return LoanWorkflowInput(
        loan_id=str(uuid.uuid4()),
        brand_id=BRAND_ID,
        customer_id=CUSTOMER_ID,
        terms=loan_terms or terms(),
        policy=loan_policy or policy(),
    )


@dataclass(frozen=True)
class Staff:
    """One staff member; ``act`` builds the StaffAction the partner API would send for them."""

    staff_id: str
    role: str

    @property
    def email(self) -> str:
        return f"{self.staff_id}@brand.example"

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.email}"

    def act(self, **kw: Any) -> StaffAction:
        return StaffAction(self.staff_id, self.email, self.role, kw.pop("brand_id", BRAND_ID), **kw)


CREDIT_EXECUTIVE = Staff("ce-1", "CREDIT_EXECUTIVE")
SANCTION_MANAGER = Staff("sm-1", "SANCTION_MANAGER")
SANCTION_HEAD = Staff("sh-1", "SANCTION_HEAD")
LOAN_EXECUTIVE = Staff("le-1", "LOAN_EXECUTIVE")
SUPER_ADMIN = Staff("sa-1", "SUPER_ADMIN")


# --- stub activities -------------------------------------------------------------------------------
@dataclass
class Call:
    name: str
    arg: Any


@dataclass
class StubActivities:
    """Scripted answers, and every call in order (``calls``)."""

    # Per KYC step, its answers in order (the last one repeats); a step not listed passes; a str: the vendor refuses
    # (the activity fails with a non-retryable BusinessRefusal, as activities.kyc does for a vendor's permanent error);
    # an exception: the activity raises it (a non-retryable one stands for a fault whose retries are all spent).
    kyc: dict[str, list[KycStepResult | str | BaseException]] = field(default_factory=dict)
    decision: DecisionResult = field(default_factory=lambda: DecisionResult("AUTO_SANCTION", ["score 780"], "78.00"))
    aadhaar_initiate_answer: KycStepResult = field(
        default_factory=lambda: KycStepResult("AADHAAR", "PASSED", reference="AADHAAR-REF-1")
    )
    # The provider's answers to each OTP submitted, in order (the last one repeats).
    aadhaar_submit_answers: list[KycStepResult] = field(
        default_factory=lambda: [KycStepResult("AADHAAR", "PASSED", facts={"aadhaar.name_match": "100.00"})]
    )
    # Payment ids whose recording the database refuses for good (as activities.loan does for an impossible row).
    unrecordable_payments: set[str] = field(default_factory=set)
    refused_links: set[int] = field(default_factory=set)  # installments whose payment link every gateway refuses
    settlement_links_down: int = 0  # settlement_link calls that fail (every gateway down past the retries) first
    settlement_links_refused: int = 0  # then settlement_link calls every gateway refuses (a BusinessRefusal)
    # Statuses whose record_status call is held (in flight) until ``release(status)``.
    hold: set[str] = field(default_factory=set)
    holding: dict[str, asyncio.Event] = field(default_factory=dict)
    # KYC steps whose activity picks its answer when called (as the real one reads the database first) but returns it
    # only once the event is set: an input the customer gives meanwhile comes too late for that attempt.
    kyc_held: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # reverify_beneficiary's answers in order (the last repeats); a string is a provider's refusal
    beneficiary_answers: list[BeneficiaryCheck | str] = field(
        default_factory=lambda: [BeneficiaryCheck(True, None, "acct-1", "1234", "HDFC0001234")]
    )
    # initiate_disbursal's answers by call, in order (a string is the bank's refusal); past the list, or None:
    # TR-<attempt>, INITIATED
    transfer_answers: list[DisbursalResult | str | None] = field(default_factory=list)
    # the reconciler's view: stale transfers, and what the bank's status API says of each (by transfer id)
    stale_transfers: list[StaleTransfer] = field(default_factory=list)
    unreceipted: list[UnreceiptedPayment] = field(default_factory=list)  # what payments_without_receipt answers
    failing_receipts: set[str] = field(default_factory=set)  # payment ids whose receipt fails for good
    undelivered: list[UndeliveredPayment] = field(default_factory=list)  # what undelivered_payments answers
    failing_keeps: set[str] = field(default_factory=set)  # payment ids keep_undelivered_payment fails for good
    transfer_checks: dict[str, TransferCheck] = field(default_factory=dict)
    # charge_mandate's answers in order; past the list: SENT (the outcome comes as a payment event); an exception: the
    # activity raises it (a non-retryable one stands for a gateway that did not answer past the charge's retries)
    debit_answers: list[MandateDebitResult | BaseException] = field(default_factory=list)
    # find_mandate_debit's answers in order; past the list: nothing found at the gateway
    debit_checks: list[MandateDebitCheck] = field(default_factory=list)
    # KYC reuse (kyc-reuse-v1): kyc_reuse_lookup's answer, and its calls with kyc_record_results' (kept apart from
    # ``calls`` so the activity sequences other tests assert stay as they are)
    reusable: list[KycStepResult] = field(default_factory=list)
    reuse_calls: list[Call] = field(default_factory=list)
    # kyc_record_results waits up to this many seconds for the bureau pull to start, and notes whether it did
    # (``bureau_in_flight``): a test of the two running side by side (kyc-results-beside-bureau-v1)
    results_wait_for_bureau: float = 0.0
    bureau_in_flight: list[bool] = field(default_factory=list)
    # credit_bureau_pull's answers by call, in order (a string: the bureau refuses); past the list: a score of 780
    bureau_answers: list[str | None] = field(default_factory=list)

    def release(self, status: str) -> None:
        self.holding[status].set()

    def _record(self, name: str, arg: Any) -> None:
        self.calls.append(Call(name, arg))

    # queries over what was recorded
    def of(self, name: str) -> list[Any]:
        return [c.arg for c in self.calls if c.name == name]

    def names(self, money_in: bool = False, collections: bool = False) -> list[str]:
        """Every activity called, in order; the money-in side activities (notices, receipts, accruals, closure,
        autopay: ``MONEY_IN_ACTIVITIES``) only with ``money_in``, and collections' (``COLLECTIONS_ACTIVITIES``)
        only with ``collections`` — the tests of each assert those."""
        return [
            c.name
            for c in self.calls
            if (money_in or c.name not in MONEY_IN_ACTIVITIES) and (collections or c.name not in COLLECTIONS_ACTIVITIES)
        ]

    def moves(self) -> list[tuple[str | None, str]]:
        """(from, to) of every status move recorded, in order: each record_status call, and the move a payment
        records with it (``PaymentRecord.status_change``, status-with-payment-v1)."""
        changes = [
            c.arg if c.name == "record_status" else c.arg.status_change
            for c in self.calls
            if c.name == "record_status" or (c.name == "record_payment" and c.arg.status_change is not None)
        ]
        return [(c.from_status, c.to_status) for c in changes]

    def statuses(self) -> list[str]:
        """The status sequence as the database saw it: APPLIED, then each ``to``."""
        return ["APPLIED"] + [to for _, to in self.moves()]

    def kyc_requests(self) -> list[KycStepRequest]:
        """Every KYC step the workflow ran, in order; each through its own activity."""
        calls = [c for c in self.calls if c.name in KYC_ACTIVITIES]
        assert [c.name for c in calls] == [kyc_activity(c.arg.step) for c in calls], [c.name for c in calls]
        return [c.arg for c in calls]

    def decisions(self) -> list[Call]:
        return [c for c in self.calls if c.name in DECISION_ACTIVITIES]

    def decision_facts(self) -> dict:
        """The KYC facts the credit decision was given."""
        (ask,) = [c.arg for c in self.calls if c.name in {"decide_credit", "credit_rules_and_evaluation"}]
        return ask.facts

    async def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls so far: {self.names()}")
            await asyncio.sleep(0.01)

    async def wait_calls(self, name: str, count: int) -> list[Any]:
        """Wait until ``name`` was called at least ``count`` times; its calls."""
        return await self.wait_for(lambda: len(self.of(name)) >= count and self.of(name), f"{count}× {name}")

    # LoanActivities
    @activity.defn(name="record_status")
    async def record_status(self, change: StatusChange) -> None:
        self._record("record_status", change)
        if change.to_status in self.hold:
            await self.holding.setdefault(change.to_status, asyncio.Event()).wait()

    @activity.defn(name="verify_pan")
    async def verify_pan(self, req: ProviderRequest) -> KycResult:
        self._record("verify_pan", req)
        return KycResult(True, "ASHA VERMA", None, req.provider)

    @activity.defn(name="pull_bureau")
    async def pull_bureau(self, req: ProviderRequest) -> BureauResult:
        self._record("pull_bureau", req)
        return BureauResult(780, req.provider)

    @activity.defn(name="prepare_agreement")
    async def prepare_agreement(self, req: AgreementRequest) -> AgreementResult:
        self._record("prepare_agreement", req)
        docket = docket_id(req)
        return AgreementResult(docket, f"https://esign.invalid/{docket}", f"agreements/{req.loan_id}.pdf", "0" * 64)

    @activity.defn(name="record_agreement_outcome")
    async def record_agreement_outcome(self, outcome: AgreementOutcome) -> None:
        self._record("record_agreement_outcome", outcome)

    @activity.defn(name="initiate_disbursal")
    async def initiate_disbursal(self, req: DisbursalRequest) -> DisbursalResult:
        self._record("initiate_disbursal", req)
        done = len(self.of("initiate_disbursal")) - 1
        answer = self.transfer_answers[done] if done < len(self.transfer_answers) else None
        if isinstance(answer, str):  # the bank refuses the request
            raise ApplicationError(answer, type="BusinessRefusal", non_retryable=True)
        if answer is not None:
            return answer
        attempt = req.idempotency_key.rsplit(":", 1)[-1]
        return DisbursalResult(f"TR-{attempt}", "INITIATED")

    @activity.defn(name="record_disbursal")
    async def record_disbursal(self, rec: DisbursedRecord) -> None:
        self._record("record_disbursal", rec)

    @activity.defn(name="store_signed_agreement")
    async def store_signed_agreement(self, req: SignedAgreementRequest) -> SignedAgreement:
        self._record("store_signed_agreement", req)
        return SignedAgreement(f"agreements/{req.loan_id}/signed-{req.docket_id}.pdf", "1" * 64)

    @activity.defn(name="cancel_docket")
    async def cancel_docket(self, req: SignedAgreementRequest) -> bool:
        self._record("cancel_docket", req)
        return True

    @activity.defn(name="reverify_beneficiary")
    async def reverify_beneficiary(self, req: BeneficiaryCheckRequest) -> BeneficiaryCheck:
        self._record("reverify_beneficiary", req)
        answers = self.beneficiary_answers
        answer = answers[min(len(self.of("reverify_beneficiary")) - 1, len(answers) - 1)]
        if isinstance(answer, str):  # a provider's refusal
            raise ApplicationError(answer, type="BusinessRefusal", non_retryable=True)
        return answer

    @activity.defn(name="record_transfer_failure")
    async def record_transfer_failure(self, failure: TransferFailure) -> None:
        self._record("record_transfer_failure", failure)

    @activity.defn(name="notify_disbursed")
    async def notify_disbursed(self, notice: DisbursalNotice) -> None:
        self._record("notify_disbursed", notice)

    @activity.defn(name="find_stale_transfers")
    async def find_stale_transfers(self, now: datetime) -> list[StaleTransfer]:
        self._record("find_stale_transfers", now)
        return list(self.stale_transfers)

    @activity.defn(name="check_transfer")
    async def check_transfer(self, transfer: StaleTransfer) -> TransferCheck:
        self._record("check_transfer", transfer)
        return self.transfer_checks[transfer.transfer_id]

    @activity.defn(name="ensure_payment_link")
    async def ensure_payment_link(self, req: PaymentLinkRequest) -> str:
        self._record("ensure_payment_link", req)
        if req.installment_no in self.refused_links:
            raise ApplicationError("every gateway refused the link", type="BusinessRefusal", non_retryable=True)
        return f"plink_{req.installment_no}_{req.amount}"

    @activity.defn(name="record_payment")
    async def record_payment(self, rec: PaymentRecord) -> None:
        self._record("record_payment", rec)
        if rec.payment.payment_id in self.unrecordable_payments:
            raise ApplicationError("DataError: value out of range", type="UnrecordablePayment", non_retryable=True)

    @activity.defn(name="mark_overdue")
    async def mark_overdue(self, rec: OverdueRecord) -> None:
        self._record("mark_overdue", rec)

    @activity.defn(name="levy_penal")
    async def levy_penal(self, levy: PenalLevy) -> None:
        self._record("levy_penal", levy)

    @activity.defn(name="record_delinquency")
    async def record_delinquency(self, rec: DelinquencyRecord) -> None:
        self._record("record_delinquency", rec)

    @activity.defn(name="park_payment")
    async def park_payment(self, parked: ParkedPayment) -> None:
        self._record("park_payment", parked)

    @activity.defn(name="record_credit_balance")
    async def record_credit_balance(self, rec: CreditBalanceRecord) -> None:
        self._record("record_credit_balance", rec)

    # Money in
    @activity.defn(name="send_notice")
    async def send_notice(self, req: NoticeRequest) -> None:
        self._record("send_notice", req)

    @activity.defn(name="issue_receipt")
    async def issue_receipt(self, req: ReceiptRequest) -> dict:
        self._record("issue_receipt", req)
        return {"receipt_no": f"R-{req.payment_id}"}

    @activity.defn(name="issue_receipt_and_notify")
    async def issue_receipt_and_notify(self, req: ReceiptNotice) -> str:
        if req.payment_id in self.failing_receipts:
            self._record("receipt_failed", req)
            raise ApplicationError(f"no receipt for {req.payment_id}", type="NotFound", non_retryable=True)
        # recorded as the two steps it merges (receipt-with-notice-v1), so tests read both as before
        self._record("issue_receipt", ReceiptRequest(req.loan_id, req.gateway, req.payment_id))
        number = f"R-{req.payment_id}"
        values = {**req.values, "receiptNo": number}
        self._record("send_notice", NoticeRequest(req.loan_id, "PAYMENT_RECEIVED", req.key, values))
        return number

    @activity.defn(name="payments_without_receipt")
    async def payments_without_receipt(self, window: ReceiptSweepWindow) -> list[UnreceiptedPayment]:
        self._record("payments_without_receipt", window)
        return list(self.unreceipted)

    @activity.defn(name="undelivered_payments")
    async def undelivered_payments(self, window: RedeliveryWindow) -> list[UndeliveredPayment]:
        self._record("undelivered_payments", window)
        return list(self.undelivered)

    @activity.defn(name="keep_undelivered_payment")
    async def keep_undelivered_payment(self, undelivered: UndeliveredPayment) -> str:
        if undelivered.payment.payment_id in self.failing_keeps:
            raise ApplicationError("the database refused it", non_retryable=True)
        self._record("keep_undelivered_payment", undelivered)
        return "recorded_as_credit_balance"

    @activity.defn(name="mark_payment_delivered")
    async def mark_payment_delivered(self, undelivered: UndeliveredPayment) -> None:
        self._record("mark_payment_delivered", undelivered)

    @activity.defn(name="accrue_interest")
    async def accrue_interest(self, rec: AccrualRecord) -> None:
        self._record("accrue_interest", rec)

    @activity.defn(name="record_closure")
    async def record_closure(self, rec: ClosureRecord) -> None:
        self._record("record_closure", rec)

    @activity.defn(name="record_mandate_event")
    async def record_mandate_event(self, event: MandateEvent) -> None:
        self._record("record_mandate_event", event)

    @activity.defn(name="notify_mandate_debit")
    async def notify_mandate_debit(self, req: MandateDebitRequest) -> str:
        self._record("notify_mandate_debit", req)
        return f"debit-{req.installment_no}-{req.attempt}"

    @activity.defn(name="record_debit_outcome")
    async def record_debit_outcome(self, outcome: MandateDebitResult) -> MandateDebitResult:
        self._record("record_debit_outcome", outcome)
        return outcome

    @activity.defn(name="charge_mandate")
    async def charge_mandate(self, req: MandateDebitRequest) -> MandateDebitResult:
        self._record("charge_mandate", req)
        answer = self.debit_answers.pop(0) if self.debit_answers else None
        if isinstance(answer, BaseException):
            raise answer
        return answer or MandateDebitResult(f"debit-{req.installment_no}-{req.attempt}", "SENT")

    @activity.defn(name="find_mandate_debit")
    async def find_mandate_debit(self, debit_id: str) -> MandateDebitCheck:
        self._record("find_mandate_debit", debit_id)
        return self.debit_checks.pop(0) if self.debit_checks else MandateDebitCheck(debit_id)

    # Collections
    @activity.defn(name="review_collection")
    async def review_collection(self, review: CollectionReview) -> str | None:
        self._record("review_collection", review)
        return f"collector-{review.bucket}" if review.bucket else None

    @activity.defn(name="record_servicing_decision")
    async def record_servicing_decision(self, rec: ServicingDecisionRecord) -> None:
        self._record("record_servicing_decision", rec)

    @activity.defn(name="record_closing_postings")
    async def record_closing_postings(self, req: ClosingPostings) -> dict:
        self._record("record_closing_postings", req)
        return {"principal": 0, "interest": 0, "fees": 0, "penal": 0}

    @activity.defn(name="settlement_link")
    async def settlement_link(self, req: SettlementLinkRequest) -> str:
        self._record("settlement_link", req)
        if self.settlement_links_down > 0:
            self.settlement_links_down -= 1
            raise ApplicationError("every gateway is down", type="ProviderError", non_retryable=True)
        if self.settlement_links_refused > 0:
            self.settlement_links_refused -= 1
            raise ApplicationError("amount exceeds the maximum allowed", type="BusinessRefusal", non_retryable=True)
        return f"settle_{req.amount}"

    @activity.defn(name="issue_closure_certificate")
    async def issue_closure_certificate(self, req: CertificateRequest) -> dict:
        self._record("issue_closure_certificate", req)
        return {"certificateNo": f"NOC-{req.loan_id[:8]}", "version": 1, "kind": req.kind}

    @activity.defn(name="offer_reloan")
    async def offer_reloan(self, req: ReloanRequest) -> dict | None:
        self._record("offer_reloan", req)
        return None

    # KycActivities
    def _kyc_answer(self, name: str, req: KycStepRequest) -> KycStepResult:
        self._record(name, req)
        answers = self.kyc.get(req.step)
        if not answers:
            return KycStepResult(req.step, "PASSED", provider="stub", facts={f"{req.step.lower()}.ok": True})
        done = sum(1 for r in self.kyc_requests() if r.step == req.step) - 1
        answer = answers[min(done, len(answers) - 1)]
        if isinstance(answer, str):
            raise ApplicationError(answer, type="BusinessRefusal", non_retryable=True)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    @activity.defn(name="kyc_step")
    async def kyc_step(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_step", req)

    @activity.defn(name="kyc_pan")
    async def kyc_pan(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_pan", req)

    @activity.defn(name="kyc_mobile")
    async def kyc_mobile(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_mobile", req)

    @activity.defn(name="kyc_ckyc")
    async def kyc_ckyc(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_ckyc", req)

    @activity.defn(name="kyc_penny_drop")
    async def kyc_penny_drop(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_penny_drop", req)

    @activity.defn(name="kyc_employment")
    async def kyc_employment(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_employment", req)

    @activity.defn(name="kyc_bank_statement")
    async def kyc_bank_statement(self, req: KycStepRequest) -> KycStepResult:
        answer = self._kyc_answer("kyc_bank_statement", req)
        if req.step in self.kyc_held:
            await self.kyc_held[req.step].wait()
        return answer

    @activity.defn(name="kyc_digilocker")
    async def kyc_digilocker(self, req: KycStepRequest) -> KycStepResult:
        return self._kyc_answer("kyc_digilocker", req)

    @activity.defn(name="aadhaar_initiate")
    async def aadhaar_initiate(self, req: KycStepRequest) -> KycStepResult:
        self._record("aadhaar_initiate", req)
        return self.aadhaar_initiate_answer

    @activity.defn(name="aadhaar_answered")
    async def aadhaar_answered(self, loan_id: str) -> None:
        self._record("aadhaar_answered", loan_id)

    @activity.defn(name="aadhaar_submit")
    async def aadhaar_submit(self, req: KycStepRequest) -> KycStepResult:
        self._record("aadhaar_submit", req)
        done = len(self.of("aadhaar_submit")) - 1
        return self.aadhaar_submit_answers[min(done, len(self.aadhaar_submit_answers) - 1)]

    @activity.defn(name="kyc_reuse_lookup")
    async def kyc_reuse_lookup(self, req: KycStepRequest) -> list[KycStepResult]:
        self.reuse_calls.append(Call("kyc_reuse_lookup", req))
        return list(self.reusable)

    @activity.defn(name="kyc_record_results")
    async def kyc_record_results(
        self, req: KycStepRequest, passed: list[KycStepResult], reused: list[KycStepResult]
    ) -> None:
        self.reuse_calls.append(Call("kyc_record_results", (req, passed, reused)))
        if self.results_wait_for_bureau:
            deadline = time.monotonic() + self.results_wait_for_bureau
            while not self.of("credit_bureau_pull") and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            self.bureau_in_flight.append(bool(self.of("credit_bureau_pull")))

    @activity.defn(name="decide_credit")
    async def decide_credit(self, req: DecisionRequest) -> DecisionResult:
        self._record("decide_credit", req)
        return self.decision

    @activity.defn(name="credit_bureau_pull")
    async def credit_bureau_pull(self, req: BureauPullRequest) -> BureauPullResult:
        self._record("credit_bureau_pull", req)
        calls = len(self.of("credit_bureau_pull"))
        answer = self.bureau_answers[calls - 1] if calls <= len(self.bureau_answers) else None
        if answer is not None:
            raise ApplicationError(answer, type="BusinessRefusal", non_retryable=True)
        return BureauPullResult(780, "cibil")

    @activity.defn(name="credit_rules_and_evaluation")
    async def credit_rules_and_evaluation(self, req: CreditRulesRequest) -> CreditRulesResult:
        self._record("credit_rules_and_evaluation", req)
        d = self.decision
        return CreditRulesResult(d.outcome, list(d.reasons), d.score, "BRE" if d.outcome == "REJECT" else "EVALUATION")

    @activity.defn(name="credit_allocation")
    async def credit_allocation(self, req: AllocationRequest) -> AllocationResult:
        self._record("credit_allocation", req)
        return AllocationResult(self.decision.assigned_to)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_status,
            self.verify_pan,
            self.pull_bureau,
            self.prepare_agreement,
            self.record_agreement_outcome,
            self.initiate_disbursal,
            self.record_disbursal,
            self.store_signed_agreement,
            self.cancel_docket,
            self.reverify_beneficiary,
            self.record_transfer_failure,
            self.notify_disbursed,
            self.find_stale_transfers,
            self.check_transfer,
            self.ensure_payment_link,
            self.record_payment,
            self.mark_overdue,
            self.levy_penal,
            self.record_delinquency,
            self.park_payment,
            self.record_credit_balance,
            self.send_notice,
            self.issue_receipt,
            self.issue_receipt_and_notify,
            self.payments_without_receipt,
            self.undelivered_payments,
            self.keep_undelivered_payment,
            self.mark_payment_delivered,
            self.accrue_interest,
            self.record_closure,
            self.record_mandate_event,
            self.notify_mandate_debit,
            self.charge_mandate,
            self.find_mandate_debit,
            self.record_debit_outcome,
            self.review_collection,
            self.record_servicing_decision,
            self.record_closing_postings,
            self.settlement_link,
            self.issue_closure_certificate,
            self.offer_reloan,
            self.kyc_step,
            self.kyc_pan,
            self.kyc_mobile,
            self.kyc_ckyc,
            self.kyc_penny_drop,
            self.kyc_employment,
            self.kyc_bank_statement,
            self.kyc_digilocker,
            self.aadhaar_initiate,
            self.aadhaar_submit,
            self.aadhaar_answered,
            self.kyc_reuse_lookup,
            self.kyc_record_results,
            self.decide_credit,
            self.credit_bureau_pull,
            self.credit_rules_and_evaluation,
            self.credit_allocation,
        ]


# --- driving one loan ------------------------------------------------------------------------------
@dataclass
class Refusal:
    type: str | None
    message: str
    field: str | None = None  # the request field its details name (workflows.base._refuse)


@dataclass
class LoanRun:
    env: Any  # temporalio.testing.WorkflowEnvironment (time-skipping)
    stubs: StubActivities
    inp: LoanWorkflowInput
    handle: WorkflowHandle  # as started: its result() lets virtual time run
    task_queue: str = ""  # the stub worker's queue (another workflow started on it runs against the same stubs)
    acceptances: list[KfsAcceptance] = field(default_factory=list)  # every KFS acceptance sent, in order

    @property
    def loan_id(self) -> str:
        return self.inp.loan_id

    @property
    def key(self) -> str:
        return f"loan-{self.inp.loan_id}"

    async def snapshot(self) -> dict:
        return await self.handle.query("snapshot")

    async def kyc_status(self) -> dict:
        return await self.handle.query("kyc_status")

    async def until_status(self, status: str) -> None:
        """Wait until the workflow itself (not only the database stub) holds ``status``, so an update sent next
        is validated against it. It asks the loan's latest run, by workflow id as the API does: a run that has
        continued as new is closed, and a query to it waits for a worker to replay it (on the time-skipping
        server, sometimes until the query's deadline)."""
        deadline = time.monotonic() + WAIT_SECONDS
        last = None
        latest = self.env.client.get_workflow_handle(self.handle.id)
        while time.monotonic() < deadline:
            with contextlib.suppress(RPCError):  # a query during continue-as-new can miss the new run
                last = (await latest.query("snapshot"))["status"]
                if last == status:
                    return
            await asyncio.sleep(0.02)
        raise AssertionError(f"status stayed {last}, expected {status}; calls: {self.stubs.names()}")

    async def until_asked(self, patch_id: str) -> None:
        """Wait, reading the loan's history and never querying it, until its latest run recorded ``patch_id``'s
        marker. A query answered while a local activity finishes makes the SDK's core hand the result over in a new
        workflow task, and a patch first asked right after it is then recorded a task later than replay asks it
        (workflows.patches): a test of code that asks a patch mid-run waits past that ask this way before querying."""
        deadline = time.monotonic() + WAIT_SECONDS
        latest = self.env.client.get_workflow_handle(self.handle.id)
        while time.monotonic() < deadline:
            if patch_id in patch_markers(await latest.fetch_history()):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the loan never asked {patch_id}; calls: {self.stubs.names()}")

    async def until_kyc_waiting(self, step: str) -> dict:
        """Wait until the KYC phase waits for the customer's input on ``step``; the kyc_status query's answer."""
        deadline = time.monotonic() + WAIT_SECONDS
        status: dict = {}
        while time.monotonic() < deadline:
            status = await self.kyc_status()
            if status["waitingFor"] == step:
                return status
            await asyncio.sleep(0.02)
        raise AssertionError(f"KYC never waited for {step}: {status}; calls: {self.stubs.names()}")

    async def update(self, name: str, arg: Any) -> Any:
        return await self.handle.execute_update(name, arg)

    async def refused(self, name: str, arg: Any) -> Refusal:
        """Send an update that must be refused by its validator; the refusal's type and message."""
        try:
            answer = await self.handle.execute_update(name, arg)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            assert isinstance(cause, ApplicationError), cause
            details = cause.details[0] if cause.details else {}
            return Refusal(cause.type, cause.message, details.get("field") if isinstance(details, dict) else None)
        raise AssertionError(f"update {name} was accepted ({answer!r})")

    async def signal(self, name: str, arg: Any) -> None:
        await self.handle.signal(name, arg)

    async def kfs(self, kfs_hash: str = "a" * 64, valid_days: int = 3, customer_id: str | None = None) -> KfsAcceptance:
        """The KfsAcceptance the API sends: issued today (IST, by the test server's clock), valid ``valid_days``
        days after it (0: today only), accepted now, by the loan's customer unless ``customer_id``."""
        now = await self.env.get_current_time()
        today = now.astimezone(IST_ZONE).date()
        return KfsAcceptance(
            customer_id or self.inp.customer_id, kfs_hash, today, today + timedelta(days=valid_days), now
        )

    async def accept_kfs(self, kfs_hash: str = "a" * 64, valid_days: int = 3, status: str = "SANCTIONED") -> dict:
        """Once the loan is in ``status``, the borrower accepts the KFS (``kfs``); the update's answer."""
        await self.until_status(status)
        acceptance = await self.kfs(kfs_hash, valid_days)
        self.acceptances.append(acceptance)
        return await self.update("accept_kfs", acceptance)

    async def to_agreement_pending(self) -> None:
        """Accept the KFS, then wait for the agreement to be out for signature."""
        await self.accept_kfs()
        await self.until_status("AGREEMENT_PENDING")

    async def sign(self, status: str = "SIGNED", docket: str | None = None) -> str:
        """The eSign vendor's webhook on ``docket`` (default: the latest one opened); the docket."""
        prepared = await self.stubs.wait_calls("prepare_agreement", 1)
        docket = docket or docket_id(prepared[-1])
        await self.signal("esign_completed", EsignEvent(docket, status, event_id=f"evt-esign-{status.lower()}"))
        return docket

    async def settle(
        self, transfer_id: str, status: str = "SUCCESS", utr: str | None = None, reason: str | None = None
    ) -> None:
        """The bank's callback on a transfer (``reason``: its words on a failure)."""
        event = DisbursalEvent(transfer_id, status, utr, f"evt-{transfer_id}", reason)
        await self.signal("disbursal_settled", event)

    async def pay(self, payment_id: str, amount: int) -> None:
        await self.signal("payment_received", PaymentEvent(payment_id, amount, link_id=None))

    async def result(self) -> LoanWorkflowResult:
        return await self.handle.result()

    async def _histories(self) -> list[Any]:
        """Every run's history, the first run first (followed back through continue-as-new from the latest)."""
        run_id = None
        histories = []
        while True:
            history = await self.env.client.get_workflow_handle(self.handle.id, run_id=run_id).fetch_history()
            histories.append(history)
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id
            if not run_id:
                break
        return list(reversed(histories))

    async def accepted_updates(self) -> list[str]:
        """Names of the updates the workflow's history accepted (all runs of the loan, in order)."""
        names: list[str] = []
        for history in await self._histories():
            for event in history.events:
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                    names.append(event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name)
        return names

    async def activity_kinds(self) -> tuple[set[str], set[str]]:
        """The activity types the loan's runs scheduled as activity tasks, and those they ran as local activities
        (read from their markers, which the SDK writes in plain JSON)."""
        tasks: set[str] = set()
        local: set[str] = set()
        for history in await self._histories():
            for event in history.events:
                if event.HasField("activity_task_scheduled_event_attributes"):
                    tasks.add(event.activity_task_scheduled_event_attributes.activity_type.name)
                elif event.HasField("marker_recorded_event_attributes"):
                    attrs = event.marker_recorded_event_attributes
                    if attrs.marker_name == "core_local_activity":
                        local.add(json.loads(attrs.details["data"].payloads[0].data)["activity_type"])
        return tasks, local

    async def sleep_until(self, moment: datetime) -> None:
        """Move virtual time to ``moment`` (timers due meanwhile fire)."""
        await skip_time(self.env, moment)


async def start_loan(env: Any, stubs: StubActivities, inp: LoanWorkflowInput, queue: str) -> LoanRun:
    """The loan's workflow started on ``queue`` as the API starts it (id, search attributes); its ``LoanRun``."""
    from workflows.loan import BRAND_ID as BRAND_KEY
    from workflows.loan import LOAN_AMOUNT, LOAN_STATUS

    handle = await env.client.start_workflow(
        LoanWorkflow.run,
        inp,
        id=f"loan-{inp.loan_id}",
        task_queue=queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(LOAN_STATUS, "APPLIED"),
                SearchAttributePair(BRAND_KEY, inp.brand_id),
                SearchAttributePair(LOAN_AMOUNT, inp.terms.amount),
            ]
        ),
    )
    return LoanRun(env, stubs, inp, handle, queue)


#: Patches a servicing run asks or not by the time of day its loan was disbursed (IST_ANCHOR_PATCH: between midnight
#: and 05:30 IST), which on the time-skipping server is the real clock's when the test runs.
CLOCK_DEPENDENT_PATCHES = frozenset({IST_ANCHOR_PATCH})


def patch_markers(history: Any, every: bool = False) -> list[str]:
    """The patch ids ``history`` (one run's) recorded, in order; without ``every``, none of
    ``CLOCK_DEPENDENT_PATCHES`` (so a test's markers do not depend on the hour it runs at)."""
    found = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.HasField("marker_recorded_event_attributes") and "patch-data" in e.marker_recorded_event_attributes.details
    ]
    return found if every else [p for p in found if p not in CLOCK_DEPENDENT_PATCHES]


def worker_before(env: Any, stubs: StubActivities, queue: str, missing: set[str]) -> Worker:
    """A worker of the code before the patches ``missing`` (the SDK's ``patch_activation_callback`` refuses them, as
    that code never asked for them), on ``queue`` with ``stubs``; no sticky cache, so a worker started after it
    takes the loan's next task (and queries) at once. Code without a patch the second patch epoch bundles
    (workflows.patches) is also code before that epoch: refused too whenever ``missing`` names one."""
    from workflows.patches import EPOCH_2_PATCHES, PATCH_EPOCH_2

    missing = missing | {PATCH_EPOCH_2} if missing & EPOCH_2_PATCHES else missing
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[LoanWorkflow],
        activities=stubs.all(),
        patch_activation_callback=lambda info: info.patch_id not in missing,
        max_cached_workflows=0,
    )


@contextlib.asynccontextmanager
async def running_loan(
    env: Any,
    stubs: StubActivities,
    inp: LoanWorkflowInput | None = None,
    runner: Any = None,
    workflows: Sequence[type] = (),
) -> AsyncIterator[LoanRun]:
    """A worker of its own (own task queue) with the real LoanWorkflow and ``stubs``, and the loan's workflow
    started as the API starts it. A workflow still running at the end is terminated, so its timers never
    hold the shared test server's clock. ``runner``: the worker's workflow runner (default: the SDK's sandbox,
    whose determinism checks read every module; ``worker.workflow_runner()`` is production's). ``workflows``:
    more workflow types the worker runs (e.g. the transfer reconciler), started on ``LoanRun.task_queue``."""
    inp = inp or loan_input()
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    extra = {"workflow_runner": runner} if runner is not None else {}
    types = [LoanWorkflow, *workflows]
    async with Worker(env.client, task_queue=queue, workflows=types, activities=stubs.all(), **extra):
        run = await start_loan(env, stubs, inp, queue)
        try:
            yield run
        finally:
            with contextlib.suppress(RPCError):  # already ended: nothing to do
                await env.client.get_workflow_handle(run.handle.id).terminate("test over")


async def pay_every_installment(run: LoanRun, first_payment: int = 1) -> list[PaymentLinkRequest]:
    """Pay each installment's link for exactly what it asks, in order, before its due date; the links paid."""
    stubs = run.stubs
    disbursed = (await stubs.wait_calls("record_disbursal", 1))[0]
    paid: list[PaymentLinkRequest] = []
    for n, inst in enumerate(disbursed.installments, start=first_payment):
        link = await stubs.wait_for(
            lambda inst=inst: next(
                (r for r in reversed(stubs.of("ensure_payment_link")) if r.installment_no == inst.number), None
            ),
            f"the payment link of installment {inst.number}",
        )
        before = len(stubs.of("record_payment"))
        await run.pay(f"pay_{n}", link.amount)
        await stubs.wait_calls("record_payment", before + 1)
        paid.append(link)
    return paid


# --- what a test expects ---------------------------------------------------------------------------
def change(run: LoanRun, seq: int, frm: str, to: str, reason: str, actor: str = "system", **kw: object) -> StatusChange:
    """The StatusChange the workflow records for a move (staff review moves also carry the brand)."""
    base = StatusChange(run.loan_id, seq, frm, to, reason, actor)
    return replace(base, **kw) if kw else base  # type: ignore[arg-type]


def review_change(
    run: LoanRun, seq: int, frm: str, to: str, reason: str, actor: str = "system", **kw: object
) -> StatusChange:
    """A move that carries an action or a review stage: recorded with the brand too."""
    return change(run, seq, frm, to, reason, actor, brand_id=BRAND_ID, **kw)


def kfs_change(run: LoanRun, seq: int, status: str, acceptance: KfsAcceptance | None = None) -> StatusChange:
    """The move that records the borrower's KFS acceptance (default: the first one sent): ``status`` to itself."""
    accepted = acceptance or run.acceptances[0]
    return review_change(
        run, seq, status, status, f"KFS accepted, valid until {accepted.valid_until.isoformat()}",
        f"customer:{accepted.customer_id}", action="KFS_ACCEPTED",
        details={
            "kfsHash": accepted.kfs_hash,
            "issuedOn": accepted.issued_on.isoformat(),
            "validUntil": accepted.valid_until.isoformat(),
            "acceptedAt": accepted.accepted_at.isoformat(),
        },
    )  # fmt: skip


async def refused(
    run: LoanRun, name: str, arg: object, kind: str, message: str | None = None, field: str | None = None
) -> None:
    """The update is refused by its validator with ``kind`` (and ``message``; and ``field``, when given, named in the
    refusal's details for the API's ``errors[]``) and nothing reaches an activity."""
    before = list(run.stubs.calls)
    refusal = await run.refused(name, arg)
    assert refusal.type == kind, refusal
    if message is not None:
        assert refusal.message == message, refusal
    if field is not None:
        assert refusal.field == field, refusal
    assert run.stubs.calls == before


async def to_agreement_signed(run: LoanRun) -> str:
    """KFS accepted, the agreement out and signed: the loan in AGREEMENT_SIGNED; the docket."""
    await run.to_agreement_pending()
    docket = await run.sign()
    await run.until_status("AGREEMENT_SIGNED")
    return docket


async def record_if_asked(env, run, name: str) -> None:  # noqa: ANN001
    """Save the run's histories as tests/histories/<name>_<n>.json (the replay suite) when REC_NAME is ``name``:
    how a test records the history that stands for its path."""
    if os.environ.get("REC_NAME") == name:
        from tests.conftest import record_histories

        await record_histories(env.client, run.handle.id, name)
