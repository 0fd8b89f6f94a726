"""A customer's input to a KYC step (``LoanWorkflow.kyc_input``: a statement uploaded, a bank account given) that
arrives while the step's attempt runs: against stub activities, in virtual time.

The attempt read the database before the upload's commit and answers WAITING; the upload's signal reached the workflow
before that answer. Under kyc-input-since-attempt-v1 the step runs again with the upload at once; on code before it,
the step waited for a newer input until the brand's KYC timeout rejected the loan (kept for the runs it recorded)."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.worker import Replayer

from tests.workflows.stubs import (
    LoanRun,
    StubActivities,
    change,
    loan_input,
    patch_markers,
    policy,
    record_if_asked,
    running_loan,
    start_loan,
    worker_before,
)
from workflows.contracts import DecisionResult, KycInput, KycStepResult, LoanWorkflowResult
from workflows.loan import LoanWorkflow
from workflows.options import KYC_INPUT_SINCE_ATTEMPT_PATCH

WAITING = KycStepResult("BANK_STATEMENT", "WAITING", "upload the last 3 months' statement")
ANALYSED = KycStepResult("BANK_STATEMENT", "PASSED", provider="stub", facts={"bsa.salary_months": 3})
INP = loan_input(loan_policy=policy(kyc_steps=["PAN", "BANK_STATEMENT"], kyc_timeout_seconds=3600))


def racing_stubs() -> StubActivities:
    """The statement step answers WAITING, then PASSED; its first answer is held until the test lets it go."""
    return StubActivities(
        kyc={"BANK_STATEMENT": [WAITING, ANALYSED]},
        kyc_held={"BANK_STATEMENT": asyncio.Event()},
        decision=DecisionResult("REJECT", ["FOIR 71% above 60%"]),
    )


async def upload_while_the_first_attempt_runs(run: LoanRun) -> None:
    """The statement's first attempt has looked (and found nothing); the customer's upload reaches the workflow; only
    then does the attempt answer WAITING."""
    stubs = run.stubs
    await stubs.wait_for(lambda: len(stubs.kyc_requests()) == 2, "the statement step's first attempt")
    await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
    for _ in range(250):  # the signal handled (a query answers between workflow tasks)
        if (await run.kyc_status())["inputsReceived"] == 1:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the upload's signal was not handled")
    assert (await run.kyc_status())["waitingFor"] is None  # the attempt has not answered yet
    stubs.kyc_held["BANK_STATEMENT"].set()


async def test_an_upload_that_races_the_statement_attempt_wakes_the_step_at_once(env) -> None:  # noqa: ANN001
    stubs = racing_stubs()
    async with running_loan(env, stubs, INP) as run:
        await upload_while_the_first_attempt_runs(run)
        result = await run.result()
        history = (await run._histories())[0]
        await record_if_asked(env, run, "kyc_input_since_attempt")
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    # the step ran again with the upload, and the decision (not the KYC timeout) rejected the loan
    assert [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2", "doc-9"),
    ]
    assert stubs.decision_facts() == {"kyc.pan.ok": True, "kyc.bsa.salary_months": 3}
    assert stubs.of("record_status") == [change(run, 1, "APPLIED", "REJECTED", "FOIR 71% above 60%")]
    assert KYC_INPUT_SINCE_ATTEMPT_PATCH in patch_markers(history)


async def test_on_code_before_the_patch_the_racing_upload_is_missed_until_the_kyc_timeout(env) -> None:  # noqa: ANN001
    """The code before kyc-input-since-attempt-v1 (the patch refused) waits for an input newer than the racing upload,
    so the brand's KYC timeout rejects the loan; that run's history replays on this code, with the same outcome."""
    stubs = racing_stubs()
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {KYC_INPUT_SINCE_ATTEMPT_PATCH}):
        run = await start_loan(env, stubs, INP, queue)
        await upload_while_the_first_attempt_runs(run)
        result = await run.result()
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [r.step for r in stubs.kyc_requests()] == ["PAN", "BANK_STATEMENT"]
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "KYC_BANK_STATEMENT: customer did not complete it in time")
    ]
    assert KYC_INPUT_SINCE_ATTEMPT_PATCH not in patch_markers(history)
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure
