"""The customer's Aadhaar OTP in the KYC phase: the ``aadhaar_initiate`` and ``aadhaar_submit`` updates (see
``workflows.kyc``, whose ``_kyc_step`` waits for them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.kyc import KycActivities
    from domain.outcomes import KycStepStatus
    from domain.status import LoanStatus
    from workflows.contracts import AadhaarInitiate, AadhaarOtp, KycStepRequest, KycStepResult
    from workflows.heartbeats import KYC_HEARTBEAT
    from workflows.options import AADHAAR_LOCAL_PATCH, PROVIDER_RETRY, PROVIDER_TIMEOUT

from workflows.base import _check_fresh, _refuse
from workflows.kyc_progress import KycProgressPhase
from workflows.patches import patched

KYC_REUSED = "REUSED"  # a step's result in ``kyc_results`` when an earlier loan's result was reused (KYC_REUSE_PATCH)
DONE = frozenset({KycStepStatus.PASSED, KYC_REUSED})


class AadhaarPhase(KycProgressPhase):
    """The Aadhaar OTP: sent by the KYC vendor on the customer's number, then checked; the step passes with it."""

    # Set by the first OTP update of a run that called the vendor as a local activity (AADHAAR_LOCAL_PATCH): the KYC
    # phase then hands the verified OTP's answer off (``aadhaar_answered``) without asking AADHAAR_HANDOFF_PATCH, which
    # would be asked right after a local activity's result, where a query can move it a workflow task later than
    # replay asks it (docs/architecture.md, "Ask a new patch where no local activity's result comes first").
    aadhaar_local: bool = False

    def _aadhaar_call(self, method: Callable[..., Any], req: KycStepRequest, summary: str) -> Awaitable[KycStepResult]:
        """``method(req)`` (``aadhaar_initiate`` or ``aadhaar_submit``) with PROVIDER_TIMEOUT and PROVIDER_RETRY: a
        local activity under AADHAAR_LOCAL_PATCH (asked here, first in the update's handler, before any await), so the
        update needs no activity task and no second workflow task for its result; else, as updates recorded before it
        ran, an activity task. The activities are idempotent by the request's key: a local activity runs again when
        its workflow task is lost (a worker that dies before completing it)."""
        if patched(AADHAAR_LOCAL_PATCH):
            self.aadhaar_local = True
        return self._vendor_call(method, req, summary, self.aadhaar_local, PROVIDER_TIMEOUT, PROVIDER_RETRY)

    def _vendor_call(
        self, method: Callable[..., Any], req: Any, summary: str, local: bool, timeout: timedelta, retry: RetryPolicy
    ) -> Awaitable[Any]:
        """``method(req)`` with ``timeout`` and ``retry``: a local activity when ``local``, else an activity task with
        the KYC heartbeat timeout (the KYC steps' and the OTP's vendor calls)."""
        if local:
            return workflow.execute_local_activity_method(
                method, req, start_to_close_timeout=timeout, retry_policy=retry, summary=summary
            )
        return workflow.execute_activity_method(
            method,
            req,
            start_to_close_timeout=timeout,
            heartbeat_timeout=KYC_HEARTBEAT,
            retry_policy=retry,
            summary=summary,
        )

    @workflow.update(
        description="The customer's Aadhaar number, as its reference in the Aadhaar Data Vault and masked: the KYC "
        "vendor sends the OTP; refused (422) if the number is invalid or Aadhaar is not awaited."
    )
    async def aadhaar_initiate(self, req: AadhaarInitiate) -> dict:
        """The OTP sent through the ``aadhaar_initiate`` activity (:meth:`_aadhaar_call`), which reads the number from
        the vault by ``req.aadhaar_ref`` (UIDAI Aadhaar Data Vault circular, 2017). Updates recorded before the vault
        carry ``aadhaar_sealed`` (or, earlier still, ``aadhaar_number``) and are passed on as they are: the activity
        call is the same command either way, so no patch is needed for them. Refusals: ``ValidationError`` (422)."""
        result = await self._aadhaar_call(
            KycActivities.aadhaar_initiate,
            KycStepRequest(
                self.inp.loan_id,
                self.inp.brand_id,
                "AADHAAR",
                f"loan-{self.inp.loan_id}:aadhaar:initiate:{workflow.uuid4()}",
                aadhaar_number=req.aadhaar_number or None,
                aadhaar_sealed=req.aadhaar_sealed,
                aadhaar_ref=req.aadhaar_ref,
            ),
            "Aadhaar OTP sent",
        )
        if result.status == KycStepStatus.FAILED:
            raise _refuse("ValidationError", result.reason or "Aadhaar could not be verified", field="aadhaarNumber")
        self.aadhaar_reference = result.reference
        return {"status": "OTP_SENT"}

    @aadhaar_initiate.validator
    def _validate_aadhaar_initiate(self, req: AadhaarInitiate) -> None:
        _check_fresh(req.expires_at)
        if "AADHAAR" not in self.inp.policy.kyc_steps or self.kyc_results.get("AADHAAR") in DONE:
            raise _refuse("Conflict", "Aadhaar is not awaited for this loan")
        if self.status != LoanStatus.APPLIED:
            raise _refuse("Conflict", f"loan is {self.status}")
        if req.aadhaar_ref is not None:
            if not (req.aadhaar_ref.startswith("adv_") and 8 <= len(req.aadhaar_ref) <= 48):
                raise _refuse("ValidationError", "not an Aadhaar vault reference")
        elif not req.aadhaar_sealed and not (len(req.aadhaar_number) == 12 and req.aadhaar_number.isdigit()):
            raise _refuse("ValidationError", "Aadhaar must be 12 digits", field="aadhaarNumber")

    @workflow.update(
        description="The customer's Aadhaar OTP: checked with the KYC vendor; a wrong OTP is refused (422) and "
        "nothing is stored."
    )
    async def aadhaar_submit(self, req: AadhaarOtp) -> dict:
        result = await self._aadhaar_call(
            KycActivities.aadhaar_submit,
            KycStepRequest(
                self.inp.loan_id,
                self.inp.brand_id,
                "AADHAAR",
                f"loan-{self.inp.loan_id}:aadhaar:submit:{workflow.uuid4()}",
                reference=self.aadhaar_reference,
                otp=req.otp,
            ),
            "Aadhaar OTP checked",
        )
        if result.status != KycStepStatus.PASSED:
            raise _refuse("ValidationError", result.reason or "wrong OTP", field="otp")
        self.aadhaar_facts = dict(result.facts)
        self.kyc_results["AADHAAR"] = KycStepStatus.PASSED
        return {"status": "VERIFIED"}

    @aadhaar_submit.validator
    def _validate_aadhaar_submit(self, req: AadhaarOtp) -> None:
        _check_fresh(req.expires_at)
        if self.aadhaar_reference is None or self.kyc_results.get("AADHAAR") in DONE:
            raise _refuse("Conflict", "no Aadhaar OTP is awaited; initiate it first")
        if not (len(req.otp) == 6 and req.otp.isdigit()):
            raise _refuse("ValidationError", "OTP must be 6 digits", field="otp")
