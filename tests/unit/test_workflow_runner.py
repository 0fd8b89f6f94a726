"""Which workflow runner the worker uses: the SDK's sandbox in development and the tests, none in production."""

from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from los.settings import Settings
from los.temporal import data_converter
from worker import PHASE_MODULES, worker_tuning, workflow_runner


@pytest.mark.parametrize(
    ("env", "setting", "sandboxed"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", True, True),  # an operator may keep the sandbox in production
        ("development", False, False),  # and a benchmark may measure production's worker anywhere
    ],
)
def test_sandboxed_workflows_follows_env_unless_set(env: str, setting: bool | None, sandboxed: bool) -> None:
    settings = Settings().model_copy(update={"env": env, "workflow_sandbox": setting})
    assert settings.sandboxed_workflows() is sandboxed


def test_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOS_WORKFLOW_SANDBOX", "false")
    assert Settings().sandboxed_workflows() is False
    monkeypatch.setenv("LOS_WORKFLOW_SANDBOX", "true")
    assert Settings().sandboxed_workflows() is True


def test_runner_sandboxed_passes_the_phase_modules_through() -> None:
    runner = workflow_runner()
    assert isinstance(runner, SandboxedWorkflowRunner)
    assert set(PHASE_MODULES) <= set(runner.restrictions.passthrough_modules)


def test_runner_unsandboxed() -> None:
    assert isinstance(workflow_runner(sandboxed=False), UnsandboxedWorkflowRunner)


def test_worker_caches_the_configured_number_of_workflows(monkeypatch: pytest.MonkeyPatch) -> None:
    assert worker_tuning(Settings())["max_cached_workflows"] == 10_000  # not the SDK's 1,000
    monkeypatch.setenv("LOS_WORKER_MAX_CACHED_WORKFLOWS", "250000")
    tuning = worker_tuning(Settings())
    assert tuning["max_cached_workflows"] == 250_000
    assert set(tuning) <= set(inspect.signature(Worker).parameters)  # each is an option the SDK's Worker takes
    monkeypatch.setenv("LOS_WORKER_MAX_CACHED_WORKFLOWS", "0")
    with pytest.raises(ValidationError, match="worker_max_cached_workflows"):
        Settings()


def test_worker_visits_payloads_in_order_as_nothing_is_stored_externally() -> None:
    """The SDK's external-storage passes start an asyncio task per payload unless their concurrency is 1; with no
    external storage on the data converter they have nothing to do concurrently (bench/payload_passes.py)."""
    assert data_converter(Settings()).external_storage is None
    tuning = worker_tuning(Settings())
    assert tuning["max_workflow_task_external_storage_concurrency"] == 1
    assert set(tuning) <= set(inspect.signature(Worker).parameters)
