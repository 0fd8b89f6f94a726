"""Worker Versioning on a real Temporal dev server: two workers of one Worker Deployment with different build ids, the
current version set through the client API (worker.set_current_version), new workflows on the new version, a running
AUTO_UPGRADE workflow moved to it, a PINNED one left where it started. The workers take their versioning options from
the project's settings (worker.deployment_config) and their workflows from worker.workflows_for, as `los worker` does:
under versioning the short workflows (the scheduled jobs) run PINNED and the loan AUTO_UPGRADE; without it every
workflow runs as before, declaring no behavior."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import VersioningBehavior
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module for the probe workflows
    from activities.aadhaar_vault import AadhaarVaultActivities
    from los.settings import Settings
    from tests.conftest import eventually
    from tests.workflows.stubs import loan_input, policy
    from worker import WORKFLOWS, deployment_config, set_current_version, workflows_for
    from workflows.aadhaar_vault_sweep import AadhaarVaultSweepWorkflow
    from workflows.loan import LoanWorkflow
    from workflows.pinned import PINNED_VARIANTS

# the workflow types that finish in one run (the scheduled jobs), PINNED under versioning
SHORT = {
    "ReconcileTransfersWorkflow",
    "PortfolioSnapshotWorkflow",
    "ReminderDispatchWorkflow",
    "InactivityAlertsWorkflow",
    "KycExpiryWorkflow",
    "BureauRefreshWorkflow",
    "BureauFilesWorkflow",
    "PartnerDisbursalWatchWorkflow",
    "PaymentRedeliveryWorkflow",
    "AadhaarVaultSweepWorkflow",
    "ReceiptSweepWorkflow",
    "ReportEmailWorkflow",  # started by staff, done in one run of minutes
}


@activity.defn(name="kyc_reuse_lookup")
async def no_earlier_kyc_results(req: Any) -> list:  # noqa: ANN401
    """A loan's first step runs as a local activity (origination-local-steps-v1), so it must be on the worker that
    runs the loan: no earlier KYC results. The loan's next step (its only KYC step, the bank statement: an activity
    task, not a local lookup) is one this worker does not take."""
    return []


@workflow.defn(name="VersionProbe")  # no behavior of its own: the worker's default (AUTO_UPGRADE) applies
class ProbeV1:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "1.0"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn(name="VersionProbe")
class ProbeV2(ProbeV1):
    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "2.0"


@workflow.defn(name="PinnedProbe", versioning_behavior=VersioningBehavior.PINNED)
class PinnedV1(ProbeV1):
    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "1.0"


@workflow.defn(name="PinnedProbe", versioning_behavior=VersioningBehavior.PINNED)
class PinnedV2(ProbeV1):
    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "2.0"


async def versioning(handle: WorkflowHandle) -> tuple[str, int]:
    """(build id, behavior) of the version a workflow's last task ran on, as the server records it."""
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id, info.behavior


async def settled_on(handle: WorkflowHandle, build_id: str) -> tuple[str, int]:
    """Wait (up to 20 s) until the workflow's first task has run on ``build_id``; its versioning then."""

    async def seen() -> tuple[str, int] | None:
        found = await versioning(handle)
        return found if found[0] == build_id else None

    return await eventually(seen, timeout=20)


def test_versioning_is_off_unless_configured() -> None:
    assert deployment_config(Settings()) is None
    on = deployment_config(Settings(worker_deployment_name="los", worker_build_id="abc123"))
    assert on is not None and on.use_worker_versioning
    assert on.version.to_canonical_string() == "los.abc123"
    assert on.default_versioning_behavior == VersioningBehavior.AUTO_UPGRADE
    with pytest.raises(ValueError):
        Settings(worker_deployment_name="los")  # a build id is needed too
    with pytest.raises(ValueError):
        Settings(worker_deployment_name="los.v2", worker_build_id="1")  # '.' separates name and build id


async def test_new_workflows_go_to_the_current_version(dev_env) -> None:  # noqa: ANN001
    client: Client = dev_env.client
    name = f"los-{uuid.uuid4().hex[:8]}"
    queue = f"versioning-{uuid.uuid4().hex[:8]}"
    old = deployment_config(Settings(worker_deployment_name=name, worker_build_id="1.0"))
    new = deployment_config(Settings(worker_deployment_name=name, worker_build_id="2.0"))
    assert old is not None and new is not None
    auto, pinned = int(VersioningBehavior.AUTO_UPGRADE), int(VersioningBehavior.PINNED)

    def start(wf: str, n: int) -> object:
        return client.start_workflow(wf, id=f"{queue}-{wf}-{n}", task_queue=queue)

    async with Worker(client, task_queue=queue, workflows=[ProbeV1, PinnedV1], deployment_config=old):
        await set_current_version(client, old.version)
        first = await start("VersionProbe", 1)
        first_pinned = await start("PinnedProbe", 1)
        assert await settled_on(first, "1.0") == ("1.0", auto)
        assert await settled_on(first_pinned, "1.0") == ("1.0", pinned)

        # the new version's workers start beside the old ones, then become current: new workflows go there
        async with Worker(client, task_queue=queue, workflows=[ProbeV2, PinnedV2], deployment_config=new):
            await set_current_version(client, new.version)
            await set_current_version(client, new.version)  # again (every worker of a `los up` stack does): no error
            second = await start("VersionProbe", 2)
            second_pinned = await start("PinnedProbe", 2)
            assert await settled_on(second, "2.0") == ("2.0", auto)
            assert await settled_on(second_pinned, "2.0") == ("2.0", pinned)

            for handle in (first, first_pinned, second, second_pinned):
                await handle.signal("proceed")
            # the running AUTO_UPGRADE workflow moved to the current version at its next task (replaying its
            # history there); the PINNED one finished where it started
            assert await first.result() == "2.0"
            assert await first_pinned.result() == "1.0"
            assert await second.result() == "2.0"
            assert await second_pinned.result() == "2.0"
            assert (await versioning(first))[0] == "2.0"
            assert (await versioning(first_pinned))[0] == "1.0"


