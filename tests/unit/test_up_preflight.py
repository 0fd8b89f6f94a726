"""`los up` refuses at once, in one line, what it cannot start on: a port it listens on already taken (another
`los up`, another program), and a setting that does not parse. Nothing is started in either case. And `los migrate
--down` names its revision."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from los.settings import Settings
from los.stack import PortInUse, check_ports_free
from tests.conftest import free_port


def _ports() -> dict[str, int]:
    return {name: free_port() for name in ("api_port", "sandbox_port", "temporal_port", "temporal_ui_port")}


@pytest.mark.parametrize("taken", ["api_port", "sandbox_port", "temporal_port", "temporal_ui_port"])
def test_a_taken_port_is_named_with_its_setting(taken: str) -> None:
    ports = _ports()
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports[taken]))
        held.listen()
        with pytest.raises(PortInUse) as refused:
            check_ports_free(Settings(**ports), embedded_temporal=True)
    message = str(refused.value)
    assert f"port {ports[taken]} (LOS_{taken.upper()})" in message and "in use" in message
    check_ports_free(Settings(**ports), embedded_temporal=True)  # free again: no error


def test_an_ipv6_host_is_checked_as_ipv6_and_a_foreign_host_is_named_not_called_in_use() -> None:
    ports = _ports()
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        ipv6 = True
    except OSError:  # a machine without IPv6: that part is not checked here
        ipv6 = False
    if ipv6:
        check_ports_free(Settings(**ports, api_host="::1"), embedded_temporal=True)  # free on the IPv6 loopback
    with pytest.raises(PortInUse) as refused:
        check_ports_free(Settings(**ports, api_host="no-such-host.invalid"), embedded_temporal=True)
    assert "cannot listen on no-such-host.invalid" in str(refused.value) and "in use" not in str(refused.value)


def test_an_external_temporal_server_needs_no_temporal_ports() -> None:
    ports = _ports()
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports["temporal_port"]))
        held.listen()
        check_ports_free(Settings(**ports), embedded_temporal=False)


def _up(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOS_", "DATABASE_URL", "TEMPORAL_ADDRESS"))}
    return subprocess.run(
        [sys.executable, "-m", "los.cli", "up"],
        env={**clean, "LOS_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_los_up_stops_at_once_on_a_taken_port_and_starts_nothing(tmp_path: Path) -> None:
    ports = _ports()
    env = {f"LOS_{name.upper()}": str(port) for name, port in ports.items()}
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports["api_port"]))
        held.listen()
        done = _up(tmp_path, env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"port {ports['api_port']} (LOS_API_PORT) is in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "pgdata").exists() and not (tmp_path / "logs").exists()  # nothing was started


def test_los_up_names_a_setting_that_does_not_parse(tmp_path: Path) -> None:
    done = _up(tmp_path, {"LOS_API_PORT": "abc"})
    assert done.returncode == 2
    assert "setting LOS_API_PORT = 'abc'" in done.stderr and "valid integer" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_downgrade_must_name_its_revision(tmp_path: Path) -> None:
    """`los migrate --down` with no revision used to go to `base`, dropping every table: now it refuses, in one line,
    before reading any setting or touching the database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOS_", "DATABASE_URL"))}
    done = subprocess.run(
        [sys.executable, "-m", "los.cli", "migrate", "--down"],
        env={**clean, "LOS_HOME": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "name the revision" in done.stderr and "Traceback" not in done.stderr


def test_los_demo_refuses_no_loans() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "los.cli", "demo", "--loans", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "at least 1" in done.stderr
