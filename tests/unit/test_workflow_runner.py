"""Which workflow runner the worker uses: the SDK's sandbox in development and the tests, none in production."""

from __future__ import annotations

import pytest
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from los.settings import Settings
from worker import PHASE_MODULES, workflow_runner


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
