"""KYC reuse in the real LoanWorkflow against stub activities, in virtual time (patch ``kyc-reuse-v1``).

The KYC phase first asks ``kyc_reuse_lookup`` which of the customer's earlier results are still valid; those steps
are not run (REUSED in the phase's results, their facts given to the credit decision), the others run as before,
and once every step passed ``kyc_record_results`` stores them. With every step reused the loan goes straight to
the credit decision, Aadhaar OTP included.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from temporalio.worker import Replayer

from tests.workflows.stubs import (
    SUPER_ADMIN,
    StubActivities,
    decision_activities,
    kyc_activity,
    loan_input,
    policy,
    refused,
    running_loan,
    start_loan,
    worker_before,
)
from workflows.contracts import AadhaarInitiate, DecisionResult, KycStepResult, LoanWorkflowResult
from workflows.loan import LoanWorkflow
from workflows.options import KYC_INPUTS_AHEAD_PATCH, KYC_RESULTS_BESIDE_BUREAU_PATCH

PREVIOUS = "11111111-2222-3333-4444-555555555555"
REJECT = DecisionResult("REJECT", ["income below policy"])


def reused(step: str, **facts: object) -> KycStepResult:
    return KycStepResult(step, "PASSED", "reused: verified 2026-05-01", "digitap", reference=PREVIOUS, facts=facts)


async def test_every_step_reused_goes_straight_to_the_decision(env) -> None:  # noqa: ANN001
    stubs = StubActivities(
        decision=REJECT,
        reusable=[
            reused("PAN", pan_name="ASHA RAO", pan_verified=True),
            reused("AADHAAR", **{"aadhaar.name_match": "100.00"}),
            reused("MOBILE", mobile_pan_match=True),
            reused("DIGILOCKER"),  # a step this brand does not ask for: ignored
        ],
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "MOBILE"]))
    async with running_loan(env, stubs, inp) as run:
        result = await run.result()
        status = await run.kyc_status()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    # no KYC step ran, no Aadhaar OTP was awaited: the decision came next
    assert stubs.names() == [*decision_activities("REJECT"), "record_status"]
    assert status["results"] == {"PAN": "REUSED", "AADHAAR": "REUSED", "MOBILE": "REUSED"}
    assert stubs.decision_facts() == {
        "kyc.pan_name": "ASHA RAO",
        "kyc.pan_verified": True,
        "kyc.aadhaar.name_match": "100.00",
        "kyc.mobile_pan_match": True,
    }
    lookup, record = stubs.reuse_calls
    assert lookup.name == "kyc_reuse_lookup" and lookup.arg.idempotency_key == f"{run.key}:kyc:reuse"
    req, passed, again = record.arg
    assert record.name == "kyc_record_results" and req.idempotency_key == f"{run.key}:kyc:results"
    assert passed == [] and [r.step for r in again] == ["PAN", "AADHAAR", "MOBILE"]
    assert {r.reference for r in again} == {PREVIOUS}


async def test_only_the_steps_still_valid_are_skipped(env) -> None:  # noqa: ANN001
    stubs = StubActivities(decision=REJECT, reusable=[reused("PAN", pan_name="ASHA RAO")])
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE", "CKYC"]))
    async with running_loan(env, stubs, inp) as run:
        await run.result()
        status = await run.kyc_status()
    names = stubs.names()  # MOBILE and CKYC start together: either may be recorded first
    assert sorted(names[:2]) == [kyc_activity("CKYC"), kyc_activity("MOBILE")]
    assert names[2:] == [*decision_activities("REJECT"), "record_status"]
    assert status["results"] == {"PAN": "REUSED", "MOBILE": "PASSED", "CKYC": "PASSED"}
    assert stubs.decision_facts() == {"kyc.pan_name": "ASHA RAO", "kyc.mobile.ok": True, "kyc.ckyc.ok": True}
    _, record = stubs.reuse_calls
    _, passed, again = record.arg
    assert [r.step for r in passed] == ["MOBILE", "CKYC"] and [r.step for r in again] == ["PAN"]  # the brand's order


async def test_nothing_valid_runs_every_step_and_records_them(env) -> None:  # noqa: ANN001
    stubs = StubActivities(decision=REJECT)
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE"]))
    async with running_loan(env, stubs, inp) as run:
        await run.result()
    assert stubs.names() == [
        kyc_activity("PAN"),
        kyc_activity("MOBILE"),
        *decision_activities("REJECT"),
        "record_status",
    ]
    _, record = stubs.reuse_calls
    _, passed, again = record.arg
    assert [(r.step, r.status) for r in passed] == [("PAN", "PASSED"), ("MOBILE", "PASSED")] and again == []


async def test_a_first_loan_looks_for_no_earlier_results(env) -> None:  # noqa: ANN001
    """The API found no other loan of the customer (``first_loan``): the phase does not ask ``kyc_reuse_lookup`` (here
    it would have answered a valid PAN), runs every step and records them."""
    stubs = StubActivities(decision=REJECT, reusable=[reused("PAN", pan_name="ASHA RAO", pan_verified=True)])
    inp = replace(loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE"])), first_loan=True)
    async with running_loan(env, stubs, inp) as run:
        await run.result()
    assert [call.name for call in stubs.reuse_calls] == ["kyc_record_results"]
    assert [r.step for r in stubs.kyc_requests()] == ["PAN", "MOBILE"]
    (record,) = stubs.reuse_calls
    _, passed, again = record.arg
    assert [(r.step, r.status) for r in passed] == [("PAN", "PASSED"), ("MOBILE", "PASSED")] and again == []


async def test_a_first_loan_started_on_a_worker_before_the_patch_looks_and_replays(env) -> None:  # noqa: ANN001
    """The API (newer than the worker) said ``first_loan``; the worker before kyc-inputs-ahead-v1 ignores it and looks
    for earlier results, as that code does; the run's history replays on this code (which skips the look-up only under
    that patch)."""
    stubs = StubActivities(decision=REJECT)
    inp = replace(loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE"])), first_loan=True)
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {KYC_INPUTS_AHEAD_PATCH}):
        run = await start_loan(env, stubs, inp, queue)
        await run.result()
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
    assert [call.name for call in stubs.reuse_calls] == ["kyc_reuse_lookup", "kyc_record_results"]
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure


@pytest.mark.parametrize("code", ["this code", "before the patch"])
async def test_the_results_are_recorded_while_the_bureau_is_pulled(env, code: str) -> None:  # noqa: ANN001
    """kyc-results-beside-bureau-v1: once every KYC step passed, the results are recorded and the bureau pulled in the
    same workflow task, so the recording sees the pull start; a loan on a worker from before the patch records them
    first and pulls after, as it recorded. Both runs replay."""
    stubs = StubActivities(decision=REJECT, results_wait_for_bureau=1.0)
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    missing = {KYC_RESULTS_BESIDE_BUREAU_PATCH} if code == "before the patch" else set()
    async with worker_before(env, stubs, queue, missing):
        run = await start_loan(env, stubs, inp, queue)
        result = await run.result()
        (history,) = await run._histories()
    assert result.status == "REJECTED"
    assert stubs.bureau_in_flight == [not missing]
    assert [c.name for c in stubs.reuse_calls] == ["kyc_reuse_lookup", "kyc_record_results"]
    steps = [kyc_activity("PAN"), kyc_activity("MOBILE")]
    assert stubs.names() == [*steps, *decision_activities("REJECT"), "record_status"]
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure


async def test_a_bureau_refusal_beside_the_recording_holds_the_loan_and_resume_pulls_again(env) -> None:  # noqa: ANN001
    """kyc-results-beside-bureau-v1: the bureau refuses while the KYC results are recorded; the loan is held
    (NEEDS_ATTENTION) with its results recorded once, and an admin's resume pulls the bureau again, not the results."""
    stubs = StubActivities(decision=REJECT, bureau_answers=["CIBIL: HTTP 422: consent not on record"])
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN"]))
    async with running_loan(env, stubs, inp) as run:
        await run.until_status("NEEDS_ATTENTION")
        assert await run.update("resume_hold", SUPER_ADMIN.act(reason="consent re-taken")) == "APPLIED"
        result = await run.result()
    assert result.status == "REJECTED"
    assert [c.name for c in stubs.reuse_calls] == ["kyc_reuse_lookup", "kyc_record_results"]
    assert len(stubs.of("credit_bureau_pull")) == 2 and len(stubs.of("credit_rules_and_evaluation")) == 1
    assert stubs.statuses() == ["APPLIED", "NEEDS_ATTENTION", "APPLIED", "REJECTED"]


