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
    assert len(set(names)) == len(names) == 28  # `all` is 28 distinct points, `quick` 21 of them
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


async def test_a_point_held_back_waits_for_the_long_activity_to_end(tmp_path: Path) -> None:
    import asyncio

    killer = ChaosKiller(parse_points("record_closing_postings:after"), None, max_loss=30)
    me, notice = object(), object()
    killer.in_flight = {me: 15.0, notice: 60.0}  # a notice in flight (60 s) would be lost with the worker

    async def notice_ends() -> None:
        await asyncio.sleep(0.2)
        killer.in_flight.pop(notice)

    ending = asyncio.create_task(notice_ends())
    # held back while the notice runs, fired once it has ended: not missed for good
    assert await killer.due_soon("record_closing_postings", "after", me, patience=5) == "record_closing_postings:after"
    await ending
    # a long activity that does not end in time: still held back after the wait, which is bounded
    killer.in_flight = {me: 15.0, notice: 120.0}
    started = asyncio.get_running_loop().time()
    assert await killer.due_soon("record_closing_postings", "after", me, patience=0.3) is None
    assert 0.3 <= asyncio.get_running_loop().time() - started < 2
    # a point not pending does not wait at all
    assert await killer.due_soon("levy_penal", "after", me, patience=5) is None
