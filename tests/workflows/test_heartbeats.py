"""Activity heartbeats (workflows/heartbeats.py): a worker killed in the middle of a slow activity loses the attempt
within the call's heartbeat timeout, not its start-to-close timeout, and another worker runs it again; and every
long activity of origination is scheduled with its heartbeat timeout (DB writes, and since kyc-provider-steps-local-v1
the KYC steps and the bureau pull, run as local activities: a worker killed in the middle of one loses its workflow
task, and another worker runs the step again within the workflow task timeout).

The kill runs on a real dev server (wall-clock time): a worker process with the real LoanWorkflow and stub
activities (tests/workflows/heartbeat_worker.py), whose PAN check heartbeats as the real KYC steps do and never
answers, is SIGKILLed once the check started; a worker in this process takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Replayer, Worker

from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    SUPER_ADMIN,
    StubActivities,
    loan_input,
    patch_markers,
    policy,
    running_loan,
    start_loan,
    to_agreement_signed,
    worker_before,
)
from workflows.contracts import AadhaarInitiate, AadhaarOtp, KycStepRequest, KycStepResult
from workflows.heartbeats import AGREEMENT_HEARTBEAT, KYC_HEARTBEAT, TRANSFER_HEARTBEAT
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow
from workflows.options import (
    AADHAAR_HANDOFF_PATCH,
    AADHAAR_LOCAL_PATCH,
    KYC_LOCAL_PATCH,
    KYC_RESULTS_BESIDE_BUREAU_PATCH,
    KYC_TIMEOUT,
)

# The loan workflow's workflow task timeout (the server's default: the API starts loans without one of their own).
WORKFLOW_TASK_TIMEOUT = timedelta(seconds=10)

ROOT = Path(__file__).resolve().parents[2]

# The activities that wait on a vendor or the browser, by the heartbeat timeout they are scheduled with.
EXPECTED = {
    "prepare_agreement": AGREEMENT_HEARTBEAT,
    "store_signed_agreement": AGREEMENT_HEARTBEAT,
    "reverify_beneficiary": TRANSFER_HEARTBEAT,
    "initiate_disbursal": TRANSFER_HEARTBEAT,
    "notify_disbursed": TRANSFER_HEARTBEAT,
}
# Vendor calls of the KYC phase: local activities on this code (kyc-provider-steps-local-v1), activity tasks with the
# KYC heartbeat timeout on loans started before it.
KYC_CALLS = {"kyc_pan", "kyc_mobile", "credit_bureau_pull"}
# The Aadhaar OTP's vendor calls: local activities on this code (aadhaar-otp-local-v1), activity tasks with the KYC
# heartbeat timeout for updates recorded before it.
AADHAAR_CALLS = {"aadhaar_initiate", "aadhaar_submit"}


def scheduled(history: WorkflowHistory) -> dict[str, set[float]]:
    """Activity type → the heartbeat timeouts (seconds; 0 for none) it was scheduled with in ``history``."""
    found: dict[str, set[float]] = {}
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            found.setdefault(attrs.activity_type.name, set()).add(attrs.heartbeat_timeout.ToTimedelta().total_seconds())
    return found


def local_steps(history: WorkflowHistory) -> set[str]:
    """The activity types ``history`` ran as local activities (read from their markers)."""
    import json

    found = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            attrs = event.marker_recorded_event_attributes
            if attrs.marker_name == "core_local_activity":
                found.add(json.loads(attrs.details["data"].payloads[0].data)["activity_type"])
    return found


async def test_long_activities_are_scheduled_with_their_heartbeat_timeout(env) -> None:  # noqa: ANN001
    """Application to DISBURSED with the Aadhaar OTP through the vault reference (the activity gets the token, never
    a number), then each activity's scheduled heartbeat timeout read from the history."""
    stubs = StubActivities()
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "MOBILE"]))
    async with running_loan(env, stubs, inp) as run:
        await run.until_kyc_waiting("AADHAAR")
        initiate = AadhaarInitiate(aadhaar_ref="adv_" + "x" * 32, aadhaar_masked="XXXX XXXX 0124")
        assert await run.update("aadhaar_initiate", initiate) == {"status": "OTP_SENT"}
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await run.until_status("DISBURSED")
        first_run = env.client.get_workflow_handle(run.handle.id, run_id=run.handle.first_execution_run_id)
        history = await first_run.fetch_history()  # origination (servicing continued as new)
    (sent,) = stubs.of("aadhaar_initiate")
    assert (sent.aadhaar_ref, sent.aadhaar_sealed, sent.aadhaar_number) == (initiate.aadhaar_ref, None, None)
    timeouts = scheduled(history)
    assert {name: timeouts.get(name) for name in EXPECTED} == {
        name: {beat.total_seconds()} for name, beat in EXPECTED.items()
    }
    # database writes are no activity tasks at all (origination-local-steps-v1): local activities, no heartbeat;
    # nor are the KYC phase's vendor calls (kyc-provider-steps-local-v1)
    local = {"record_disbursal", "record_agreement_outcome", "credit_rules_and_evaluation", *KYC_CALLS, *AADHAAR_CALLS}
    assert not local & timeouts.keys()
    assert local <= local_steps(history)
    assert all(beat < KYC_TIMEOUT / 4 for beat in EXPECTED.values())


