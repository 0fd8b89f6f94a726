"""Activities of the loan's KYC phase and credit decision, one module per concept:

- ``identity``: PAN, Aadhaar OTP (initiate / submit, through workflow updates), mobile, DigiLocker
- ``ckyc``: the CKYC registry's record and its match score
- ``bank``: penny drop, bank statement (upload or Account Aggregator) and its analysis
- ``employment``: EPFO
- ``decision``: bureau pull, rules (BRE) and evaluation, allocation of a manual-review loan
- ``reuse``: the loan's KYC results recorded, and those still valid reused by the customer's next loan
- ``common``: the base class (clients, provider failover, recording a provider call) and shared helpers
- ``queries``: the SQL, one named function per aggregate and question

Each KYC step reads what the customer gave (database), asks the brand's providers (with failover: which vendor
answered, and every attempt, is recorded on ``provider_calls``), writes the outcome and returns the facts later
rules read. A step whose input is missing answers WAITING; the workflow then waits for the customer.

``kyc_step`` (one activity for every step, by name) and ``decide_credit`` (bureau, rules, evaluation and allocation
in one) are what loans started before ``kyc-activity-per-step-v1`` call; they stay registered and run the same
code as the per-step and per-stage activities.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from temporalio import activity

from activities.kyc.bank import BankActivities
from activities.kyc.ckyc import CkycActivities
from activities.kyc.common import (
    AADHAAR,
    BANK_ACCOUNT,
    STATEMENT_PASSWORD,
    STATEMENT_PASSWORD_CODES,
    digilocker_state,
)
from activities.kyc.decision import BUREAU_REUSE, DecisionActivities, brand_config_error
from activities.kyc.employment import EmploymentActivities
from activities.kyc.identity import IdentityActivities
from activities.kyc.reuse import ReuseActivities
from domain.errors import LosError
from domain.outcomes import KycStepStatus
from workflows.contracts import DecisionRequest, DecisionResult, KycStepRequest, KycStepResult

__all__ = [
    "AADHAAR",
    "BANK_ACCOUNT",
    "BUREAU_REUSE",
    "STATEMENT_PASSWORD",
    "STATEMENT_PASSWORD_CODES",
    "KycActivities",
    "digilocker_state",
]


class KycActivities(
    IdentityActivities, CkycActivities, BankActivities, EmploymentActivities, DecisionActivities, ReuseActivities
):
    """Every KYC and credit-decision activity the worker registers (``all()``)."""

    def steps(self) -> dict[str, Callable[[KycStepRequest], Awaitable[KycStepResult]]]:
        """The automated KYC steps by name (brand config ``kyc_steps``); Aadhaar runs through updates."""
        return {
            "PAN": self.kyc_pan,
            "MOBILE": self.kyc_mobile,
            "BANK_ACCOUNT": self.kyc_penny_drop,
            "EMPLOYMENT": self.kyc_employment,
            "CKYC": self.kyc_ckyc,
            "BANK_STATEMENT": self.kyc_bank_statement,
            "DIGILOCKER": self.kyc_digilocker,
        }

    # ------------------------------------------------------------------ loans started before the per-step activities
    @activity.defn
    async def kyc_step(self, req: KycStepRequest) -> KycStepResult:
        """Any step by name (loans in flight before ``kyc-activity-per-step-v1``): the step's own activity."""
        step = self.steps().get(req.step)
        if step is None:
            return KycStepResult(req.step, KycStepStatus.SKIPPED, f"step {req.step} is not automated")
        return await step(req)

    @activity.defn
    async def decide_credit(self, req: DecisionRequest) -> DecisionResult:
        """Bureau, rules and evaluation, and allocation in one (loans in flight before
        ``kyc-activity-per-step-v1``), with the keys it always used (``<key>:bureau``, ``:bre``, ``:evaluation``,
        ``:allocation``)."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        report = await self._bureau(loan, customer, brand, f"{req.idempotency_key}:bureau")
        try:
            verdict = await self._tx(
                lambda session: self._rules(session, req.idempotency_key, loan, customer, brand, report, req.facts)
            )
        except LosError as exc:
            raise brand_config_error(exc) from exc
        assigned = None
        if verdict.outcome == "MANUAL_REVIEW":
            key = f"{req.idempotency_key}:allocation"
            assigned = await self._tx(lambda session: self._allocate(session, key, loan, brand, date.today()))
        return DecisionResult(verdict.outcome, verdict.reasons, verdict.score, assigned)

    def all(self) -> list[Callable[..., Any]]:
        return [
            *self.steps().values(),
            self.aadhaar_initiate,
            self.aadhaar_submit,
            self.aadhaar_answered,
            self.credit_bureau_pull,
            self.credit_rules_and_evaluation,
            self.credit_allocation,
            self.kyc_step,
            self.decide_credit,
            self.reverify_beneficiary,
            self.kyc_reuse_lookup,
            self.kyc_record_results,
        ]