def _behaviors(classes: list[type]) -> dict[str, VersioningBehavior | None]:
    """Workflow type name → the behavior its definition declares."""
    defns = [workflow._Definition.must_from_class(cls) for cls in classes]
    return {d.name or "": d.versioning_behavior for d in defns}


def test_short_workflows_are_pinned_only_under_versioning() -> None:
    plain = _behaviors(WORKFLOWS)
    assert SHORT <= set(plain)
    assert workflows_for(Settings()) == WORKFLOWS  # unversioned: the same classes as ever, no behavior declared
    assert all(b in (None, VersioningBehavior.UNSPECIFIED) for b in plain.values())

    versioned = _behaviors(workflows_for(Settings(worker_deployment_name="los", worker_build_id="abc123")))
    assert set(versioned) == set(plain)  # the same workflow types, nothing added or dropped
    assert {name for name, b in versioned.items() if b == VersioningBehavior.PINNED} == SHORT
    # the long ones (a loan lives for years, a refund may wait days on a bank) take the worker's AUTO_UPGRADE
    for name in ("LoanWorkflow", "InvoiceFinancingWorkflow", "RefundWorkflow", "CoLendingRetryWorkflow"):
        assert versioned[name] in (None, VersioningBehavior.UNSPECIFIED), name
    assert set(PINNED_VARIANTS) <= set(WORKFLOWS)


async def test_a_short_workflow_runs_pinned_and_a_loan_auto_upgrade_under_versioning(dev_env, db) -> None:  # noqa: ANN001
    client: Client = dev_env.client
    name = f"los-{uuid.uuid4().hex[:8]}"
    queue = f"versioning-{uuid.uuid4().hex[:8]}"
    settings = Settings(task_queue=queue, worker_deployment_name=name, worker_build_id="1.0")
    versioned = deployment_config(settings)
    assert versioned is not None
    auto, pinned = int(VersioningBehavior.AUTO_UPGRADE), int(VersioningBehavior.PINNED)
    async with Worker(
        client,
        task_queue=queue,
        workflows=workflows_for(settings),
        activities=[*AadhaarVaultActivities(db).all(), no_earlier_kyc_results],
        deployment_config=versioned,
    ):
        await set_current_version(client, versioned.version)
        sweep = await client.start_workflow(AadhaarVaultSweepWorkflow.run, id=f"{queue}-sweep", task_queue=queue)
        assert "erased" in await sweep.result()  # it runs to its end (no first task left waiting)
        assert await versioning(sweep) == ("1.0", pinned)

        # a loan on the same worker takes the worker's default; its first task is enough to show it (the loan's
        # activity tasks are not on this worker, so it goes no further and is ended here)
        # its KYC a step that stays an activity task (the lookups run in the workflow task since
        # kyc-provider-steps-local-v1), so its first task ends having scheduled it
        inp = loan_input(loan_policy=policy(kyc_steps=["BANK_STATEMENT"]))
        loan = await client.start_workflow(LoanWorkflow.run, inp, id=f"{queue}-loan", task_queue=queue)
        try:
            assert await settled_on(loan, "1.0") == ("1.0", auto)
        finally:
            await loan.terminate("test over")


async def test_without_versioning_the_short_workflows_run_as_before(dev_env, db) -> None:  # noqa: ANN001
    client: Client = dev_env.client
    queue = f"unversioned-{uuid.uuid4().hex[:8]}"
    settings = Settings(task_queue=queue)
    assert deployment_config(settings) is None
    async with Worker(
        client, task_queue=queue, workflows=workflows_for(settings), activities=AadhaarVaultActivities(db).all()
    ):
        sweep = await client.start_workflow(AadhaarVaultSweepWorkflow.run, id=f"{queue}-sweep", task_queue=queue)
        assert "erased" in await asyncio.wait_for(sweep.result(), timeout=30)
    assert await versioning(sweep) == ("", int(VersioningBehavior.UNSPECIFIED))  # no version, no behavior
