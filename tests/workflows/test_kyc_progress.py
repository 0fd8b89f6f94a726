"""``LoanWorkflow.kyc_progress_changed``, the long poll the API holds a borrower's ``include=kyc`` read on
(workflows/kyc_progress.py, api/kyc_waits.py): against stub activities, in virtual time."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowUpdateStage

from tests.workflows.stubs import StubActivities, loan_input, policy, record_if_asked, refused, running_loan
from workflows.contracts import AadhaarInitiate, AadhaarOtp, DecisionResult, KycInput, KycProgressSeen, KycStepResult


async def test_the_kyc_long_poll_answers_when_the_progress_moves_and_is_refused_once_it_has(env) -> None:  # noqa: ANN001
    right = KycStepResult("AADHAAR", "PASSED", facts={"aadhaar.name_match": "100.00"})
    stubs = StubActivities(
        decision=DecisionResult("MANUAL_REVIEW", ["score 700 needs review"], "70.00"), aadhaar_submit_answers=[right]
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR"]))
    async with running_loan(env, stubs, inp) as run:
        seen = await run.until_kyc_waiting("AADHAAR")
        assert not seen["aadhaarOtpSent"]

        # a caller holding an older progress is refused at once (nothing in the history): it reads again
        older = {**seen, "waitingFor": None, "results": {}}
        await refused(
            run,
            "kyc_progress_changed",
            KycProgressSeen(older),
            "Conflict",
            "the KYC progress has changed since `seen`: read it again",
        )

        # holding the current one, the update waits in the workflow...
        poll = await run.handle.start_update(
            "kyc_progress_changed",
            KycProgressSeen(seen),
            id="kyc-progress-a",
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        waiting = asyncio.ensure_future(poll.result())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the long poll answered while the KYC progress stood still"
        # ...and a second caller holding the same progress (so the same id) shares that one update
        again = await run.handle.start_update(
            "kyc_progress_changed",
            KycProgressSeen(seen),
            id="kyc-progress-a",
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        second = asyncio.ensure_future(again.result())

        # the OTP sent moves the progress: the long poll answers with it
        assert await run.update("aadhaar_initiate", AadhaarInitiate("123412341234")) == {"status": "OTP_SENT"}
        moved = await asyncio.wait_for(waiting, 10)
        assert moved == {**seen, "aadhaarOtpSent": True} == await run.kyc_status()
        assert await asyncio.wait_for(second, 10) == moved

        # an input the customer gives moves it too, though the step waits again as it did (the count differs)
        assert moved["inputsReceived"] == 0
        poll = await run.handle.start_update(
            "kyc_progress_changed",
            KycProgressSeen(moved),
            id="kyc-progress-b",
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await run.handle.signal("kyc_input", KycInput("EMPLOYMENT", "emp-1"))
        again_moved = await asyncio.wait_for(poll.result(), 10)
        assert again_moved == {**moved, "inputsReceived": 1}
        # a caller holding only part of the progress (an older release's keys) is compared on those keys alone
        older_shape = {k: v for k, v in again_moved.items() if k != "inputsReceived"}
        poll = await run.handle.start_update(
            "kyc_progress_changed", KycProgressSeen(older_shape), id="kyc-progress-c",
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )  # fmt: skip
        waiting = asyncio.ensure_future(poll.result())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "a key the caller did not send counted as a move"

        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        assert (await asyncio.wait_for(waiting, 10))["results"]["AADHAAR"] == "PASSED"
        await run.until_status("UNDER_REVIEW")
        # past APPLIED the phase is over: refused, whatever progress is held
        status = await run.kyc_status()
        await refused(
            run,
            "kyc_progress_changed",
            KycProgressSeen(status),
            "Conflict",
            "loan is UNDER_REVIEW: its KYC phase is over",
        )

        # the three that waited are in the history once each; the refused ones left nothing
        assert (await run.accepted_updates()).count("kyc_progress_changed") == 3
        await record_if_asked(env, run, "kyc_progress_wait")
