"""los.chaos on its own (no stack): parsing, each point once per stack, armed only, the loss bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from los import chaos
from los.chaos import ChaosKiller, KillPoint, interceptors, parse_points, read_fired
from tests.chaos.points import MORE, QUICK


def test_points_parse_and_name_themselves() -> None:
    assert parse_points("record_payment:after, initiate_disbursal ,") == [
        KillPoint("record_payment", "after"),
        KillPoint("initiate_disbursal", "before"),
    ]
    assert str(KillPoint.parse("levy_penal")) == "levy_penal:before"
    for bad in ("record_payment:during", ":after"):
        with pytest.raises(ValueError):
            KillPoint.parse(bad)
    names = [p for p, _ in QUICK + MORE]
    assert len(set(names)) == len(names) == 29  # `all` is 29 distinct points, `quick` 21 of them
    assert len(QUICK) >= 20 and all(KillPoint.parse(p) for p in names)  # CI runs at least 20


def test_a_point_fires_once_per_stack_and_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(chaos.os, "_exit", exits.append)
    fired = tmp_path / "fired"
    killer = ChaosKiller(parse_points("record_payment:after,record_closure"), fired)
    assert killer.due("record_payment", "before") is None
    assert killer.due("record_payment", "after") == "record_payment:after"
    killer.fire("record_payment:after", "loan-1", 2)
    assert exits == [chaos.EXIT_CODE]
    assert read_fired(fired) == [("record_payment:after", "loan-1", 2)]
    # the worker started again leaves the fired point alone, keeps the other
    again = ChaosKiller(parse_points("record_payment:after,record_closure"), fired)
    assert again.due("record_payment", "after") is None
    assert again.due("record_closure", "before") == "record_closure:before"


def test_armed_only_and_the_loss_bound(tmp_path: Path) -> None:
    armed = tmp_path / "armed"
    killer = ChaosKiller(parse_points("levy_penal:after"), None, armed, max_loss=30)
    assert killer.due("levy_penal", "after") is None  # not armed
    armed.touch()
    me, other = object(), object()
    killer.in_flight = {me: 15.0, other: 120.0}  # a KYC step in flight would be lost for 120 s
    assert killer.due("levy_penal", "after", me) is None
    killer.in_flight = {me: 15.0, other: 30.0}
    assert killer.due("levy_penal", "after", me) == "levy_penal:after"


def test_the_worker_installs_nothing_without_kill_points(tmp_path: Path) -> None:
    assert interceptors({}) == []
    assert interceptors({chaos.KILL_AT_ENV: " "}) == []
    (tmp_path / "fired").write_text("levy_penal:after loan-1 1\n")
    done = {chaos.KILL_AT_ENV: "levy_penal:after", chaos.FIRED_ENV: str(tmp_path / "fired")}
    assert interceptors(done) == []  # every point already fired in this stack
    (installed,) = interceptors({chaos.KILL_AT_ENV: "levy_penal:after,record_closure:after"})
    assert isinstance(installed, chaos.ChaosInterceptor)