async def test_a_loan_started_before_the_kyc_local_patch_keeps_heartbeated_kyc_calls_after_the_deploy(env) -> None:  # noqa: ANN001
    """Started on a worker from before kyc-provider-steps-local-v1 (the patch refused, as that code never asks it), the
    loan ran its PAN check as an activity task and waits for the Aadhaar OTP when a worker of this code takes it over:
    its later KYC calls (the mobile checks, the bureau pull) stay activity tasks with the KYC heartbeat timeout (the SDK
    keeps a patch's first answer for the run), so its history replays."""
    stubs = StubActivities()
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "MOBILE"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {KYC_LOCAL_PATCH}):
        run = await start_loan(env, stubs, inp, queue)
        await run.until_kyc_waiting("AADHAAR")
    async with Worker(env.client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
        initiate = AadhaarInitiate(aadhaar_ref="adv_" + "x" * 32, aadhaar_masked="XXXX XXXX 0124")
        assert await run.update("aadhaar_initiate", initiate) == {"status": "OTP_SENT"}
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        await run.until_asked(KYC_RESULTS_BESIDE_BUREAU_PATCH)  # asked mid-run by that code: past it before a query
        await run.until_status("SANCTIONED")
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
        await env.client.get_workflow_handle(run.handle.id).terminate("test over")
    timeouts = scheduled(history)
    assert {name: timeouts.get(name) for name in KYC_CALLS} == {
        name: {KYC_HEARTBEAT.total_seconds()} for name in KYC_CALLS
    }
    assert not KYC_CALLS & local_steps(history)
    assert KYC_LOCAL_PATCH not in patch_markers(history)
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_worker_from_before_the_aadhaar_local_patch_sends_the_otp_as_heartbeated_activity_tasks(env) -> None:  # noqa: ANN001
    """On code that does not know aadhaar-otp-local-v1 (the patch refused), the OTP's two vendor calls are activity
    tasks with the KYC heartbeat timeout, as the updates recorded before it; that history replays on this code."""
    stubs = StubActivities()
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {AADHAAR_LOCAL_PATCH}):
        run = await start_loan(env, stubs, inp, queue)
        await run.until_kyc_waiting("AADHAAR")
        initiate = AadhaarInitiate(aadhaar_ref="adv_" + "x" * 32, aadhaar_masked="XXXX XXXX 0124")
        assert await run.update("aadhaar_initiate", initiate) == {"status": "OTP_SENT"}
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        await run.until_status("SANCTIONED")
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
        await env.client.get_workflow_handle(run.handle.id).terminate("test over")
    timeouts = scheduled(history)
    assert {name: timeouts.get(name) for name in AADHAAR_CALLS} == {
        name: {KYC_HEARTBEAT.total_seconds()} for name in AADHAAR_CALLS
    }
    assert not AADHAAR_CALLS & local_steps(history)
    # and the verified OTP's handoff asks its own patch there, after an activity task's result, as before
    assert AADHAAR_LOCAL_PATCH not in patch_markers(history) and AADHAAR_HANDOFF_PATCH in patch_markers(history)
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_vendor_refusal_in_a_local_kyc_step_holds_the_loan_until_ops_resume_it(env) -> None:  # noqa: ANN001
    """A KYC lookup run as a local activity fails with the vendor's refusal (BusinessRefusal): the loan is parked in
    NEEDS_ATTENTION, not failed; an admin resumes it, the step runs again (locally), passes, and the loan is
    decided. The steps started beside it ran once."""
    stubs = StubActivities(kyc={"MOBILE": ["mobile lookup: subscriber barred", KycStepResult("MOBILE", "PASSED")]})
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE", "CKYC"]))
    async with running_loan(env, stubs, inp) as run:
        await run.until_status("NEEDS_ATTENTION")
        assert [r.step for r in stubs.kyc_requests()].count("MOBILE") == 1
        resume = SUPER_ADMIN.act(reason="the customer's operator lifted the bar")
        assert await run.update("resume_hold", resume) == "APPLIED"
        await run.until_status("SANCTIONED")
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
    steps = [r.step for r in stubs.kyc_requests()]
    assert steps.count("MOBILE") == 2 and steps.count("CKYC") == 1 and steps.count("PAN") == 1, steps
    assert stubs.statuses()[:4] == ["APPLIED", "NEEDS_ATTENTION", "APPLIED", "SANCTIONED"], stubs.statuses()
    assert {"kyc_pan", "kyc_mobile", "kyc_ckyc", "credit_bureau_pull"} <= local_steps(history)
    assert not {"kyc_pan", "kyc_mobile", "kyc_ckyc", "credit_bureau_pull"} & scheduled(history).keys()


