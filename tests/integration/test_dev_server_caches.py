"""The embedded Temporal dev server takes the history cache sizes ``los.stack`` gives it (docs/scaling.md, "Caches").

A dynamic-config key the server does not read changes nothing and says nothing: the per-shard
``history.cacheMaxSize`` alone left the dev server's cache of running workflows at its own 8,192 entries, so a book
of 10,000 loans had its state read back from SQLite at every task of a due-date storm. This starts the dev server
with ``temporal_command``'s command line and reads the sizes back from the server's own metrics."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from los.settings import Settings
from los.stack import temporal_command

STATE_CACHE = 30_000  # neither the dev server's 8,192 nor the per-shard default of 512
EVENTS_CACHE_MB = 64


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _cache_sizes(metrics_url: str) -> dict[str, float]:
    """The history service's ``cache_size`` by ``cache_type`` from the server's Prometheus endpoint (empty until it
    answers; a cache not created yet reports 0 and is left out)."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {
        sample.labels.get("cache_type", ""): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "cache_size"
        for sample in family.samples
        if sample.labels.get("service_name") == "history" and sample.value
    }


def test_the_dev_server_sizes_its_history_caches_as_told(tmp_path: Path) -> None:
    from temporalio.client import Client

    frontend, ui, metrics = _free_ports(3)
    settings = Settings(
        home=tmp_path,
        temporal_port=frontend,
        temporal_ui_port=ui,
        temporal_dev_cache_workflows=STATE_CACHE,
        temporal_dev_events_cache_mb=EVENTS_CACHE_MB,
    )
    cmd = [*temporal_command(settings, tmp_path), "--metrics-port", str(metrics)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        async def touch_a_workflow() -> None:  # the state cache reports its size once a shard serves a workflow
            deadline = time.monotonic() + 60
            while True:
                try:
                    client = await Client.connect(f"127.0.0.1:{frontend}", namespace=settings.temporal_namespace)
                    break
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
            await client.start_workflow("CacheProbe", id="cache-probe", task_queue="cache-probe")

        asyncio.run(touch_a_workflow())
        sizes: dict[str, float] = {}
        deadline = time.monotonic() + 30
        while "mutablestate" not in sizes and time.monotonic() < deadline:
            sizes = _cache_sizes(f"http://127.0.0.1:{metrics}/metrics")
            time.sleep(0.5)
        assert sizes.get("mutablestate") == STATE_CACHE, sizes
        assert sizes.get("events") == EVENTS_CACHE_MB * 2**20, sizes
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
