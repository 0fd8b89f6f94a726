"""Where `los up`'s banner and `los demo` send people for the Temporal UI: the port the dev server was
really given, a URL the operator set, or nothing at all for an external server whose UI is unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from los.cli import banner
from los.demo import Journey, text_report
from los.settings import Settings

SEED = {
    "brand_code": "demo",
    "brand_id": "b-1",
    "staff": [{"role": "SANCTION_HEAD", "email": "sanction.head@demo.example", "password": "demo-password"}],
}
JOURNEY = Journey(
    loan_id="L1",
    workflow_id="loan-L1",
    status="COMPLETED",
    history=[{"at": "2026-01-01T10:00:00Z", "from": None, "to": "APPLIED", "actor": "customer", "reason": None}],
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LOS_TEMPORAL_UI_URL",
        "LOS_TEMPORAL_UI_PORT",
        "TEMPORAL_ADDRESS",
        "LOS_TEMPORAL_ADDRESS",
        "LOS_API_PORT",
        "LOS_SANDBOX_PORT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_ui_url_follows_the_ui_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOS_TEMPORAL_UI_PORT", "18999")
    s = Settings()
    assert s.temporal_ui == "http://localhost:18999"
    assert s.workflow_url("loan-L1") == "http://localhost:18999/namespaces/default/workflows/loan-L1"
    text = banner(s, {"temporal": s.temporal_target, "database": "postgresql://x", "seed": SEED}, Path("logs"))
    assert "Temporal UI    http://localhost:18999 " in text and "8233" not in text
    report = text_report([JOURNEY], s, 1.0)
    assert "Temporal UI: http://localhost:18999/namespaces/default/workflows/loan-L1" in report
    assert "8233" not in report
    # the command it suggests reaches this stack from another terminal: the moved ports in front
    assert "Try: LOS_TEMPORAL_UI_PORT=18999 los demo --loans 3\n" in text
    moved = Settings(api_port=18000, sandbox_port=18100)
    assert "Try: LOS_API_PORT=18000 LOS_SANDBOX_PORT=18100 LOS_TEMPORAL_UI_PORT=18999 los demo --loans 3\n" in banner(
        moved, {"temporal": s.temporal_target, "database": "postgresql://x", "seed": SEED}, Path("logs")
    )


def test_the_default_port_and_an_explicit_url() -> None:
    assert Settings().temporal_ui == "http://localhost:8233"
    text = banner(Settings(), {"temporal": "x", "database": "postgresql://x", "seed": SEED}, Path("logs"))
    assert "Try: los demo --loans 3\n" in text  # the defaults: nothing in front
    s = Settings(temporal_ui_url="https://temporal.lender.example/", temporal_namespace="loans-prod")
    assert s.workflow_url("loan-L1") == "https://temporal.lender.example/namespaces/loans-prod/workflows/loan-L1"


def test_an_external_server_has_no_ui_unless_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    s = Settings()
    assert s.temporal_ui is None and s.workflow_url("loan-L1") is None
    text = banner(s, {"temporal": s.temporal_target, "database": "postgresql://x", "seed": SEED}, Path("logs"))
    assert "Temporal       temporal.internal:7233" in text and "LOS_TEMPORAL_UI_URL" in text
    assert "localhost" not in text.split("Sandbox")[0].split("Temporal")[1]
    report = text_report([JOURNEY], s, 1.0)
    assert "Workflow: loan-L1" in report and "Temporal UI" not in report

    monkeypatch.setenv("LOS_TEMPORAL_UI_URL", "https://ui.temporal.internal")
    assert Settings().workflow_url("loan-L1") == "https://ui.temporal.internal/namespaces/default/workflows/loan-L1"


def test_the_dev_server_is_given_the_apis_codec_endpoint(tmp_path: Path) -> None:
    from los.stack import codec_endpoint, temporal_command

    s = Settings(api_port=18123, temporal_ui_port=18999)
    cmd = temporal_command(s, tmp_path)
    assert cmd[cmd.index("--ui-codec-endpoint") + 1] == "http://localhost:18123/api/v1/codec"  # the UI's site
    assert cmd[cmd.index("--ui-port") + 1] == "18999"
    assert codec_endpoint(Settings(api_host="0.0.0.0", api_port=9000)) == "http://localhost:9000/api/v1/codec"
    assert codec_endpoint(Settings(api_host="::1", api_port=9000)) == "http://localhost:9000/api/v1/codec"


def test_the_dev_servers_history_caches_are_sized_for_a_book(tmp_path: Path) -> None:
    from los.stack import temporal_command

    def dynamic(cmd: list[str]) -> dict[str, str]:
        pairs = [cmd[i + 1] for i, word in enumerate(cmd) if word == "--dynamic-config-value"]
        return dict(pair.split("=", 1) for pair in pairs)

    assert dynamic(temporal_command(Settings(), tmp_path)) == {
        "history.hostLevelCacheMaxSize": "20000",  # the dev server's is 8,096 entries
        "history.cacheMaxSize": "20000",  # the per-shard cache's 512, should a server turn the host-level one off
        "history.eventsCacheMaxSizeBytes": str(256 * 2**20),  # and 512 KiB of events
        "system.enableActivityEagerExecution": "true",  # off by default on older servers
        "matching.numTaskqueueReadPartitions": "1",  # the server's default is 4: forwarding on one host
        "matching.numTaskqueueWritePartitions": "1",
    }
    sized = Settings(temporal_dev_cache_workflows=150_000, temporal_dev_events_cache_mb=1024)
    assert dynamic(temporal_command(sized, tmp_path))["history.hostLevelCacheMaxSize"] == "150000"
    assert dynamic(temporal_command(sized, tmp_path))["history.cacheMaxSize"] == "150000"
    lazy = Settings(temporal_dev_eager_activities=False)
    assert dynamic(temporal_command(lazy, tmp_path))["system.enableActivityEagerExecution"] == "false"
    spread = dynamic(temporal_command(Settings(temporal_dev_task_queue_partitions=4), tmp_path))
    assert (spread["matching.numTaskqueueReadPartitions"], spread["matching.numTaskqueueWritePartitions"]) == ("4", "4")


def test_a_dev_server_database_keeps_the_partitions_it_began_with(tmp_path: Path) -> None:
    from los.stack import dev_task_queue_partitions, temporal_command

    new, old = tmp_path / "new", tmp_path / "old"
    assert dev_task_queue_partitions(Settings(), new) == 1  # a database about to be created: one partition
    (new / "temporal.db").write_bytes(b"")
    assert dev_task_queue_partitions(Settings(), new) == 1  # and on every start after
    old.mkdir()
    (old / "temporal.db").write_bytes(b"")  # created before: its tasks may sit in partitions 1-3
    assert dev_task_queue_partitions(Settings(), old) is None  # the server's default, so they are still read
    assert dev_task_queue_partitions(Settings(), old) is None
    assert "matching.numTaskqueueReadPartitions" not in " ".join(temporal_command(Settings(), old))
    assert dev_task_queue_partitions(Settings(temporal_dev_task_queue_partitions=2), old) == 2  # as told