@pytest.mark.parametrize("path", ["local activity", "activity task"])
async def test_a_kyc_vendor_that_never_answers_holds_the_loan_instead_of_failing_it(env, path) -> None:  # noqa: ANN001
    """A KYC lookup whose retries are all spent without an answer (the vendor down on every try: a failure that is
    no refusal, non-retryable here so the policy gives up at once) parks the loan in NEEDS_ATTENTION with the kind
    of failure, never its message (hold-when-retries-spent-v1), on both paths: the local activity's failure reaches
    the workflow bare, the activity task's inside an ActivityError. Resumed, the step runs again and the loan is
    decided. Before the patch such a loan's workflow failed."""
    down = ApplicationError("ckyc vendor 503 for 9876543210", type="ProviderError", non_retryable=True)
    stubs = StubActivities(kyc={"CKYC": [down, KycStepResult("CKYC", "PASSED")]})
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE", "CKYC"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    missing = {KYC_LOCAL_PATCH} if path == "activity task" else set()
    async with worker_before(env, stubs, queue, missing):
        run = await start_loan(env, stubs, inp, queue)
        await run.until_status("NEEDS_ATTENTION")
        held = stubs.of("record_status")[-1]
        assert held.to_status == "NEEDS_ATTENTION", held
        expected = "KYC CKYC: failed with its retries spent (ProviderError); run it again once the cause is cleared"
        assert held.reason == expected
        assert "9876543210" not in (held.reason or "")
        assert await run.update("resume_hold", SUPER_ADMIN.act(reason="the CKYC vendor is back")) == "APPLIED"
        await run.until_status("SANCTIONED")
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
        await env.client.get_workflow_handle(run.handle.id).terminate("test over")
    assert [r.step for r in stubs.kyc_requests()].count("CKYC") == 2
    assert ("kyc_ckyc" in local_steps(history)) == (path == "local activity")
    # its own marker on the code before the second patch epoch (workflows.patches); under it, the epoch's only
    assert ("hold-when-retries-spent-v1" in patch_markers(history)) == (path == "activity task")
    assert ("patch-epoch-2026-12-v2" in patch_markers(history)) == (path == "local activity")
    await _replays(env, history)


class SlowCkyc(StubActivities):
    """The stubs, with a CKYC vendor that answers only after ``slow`` seconds to its first ``slow_calls`` calls."""

    slow: float = 5.0
    slow_calls: int = 2

    @activity.defn(name="kyc_ckyc")
    async def kyc_ckyc(self, req: KycStepRequest) -> KycStepResult:
        if sum(1 for r in self.kyc_requests() if r.step == "CKYC") < self.slow_calls:
            self._record("kyc_ckyc", req)
            await asyncio.sleep(self.slow)  # cancelled when its attempt times out
        return self._kyc_answer("kyc_ckyc", req)


async def test_a_local_kyc_lookup_timing_out_on_every_try_is_held_and_its_history_replays(env, monkeypatch) -> None:  # noqa: ANN001
    """A local KYC lookup whose every attempt times out (here 2 attempts of 1 s, the step's options shrunk): the
    timeout reaches the workflow as an ActivityError live but as the bare TimeoutError when its marker is replayed;
    the hold takes both, so the loan is parked, its history (hold included) replays on a fresh worker, and resumed it
    goes on to its decision."""
    from temporalio.common import RetryPolicy

    import workflows.kyc_steps as kyc_steps
    from worker import workflow_runner

    monkeypatch.setattr(kyc_steps, "KYC_TIMEOUT", timedelta(seconds=1))  # the steps' options (_provider_call)
    quick = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=100))
    monkeypatch.setattr(kyc_steps, "PROVIDER_RETRY", quick)
    stubs = SlowCkyc()
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "CKYC"]))
    async with running_loan(env, stubs, inp, runner=workflow_runner(False)) as run:
        await run.until_status("NEEDS_ATTENTION")
        held = stubs.of("record_status")[-1]
        assert held.reason == (
            "KYC CKYC: failed with its retries spent (TimeoutError); run it again once the cause is cleared"
        ), held
        await _replays(env, await env.client.get_workflow_handle(run.handle.id).fetch_history())
        assert await run.update("resume_hold", SUPER_ADMIN.act(reason="the CKYC vendor is fast again")) == "APPLIED"
        await run.until_status("SANCTIONED")
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
    assert [r.step for r in stubs.kyc_requests()].count("CKYC") == 3  # two timed out, one after the resume
    assert "kyc_ckyc" in local_steps(history)
    await _replays(env, history)


