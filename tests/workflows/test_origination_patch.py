"""origination-local-steps-v1 on a loan that crosses the deploy: started on a worker from before the patch (the
patch refused through the SDK's ``patch_activation_callback``, as the old code never asks for it), it ran its credit
decision's database steps as activity tasks; a worker of this code then takes it over mid-origination and must keep
every later database step of that run an activity task too (the SDK keeps a patch's first answer for the run), or
the next replay of its history would not match. A loan started on this code runs them as local activities."""

from __future__ import annotations

import uuid

from temporalio.worker import Worker

from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    StubActivities,
    loan_input,
    running_loan,
    start_loan,
    terms,
    to_agreement_signed,
    worker_before,
)
from workflows.loan import LoanWorkflow
from workflows.options import KYC_LOCAL_PATCH, MONEY_IN_PATCH, ORIGINATION_LOCAL_PATCH
from workflows.patches import PATCH_EPOCH

WRITES = {"credit_rules_and_evaluation", "record_agreement_outcome", "record_disbursal"}


async def test_a_loan_started_before_the_patch_keeps_activity_tasks_after_the_deploy(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    inp = loan_input(terms(tenure=1))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    # the old worker: every patch of its time, not the one it did not have (nor the later epoch that bundles it)
    async with worker_before(env, stubs, queue, {ORIGINATION_LOCAL_PATCH, PATCH_EPOCH, KYC_LOCAL_PATCH}):
        run = await start_loan(env, stubs, inp, queue)
        # decided on the old worker; money-in-v1 is asked right after the sanction's local step: past it before any
        # query (LoanRun.until_asked)
        await run.until_asked(MONEY_IN_PATCH)
        await run.until_status("SANCTIONED")
        tasks, local = await run.activity_kinds()
        assert "credit_rules_and_evaluation" in tasks and not WRITES & local, (tasks, local)
    async with Worker(env.client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
        await to_agreement_signed(run)  # the new worker replays the decision, then goes on
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await run.until_status("DISBURSED")
        tasks, local = await run.activity_kinds()
        await env.client.get_workflow_handle(run.handle.id).terminate("test over")
    assert WRITES <= tasks and not WRITES & local, (tasks, local)  # the whole run kept the old path
    assert len(stubs.of("record_disbursal")) == 1


async def test_a_loan_started_on_this_code_runs_them_locally(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await run.until_status("DISBURSED")
        tasks, local = await run.activity_kinds()
    assert WRITES <= local and not WRITES & tasks, (tasks, local)
