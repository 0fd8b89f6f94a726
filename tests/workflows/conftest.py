"""Fixtures shared by the stub-activity workflow tests."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio


@contextlib.asynccontextmanager
async def time_skipping_env(search_attributes: bool = True) -> AsyncIterator[Any]:
    """The time-skipping test server with the project's converter (pydantic payloads, encrypted, as the API and the
    worker use) and, unless ``search_attributes`` is false, the loan's search attributes (the invoice and refund
    workflows set none). A module sharing one server (``env``) shares its clock: a test that fails while an activity
    of its workflow is running can leave the clock locked for the module's later tests; modules whose tests end that
    way on failure take one server per test (``fresh_env``, or their own function-scoped ``env``)."""
    from temporalio.testing import WorkflowEnvironment

    from los.settings import Settings
    from los.temporal import data_converter, register_search_attributes

    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"),
        data_converter=data_converter(Settings()),
        # the SDK's default is 5 s; on a busy CI machine the server once took longer, failing a whole module's setup
        test_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        if search_attributes:
            await register_search_attributes(environment.client)
        yield environment
    finally:
        await environment.shutdown()


@pytest_asyncio.fixture(scope="module")
async def env():  # noqa: ANN201
    """One time-skipping test server for a test module (``time_skipping_env``)."""
    async with time_skipping_env() as environment:
        yield environment


@pytest_asyncio.fixture
async def fresh_env():  # noqa: ANN201
    """A time-skipping test server of the test's own, for tests that each move virtual time their own way."""
    async with time_skipping_env() as environment:
        yield environment


@pytest_asyncio.fixture
async def bare_env():  # noqa: ANN201
    """A time-skipping server of the test's own without the loan's search attributes, for the invoice and refund
    modules. Not shared by a module: a test failing while an activity of its workflow was running left a shared
    server's clock locked, and every later test waiting on virtual time hung until the CI run's ceiling."""
    async with time_skipping_env(search_attributes=False) as environment:
        yield environment
