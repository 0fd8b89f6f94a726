"""Origination's KYC phase and credit decision (see ``workflows.loan``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
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
        KycStepRequest,
        KycStepResult,
        ProviderRequest,
    )
    from workflows.heartbeats import KYC_HEARTBEAT
    from workflows.options import (
        KYC_INPUTS_AHEAD_PATCH,
        KYC_LOCAL_PATCH,
        KYC_PER_STEP_PATCH,
        KYC_PHASE_PATCH,
        KYC_READ_ON_UPLOAD_PATCH,
        KYC_RESULTS_BESIDE_BUREAU_PATCH,
        KYC_REUSE_PATCH,
        KYC_TIMEOUT,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
    )

from workflows.kyc_aadhaar import KYC_REUSED
from workflows.kyc_steps import KYC_STEP_ACTIVITIES, LOCAL_KYC_STEPS, KycStepsPhase
from workflows.patches import patched


class KycPhase(KycStepsPhase):
    """Origination, first part: the brand's KYC steps, then the credit decision (bureau, BRE, evaluation)."""

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
        # asked here, with the one before it, before any local activity's result (docs/architecture.md)
        self.kyc_read_on_upload = self.kyc_inputs_ahead and patched(KYC_READ_ON_UPLOAD_PATCH)
        # a first loan has no earlier results to reuse (its input says so): not looked for, under KYC_INPUTS_AHEAD_PATCH
        # (a loan the API started with first_loan whose first task ran on a worker before it looked, as it replays)
        first_loan = self.kyc_inputs_ahead and inp.first_loan
        reused = await self._reusable_kyc(key, steps) if reuse and not first_loan else []
        steps = [step for step in steps if step not in {r.step for r in reused}]
        passed = await self._kyc_steps(key, steps)
        if passed is None:
            return None

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


__all__ = ["KYC_STEP_ACTIVITIES", "LOCAL_KYC_STEPS", "KycPhase"]
