"""Fixtures shared by the stub-activity workflow tests."""

from __future__ import annotations

import shutil

import pytest_asyncio


@pytest_asyncio.fixture(scope="module")
async def env():  # noqa: ANN201
    """The time-skipping test server with the project's converter (pydantic payloads, encrypted, as the API and the
    worker use) and the loan's search attributes. A test module that defines its own ``env`` uses that one."""
    from temporalio.testing import WorkflowEnvironment

    from los.settings import Settings
    from los.temporal import data_converter, register_search_attributes

    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"), data_converter=data_converter(Settings())
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()
