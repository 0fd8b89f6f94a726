"""Keeping `los up`'s children running: a child that exits is started again after a growing pause.

A crash of one process (the worker, the API, the sandbox, the embedded Temporal server) must not take the
others down with it: the sandbox may be about to deliver a bank webhook, the API may be serving a customer.
Only `los up` itself being stopped (Ctrl-C, SIGTERM) stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("los.up")

# This many exits in a row, each soon after its start, is a crash loop: said loudly, with the log's tail.
CRASH_LOOP_AFTER = 3
LOG_TAIL_LINES = 15


def restart_delay(failures: int, initial: float = 1.0, factor: float = 2.0, ceiling: float = 30.0) -> float:
    """Seconds to wait before the restart that follows `failures` earlier quick exits in a row (0 for the
    first exit): initial, initial·factor, initial·factor², ... never more than ceiling."""
    if failures < 0:
        raise ValueError("failures cannot be negative")
    # Capping the exponent keeps a child that has crashed for days from overflowing the float.
    return min(ceiling, initial * factor ** min(failures, 64))


@dataclass
class Backoff:
    """The restart policy of one child: delays grow while it keeps exiting soon after it starts, and start
    over once it has stayed up for `stable_after` seconds."""

    initial: float = 1.0
    factor: float = 2.0
    ceiling: float = 30.0
    stable_after: float = 60.0
    failures: int = 0  # quick exits in a row so far

    def after_exit(self, uptime: float) -> float:
        """Record an exit after `uptime` seconds of running; returns the seconds to wait before restarting."""
        if uptime >= self.stable_after:
            self.failures = 0
        delay = restart_delay(self.failures, self.initial, self.factor, self.ceiling)
        self.failures += 1
        return delay

    @property
    def crash_looping(self) -> bool:
        """True when the child has exited quickly CRASH_LOOP_AFTER times (or more) in a row."""
        return self.failures >= CRASH_LOOP_AFTER


def describe_exit(code: int) -> str:
    """`-9 (SIGKILL)` for a signal, the plain code otherwise."""
    if code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file (empty when there is none)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16_384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Supervised:
    """One child process of `los up`, run in its own session with its output appended to its log file,
    and started again (see Backoff) whenever it exits until stop() is called."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        logfile: Path,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self.cmd = cmd
        self.env = env
        self.logfile = logfile
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None  # set while waiting out a backoff
        self.restarts = 0
        self.stopped = False

    def start(self) -> subprocess.Popen:
        """Start the process (again) now."""
        with self.logfile.open("ab") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started_at = self.clock()
        self.restart_at = None
        if self.restarts:
            log.info("%s restarted (pid %d, restart %d)", self.name, self.proc.pid, self.restarts)
        else:
            log.info("%s started (pid %d)", self.name, self.proc.pid)
        return self.proc

    @property
    def running(self) -> bool:
        """Whether the process is alive right now."""
        return self.proc is not None and not self._exited()

    def _note(self, message: str) -> None:
        # The child's own log says why its output breaks off and starts again.
        with self.logfile.open("a", encoding="utf-8") as f:
            f.write(f"--- los up: {message} ---\n")

    def _exited(self) -> bool:
        """Whether the process has exited, without reaping it: while it is a zombie its pid (the id of
        its process group) cannot be taken by an unrelated process, so the group can be killed safely."""
        assert self.proc is not None
        if self.proc.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:  # already reaped elsewhere
            return True

    def _reap(self) -> int:
        """Kill what the exited child left behind in its process group (Chromium, uvicorn workers), rather
        than let it linger as orphans, then collect the child's exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.proc.wait()

    def tick(self) -> None:
        """Notice an exit and schedule the restart, or restart when the pause is over. Never blocks."""
        if self.stopped or self.proc is None:
            return
        now = self.clock()
        if self.restart_at is not None:
            if now >= self.restart_at:
                try:
                    self.start()
                except OSError as exc:  # e.g. the executable went away: try again later, do not bring down the rest
                    delay = self.backoff.after_exit(0.0)
                    self.restart_at = now + delay
                    log.error("%s could not be started (%s); trying again in %g s", self.name, exc, delay)
            return
        if not self._exited():
            return
        code = self._reap()
        uptime = now - self.started_at
        delay = self.backoff.after_exit(uptime)
        self.restarts += 1
        self.restart_at = now + delay
        message = (
            f"{self.name} exited with {describe_exit(code)} after {uptime:.0f} s; "
            f"restarting in {delay:g} s (restart {self.restarts})"
        )
        self._note(message)
        if self.backoff.crash_looping:
            tail = log_tail(self.logfile)
            log.error(
                "%s keeps crashing: %d exits in a row, each within %g s of starting (log %s). %s\n%s",
                self.name,
                self.backoff.failures,
                self.backoff.stable_after,
                self.logfile,
                message,
                "\n".join(f"    | {line}" for line in tail.splitlines()),
            )
        else:
            log.warning("%s (log %s)", message, self.logfile)

    def terminate(self) -> None:
        """Stop restarting it and ask it to stop (SIGTERM)."""
        self.stopped = True
        self.restart_at = None
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Wait for it to stop after terminate(), killing it (and what it started) when it takes too long."""
        if self.proc is None:
            return
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                log.warning("%s did not stop in time; killing it", self.name)
                self.proc.kill()
                break
            time.sleep(0.05)
        self._reap()
