"""Origination's KYC phase and credit decision (see ``workflows.loan``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from domain import rules
    from domain.outcomes import CreditOutcome, KycStepStatus
    from workflows.contracts import (
        AllocationRequest,
        BureauPullRequest,
        CreditRulesRequest,
        DecisionRequest,
        KycInput,
        KycStepRequest,
        KycStepResult,
        ProviderRequest,
    )
    from workflows.heartbeats import KYC_HEARTBEAT
    from workflows.options import (
        AADHAAR_ANSWER_FIRST_PATCH,
        AADHAAR_ANSWER_GAP,
        AADHAAR_HANDOFF_PATCH,
        AADHAAR_HANDOFF_TIMEOUT,
        KYC_INPUTS_AHEAD_PATCH,
        KYC_LOCAL_PATCH,
        KYC_PER_STEP_PATCH,
        KYC_PHASE_PATCH,
        KYC_RESULTS_BESIDE_BUREAU_PATCH,
        KYC_REUSE_PATCH,
        KYC_TIMEOUT,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
    )

from workflows.kyc_aadhaar import KYC_REUSED, AadhaarPhase
from workflows.patches import patched

SEQUENTIAL_KYC = frozenset({"PAN", "AADHAAR"})
# The steps that are lookups a vendor answers in seconds: local activities under KYC_LOCAL_PATCH (with the bureau pull).
# The steps that move documents (a bank statement read, DigiLocker's) stay activity tasks with their heartbeat timeout.
LOCAL_KYC_STEPS = frozenset({"PAN", "MOBILE", "CKYC", "BANK_ACCOUNT", "EMPLOYMENT"})

# The brand's KYC step (brand config ``kyc_steps``) → its activity and the summary the Temporal UI shows.
# Aadhaar runs through the aadhaar_initiate / aadhaar_submit updates; a step not here (SELFIE) is not automated.
KYC_STEP_ACTIVITIES: dict[str, tuple[Callable[..., Any], str]] = {
    "PAN": (KycActivities.kyc_pan, "KYC: PAN"),
    "MOBILE": (KycActivities.kyc_mobile, "KYC: mobile"),
    "CKYC": (KycActivities.kyc_ckyc, "KYC: CKYC"),
    "BANK_ACCOUNT": (KycActivities.kyc_penny_drop, "KYC: penny drop"),
    "EMPLOYMENT": (KycActivities.kyc_employment, "KYC: employment (EPFO)"),
    "BANK_STATEMENT": (KycActivities.kyc_bank_statement, "KYC: bank statement"),
    "DIGILOCKER": (KycActivities.kyc_digilocker, "KYC: DigiLocker"),
}


def kyc_group(steps: list[str], i: int) -> list[str]:
    """The steps from ``steps[i]`` that start together: PAN (its name feeds later checks) and Aadhaar (customer OTP)
    run alone; a run of the other, automated steps is started together, and any that needs the customer's input
    waits after. ``[]`` past the end."""
    if i >= len(steps):
        return []
    group = [steps[i]]
    if steps[i] not in SEQUENTIAL_KYC:
        while i + len(group) < len(steps) and steps[i + len(group)] not in SEQUENTIAL_KYC:
            group.append(steps[i + len(group)])
    return group


class KycPhase(AadhaarPhase):
    """Origination, first part: the brand's KYC steps, then the credit decision (bureau, BRE, evaluation)."""

    # Set once per run in _kyc_and_decide: one activity per step and the decision in three
    # (KYC_PER_STEP_PATCH), or, replaying a loan started before it, kyc_step and decide_credit.
    kyc_per_step: bool = False
    # Set with it: the KYC lookups (LOCAL_KYC_STEPS) and the bureau pull as local activities (KYC_LOCAL_PATCH).
    kyc_local: bool = False

    async def _decide(self, key: str) -> rules.DecisionResult:
        """The verdict on the application: KYC then bureau, BRE and evaluation (a failed or abandoned KYC step is
        a REJECT with its reason). Loans started before the KYC phase: the PAN check and the bureau score."""
        inp = self.inp
        if patched(KYC_PHASE_PATCH):
            verdict = await self._kyc_and_decide(key)
            if verdict is None:
                return rules.DecisionResult(rules.Decision.REJECT, self.rejection or "KYC incomplete")
            return verdict
        kyc = await workflow.execute_activity_method(
            LoanActivities.verify_pan,
            ProviderRequest(inp.loan_id, inp.brand_id, inp.policy.kyc_provider, f"{key}:kyc:pan"),
            start_to_close_timeout=PROVIDER_TIMEOUT,
            heartbeat_timeout=KYC_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="KYC: verify PAN",
        )
        if not kyc.verified:
            return rules.DecisionResult(rules.Decision.REJECT, f"KYC_PAN: {kyc.reason}")
        bureau = await workflow.execute_activity_method(
            LoanActivities.pull_bureau,
            ProviderRequest(inp.loan_id, inp.brand_id, inp.policy.bureau_provider, f"{key}:bureau:1"),
            start_to_close_timeout=PROVIDER_TIMEOUT,
            heartbeat_timeout=KYC_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Bureau pull",
        )
        return rules.decide(
            bureau.score, rules.CreditPolicy(inp.policy.min_credit_score, inp.policy.auto_sanction_score)
        )

    async def _kyc_and_decide(self, key: str) -> rules.DecisionResult | None:
        """The brand's KYC steps in order (an activity each), then the credit decision (bureau pull, rules and
        evaluation, allocation of a manual-review loan). None means rejected (reason in self.rejection).
        Loans started before KYC_PER_STEP_PATCH: every step through ``kyc_step``, the decision in one
        ``decide_credit``."""
        inp = self.inp
        self.kyc_per_step = patched(KYC_PER_STEP_PATCH)
        self.kyc_local = self.kyc_per_step and patched(KYC_LOCAL_PATCH)
        steps = list(inp.policy.kyc_steps)
        reuse = self.kyc_per_step and patched(KYC_REUSE_PATCH)
        self.kyc_inputs_ahead = patched(KYC_INPUTS_AHEAD_PATCH)
        # a first loan has no earlier results to reuse (its input says so): not looked for, under KYC_INPUTS_AHEAD_PATCH
        # (a loan the API started with first_loan whose first task ran on a worker before it looked, as it replays)
        first_loan = self.kyc_inputs_ahead and inp.first_loan
        reused = await self._reusable_kyc(key, steps) if reuse and not first_loan else []
        steps = [step for step in steps if step not in {r.step for r in reused}]
        passed: list[KycStepResult] = []
        # first attempts started beside the verified Aadhaar OTP's handoff (KYC_INPUTS_AHEAD_PATCH), by step
        ahead: dict[str, asyncio.Task[KycStepResult]] = {}
        i = 0
        while i < len(steps):
            group = kyc_group(steps, i)
            following = kyc_group(steps, i + len(group))

            def start_ahead(following: list[str] = following) -> None:
                # the next steps that run as activity tasks start now, in the handoff's workflow task: a statement the
                # customer gave ahead is read while the lookups (local activities, started after it) run
                for step in following:
                    if self._kyc_runs_as_task(step):
                        ahead[step] = asyncio.create_task(self._kyc_activity(key, step, 1))

            firsts: list[KycStepResult | None] = [None] * len(group)
            if len(group) > 1 or group[0] in ahead:
                self.kyc_step = ",".join(group)
                attempts = (ahead.pop(step) if step in ahead else self._kyc_activity(key, step, 1) for step in group)
                firsts = list(await asyncio.gather(*attempts))
            for step, first in zip(group, firsts, strict=True):
                self.kyc_step = step
                handoff = start_ahead if self.kyc_inputs_ahead and step == "AADHAAR" else None
                result = await self._kyc_step(key, step, first, before_handoff=handoff)
                self.facts.update({f"kyc.{k}": v for k, v in result.facts.items()})
                if result.status == KycStepStatus.FAILED:
                    self.rejection = f"KYC_{step}: {result.reason}"
                    return None
                if result.status == KycStepStatus.TIMED_OUT:
                    self.rejection = f"KYC_{step}: customer did not complete it in time"
                    return None
                passed.append(result)
            i += len(group)
        self.kyc_step = None

        def record() -> Coroutine[Any, Any, Any]:
            return self._origination_step(
                KycActivities.kyc_record_results,
                KycStepRequest(inp.loan_id, inp.brand_id, "RESULTS", f"{key}:kyc:results"),
                passed,
                reused,
                summary="KYC: results recorded",
            )

        if reuse and patched(KYC_RESULTS_BESIDE_BUREAU_PATCH):
            return await self._credit_decision(key, beside=record)
        if reuse:
            await record()
        if self.kyc_per_step:
            return await self._credit_decision(key)
        decision = await workflow.execute_activity_method(
            KycActivities.decide_credit,
            DecisionRequest(inp.loan_id, inp.brand_id, f"{key}:decision:1", dict(self.facts)),
            start_to_close_timeout=KYC_TIMEOUT,
            heartbeat_timeout=KYC_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Bureau, BRE and evaluation",
        )
        return self._verdict(decision.outcome, decision.reasons)

    async def _reusable_kyc(self, key: str, steps: list[str]) -> list[KycStepResult]:
        """The customer's earlier KYC results still valid for ``steps`` (the brand's ``kycValidityDays``): each is
        marked REUSED in ``kyc_results`` and its facts join the decision's; those steps are not run again."""
        inp = self.inp
        found = await self._origination_step(
            KycActivities.kyc_reuse_lookup,
            KycStepRequest(inp.loan_id, inp.brand_id, "REUSE", f"{key}:kyc:reuse"),
            summary="KYC: earlier results still valid",
        )
        reused = [r for r in found if r.step in steps and r.status == KycStepStatus.PASSED]
        for result in reused:
            self.kyc_results[result.step] = KYC_REUSED
            self.facts.update({f"kyc.{k}": v for k, v in result.facts.items()})
        return reused

    async def _credit_decision(
        self, key: str, beside: Callable[[], Coroutine[Any, Any, Any]] | None = None
    ) -> rules.DecisionResult | None:
        """Bureau pull, then rules (BRE) and evaluation over the stored report and the KYC facts, then a
        manual-review loan allocated to staff. None means rejected (reason in self.rejection). ``beside``: a step
        started in the same workflow task as the pull and awaited with it (the KYC results recorded, under
        KYC_RESULTS_BESIDE_BUREAU_PATCH); it is scheduled first."""
        inp = self.inp
        pull = self._or_hold(
            "bureau pull",
            lambda: self._provider_call(
                KycActivities.credit_bureau_pull,
                BureauPullRequest(inp.loan_id, inp.brand_id, f"{key}:decision:bureau"),
                "Bureau pull",
                local=True,
            ),
        )
        if beside is None:
            await pull
        else:
            # two tasks, started in this order (the recording's command first, as its saved history has it); when one
            # fails, the other is cancelled with it, so no step or hold is left running under a workflow that ends
            both = [asyncio.create_task(beside()), asyncio.create_task(pull)]
            try:
                await asyncio.gather(*both)
            except BaseException:
                for task in both:
                    task.cancel()
                raise
        verdict = await self._origination_step(
            KycActivities.credit_rules_and_evaluation,
            CreditRulesRequest(inp.loan_id, inp.brand_id, f"{key}:decision:rules", dict(self.facts)),
            summary="Rules and evaluation",
        )
        if verdict.outcome == CreditOutcome.MANUAL_REVIEW:
            await self._origination_step(
                KycActivities.credit_allocation,
                AllocationRequest(inp.loan_id, inp.brand_id, f"{key}:decision:allocation"),
                summary="Allocation",
            )
        return self._verdict(verdict.outcome, verdict.reasons)

    def _verdict(self, outcome: str, reasons: list[str]) -> rules.DecisionResult | None:
        reason = "; ".join(reasons) or outcome.lower()
        if outcome == CreditOutcome.REJECT:
            self.rejection = reason
            return None
        kind = rules.Decision.AUTO_SANCTION if outcome == CreditOutcome.AUTO_SANCTION else rules.Decision.MANUAL_REVIEW
        return rules.DecisionResult(kind, reason)

    async def _kyc_activity(self, key: str, step: str, attempt: int) -> KycStepResult:
        # the inputs this attempt can see: one arriving after this point wakes the step if the attempt answers WAITING
        self.kyc_attempted_at[step] = self._inputs_for(step)
        req = KycStepRequest(
            self.inp.loan_id,
            self.inp.brand_id,
            step,
            f"{key}:kyc:{step.lower()}:{attempt}",
            ref_id=self.kyc_inputs.get(step),
        )
        if not self.kyc_per_step:  # a loan started before KYC_PER_STEP_PATCH
            return await workflow.execute_activity_method(
                KycActivities.kyc_step,
                req,
                start_to_close_timeout=KYC_TIMEOUT,
                heartbeat_timeout=KYC_HEARTBEAT,
                retry_policy=PROVIDER_RETRY,
                summary=f"KYC: {step.replace('_', ' ').lower()}",
            )
        if step not in KYC_STEP_ACTIVITIES:
            return KycStepResult(step, KycStepStatus.SKIPPED, f"step {step} is not automated")
        method, summary = KYC_STEP_ACTIVITIES[step]
        return await self._or_hold(
            f"KYC {step}",
            lambda: self._provider_call(
                method, req, summary if attempt == 1 else f"{summary} (attempt {attempt})", step in LOCAL_KYC_STEPS
            ),
        )

    def _provider_call(self, method: Callable[..., Any], req: Any, summary: str, local: bool) -> Awaitable[Any]:
        """``method(req)``, a KYC step or the bureau pull, with KYC_TIMEOUT and PROVIDER_RETRY: a local activity when
        ``local`` (a lookup: ``LOCAL_KYC_STEPS``, the bureau pull) under KYC_LOCAL_PATCH (``kyc_local``), else an
        activity task with the KYC heartbeat timeout, as runs before it recorded. Returns what the activity returns;
        once its retries are spent raises its failure: an ``ActivityError``, or for a local activity the bare
        ``ApplicationError`` (a vendor's refusal: type ``BusinessRefusal``), which ``_or_hold`` reads alike."""
        return self._vendor_call(method, req, summary, local and self.kyc_local, KYC_TIMEOUT, PROVIDER_RETRY)

    def _kyc_runs_as_task(self, step: str) -> bool:
        """Whether ``step``'s attempts are activity tasks of their own (a statement read, DigiLocker), not local."""
        return self.kyc_per_step and step in KYC_STEP_ACTIVITIES and not (self.kyc_local and step in LOCAL_KYC_STEPS)

    async def _kyc_step(
        self,
        key: str,
        step: str,
        first: KycStepResult | None = None,
        before_handoff: Callable[[], None] | None = None,
    ) -> KycStepResult:
        """Run one step (``first``: its first attempt, already run); a step that needs the customer
        (Aadhaar OTP, a bank account, a statement...) waits for their input, up to the brand's KYC timeout.
        ``before_handoff``: called where a verified Aadhaar OTP's handoff activity is about to be scheduled."""
        inp = self.inp
        attempt = 0
        while True:
            attempt += 1
            if step == "AADHAAR":
                result = KycStepResult(step, KycStepStatus.WAITING, "waiting for the Aadhaar OTP")
            elif attempt == 1 and first is not None:
                result = first
            else:
                result = await self._kyc_activity(key, step, attempt)
            if result.status != KycStepStatus.WAITING:
                self.kyc_results[step] = result.status
                self.kyc_notes.pop(step, None)
                return result
            self.kyc_notes[step] = result.reason or ""
            if result.reference:
                self.kyc_links[step] = result.reference
            self.kyc_waiting = step
            # the inputs already seen: those before the attempt that answered WAITING started (an input that came while
            # it ran, e.g. a statement uploaded after it looked, wakes the step at once); before
            # KYC_INPUTS_AHEAD_PATCH, those before its answer was read. The Aadhaar step waits for its updates.
            since_attempt = self.kyc_inputs_ahead and step in self.kyc_attempted_at
            self.kyc_seen = self.kyc_attempted_at[step] if since_attempt else self._inputs_for(step)
            # whether the wait below waits: an OTP verified before the step came to wait for it (while an earlier
            # step was still running) completes it at once, in the task of that step's result
            blocked = self.kyc_results.get(step) != KycStepStatus.PASSED
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._inputs_for(step) > self.kyc_seen or self.kyc_results.get(step) == KycStepStatus.PASSED
                    ),
                    timeout=timedelta(seconds=inp.policy.kyc_timeout_seconds),
                    timeout_summary=f"KYC {step.lower()} timeout",
                )
            except asyncio.TimeoutError:
                return KycStepResult(step, KycStepStatus.TIMED_OUT, "customer input not received")
            finally:
                self.kyc_waiting = None
            if self.kyc_results.get(step) == KycStepStatus.PASSED:  # completed by an update (Aadhaar OTP)
                # the update's answer leaves before the next steps run; asked only where the wait waited, so in the
                # task of the OTP's own result, and only where that result was an activity task's (never after a local
                # activity's): under AADHAAR_LOCAL_PATCH the handoff is on without being asked
                if blocked and (self.aadhaar_local or patched(AADHAAR_HANDOFF_PATCH)):
                    if before_handoff is not None:
                        before_handoff()
                    await workflow.execute_activity_method(
                        KycActivities.aadhaar_answered,
                        self.inp.loan_id,
                        start_to_close_timeout=AADHAAR_HANDOFF_TIMEOUT,
                        summary="Aadhaar OTP answered; the next KYC steps follow",
                    )
                elif blocked and patched(AADHAAR_ANSWER_FIRST_PATCH):  # runs recorded before v2: a timer
                    await workflow.sleep(AADHAAR_ANSWER_GAP, summary="Aadhaar OTP answered; the next KYC steps follow")
                return KycStepResult(step, KycStepStatus.PASSED, facts=self.aadhaar_facts)

    @workflow.signal(
        description="The customer gave what a waiting KYC step needs (a bank account, employment, statement, "
        "DigiLocker code) or the AA webhook came: the step runs again (KycInput: step and record id)."
    )
    def kyc_input(self, event: KycInput) -> None:
        self.kyc_inputs[event.step] = event.ref_id
        self.kyc_step_inputs[event.step] = self.kyc_step_inputs.get(event.step, 0) + 1

    def _inputs_for(self, step: str) -> int:
        """The customer's inputs a wait of ``step`` counts: its own (KYC_INPUTS_AHEAD_PATCH: a statement uploaded ahead
        does not wake the Aadhaar step's wait, nor run a waiting penny drop again); before it, every step's."""
        return self.kyc_step_inputs.get(step, 0) if self.kyc_inputs_ahead else self.kyc_input_count
