"""LoanWorkflow: one loan from application to closure.

Orchestration only. Every side effect is an activity; every decision comes from ``domain``. The run
continues-as-new at the origination → servicing boundary (and whenever Temporal suggests it while
servicing), carrying its state in the input, so a loan of any tenure keeps a small history.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from domain import rules, schedule
    from domain.access import REASONED_ACTIONS, REVIEW_RULES, ReviewAction, ReviewStage
    from domain.allocation import AllocationConfig, InstallmentDue, allocate_payment
    from domain.charges import PenalBasis, PenalChargeSpec, charge_config_from_dict, penal_charge
    from domain.delinquency import assess, days_past_due
    from domain.errors import ValidationError
    from domain.money import MAX_ENTERED_PAISE
    from domain.status import LoanStatus
    from workflows.contracts import (
        AadhaarInitiate,
        AadhaarOtp,
        AgreementOutcome,
        AgreementRequest,
        CreditBalanceRecord,
        DecisionRequest,
        DelinquencyRecord,
        DisbursalEvent,
        DisbursalRequest,
        DisbursedRecord,
        EsignEvent,
        InstallmentState,
        KycInput,
        KycStepRequest,
        KycStepResult,
        LoanWorkflowInput,
        LoanWorkflowResult,
        OverdueRecord,
        ParkedPayment,
        PaymentEvent,
        PaymentLinkRequest,
        PaymentPart,
        PaymentRecord,
        PenalLevy,
        ProviderRequest,
        ServicingState,
        StaffAction,
        StatusChange,
    )

LOAN_STATUS = SearchAttributeKey.for_keyword("LoanStatus")
BRAND_ID = SearchAttributeKey.for_keyword("BrandId")
LOAN_AMOUNT = SearchAttributeKey.for_int("LoanAmount")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("NextDueAt")
DPD = SearchAttributeKey.for_int("DPD")

SANCTION_ROLES = frozenset({"SANCTION_MANAGER", "SANCTION_HEAD", "ADMIN", "SUPER_ADMIN"})
DISBURSAL_ROLES = frozenset({"LOAN_EXECUTIVE", "ADMIN", "SUPER_ADMIN"})

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=["BusinessRefusal"],
)
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
PROVIDER_TIMEOUT = timedelta(seconds=30)
DB_TIMEOUT = timedelta(seconds=15)
OVERDUE_RECHECK = timedelta(days=1)
IST = timezone(timedelta(hours=5, minutes=30), "IST")
KYC_PHASE_PATCH = "kyc-phase-v2"
REVIEW_PATCH = "sanction-hierarchy-v1"
# DPD and asset class as of the last day-end (RBI IRACP): the midnight (IST) run after a due date is that
# date's day-end, DPD 1. Before this patch the workflow counted the new day too (DPD 2, classes a day early).
DAY_END_PATCH = "dpd-day-end-v1"
# Payments are never dropped: a malformed one is parked for ops, one that arrives when no installment can take it
# (the loan ended) becomes the loan's credit balance.
RECEIPTS_PATCH = "receipts-never-dropped-v1"
# A single payment larger than the largest a loan can be cannot be real: it is parked, not applied (the webhooks
# refuse it at the door with the same bound).
PLAUSIBLE_PAYMENT_PAISE = MAX_ENTERED_PAISE
# Recording refusals that retrying cannot fix: the payment is parked and the loan goes on.
UNRECORDABLE = frozenset({"UnrecordablePayment", "ValidationError"})
# Roles that may take each review action at some stage (a wrong role is 403; the right role at the wrong
# stage is 409).
REVIEW_ACTION_ROLES = {
    verb: frozenset(r for (_, v), (roles, _) in REVIEW_RULES.items() if v == verb for r in roles)
    for verb in ReviewAction
}
SEQUENTIAL_KYC = frozenset({"PAN", "AADHAAR"})


def _refuse(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _payment_problem(payment: PaymentEvent) -> str | None:
    """Why a received payment cannot be applied as it is (None when it can)."""
    amount = payment.amount
    if not isinstance(amount, int) or isinstance(amount, bool):
        return f"amount {amount!r} is not whole paise"
    if amount <= 0:
        return f"amount {amount} paise is not positive"
    if amount > PLAUSIBLE_PAYMENT_PAISE:
        return f"amount {amount} paise is implausible for one payment"
    return None


def _next_ist_midnight(now: datetime) -> datetime:
    """The next 00:00 IST after ``now``: when the day-end of today has run."""
    local = now.astimezone(IST)
    return datetime.combine(local.date() + timedelta(days=1), time(0), IST)


def _check_fresh(expires_at: datetime | None) -> None:
    """Refuse a request that reached the workflow after its caller stopped waiting (e.g. no worker ran):
    the caller was told it was not applied, so applying it now would be a silent later success."""
    if expires_at is not None and workflow.now() > expires_at:
        raise _refuse("Expired", "this request reached the loan after its caller stopped waiting; send it again")


def _score_ok(text: str) -> bool:
    try:
        score = Decimal(text)
    except ArithmeticError:
        return False
    return score.is_finite() and 0 <= score <= 100 and score == score.quantize(Decimal("0.01"))


def _review_reason(verb: ReviewAction, action: StaffAction) -> str:
    words = {
        ReviewAction.FORWARD: "forwarded to the sanction manager",
        ReviewAction.APPROVE: "approved by the sanction manager, to the sanction head",
        ReviewAction.SEND_BACK: "sent back to the credit executive",
        ReviewAction.REJECT: "rejected",
        ReviewAction.SANCTION: "sanctioned by the sanction head",
    }[verb]
    parts = [words]
    if action.reason_code:
        parts.append(f"[{action.reason_code}]")
    if action.reason:
        parts.append(action.reason)
    return ": ".join([parts[0], " ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _review_details(verb: ReviewAction, action: StaffAction) -> dict:
    details: dict = {"action": verb.value}
    if action.reason_code:
        details["reasonCode"] = action.reason_code
    if action.reason:
        details["reason"] = action.reason
    if action.score_override is not None:
        details["scoreOverride"] = action.score_override
    if action.conditions:
        details["conditions"] = action.conditions
    return details


@workflow.defn
class LoanWorkflow:
    @workflow.init
    def __init__(self, inp: LoanWorkflowInput) -> None:
        self.inp = inp
        self.status = LoanStatus(inp.status)
        self.seq = inp.status_seq
        self.staff_decision: tuple[str, StaffAction] | None = None
        self.disbursal_approval: StaffAction | None = None
        self.esign_event: EsignEvent | None = None
        self.disbursal_events: dict[str, DisbursalEvent] = {}
        self.awaited_transfer: str | None = None
        self.pending_payments: list[PaymentEvent] = list(inp.pending_payments)
        self.servicing: ServicingState | None = inp.servicing
        self.day_end_v2 = False  # DAY_END_PATCH, decided once per run
        # This pass was woken by a day-end timer (not by a payment); carried across continue-as-new.
        self.day_end_run = bool(inp.servicing.woke_for_day_end) if inp.servicing is not None else False
        self.kyc_step: str | None = None
        self.kyc_waiting: str | None = None
        self.kyc_results: dict[str, str] = {}
        self.kyc_inputs: dict[str, str | None] = {}
        self.kyc_links: dict[str, str] = {}  # e.g. the DigiLocker authorisation URL the customer opens
        self.kyc_notes: dict[str, str] = {}  # why a step waits for the customer (e.g. a statement's password)
        self.kyc_input_count = 0
        self.kyc_seen = 0
        self.aadhaar_reference: str | None = None
        self.aadhaar_facts: dict = {}
        self.facts: dict = {}
        self.rejection: str | None = None
        # Sanction hierarchy (patched REVIEW_PATCH): the stage, who acted at which stage (maker-checker),
        # and the final verdict once a sanction head sanctions or someone rejects.
        self.review_v2 = False
        self.review_stage: ReviewStage | None = None
        self.reviewers: dict[str, str] = {}
        self.review_outcome: tuple[ReviewAction, StaffAction] | None = None
        self.review_lock = asyncio.Lock()
        self.last_forwarder: str | None = None

    # ---------------------------------------------------------------- run
    @workflow.run
    async def run(self, inp: LoanWorkflowInput) -> LoanWorkflowResult:
        if self.servicing is None:
            done = await self._originate()
            if done is not None:
                return done
            await self._continue_as_new()
        return await self._service()

    # ---------------------------------------------------------------- origination
    async def _originate(self) -> LoanWorkflowResult | None:
        inp = self.inp
        workflow.upsert_search_attributes(
            [
                LOAN_STATUS.value_set(self.status),
                BRAND_ID.value_set(inp.brand_id),
                LOAN_AMOUNT.value_set(inp.terms.amount),
            ]
        )
        key = f"loan-{inp.loan_id}"
        if workflow.patched(KYC_PHASE_PATCH):
            verdict = await self._kyc_and_decide(key)
            if verdict is None:
                return await self._end(LoanStatus.REJECTED, self.rejection or "KYC incomplete")
        else:  # loans started before the KYC phase existed
            kyc = await workflow.execute_activity_method(
                LoanActivities.verify_pan,
                ProviderRequest(inp.loan_id, inp.brand_id, inp.policy.kyc_provider, f"{key}:kyc:pan"),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary="KYC: verify PAN",
            )
            if not kyc.verified:
                return await self._end(LoanStatus.REJECTED, f"KYC_PAN: {kyc.reason}")

            bureau = await workflow.execute_activity_method(
                LoanActivities.pull_bureau,
                ProviderRequest(inp.loan_id, inp.brand_id, inp.policy.bureau_provider, f"{key}:bureau:1"),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary="Bureau pull",
            )
            verdict = rules.decide(
                bureau.score, rules.CreditPolicy(inp.policy.min_credit_score, inp.policy.auto_sanction_score)
            )
        if verdict.decision == rules.Decision.REJECT:
            return await self._end(LoanStatus.REJECTED, verdict.reason)
        if verdict.decision == rules.Decision.AUTO_SANCTION:
            await self._move(LoanStatus.SANCTIONED, f"auto-sanctioned: {verdict.reason}")
        elif workflow.patched(REVIEW_PATCH):
            self.review_v2 = True
            self.review_stage = ReviewStage.CREDIT_EXECUTIVE
            await self._move(
                LoanStatus.UNDER_REVIEW, f"manual review: {verdict.reason}", review_stage=self.review_stage
            )
            await workflow.wait_condition(lambda: self.review_outcome is not None)
            assert self.review_outcome is not None
            final, by = self.review_outcome
            actor = f"{by.role}:{by.staff_email}"
            extra: dict[str, Any] = {
                "action": final.value,
                "actor_id": by.staff_id,
                "details": _review_details(final, by),
            }
            if final == ReviewAction.REJECT:
                return await self._end(LoanStatus.REJECTED, _review_reason(final, by), actor, **extra)
            await self._move(LoanStatus.SANCTIONED, _review_reason(final, by), actor, **extra)
        else:  # loans that reached manual review before the sanction hierarchy: one staff decision
            await self._move(LoanStatus.UNDER_REVIEW, f"manual review: {verdict.reason}")
            await workflow.wait_condition(lambda: self.staff_decision is not None)
            assert self.staff_decision is not None
            verb, action = self.staff_decision
            actor = f"{action.role}:{action.staff_email}"
            if verb == "reject":
                why = " ".join(p for p in (f"[{action.reason_code}]" if action.reason_code else "", action.reason) if p)
                return await self._end(LoanStatus.REJECTED, why or "rejected by staff", actor)
            await self._move(LoanStatus.SANCTIONED, action.reason or "sanctioned by staff", actor)

        agreement = await workflow.execute_activity_method(
            LoanActivities.prepare_agreement,
            AgreementRequest(
                inp.loan_id,
                inp.brand_id,
                inp.policy.esign_provider,
                f"{key}:agreement:1",
                inp.terms,
                inp.policy.esign_expiry_seconds,
                workflow.now(),
            ),
            start_to_close_timeout=timedelta(seconds=90),
            retry_policy=PROVIDER_RETRY,
            summary="Render agreement PDF and send for eSign",
        )
        await self._move(LoanStatus.AGREEMENT_PENDING, f"eSign docket {agreement.docket_id}")
        try:
            await workflow.wait_condition(
                lambda: self.esign_event is not None,
                timeout=timedelta(seconds=inp.policy.esign_expiry_seconds),
                timeout_summary="eSign expiry",
            )
        except asyncio.TimeoutError:
            await self._record_agreement(agreement.docket_id, "EXPIRED")
            return await self._end(LoanStatus.EXPIRED, "agreement not signed before expiry")
        assert self.esign_event is not None
        await self._record_agreement(agreement.docket_id, self.esign_event.status)
        if self.esign_event.status != "SIGNED":
            return await self._end(LoanStatus.EXPIRED, f"eSign {self.esign_event.status.lower()}")
        await self._move(LoanStatus.AGREEMENT_SIGNED, f"signed, docket {agreement.docket_id}")

        # Loan ops approves; the bank settles by webhook. A failed transfer waits for a new approval.
        attempt = 0
        while True:
            await workflow.wait_condition(lambda: self.disbursal_approval is not None)
            assert self.disbursal_approval is not None
            approver = self.disbursal_approval
            attempt += 1
            transfer = await workflow.execute_activity_method(
                LoanActivities.initiate_disbursal,
                DisbursalRequest(
                    inp.loan_id,
                    inp.brand_id,
                    inp.policy.disbursal_provider,
                    f"{key}:disbursal:{attempt}",
                    inp.terms.net_disbursed if inp.terms.net_disbursed is not None else inp.terms.amount,
                    f"{approver.role}:{approver.staff_email}",
                ),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Bank transfer, attempt {attempt}",
            )
            await self._move(
                LoanStatus.DISBURSAL_PENDING,
                f"transfer {transfer.transfer_id} initiated",
                f"{approver.role}:{approver.staff_email}",
            )
            self.awaited_transfer = transfer.transfer_id
            await workflow.wait_condition(lambda: self.awaited_transfer in self.disbursal_events)
            settled = self.disbursal_events[transfer.transfer_id]
            if settled.status == "SUCCESS":
                break
            self.disbursal_approval = None
            await self._move(
                LoanStatus.AGREEMENT_SIGNED,
                f"transfer {transfer.transfer_id} failed; awaiting a new disbursal approval",
            )

        now = workflow.now()
        installments = self._installments(now)
        await workflow.execute_activity_method(
            LoanActivities.record_disbursal,
            DisbursedRecord(
                inp.loan_id,
                settled.utr,
                transfer.transfer_id,
                inp.terms.amount,
                now,
                installments,
                f"{key}:ledger:disbursal",
                upfront_fees=inp.terms.upfront_fees,
                upfront_fees_gst=inp.terms.upfront_fees_gst,
                third_party=dict(inp.terms.third_party),
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Persist schedule and ledger",
        )
        self.servicing = ServicingState(installments=installments, disbursed_at=now)
        await self._move(LoanStatus.DISBURSED, f"UTR {settled.utr}")
        return None

    # ---------------------------------------------------------------- KYC and decision
    async def _kyc_and_decide(self, key: str) -> rules.DecisionResult | None:
        """The brand's KYC steps in order, then bureau, BRE and evaluation (one activity, which also
        allocates a manual-review loan to a staff member). None means rejected (reason in self.rejection)."""
        inp = self.inp
        steps = list(inp.policy.kyc_steps)
        i = 0
        while i < len(steps):
            # PAN (its name feeds later checks) and Aadhaar (customer OTP) run alone; a run of the other,
            # automated steps is started together, and any that needs the customer's input waits after.
            group = [steps[i]]
            if steps[i] not in SEQUENTIAL_KYC:
                while i + len(group) < len(steps) and steps[i + len(group)] not in SEQUENTIAL_KYC:
                    group.append(steps[i + len(group)])
            firsts: list[KycStepResult | None] = [None] * len(group)
            if len(group) > 1:
                self.kyc_step = ",".join(group)
                firsts = list(await asyncio.gather(*(self._kyc_activity(key, step, 1) for step in group)))
            for step, first in zip(group, firsts, strict=True):
                self.kyc_step = step
                result = await self._kyc_step(key, step, first)
                self.facts.update({f"kyc.{k}": v for k, v in result.facts.items()})
                if result.status == "FAILED":
                    self.rejection = f"KYC_{step}: {result.reason}"
                    return None
                if result.status == "TIMED_OUT":
                    self.rejection = f"KYC_{step}: customer did not complete it in time"
                    return None
            i += len(group)
        self.kyc_step = None
        decision = await workflow.execute_activity_method(
            KycActivities.decide_credit,
            DecisionRequest(inp.loan_id, inp.brand_id, f"{key}:decision:1", dict(self.facts)),
            start_to_close_timeout=timedelta(seconds=120),
            retry_policy=PROVIDER_RETRY,
            summary="Bureau, BRE and evaluation",
        )
        reason = "; ".join(decision.reasons) or decision.outcome.lower()
        if decision.outcome == "REJECT":
            self.rejection = reason
            return None
        kind = rules.Decision.AUTO_SANCTION if decision.outcome == "AUTO_SANCTION" else rules.Decision.MANUAL_REVIEW
        return rules.DecisionResult(kind, reason)

    async def _kyc_activity(self, key: str, step: str, attempt: int) -> KycStepResult:
        return await workflow.execute_activity_method(
            KycActivities.kyc_step,
            KycStepRequest(
                self.inp.loan_id,
                self.inp.brand_id,
                step,
                f"{key}:kyc:{step.lower()}:{attempt}",
                ref_id=self.kyc_inputs.get(step),
            ),
            start_to_close_timeout=timedelta(seconds=120),
            retry_policy=PROVIDER_RETRY,
            summary=f"KYC: {step.replace('_', ' ').lower()}",
        )

    async def _kyc_step(self, key: str, step: str, first: KycStepResult | None = None) -> KycStepResult:
        """Run one step (``first``: its first attempt, already run); a step that needs the customer
        (Aadhaar OTP, a bank account, a statement...) waits for their input, up to the brand's KYC timeout."""
        inp = self.inp
        attempt = 0
        while True:
            attempt += 1
            if step == "AADHAAR":
                result = KycStepResult(step, "WAITING", "waiting for the Aadhaar OTP")
            elif attempt == 1 and first is not None:
                result = first
            else:
                result = await self._kyc_activity(key, step, attempt)
            if result.status != "WAITING":
                self.kyc_results[step] = result.status
                self.kyc_notes.pop(step, None)
                return result
            self.kyc_notes[step] = result.reason or ""
            if result.reference:
                self.kyc_links[step] = result.reference
            self.kyc_waiting = step
            self.kyc_seen = self.kyc_input_count
            try:
                await workflow.wait_condition(
                    lambda: self.kyc_input_count > self.kyc_seen or self.kyc_results.get(step) == "PASSED",
                    timeout=timedelta(seconds=inp.policy.kyc_timeout_seconds),
                    timeout_summary=f"KYC {step.lower()} timeout",
                )
            except asyncio.TimeoutError:
                return KycStepResult(step, "TIMED_OUT", "customer input not received")
            finally:
                self.kyc_waiting = None
            if self.kyc_results.get(step) == "PASSED":  # completed by an update (Aadhaar OTP)
                return KycStepResult(step, "PASSED", facts=self.aadhaar_facts)

    # ---------------------------------------------------------------- customer updates and signals (KYC)
    @workflow.update
    async def aadhaar_initiate(self, req: AadhaarInitiate) -> dict:
        result = await workflow.execute_activity_method(
            KycActivities.aadhaar_initiate,
            KycStepRequest(
                self.inp.loan_id,
                self.inp.brand_id,
                "AADHAAR",
                f"loan-{self.inp.loan_id}:aadhaar:initiate:{workflow.uuid4()}",
                aadhaar_number=req.aadhaar_number or None,
                aadhaar_sealed=req.aadhaar_sealed,
            ),
            start_to_close_timeout=PROVIDER_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
            summary="Aadhaar OTP sent",
        )
        if result.status == "FAILED":
            raise _refuse("ValidationError", result.reason or "Aadhaar could not be verified")
        self.aadhaar_reference = result.reference
        return {"status": "OTP_SENT"}

    @aadhaar_initiate.validator
    def _validate_aadhaar_initiate(self, req: AadhaarInitiate) -> None:
        _check_fresh(req.expires_at)
        if "AADHAAR" not in self.inp.policy.kyc_steps or self.kyc_results.get("AADHAAR") == "PASSED":
            raise _refuse("Conflict", "Aadhaar is not awaited for this loan")
        if self.status != LoanStatus.APPLIED:
            raise _refuse("Conflict", f"loan is {self.status}")
        if not req.aadhaar_sealed and not (len(req.aadhaar_number) == 12 and req.aadhaar_number.isdigit()):
            raise _refuse("ValidationError", "Aadhaar must be 12 digits")

    @workflow.update
    async def aadhaar_submit(self, req: AadhaarOtp) -> dict:
        result = await workflow.execute_activity_method(
            KycActivities.aadhaar_submit,
            KycStepRequest(
                self.inp.loan_id,
                self.inp.brand_id,
                "AADHAAR",
                f"loan-{self.inp.loan_id}:aadhaar:submit:{workflow.uuid4()}",
                reference=self.aadhaar_reference,
                otp=req.otp,
            ),
            start_to_close_timeout=PROVIDER_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
            summary="Aadhaar OTP checked",
        )
        if result.status != "PASSED":
            raise _refuse("ValidationError", result.reason or "wrong OTP")
        self.aadhaar_facts = dict(result.facts)
        self.kyc_results["AADHAAR"] = "PASSED"
        return {"status": "VERIFIED"}

    @aadhaar_submit.validator
    def _validate_aadhaar_submit(self, req: AadhaarOtp) -> None:
        _check_fresh(req.expires_at)
        if self.aadhaar_reference is None or self.kyc_results.get("AADHAAR") == "PASSED":
            raise _refuse("Conflict", "no Aadhaar OTP is awaited; initiate it first")
        if not (len(req.otp) == 6 and req.otp.isdigit()):
            raise _refuse("ValidationError", "OTP must be 6 digits")

    @workflow.signal
    def kyc_input(self, event: KycInput) -> None:
        self.kyc_inputs[event.step] = event.ref_id
        self.kyc_input_count += 1

    # ---------------------------------------------------------------- servicing
    async def _service(self) -> LoanWorkflowResult:
        state = self.servicing
        assert state is not None
        workflow.upsert_search_attributes(
            [
                LOAN_STATUS.value_set(self.status),
                BRAND_ID.value_set(self.inp.brand_id),
                LOAN_AMOUNT.value_set(self.inp.terms.amount),
            ]
        )
        self.day_end_v2 = workflow.patched(DAY_END_PATCH)
        while True:
            now = workflow.now()
            await self._accrue_penal(now)
            await self._apply_payments()
            unpaid = [i for i in state.installments if not i.paid]
            if not unpaid:
                workflow.upsert_search_attributes([NEXT_DUE_AT.value_unset(), DPD.value_set(0)])
                await self._record_delinquency(now)
                return await self._end(LoanStatus.COMPLETED, "all installments paid")
            current = unpaid[0]
            past_due = [i for i in unpaid if i.due_at <= now]
            for inst in past_due:
                if not inst.overdue:
                    await self._mark_overdue(inst, now)
            if past_due and self.status != LoanStatus.OVERDUE:
                await self._move(LoanStatus.OVERDUE, f"installment {past_due[0].number} unpaid after due date")
            elif not past_due and self.status == LoanStatus.OVERDUE:
                await self._move(LoanStatus.DISBURSED, "arrears cleared")
            await self._record_delinquency(now)
            workflow.upsert_search_attributes([NEXT_DUE_AT.value_set(current.due_at), DPD.value_set(state.dpd)])
            await workflow.execute_activity_method(
                LoanActivities.ensure_payment_link,
                PaymentLinkRequest(
                    self.inp.loan_id,
                    self.inp.brand_id,
                    self.inp.policy.payment_provider,
                    current.number,
                    current.remaining,
                ),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Payment link, installment {current.number}",
            )
            if not past_due:
                wait = current.due_at - now
            elif self.day_end_v2 and not self.inp.terms.period_seconds:
                wait = _next_ist_midnight(now) - now  # each day-end, whenever a payment woke us meanwhile
            else:
                wait = OVERDUE_RECHECK
            try:
                await workflow.wait_condition(
                    lambda: bool(self.pending_payments),
                    timeout=wait,
                    timeout_summary=f"installment {current.number} due",
                )
                self.day_end_run = False
            except asyncio.TimeoutError:
                self.day_end_run = True
            state.woke_for_day_end = self.day_end_run
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()

    def _installments(self, now: datetime) -> list[InstallmentState]:
        """The schedule from the engine; each installment's timer fires when its due date is over (midnight
        IST after it), or every ``period_seconds`` for demo products."""
        terms = self.inp.terms
        plan = schedule.generate(terms.schedule_terms(now.astimezone(IST).date()))
        return self._states(plan.rows, now)

    def _states(self, rows, start: datetime) -> list[InstallmentState]:  # noqa: ANN001
        seconds = self.inp.terms.period_seconds
        return [
            InstallmentState(
                r.number,
                start + timedelta(seconds=seconds * r.number)
                if seconds
                else datetime.combine(r.due_date + timedelta(days=1), time(0), IST),
                r.principal,
                r.interest,
                due_date=r.due_date,
                days=r.days,
                fees=r.fees,
            )
            for r in rows
        ]

    def _penal_spec(self) -> PenalChargeSpec | None:
        raw = self.inp.policy.penal
        if not raw:
            return None
        return charge_config_from_dict({"penal": raw}).penal

    async def _levy(self, inst: InstallmentState, amount: int, key: str, reason: str) -> None:
        if amount <= 0:
            return
        await workflow.execute_activity_method(
            LoanActivities.levy_penal,
            PenalLevy(self.inp.loan_id, inst.number, amount, key, reason),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Penal charge {amount} paise, installment {inst.number}",
        )
        inst.penal += amount

    async def _accrue_penal(self, now: datetime) -> None:
        """Percent-per-annum penal charges on each overdue installment's unpaid principal + interest, simple,
        for the days since last computed (RBI 2023: a charge, never added to principal or interest)."""
        spec = self._penal_spec()
        state = self.servicing
        if spec is None or spec.basis != PenalBasis.PERCENT_PER_ANNUM or state is None:
            return
        today = now.astimezone(IST).date()
        for inst in state.installments:
            if not inst.overdue or inst.due_date is None:
                continue
            overdue = inst.principal - inst.principal_paid + inst.interest - inst.interest_paid
            since = inst.penal_accrued_to or inst.due_date
            days = (today - since).days
            if overdue <= 0 or days <= 0:
                continue
            amount = penal_charge(spec, overdue, days)
            await self._levy(
                inst,
                amount,
                f"penal:{inst.number}:{since.isoformat()}:{today.isoformat()}",
                f"{days} day(s) on {overdue} paise overdue",
            )
            inst.penal_accrued_to = today

    async def _apply_payments(self) -> None:
        """Apply each pending payment in arrival order. One that cannot be applied (malformed, or its
        recording refused for good) is parked for ops and the rest go on; it never blocks the loan."""
        state = self.servicing
        assert state is not None
        while self.pending_payments:
            payment = self.pending_payments.pop(0)
            if payment.payment_id in state.processed_payments:
                continue
            problem = _payment_problem(payment)
            if problem is not None and workflow.patched(RECEIPTS_PATCH):
                await self._park(payment, problem)
                continue
            kept = copy.deepcopy(state.installments)
            try:
                result = await self._apply_one(payment)
            except (ActivityError, ValidationError) as exc:
                cause = exc.cause if isinstance(exc, ActivityError) else exc
                kind = cause.type if isinstance(cause, ApplicationError) else "ValidationError"
                if kind not in UNRECORDABLE or not workflow.patched(RECEIPTS_PATCH):
                    raise
                state.installments = kept  # nothing of it was recorded: undo what it changed here
                await self._park(payment, f"could not be recorded: {cause}")
                continue
            state.processed_payments.append(payment.payment_id)
            state.total_collected += payment.amount
            state.excess += result

    async def _apply_one(self, payment: PaymentEvent) -> int:
        """Allocate one payment (the brand's waterfall), record it, and return its excess in paise."""
        state = self.servicing
        assert state is not None
        today = workflow.now().astimezone(IST).date()
        unpaid = [i for i in state.installments if not i.paid]
        dues = [
            InstallmentDue(
                i.number,
                i.due_date or today,
                i.principal - i.principal_paid,
                i.interest - i.interest_paid,
                i.fees - i.fees_paid,
                i.penal - i.penal_paid,
            )
            for i in unpaid
        ]
        config = AllocationConfig(**self.inp.policy.allocation) if self.inp.policy.allocation else None
        result = allocate_payment(payment.amount, today, dues, config)
        by_number = {i.number: i for i in state.installments}
        for part in result.parts:
            inst = by_number[part.number]
            inst.penal_paid += part.penal
            inst.fees_paid += part.fees
            inst.interest_paid += part.interest
            inst.principal_paid += part.principal
        rescheduled_from: int | None = None
        rescheduled: list[InstallmentState] = []
        if result.advance_principal:
            rescheduled_from, rescheduled = self._reamortize(result.advance_principal)
        outstanding = sum(i.principal - i.principal_paid for i in state.installments)
        left = [i for i in state.installments if not i.paid]
        await workflow.execute_activity_method(
            LoanActivities.record_payment,
            PaymentRecord(
                self.inp.loan_id,
                payment,
                [(p.number, p.interest, p.principal) for p in result.parts],
                result.excess,
                outstanding,
                left[0].due_at if left else None,
                parts=[PaymentPart(p.number, p.penal, p.fees, p.interest, p.principal) for p in result.parts],
                advance_principal=result.advance_principal,
                rescheduled_from=rescheduled_from,
                rescheduled=rescheduled,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Payment {payment.payment_id}: {payment.amount} paise",
        )
        return result.excess

    async def _park(self, payment: PaymentEvent, reason: str) -> None:
        await workflow.execute_activity_method(
            LoanActivities.park_payment,
            ParkedPayment(self.inp.loan_id, payment, reason),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Payment {payment.payment_id[:40]} parked for ops",
        )
        if self.servicing is not None:
            self.servicing.processed_payments.append(payment.payment_id)

    async def _keep_late_receipts(self) -> None:
        """Payments that arrived as the loan ended: applied as excess (a credit balance) after disbursal,
        recorded as a credit balance before it, parked if malformed. Loops: more may arrive meanwhile."""
        while self.pending_payments:
            if self.servicing is not None:
                await self._apply_payments()
                continue
            payment = self.pending_payments.pop(0)
            problem = _payment_problem(payment)
            if problem is not None:
                await self._park(payment, problem)
                continue
            try:
                await workflow.execute_activity_method(
                    LoanActivities.record_credit_balance,
                    CreditBalanceRecord(self.inp.loan_id, payment),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                    summary=f"Payment {payment.payment_id[:40]}: {payment.amount} paise to credit balance",
                )
            except ActivityError as exc:
                cause = exc.cause
                if not (isinstance(cause, ApplicationError) and cause.type in UNRECORDABLE):
                    raise
                await self._park(payment, f"could not be recorded as credit balance: {cause}")

    def _reamortize(self, advance: int) -> tuple[int, list[InstallmentState]]:
        """An advance to principal re-amortises the untouched future installments (product's prepayment
        mode). Returns the first replaced number and the new installments."""
        state = self.servicing
        assert state is not None
        future = [i for i in state.installments if i.principal_paid == 0 and i.interest_paid == 0 and not i.overdue]
        settled = [i for i in state.installments if i not in future]
        balance = sum(i.principal for i in future) - advance
        first = future[0].number
        if balance <= 0:  # the advance repaid every future installment
            state.installments = settled
            return first, []
        anchor = settled[-1].due_date if settled and settled[-1].due_date else state.disbursed_at.date()
        plan = schedule.reamortize(
            self.inp.terms.schedule_terms(state.disbursed_at.astimezone(IST).date()),
            balance=balance,
            anchor=anchor,
            next_due=future[0].due_date or anchor,
            remaining=len(future),
            current_emi=future[0].principal + future[0].interest,
            mode=self.inp.policy.prepayment_mode,
            first_number=first,
        )
        new = self._states(plan.rows, state.disbursed_at)
        state.installments = settled + new
        return first, new

    async def _record_delinquency(self, now: datetime) -> None:
        """DPD and RBI asset class (SMA-0/1/2, NPA with the upgrade-only-when-all-arrears-paid rule)."""
        state = self.servicing
        assert state is not None
        today = now.astimezone(IST).date()
        dues = [
            InstallmentDue(
                i.number,
                i.due_date,
                i.principal - i.principal_paid,
                i.interest - i.interest_paid,
                i.fees - i.fees_paid,
                i.penal - i.penal_paid,
            )
            for i in state.installments
            if not i.paid and i.due_date is not None
        ]
        if self.day_end_v2:
            # As of the last day-end run: at any moment of day D that is D-1's, so count from the start of D
            # (RBI IRACP: due 31 Mar unpaid is DPD 1 at the day-end of 31 Mar, NPA at the day-end of 29 Jun).
            result = assess(dues, today, state.asset_class, npa_days=self.inp.policy.npa_days, at_day_end=False)
        else:
            result = assess(dues, today, state.asset_class, npa_days=self.inp.policy.npa_days)
        if (result.dpd, str(result.asset_class)) != (state.dpd, state.asset_class):
            changed = str(result.asset_class) != state.asset_class
            state.dpd, state.asset_class = result.dpd, str(result.asset_class)
            record = DelinquencyRecord(self.inp.loan_id, state.dpd, state.asset_class)
            if self.day_end_v2:
                # A timer run at 00:00 IST is the previous date's day-end; a payment moves it during today.
                as_of = today - timedelta(days=1) if self.day_end_run else today
                record = replace(record, as_of=as_of, class_changed=changed)
            await workflow.execute_activity_method(
                LoanActivities.record_delinquency,
                record,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"DPD {state.dpd}, {state.asset_class}",
            )

    def _installment_dpd(self, inst: InstallmentState, now: datetime) -> int:
        if self.day_end_v2 and inst.due_date is not None and not self.inp.terms.period_seconds:
            return days_past_due(inst.due_date, now.astimezone(IST).date(), at_day_end=False)
        return max(0, (now - inst.due_at).days)

    async def _record_agreement(self, docket_id: str, status: str) -> None:
        await workflow.execute_activity_method(
            LoanActivities.record_agreement_outcome,
            AgreementOutcome(self.inp.loan_id, docket_id, status, workflow.now()),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Agreement {status.lower()}",
        )

    async def _mark_overdue(self, inst: InstallmentState, now: datetime) -> None:
        await workflow.execute_activity_method(
            LoanActivities.mark_overdue,
            OverdueRecord(self.inp.loan_id, inst.number, self._installment_dpd(inst, now)),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Installment {inst.number} overdue",
        )
        inst.overdue = True
        spec = self._penal_spec()
        if spec is not None and spec.basis == PenalBasis.FLAT_PER_OCCURRENCE:
            overdue = inst.principal - inst.principal_paid + inst.interest - inst.interest_paid
            await self._levy(
                inst, penal_charge(spec, overdue, 1), f"penal:{inst.number}:flat", "delayed payment (per occurrence)"
            )

    # ---------------------------------------------------------------- helpers
    async def _move(
        self,
        to: LoanStatus,
        reason: str | None = None,
        actor: str = "system",
        *,
        action: str | None = None,
        actor_id: str | None = None,
        review_stage: str | None = None,
        details: dict | None = None,
        assign_to: str | None = None,
        reassign: bool = False,
    ) -> None:
        self.seq += 1
        change = StatusChange(self.inp.loan_id, self.seq, self.status, to, reason, actor)
        if action is not None or review_stage is not None:  # staff actions and review stages only: older
            change = replace(  # histories recorded the plain form
                change,
                action=action,
                actor_id=actor_id,
                review_stage=review_stage,
                details=details,
                brand_id=self.inp.brand_id,
                assign_to=assign_to,
                reassign=reassign,
            )
        await workflow.execute_activity_method(
            LoanActivities.record_status,
            change,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"{self.status} → {to}",
        )
        self.status = to
        workflow.upsert_search_attributes([LOAN_STATUS.value_set(to)])

    async def _end(self, to: LoanStatus, reason: str, actor: str = "system", **extra: Any) -> LoanWorkflowResult:
        await self._move(to, reason, actor, **extra)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.pending_payments and workflow.patched(RECEIPTS_PATCH):
            await self._keep_late_receipts()
        state = self.servicing
        return LoanWorkflowResult(
            self.inp.loan_id,
            to,
            installments_paid=sum(1 for i in state.installments if i.paid) if state else 0,
            total_collected=state.total_collected if state else 0,
        )

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            replace(
                self.inp,
                status=self.status,
                status_seq=self.seq,
                servicing=self.servicing,
                pending_payments=list(self.pending_payments),
            )
        )

    def _check_staff(self, action: StaffAction, roles: frozenset[str], states: set[LoanStatus]) -> None:
        if action.brand_id != self.inp.brand_id:
            raise _refuse("NotFound", "loan not found")
        if action.role not in roles:
            raise _refuse("PermissionDenied", f"role {action.role} may not do this")
        if self.status not in states:
            raise _refuse("Conflict", f"loan is {self.status}")

    # ---------------------------------------------------------------- staff updates
    # The sanction hierarchy: credit executive forwards -> sanction manager approves (with conditions),
    # rejects or sends back -> sanction head sanctions, rejects or sends back. Each action is an update; its
    # validator refuses (nothing written, nothing in history) a wrong brand (404), a wrong role (403), the
    # same person acting at a second stage (403, maker-checker) or a wrong stage/state (409).
    def _check_review(self, verb: ReviewAction, action: StaffAction) -> None:
        if action.brand_id != self.inp.brand_id:
            raise _refuse("NotFound", "loan not found")
        if action.role not in REVIEW_ACTION_ROLES[verb]:
            raise _refuse("PermissionDenied", f"role {action.role} may not {verb.value.lower()} a loan")
        if self.status != LoanStatus.UNDER_REVIEW or self.review_stage is None:
            raise _refuse("Conflict", f"loan is {self.status}, not under review")
        if self.review_outcome is not None:
            raise _refuse("Conflict", "a final decision was already taken")
        rule = REVIEW_RULES.get((self.review_stage, verb))
        if rule is None:
            raise _refuse("Conflict", f"a loan at the {self.review_stage} stage cannot be {verb.value.lower()}ed")
        if action.role not in rule[0]:
            raise _refuse("PermissionDenied", f"role {action.role} does not act at the {self.review_stage} stage")
        acted = self.reviewers.get(action.staff_id)
        if acted is not None and acted != self.review_stage:
            raise _refuse(
                "PermissionDenied",
                f"maker-checker: you already acted on this loan at the {acted} stage; another person must act now",
            )
        if verb in REASONED_ACTIONS and not (action.reason_code or "").strip():
            raise _refuse("ValidationError", "pick a reason from the brand's status reasons (reasonCode)")
        if action.score_override is not None:
            if not _score_ok(action.score_override):
                raise _refuse("ValidationError", "a score override is a number from 0 to 100 with 2 decimals at most")
            if not (action.reason or "").strip():
                raise _refuse("ValidationError", "overriding the evaluation score needs a reason")

    async def _review(self, verb: ReviewAction, action: StaffAction) -> str:
        async with self.review_lock:
            self._check_review(verb, action)  # again: another action may have gone first
            stage = self.review_stage
            assert stage is not None
            self.reviewers[action.staff_id] = stage
            next_stage = REVIEW_RULES[(stage, verb)][1]
            if next_stage is None:  # sanctioned or rejected: the main flow records it
                self.review_outcome = (verb, action)
                await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
                return str(self.status)
            if verb == ReviewAction.FORWARD:
                self.last_forwarder = action.staff_id
            self.review_stage = next_stage
            # Sent back: to the credit executive who forwarded it; forward: to the next stage's pool.
            await self._move(
                LoanStatus.UNDER_REVIEW,
                _review_reason(verb, action),
                f"{action.role}:{action.staff_email}",
                action=verb.value,
                actor_id=action.staff_id,
                review_stage=next_stage,
                details=_review_details(verb, action),
                assign_to=self.last_forwarder if next_stage == ReviewStage.CREDIT_EXECUTIVE else None,
                reassign=True,
            )
            return str(self.status)

    @workflow.update
    async def forward(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.FORWARD, action)

    @forward.validator
    def _validate_forward(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.FORWARD, action)

    @workflow.update
    async def approve(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.APPROVE, action)

    @approve.validator
    def _validate_approve(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.APPROVE, action)

    @workflow.update
    async def send_back(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.SEND_BACK, action)

    @send_back.validator
    def _validate_send_back(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.SEND_BACK, action)

    @workflow.update
    async def sanction(self, action: StaffAction) -> str:
        if self.review_v2:
            return await self._review(ReviewAction.SANCTION, action)
        self.staff_decision = ("sanction", action)
        await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
        return self.status

    @sanction.validator
    def _validate_sanction(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        if self.review_v2:
            return self._check_review(ReviewAction.SANCTION, action)
        self._check_staff(action, SANCTION_ROLES, {LoanStatus.UNDER_REVIEW})
        if self.staff_decision is not None:
            raise _refuse("Conflict", "a decision was already taken")

    @workflow.update
    async def reject(self, action: StaffAction) -> str:
        if self.review_v2:
            return await self._review(ReviewAction.REJECT, action)
        self.staff_decision = ("reject", action)
        await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
        return self.status

    @reject.validator
    def _validate_reject(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        if self.review_v2:
            return self._check_review(ReviewAction.REJECT, action)
        self._validate_sanction(action)
        if not (action.reason or action.reason_code or "").strip():
            raise _refuse("ValidationError", "a rejection needs a reason")

    @workflow.update
    async def approve_disbursal(self, action: StaffAction) -> str:
        self.disbursal_approval = action
        await workflow.wait_condition(lambda: self.status != LoanStatus.AGREEMENT_SIGNED)
        return self.status

    @approve_disbursal.validator
    def _validate_approve_disbursal(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        self._check_staff(action, DISBURSAL_ROLES, {LoanStatus.AGREEMENT_SIGNED})
        if action.staff_id in self.reviewers:
            raise _refuse("PermissionDenied", "maker-checker: who sanctioned a loan cannot also release its money")
        if self.disbursal_approval is not None:
            raise _refuse("Conflict", "disbursal already approved")

    # ---------------------------------------------------------------- provider signals
    @workflow.signal
    def esign_completed(self, event: EsignEvent) -> None:
        if self.esign_event is None:
            self.esign_event = event

    @workflow.signal
    def disbursal_settled(self, event: DisbursalEvent) -> None:
        self.disbursal_events.setdefault(event.transfer_id, event)

    @workflow.signal
    def payment_received(self, event: PaymentEvent) -> None:
        seen = set(self.servicing.processed_payments) if self.servicing else set()
        if event.payment_id not in seen and all(p.payment_id != event.payment_id for p in self.pending_payments):
            self.pending_payments.append(event)

    @workflow.query
    def kyc_status(self) -> dict:
        """Where the KYC phase is: the current step, what it waits for from the customer, results so far."""
        return {
            "steps": list(self.inp.policy.kyc_steps),
            "current": self.kyc_step,
            "waitingFor": self.kyc_waiting,
            "results": dict(self.kyc_results),
            "aadhaarOtpSent": self.aadhaar_reference is not None,
            "links": dict(self.kyc_links),
            "notes": dict(self.kyc_notes),
        }

    @workflow.query
    def snapshot(self) -> dict:
        state = self.servicing
        return {
            "loan_id": self.inp.loan_id,
            "status": str(self.status),
            "installments_paid": sum(1 for i in state.installments if i.paid) if state else 0,
            "total_collected": state.total_collected if state else 0,
        }
