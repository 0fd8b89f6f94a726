"""Worker Versioning on a real Temporal dev server: two workers of one Worker Deployment with different build ids, the
current version set through the client API (worker.set_current_version), new workflows on the new version, a running
AUTO_UPGRADE workflow moved to it, a PINNED one left where it started. The workers take their versioning options from
the project's settings (worker.deployment_config), as `los worker` does."""

from __future__ import annotations

import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import VersioningBehavior
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module for the probe workflows
    from los.settings import Settings
    from tests.conftest import eventually
    from worker import deployment_config, set_current_version



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
