"""The customer's Aadhaar OTP is answered before the KYC lookups after it run (``AADHAAR_HANDOFF_PATCH``).

Those lookups are local activities: run in the workflow task that starts them, they hold that task, and with it the
answer of an update completed in it. The borrower's "verify OTP" must not wait for a CKYC search or a penny drop: here
the mobile check after Aadhaar is held at a gate, and the OTP's update is answered while it is still held."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio import activity

from tests.workflows.stubs import (
    StubActivities,
    decision_activities,
    kyc_activity,
    loan_input,
    patch_markers,
    policy,
    running_loan,
)
from workflows.contracts import (
    AadhaarInitiate,
    AadhaarOtp,
    DecisionResult,
    KycStepRequest,
    KycStepResult,
    LoanWorkflowResult,
)
from workflows.options import AADHAAR_ANSWER_FIRST_PATCH, AADHAAR_HANDOFF_PATCH, AADHAAR_LOCAL_PATCH


@dataclass
class HeldMobileCheck(StubActivities):
    """The stubs, with the mobile check (a local activity) held until ``release`` is set; ``started`` once it runs."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @activity.defn(name="kyc_mobile")
    async def kyc_mobile(self, req: KycStepRequest) -> KycStepResult:
        self.started.set()
        await self.release.wait()
        return self._kyc_answer("kyc_mobile", req)


async def test_the_otp_is_answered_while_the_lookups_after_it_still_run(env) -> None:  # noqa: ANN001
    stubs = HeldMobileCheck(decision=DecisionResult("REJECT", ["income below policy"]))
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "MOBILE"]))
    async with running_loan(env, stubs, inp) as run:
        await run.until_kyc_waiting("AADHAAR")
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        assert await run.update("aadhaar_initiate", sealed) == {"status": "OTP_SENT"}
        # before the patch, this answer came only with the task that ran the mobile check: not while it is held
        answer = await asyncio.wait_for(run.update("aadhaar_submit", AadhaarOtp("123456")), timeout=5)
        assert answer == {"status": "VERIFIED"}
        await asyncio.wait_for(stubs.started.wait(), timeout=10)  # and the check after it does run
        assert "kyc_mobile" not in stubs.names()  # still held when the OTP was answered
        stubs.release.set()
        result = await run.result()
        (origination, *_) = await run._histories()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert stubs.names() == [
        kyc_activity("PAN"), "aadhaar_initiate", "aadhaar_submit", "aadhaar_answered", "kyc_mobile",
        *decision_activities("REJECT"),
        "record_status",
    ]  # fmt: skip
    markers = patch_markers(origination)
    # no timer: the handoff, implied by the OTP's local vendor calls (aadhaar-otp-local-v1), not asked on its own
    assert AADHAAR_LOCAL_PATCH in markers
    assert AADHAAR_HANDOFF_PATCH not in markers and AADHAAR_ANSWER_FIRST_PATCH not in markers
