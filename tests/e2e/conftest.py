"""One `los up` for every e2e test: started once as a real process (its own state dir and free ports), driven
over HTTP, stopped with the signal Ctrl-C sends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.conftest import free_port


class UpProcess:
    """`python -m los.cli up` with its own LOS_HOME and ports; its console output goes to home/up.out."""

    def __init__(self, home: Path, ports: dict[str, int]):
        self.home = home
        self.ports = ports
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "LOS_TEMPORAL_ADDRESS", "LOS_TEMPORAL_UI_URL")
        }
        # No LOS_TEMPORAL_UI_URL: the printed UI must follow the port on its own.
        self.env.update(
            {
                "LOS_HOME": str(home),
                "LOS_API_PORT": str(ports["api"]),
                "LOS_SANDBOX_PORT": str(ports["sandbox"]),
                "LOS_TEMPORAL_PORT": str(ports["temporal"]),
                "LOS_TEMPORAL_UI_PORT": str(ports["ui"]),
            }
        )
        self.proc: subprocess.Popen | None = None
        self.log = home / "up.out"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def output(self) -> str:
        """Everything `los up` has printed so far (every start appends)."""
        return self.log.read_text(errors="replace")

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "los.cli", "up"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"los up exited: {self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"los up not healthy in time: {self.output()[-3000:]}")

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code

    def pid_of(self, child: str) -> int | None:
        """The pid `los up` last reported for one of its children (started or restarted), if still it."""
        found = re.findall(rf"los\.up: {child} (?:re)?started \(pid (\d+)", self.output())
        if not found:
            return None
        pid = int(found[-1])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        # Make sure the pid is still that child before anyone signals it.
        expected = b"start-dev" if child == "temporal" else child.encode()
        return pid if expected in cmdline else None

    def db(self) -> Session:
        engine = create_engine(f"postgresql+psycopg://postgres@/postgres?host={self.home / 'pgdata'}")
        return Session(engine)


@pytest.fixture(scope="session")
def stack() -> Iterator[UpProcess]:
    home = Path(tempfile.mkdtemp(prefix="los-e2e-"))
    up = UpProcess(home, {name: free_port() for name in ("api", "sandbox", "temporal", "ui")})
    up.start()
    try:
        yield up
    finally:
        if up.proc is not None:
            up.stop()
