"""`los demo` tells a newcomer what to do when the stack is not up, or the scenario is unknown: a line, not a
traceback."""

from __future__ import annotations

import json
import socket

import pytest

from los.cli import main


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_without_a_running_stack_says_to_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["demo", "--api", url, "--sandbox", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"los demo: cannot reach {url}/") and "`los up`" in err
    assert "Traceback" not in err


def test_an_unknown_scenario_is_named_with_where_to_find_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["demo", "--scenario", "nope", "--api", url, "--sandbox", url]) == 1
    assert capsys.readouterr().err == "los demo: unknown scenario 'nope'; `los demo --scenario list` names them\n"


def test_loans_beside_a_scenario_are_said_to_be_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["demo", "--scenario", "nope", "--loans", "3", "--api", url, "--sandbox", url]) == 1
    assert capsys.readouterr().err.startswith("los demo: --scenario nope drives its own loans; --loans 3 is ignored\n")


def test_the_scenario_list_in_json_names_each_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    from los.demo_scenarios import SCENARIOS

    assert main(["demo", "--scenario", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["scenarios"]
    assert list(listed) == list(SCENARIOS) and all(listed.values())
    assert main(["demo", "--scenario", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(next(iter(SCENARIOS)))


def test_a_command_run_alone_without_a_database_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from los.settings import get_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LOS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["seed"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("los seed: DATABASE_URL is not set: `los up` runs everything") and "Traceback" not in err
