"""Scale out on one machine: a worker drained mid-storm loses nothing, and `los up --workers N --api-workers N`
runs N worker processes on the one task queue and N API processes behind the one port."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from los.stack import free_port_pair
from tests.conftest import free_port
from tests.e2e.conftest import UpProcess
from tests.e2e.test_bench_portfolio_smoke import run_bench

pytestmark = pytest.mark.e2e


def test_a_worker_drained_mid_storm_loses_nothing() -> None:
    """30 loans due at once on two workers; one is stopped with SIGTERM half a second into the storm. Every loan
    still finishes its storm (counted in PostgreSQL by the bench): 24 paid and back to DISBURSED with the next
    link, 6 OVERDUE with a link for the new amount, one credit per paid loan."""
    out = run_bench(["--sizes", "30", "--workers", "2", "--drain", "--pay", "0.8", "--lead", "6", "--json"], 400)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "draining worker-2 (SIGTERM) mid-storm" in out.stderr
    (row,) = json.loads(out.stdout)["rows"]
    assert row["workers"] == 2 and row["drained_exit"] == 0  # it stopped on its own, not killed
    assert row["counts"] == {"overdue": 6, "credits": 24, "settled": 24}
    assert row["complete"] and row["webhook_answers"] == ["200 delivered"]


def _children(pid: int) -> dict[int, list[str]]:
    """Every process under ``pid`` (any depth) with its command line."""
    parents, cmds = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmds[int(entry.name)] = [w.decode() for w in (entry / "cmdline").read_bytes().split(b"\0") if w]
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])

    def under(p: int) -> bool:
        while p in parents:
            if parents[p] == pid:
                return True
            p = parents[p]
        return False

    return {p: cmd for p, cmd in cmds.items() if under(p)}


def test_los_up_runs_n_workers_and_api_processes() -> None:
    home = Path(tempfile.mkdtemp(prefix="los-e2e-scale-"))
    up = UpProcess(home, {name: free_port() for name in ("api", "sandbox", "temporal", "ui")})
    up.env["LOS_WORKER_METRICS_PORT"] = str(free_port_pair("127.0.0.1", random.randrange(20000, 40000, 2)))
    with open(up.log, "ab") as log:
        up.proc = subprocess.Popen(
            [sys.executable, "-m", "los.cli", "up", "--workers", "2", "--api-workers", "2"],
            env=up.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while "Scale " not in up.output():
            assert up.proc.poll() is None, up.output()[-3000:]
            assert time.monotonic() < deadline, up.output()[-3000:]
            time.sleep(0.5)
        assert "2 worker processes on one task queue" in up.output()
        assert "2 API processes on" in up.output()
        procs = _children(up.proc.pid)
        workers = [p for p, cmd in procs.items() if cmd[-1:] == ["worker"] and "los.cli" in cmd]
        assert len(workers) == 2
        api = next(p for p, cmd in procs.items() if "api" in cmd and "--workers" in cmd)
        assert procs[api][procs[api].index("--workers") + 1] == "2"
        deadline = time.monotonic() + 60
        while len([p for p, cmd in _children(api).items() if "multiprocessing" in " ".join(cmd)]) < 2:
            # uvicorn spawns its worker processes after the supervisor's own start: wait for them
            assert up.proc.poll() is None, up.output()[-3000:]
            assert time.monotonic() < deadline, (_children(api), up.output()[-3000:])
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{up.api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert all(httpx.get(f"{up.api}/health", timeout=5).status_code == 200 for _ in range(10))
    finally:
        assert up.stop() == 0


def test_deploy_files_have_the_production_shape() -> None:
    """deploy/: the compose file's services and their wiring, the Kubernetes manifests, the Temporal chart values
    (parsed; `docker compose config` needs the compose plugin, which the test machine may lack)."""
    import yaml

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("postgres", "temporal", "temporal-ui", "minio", "migrate", "api", "worker", "proxy", "prometheus"):
        assert name in services, name
    assert "grafana" in services and services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["api"]["deploy"]["replicas"] == "${LOS_API_REPLICAS:-2}" and "ports" not in services["api"]
    assert services["worker"]["deploy"]["replicas"] == "${LOS_WORKER_REPLICAS:-2}"
    assert services["worker"]["command"] == ["los", "worker"] and services["api"]["command"][:2] == ["los", "api"]
    assert services["api"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "server api:8000 resolve" in (deploy / "nginx.conf").read_text()
    # the history caches sized for a book (deploy/temporal/dynamicconfig.yaml), in the file the server reads
    temporal = services["temporal"]
    mounted = dict(v.rsplit(":", 1)[0].split(":", 1) for v in temporal["volumes"])
    assert mounted["./temporal/dynamicconfig.yaml"].endswith("/" + temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"])
    dynamic = yaml.safe_load((deploy / "temporal" / "dynamicconfig.yaml").read_text())
    assert dynamic["history.cacheMaxSize"][0]["value"] > 512  # the per-shard cache's default
    assert dynamic["history.hostLevelCacheMaxSize"][0]["value"] > 8192  # the host-level one's (dev server: 8,096)
    jobs = {j["job_name"]: j for j in yaml.safe_load((deploy / "prometheus.yml").read_text())["scrape_configs"]}
    assert jobs["los-api"]["dns_sd_configs"][0]["names"] == ["api"]
    assert {"los-worker", "los-worker-temporal", "temporal-server"} <= set(jobs)
    kinds = {
        (doc["kind"], doc["metadata"]["name"])
        for path in (deploy / "k8s").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and "metadata" in doc
    }
    assert {("Deployment", "los-api"), ("Deployment", "los-worker"), ("Job", "los-migrate")} <= kinds
    values = yaml.safe_load((deploy / "helm" / "temporal-values.yaml").read_text())
    sql = values["server"]["config"]["persistence"]["default"]["sql"]
    assert sql["driver"] == "postgres12" and values["cassandra"]["enabled"] is False
    # the Helm chart's server gets the same dynamic configuration as the compose file's
    helm_dynamic = values["server"]["dynamicConfig"]
    assert {key: helm_dynamic[key] for key in dynamic} == dynamic
