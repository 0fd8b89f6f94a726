"""los.chaos with several worker processes on one stack: each point fires once in all, whichever worker reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from los import chaos
from los.chaos import ChaosKiller, parse_points, read_fired


def test_two_workers_sharing_a_fired_file_fire_each_point_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(chaos.os, "_exit", exits.append)
    fired = tmp_path / "fired"
    spec = "record_payment:after,record_closure:after"
    first, second = ChaosKiller(parse_points(spec), fired), ChaosKiller(parse_points(spec), fired)
    # both started before either fired: both hold the point as pending
    assert first.due("record_payment", "after") == second.due("record_payment", "after") == "record_payment:after"
    first.fire("record_payment:after", "loan-1", 1)
    assert exits == [chaos.EXIT_CODE]
    second.fire("record_payment:after", "loan-2", 1)  # already claimed by the first: no exit, nothing recorded
    assert exits == [chaos.EXIT_CODE]
    assert second.due("record_payment", "after") is None  # and no longer pending there
    second.fire("record_closure:after", "loan-2", 3)
    assert exits == [chaos.EXIT_CODE, chaos.EXIT_CODE]
    assert read_fired(fired) == [("record_payment:after", "loan-1", 1), ("record_closure:after", "loan-2", 3)]


def test_without_a_fired_file_every_due_point_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(chaos.os, "_exit", exits.append)
    killer = ChaosKiller(parse_points("levy_penal:after"), None)
    assert killer.claim("levy_penal:after", "loan-1", 1)
    killer.fire("levy_penal:after", "loan-1", 1)
    assert exits == [chaos.EXIT_CODE]


def test_a_lost_attempt_costs_its_heartbeat_timeout_when_it_has_one() -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    def info(heartbeat: float | None, start_to_close: float | None, local: bool = False) -> object:
        seconds = (lambda s: timedelta(seconds=s) if s is not None else None)  # noqa: E731
        return SimpleNamespace(
            heartbeat_timeout=seconds(heartbeat),
            start_to_close_timeout=seconds(start_to_close),
            schedule_to_close_timeout=None,
            is_local=local,
        )

    assert chaos.loss_seconds(info(None, 120)) == 120  # an activity task without heartbeats: its whole timeout
    assert chaos.loss_seconds(info(10, 120)) == 10  # with them: the server gives the dead worker 10 s
    assert chaos.loss_seconds(info(None, None)) == float("inf")
    # a local activity (a KYC lookup since kyc-provider-steps-local-v1): lost with its workflow task, run again after
    # the task's timeout, whatever its own start-to-close
    assert chaos.loss_seconds(info(None, 120, local=True)) == chaos.WORKFLOW_TASK_TIMEOUT_SECONDS == 10
