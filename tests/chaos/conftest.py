"""The chaos suite's stack: `los up`'s own `Stack` (embedded PostgreSQL, Temporal dev server, sandbox, worker, API),
run in the test process with a supervisor thread that restarts a dead child at once (production backs off from 1 s
up to 30 s: twenty kills in a row would wait minutes), and the kill points of los.chaos handed to the worker.

``LOS_CHAOS_POINTS=quick`` (the default, what CI runs) or ``all`` (every point in tests/chaos/points.py).

Two worker processes share the task queue (``los up --workers 2``), as production runs several: while one is killed
and starting again the other goes on, so the loans do not all wait for each restart (``LOS_CHAOS_WORKERS``, 2 by
default). Each point still fires once in the stack: the workers claim it in one fired file (los.chaos)."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from los.chaos import ARMED_ENV, FIRED_ENV, KILL_AT_ENV, MAX_LOSS_ENV, read_fired
from los.settings import Settings, sqlalchemy_url
from los.stack import Stack
from los.supervisor import Backoff
from tests.chaos.points import quick_mode, selected_points
from tests.conftest import free_port


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: fault injection against a whole stack (tests/chaos, docs/chaos.md)")


def fast_backoff() -> Backoff:
    """Restart a killed child after 0.2 s, however often it dies (the suite kills the worker many times)."""
    return Backoff(initial=0.2, factor=1.0, ceiling=0.2, stable_after=1.0)


class ChaosStack:
    """A whole stack in a temporary home, supervised from a thread, with the worker's kill points set."""

    def __init__(self, home: Path, kill_at: str, workers: int = 2):
        self.home = home
        self.workers = workers
        self.fired_file = home / "chaos-fired.txt"
        self.armed_file = home / "chaos-armed"
        self.ports = {name: free_port() for name in ("api", "sandbox", "temporal", "ui")}
        self.env = {
            "LOS_HOME": str(home),
            "LOS_API_PORT": str(self.ports["api"]),
            "LOS_SANDBOX_PORT": str(self.ports["sandbox"]),
            "LOS_TEMPORAL_PORT": str(self.ports["temporal"]),
            "LOS_TEMPORAL_UI_PORT": str(self.ports["ui"]),
            KILL_AT_ENV: kill_at,
            FIRED_ENV: str(self.fired_file),
            ARMED_ENV: str(self.armed_file),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if quick_mode():  # CI: a kill never costs more than a 30 s activity's retry (los/chaos.py)
            self.env[MAX_LOSS_ENV] = "30"
        self.stack: Stack | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.info: dict = {}
        self._engine: Engine | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def start(self) -> None:
        """Start every process (the children inherit this stack's environment) and the supervisor thread."""
        dropped = ("DATABASE_URL", "TEMPORAL_ADDRESS", "LOS_TEMPORAL_ADDRESS", "LOS_TEMPORAL_UI_URL")
        saved = {k: os.environ.get(k) for k in (*self.env, *dropped)}
        for key in dropped:
            os.environ.pop(key, None)
        os.environ.update(self.env)
        try:
            self.stack = Stack(Settings(), backoff=fast_backoff, workers=self.workers)
            try:
                self.info = self.stack.start()
            except BaseException:
                self.stack.stop()
                raise
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self._thread = threading.Thread(target=self._supervise, name="chaos-supervisor", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the chaos stack's API is not healthy")

    def _supervise(self) -> None:
        while not self._stop.is_set():
            assert self.stack is not None
            self.stack.supervise()
            time.sleep(0.1)

    def child(self, name: str):  # noqa: ANN201 - los.supervisor.Supervised
        """The supervised child called ``name`` (worker, api, sandbox, temporal)."""
        assert self.stack is not None
        return next(c for c in self.stack.children if c.name == name)

    def restarts(self, name: str) -> int:
        """How many times the supervisor has restarted ``name`` so far."""
        return self.child(name).restarts

    def worker_restarts(self) -> int:
        """How many times the supervisor has restarted any of the worker processes so far."""
        assert self.stack is not None
        return sum(c.restarts for c in self.stack.children if c.name == "worker" or c.name.startswith("worker-"))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal a child (SIGKILL by default); the supervisor thread starts it again. Its pid."""
        proc = self.child(name).proc
        assert proc is not None and proc.poll() is None, f"{name} is not running"
        os.kill(proc.pid, sig)
        return proc.pid

    def arm(self, armed: bool = True) -> None:
        """Let the worker's kill points fire (``armed``), or stop them (they stay pending)."""
        if armed:
            self.armed_file.touch()
        else:
            self.armed_file.unlink(missing_ok=True)

    def fired(self) -> list[tuple[str, str, int]]:
        """The kill points the worker has fired so far: (point, workflow id, attempt)."""
        return read_fired(self.fired_file)

    def db(self) -> Session:
        """A session on the stack's PostgreSQL."""
        if self._engine is None:
            self._engine = create_engine(sqlalchemy_url(self.info["database"]), pool_pre_ping=True, pool_size=2)
        return Session(self._engine)

    def scalar(self, sql: str, **params) -> object:  # noqa: ANN003
        """One value from the stack's PostgreSQL."""
        with self.db() as s:
            return s.execute(text(sql), params).scalar()

    def stop(self) -> None:
        """Stop the supervisor thread, then every process."""
        self._stop.set()
        if self._engine is not None:
            self._engine.dispose()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.stack is not None:
            self.stack.stop()
            self.stack = None


@pytest.fixture(scope="package")  # stopped once the chaos tests are done, not left idling under the rest of CI
def chaos_stack() -> Iterator[ChaosStack]:
    """One stack for the whole chaos suite, its worker set to die at every selected point (each once) while the
    kill test has armed it."""
    home = Path(tempfile.mkdtemp(prefix="los-chaos-"))
    workers = int(os.environ.get("LOS_CHAOS_WORKERS", "2"))
    stack = ChaosStack(home, ",".join(str(p) for p in selected_points()), workers=workers)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
