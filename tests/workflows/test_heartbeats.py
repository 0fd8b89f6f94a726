"""Activity heartbeats (workflows/heartbeats.py): a worker killed in the middle of a slow activity loses the attempt
within the call's heartbeat timeout, not its start-to-close timeout, and another worker runs it again; and every
long activity of origination is scheduled with its heartbeat timeout (DB writes run as local activities).

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
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError
from temporalio.worker import Worker

from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    StubActivities,
    loan_input,
    policy,
    running_loan,
    to_agreement_signed,
)
from workflows.contracts import AadhaarInitiate, AadhaarOtp, KycStepRequest, KycStepResult
from workflows.heartbeats import AGREEMENT_HEARTBEAT, KYC_HEARTBEAT, TRANSFER_HEARTBEAT
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow
from workflows.options import KYC_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]

# The activities that wait on a vendor or the browser, by the heartbeat timeout they are scheduled with.
EXPECTED = {
    "kyc_pan": KYC_HEARTBEAT,
    "kyc_mobile": KYC_HEARTBEAT,
    "aadhaar_initiate": KYC_HEARTBEAT,
    "aadhaar_submit": KYC_HEARTBEAT,
    "credit_bureau_pull": KYC_HEARTBEAT,
    "prepare_agreement": AGREEMENT_HEARTBEAT,
    "store_signed_agreement": AGREEMENT_HEARTBEAT,
    "reverify_beneficiary": TRANSFER_HEARTBEAT,
    "initiate_disbursal": TRANSFER_HEARTBEAT,
    "notify_disbursed": TRANSFER_HEARTBEAT,
}



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
    # database writes are no activity tasks at all (origination-local-steps-v1): local activities, no heartbeat
    assert not {"record_disbursal", "record_agreement_outcome", "credit_rules_and_evaluation"} & timeouts.keys()
    assert {"record_disbursal", "record_agreement_outcome", "credit_rules_and_evaluation"} <= local_steps(history)
    assert all(beat < KYC_TIMEOUT / 4 for beat in EXPECTED.values())


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


async def test_a_worker_killed_mid_activity_is_replaced_within_the_heartbeat_timeout(dev_env, tmp_path) -> None:  # noqa: ANN001
    queue = f"heartbeat-{uuid.uuid4().hex[:10]}"
    marker = tmp_path / "kyc-pan-started"
    target = dev_env.client.service_client.config.target_host
    doomed = subprocess.Popen(  # noqa: S603 - this interpreter, this repository's module
        [sys.executable, "-m", "tests.workflows.heartbeat_worker", target, queue, str(marker)],
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
            limit = KYC_HEARTBEAT.total_seconds() + 10  # the timeout, the retry's 1 s backoff, a loaded machine
            (ran_at, attempt, details) = (await _wait_for(lambda: stubs.pan_runs, "the PAN check retried", limit))[0]
            await _wait_for(lambda: "record_status" in stubs.names(), "the loan moved on", 30)
        waited = ran_at - killed_at
        print(f"the PAN check ran again {waited:.1f} s after its worker was killed")  # noqa: T201
        assert attempt == 2 and details == ["KYC PAN"]  # the same activity, after the killed attempt's heartbeats
        assert waited <= limit and waited < KYC_TIMEOUT.total_seconds() / 4, waited
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        with contextlib.suppress(RPCError):
            await handle.terminate("test over")
