"""`los up`'s supervision: the backoff policy as arithmetic, and a real child process that exits and is
started again on a clock the test moves (no sleeping through backoffs)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest

from los.supervisor import CRASH_LOOP_AFTER, Backoff, Supervised, describe_exit, restart_delay


def test_restart_delay_doubles_from_one_second_up_to_thirty() -> None:
    assert [restart_delay(n) for n in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert restart_delay(10_000) == 30  # a child failing for days neither overflows nor waits longer
    assert restart_delay(2, initial=0.5, factor=3, ceiling=100) == 4.5
    with pytest.raises(ValueError):
        restart_delay(-1)


def test_backoff_grows_while_exits_are_quick_and_starts_over_after_a_stable_run() -> None:
    b = Backoff(stable_after=60)
    assert [b.after_exit(uptime=0.2) for _ in range(4)] == [1, 2, 4, 8]
    assert b.failures == 4 and b.crash_looping
    assert b.after_exit(uptime=59) == 16  # still not a stable run
    assert b.after_exit(uptime=61) == 1  # up for over a minute: the next crash is a fresh one
    assert b.failures == 1 and not b.crash_looping


def test_describe_exit_names_signals() -> None:
    assert describe_exit(-9) == "-9 (SIGKILL)"
    assert describe_exit(-15) == "-15 (SIGTERM)"
    assert describe_exit(3) == "3"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def crashing_child(tmp_path: Path, clock: Clock, code: int = 3) -> Supervised:
    cmd = [sys.executable, "-c", f"print('cannot open the widget store'); raise SystemExit({code})"]
    return Supervised("worker", cmd, {}, tmp_path / "worker.log", Backoff(stable_after=60), clock)


def test_an_exited_child_is_restarted_after_its_backoff_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    child = crashing_child(tmp_path, clock)
    first = child.start()
    first.wait(timeout=30)
    caplog.set_level(logging.INFO, logger="los.up")

    clock.now += 5  # it ran for 5 s
    child.tick()
    assert child.proc is first and child.restart_at == clock.now + 1 and child.restarts == 1
    assert "worker exited with 3 after 5 s; restarting in 1 s (restart 1)" in caplog.text
    assert (
        "--- los up: worker exited with 3 after 5 s; restarting in 1 s (restart 1) ---"
        in (tmp_path / "worker.log").read_text()
    )

    clock.now += 0.5
    child.tick()  # the pause is not over: nothing is started
    assert child.proc is first

    clock.now += 0.5
    child.tick()
    second = child.proc
    assert second is not None and second is not first and second.pid != first.pid
    assert f"worker restarted (pid {second.pid}, restart 1)" in caplog.text
    second.wait(timeout=30)
    clock.now += 1
    child.tick()
    assert child.restart_at == clock.now + 2 and child.restarts == 2
    assert "restarting in 2 s (restart 2)" in caplog.text
    child.terminate()
    child.wait(timeout=5)
    clock.now += 100
    child.tick()  # stopped: never started again
    assert child.proc is second


def test_a_child_that_keeps_crashing_is_reported_with_its_log_and_not_restarted_in_a_hot_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    child = crashing_child(tmp_path, clock, code=2)
    caplog.set_level(logging.INFO, logger="los.up")
    starts = 0
    delays = []
    child.start()
    # Tick as often as the supervisor loop would for two simulated minutes (every 0.25 s).
    for _ in range(480):
        clock.now += 0.25
        if child.proc is not None and child.restart_at is None:
            child.proc.wait(timeout=30)  # let the real process finish its crash before the next tick
        before = child.proc
        child.tick()
        if child.restart_at is not None and before is child.proc and len(delays) < child.restarts:
            delays.append(child.restart_at - clock.now)
        if child.proc is not before:
            starts += 1
    child.terminate()
    child.wait(timeout=5)
    # 1+2+4+8+16+30+30... seconds of pauses: 7 restarts fit in two minutes, not hundreds.
    assert delays[:6] == [1, 2, 4, 8, 16, 30]
    assert starts == child.restarts - 1 and 5 <= starts <= 8
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == child.restarts - (CRASH_LOOP_AFTER - 1)
    report = errors[0].getMessage()
    assert f"worker keeps crashing: {CRASH_LOOP_AFTER} exits in a row, each within 60 s of starting" in report
    assert "| cannot open the widget store" in report  # the reason, from its log, on the console
    assert str(tmp_path / "worker.log") in report


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_what_an_exited_child_started_goes_with_it(tmp_path: Path) -> None:
    clock = Clock()
    script = (
        "import subprocess, sys; p = subprocess.Popen(['sleep', '60']); "
        "print('grandchild', p.pid, flush=True); sys.exit(1)"
    )
    child = Supervised("worker", [sys.executable, "-c", script], {}, tmp_path / "worker.log", Backoff(), clock)
    child.start()
    deadline = time.monotonic() + 30
    while child.running and time.monotonic() < deadline:  # exited, but left for the supervisor to collect
        time.sleep(0.02)
    grandchild = int((tmp_path / "worker.log").read_text().split("grandchild ")[1].split()[0])
    assert _alive(grandchild)  # orphaned, still running
    child.tick()
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
    child.terminate()
    child.wait(timeout=5)


def test_a_child_that_cannot_even_be_started_again_is_retried_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    child = crashing_child(tmp_path, clock)
    first = child.start()
    first.wait(timeout=30)
    child.tick()  # exit noticed: restart in 1 s
    child.cmd = [str(tmp_path / "no-such-program")]
    clock.now += 1
    child.tick()
    assert child.proc is first and child.restart_at == clock.now + 2
    assert "worker could not be started" in caplog.text and "trying again in 2 s" in caplog.text
    child.cmd = [sys.executable, "-c", "import time; time.sleep(60)"]
    clock.now += 2
    child.tick()
    assert child.proc is not first and child.running
    child.terminate()
    child.wait(timeout=10)
    assert not child.running
