"""origination-local-steps-v1 on a loan that crosses the deploy: started on a worker from before the patch (the
patch refused through the SDK's ``patch_activation_callback``, as the old code never asks for it), it ran its credit
decision's database steps as activity tasks; a worker of this code then takes it over mid-origination and must keep
every later database step of that run an activity task too (the SDK keeps a patch's first answer for the run), or
the next replay of its history would not match. A loan started on this code runs them as local activities."""

from __future__ import annotations

import shutil
import uuid

import pytest_asyncio
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import PatchActivationInput, Worker

from tests.workflows.stubs import LOAN_EXECUTIVE, LoanRun, StubActivities, loan_input, terms, to_agreement_signed
from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow
from workflows.options import ORIGINATION_LOCAL_PATCH

WRITES = {"credit_rules_and_evaluation", "record_agreement_outcome", "record_disbursal"}


@pytest_asyncio.fixture(scope="module")
async def env():  # noqa: ANN201
    """The time-skipping test server with the project's converter (as tests/workflows/test_branches.py)."""
    from temporalio.testing import WorkflowEnvironment

    from los.settings import Settings
    from los.temporal import data_converter, register_search_attributes

    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"), data_converter=data_converter(Settings())
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


def before_the_patch(info: PatchActivationInput) -> bool:
    """The old worker: every patch of its time, not the one it did not have."""
    return info.patch_id != ORIGINATION_LOCAL_PATCH


async def test_a_loan_started_before_the_patch_keeps_activity_tasks_after_the_deploy(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    inp = loan_input(terms(tenure=1))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    old = Worker(
        env.client,
        task_queue=queue,
        workflows=[LoanWorkflow],
        activities=stubs.all(),
        patch_activation_callback=before_the_patch,
        max_cached_workflows=0,  # no sticky queue, so the next worker gets the loan's tasks and queries at once
    )
    async with old:
        handle = await env.client.start_workflow(
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
        run = LoanRun(env, stubs, inp, handle, queue)
        await run.until_status("SANCTIONED")  # decided on the old worker
        tasks, local = await run.activity_kinds()
        assert "credit_rules_and_evaluation" in tasks and not WRITES & local, (tasks, local)
    async with Worker(env.client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
        await to_agreement_signed(run)  # the new worker replays the decision, then goes on
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await run.until_status("DISBURSED")
        tasks, local = await run.activity_kinds()
        await env.client.get_workflow_handle(handle.id).terminate("test over")
    assert WRITES <= tasks and not WRITES & local, (tasks, local)  # the whole run kept the old path
    assert len(stubs.of("record_disbursal")) == 1


async def test_a_loan_started_on_this_code_runs_them_locally(env) -> None:  # noqa: ANN001
    from tests.workflows.stubs import running_loan

    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await run.until_status("DISBURSED")
        tasks, local = await run.activity_kinds()
    assert WRITES <= local and not WRITES & tasks, (tasks, local)