async def _replays(env: Any, history: WorkflowHistory) -> None:
    """``history`` replays against this code (production's runner, no workflow sandbox)."""
    from worker import workflow_runner

    replayer = Replayer(
        workflows=[LoanWorkflow], data_converter=env.client.data_converter, workflow_runner=workflow_runner(False)
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


class Takeover(StubActivities):
    """The stubs of the worker that takes over: the PAN check notes when it ran, which attempt it was and what the
    killed attempt last heartbeated."""

    pan_runs: list[tuple[float, int, list[Any]]]

    @activity.defn(name="kyc_pan")
    async def kyc_pan(self, req: KycStepRequest) -> KycStepResult:
        info = activity.info()
        self.pan_runs.append((time.monotonic(), info.attempt, list(info.heartbeat_details)))
        return self._kyc_answer("kyc_pan", req)


async def _wait_for(check: Any, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.parametrize("path", ["activity task", "local activity"])
async def test_a_worker_killed_mid_activity_is_replaced_within_the_heartbeat_timeout(dev_env, tmp_path, path) -> None:  # noqa: ANN001
    """``activity task``: a loan started before kyc-provider-steps-local-v1, whose PAN check is an activity task with
    a heartbeat timeout: the killed attempt times out when its heartbeats stop, and attempt 2 runs on the new worker
    with the killed attempt's last heartbeat. ``local activity``: a loan on this code, whose PAN check runs inside
    the workflow task: the killed worker's workflow task times out (the loan's 10 s workflow task timeout), and the
    new worker runs the workflow task again, the check with it (attempt 1 of a new local activity; no heartbeats)."""
    queue = f"heartbeat-{uuid.uuid4().hex[:10]}"
    marker = tmp_path / "kyc-pan-started"
    target = dev_env.client.service_client.config.target_host
    mode = ["before-kyc-local"] if path == "activity task" else []
    doomed = subprocess.Popen(  # noqa: S603 - this interpreter, this repository's module
        [sys.executable, "-m", "tests.workflows.heartbeat_worker", target, queue, str(marker), *mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN"]))
    handle = await dev_env.client.start_workflow(
        LoanWorkflow.run,
        inp,
        id=f"loan-{inp.loan_id}",
        task_queue=queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(LOAN_STATUS, "APPLIED"),
                SearchAttributePair(BRAND_ID, inp.brand_id),
                SearchAttributePair(LOAN_AMOUNT, inp.terms.amount),
            ]
        ),
    )
    try:
        await _wait_for(lambda: marker.exists() and marker.read_text() == "1", "the slow PAN check started", 60)
        await asyncio.sleep(1)  # it has heartbeated (at once, then every third of the timeout)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        killed_at = time.monotonic()
        stubs = Takeover()
        stubs.pan_runs = []
        async with Worker(dev_env.client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
            # the timeout (heartbeat, or the workflow task's), the retry's 1 s backoff, a loaded machine
            timeout = KYC_HEARTBEAT if path == "activity task" else WORKFLOW_TASK_TIMEOUT
            limit = timeout.total_seconds() + 10
            (ran_at, attempt, details) = (await _wait_for(lambda: stubs.pan_runs, "the PAN check retried", limit))[0]
            await _wait_for(lambda: "record_status" in stubs.names(), "the loan moved on", 30)
        waited = ran_at - killed_at
        print(f"the PAN check ran again {waited:.1f} s after its worker was killed")  # noqa: T201
        if path == "activity task":
            assert attempt == 2 and details == ["KYC PAN"]  # the same activity, after the killed attempt's heartbeats
        else:
            assert attempt == 1 and details == []  # the workflow task again, and the local activity in it
        assert waited <= limit and waited < KYC_TIMEOUT.total_seconds() / 4, waited
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        with contextlib.suppress(RPCError):
            await handle.terminate("test over")
