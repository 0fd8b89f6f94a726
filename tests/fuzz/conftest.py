"""The fuzz target (API, worker, database, credentials), shared by the schema runs and the stateful run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.target import FuzzTarget, start_target


@pytest.fixture(scope="package")
def fuzz_target(dev_env, pg_server_url, sandbox, storage_dir) -> Iterator[FuzzTarget]:  # noqa: ANN001
    """API + worker over a database of their own, a seeded brand, and a credential of every kind."""
    target = dev_env.client.service_client.config.target_host
    with start_target(pg_server_url, target, sandbox.url, storage_dir) as fuzz:
        yield fuzz
        report = os.environ.get("LOS_FUZZ_REPORT")
        if report:  # every (credential, operation, status) and how often, for reading what the runs reached
            rows = sorted(f"{who}\t{op}\t{status}\t{n}" for (who, op, status), n in fuzz.answers.items())
            Path(report).write_text("\n".join(rows) + "\n")