async def test_a_failed_step_records_nothing(env) -> None:  # noqa: ANN001
    stubs = StubActivities(
        decision=REJECT, kyc={"MOBILE": [KycStepResult("MOBILE", "FAILED", "linked to another PAN")]}
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE"]))
    async with running_loan(env, stubs, inp) as run:
        result = await run.result()
    assert result.status == "REJECTED"
    assert [c.name for c in stubs.reuse_calls] == ["kyc_reuse_lookup"]


async def test_a_reused_aadhaar_is_not_awaited(env) -> None:  # noqa: ANN001
    """Aadhaar reused, a later step waits for the customer: an Aadhaar OTP sent now is refused."""
    stubs = StubActivities(
        decision=REJECT,
        reusable=[reused("AADHAAR")],
        kyc={"BANK_ACCOUNT": [KycStepResult("BANK_ACCOUNT", "WAITING", "add a bank account")]},
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["AADHAAR", "BANK_ACCOUNT"]))
    async with running_loan(env, stubs, inp) as run:
        status = await run.until_kyc_waiting("BANK_ACCOUNT")
        assert status["results"] == {"AADHAAR": "REUSED"}
        await refused(
            run,
            "aadhaar_initiate",
            AadhaarInitiate(aadhaar_sealed="sealed", aadhaar_masked="XXXX-XXXX-1236"),
            "Conflict",
            "Aadhaar is not awaited for this loan",
        )
    assert stubs.of("aadhaar_initiate") == []
