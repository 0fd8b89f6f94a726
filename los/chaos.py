"""Fault injection for the chaos suite (tests/chaos, docs/chaos.md): the worker kills itself at a named point.

``LOS_CHAOS_KILL_AT`` lists the points, comma-separated, each ``<activity name>[:before|after]`` (default
``before``): ``before`` exits as the activity starts (nothing done), ``after`` exits once its body has returned
and before its result reaches the server (the side effect happened, the history does not know it: a bank that
took a transfer whose answer was never recorded). The exit is ``os._exit(137)``, as abrupt as a SIGKILL: no
``finally``, no graceful shutdown, in-flight activities of every other loan lost with it.

Each point fires once per stack, not once per process: before exiting, the worker appends
``<point> <workflow id> <attempt>`` to the file named by ``LOS_CHAOS_FIRED`` (synced to disk), and a worker
started again reads that file and leaves the points already fired alone; several worker processes of one stack
share the file and claim each point under a lock, so it still fires once. With ``LOS_CHAOS_ARMED`` naming a file,
points fire only while that file exists (a test arms the worker for its own loans, and disarms it after).
``LOS_CHAOS_MAX_LOSS=<seconds>`` bounds what a kill costs: a point waits (stays pending) while any other activity in
flight would be lost for longer, since Temporal retries a lost activity only once its heartbeat timeout (when it has
one) or else its start-to-close timeout has passed (a notice 60 s): the CI suite keeps its minutes. A point held
back that way waits a little (up to a third of its own activity's timeout, at most 10 s) for the long activities in
flight to end, since most end in milliseconds (a notice to the sandbox): a point reached by one activity in the whole
run (the settlement's waiver) would otherwise be missed whenever a notice happened to be in flight. Without
``LOS_CHAOS_KILL_AT`` the worker installs nothing (``interceptors()`` is empty); it is never set outside tests.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

KILL_AT_ENV = "LOS_CHAOS_KILL_AT"
FIRED_ENV = "LOS_CHAOS_FIRED"
ARMED_ENV = "LOS_CHAOS_ARMED"
MAX_LOSS_ENV = "LOS_CHAOS_MAX_LOSS"
EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL
WHEN = ("before", "after")
PATIENCE = 10.0  # seconds a point held back by the loss bound waits for the long activities in flight to end

log = logging.getLogger("los.chaos")


@dataclass(frozen=True)
class KillPoint:
    """One place to die: an activity (by its registered name) and whether before or after its body runs."""

    activity: str
    when: str = "before"

    @classmethod
    def parse(cls, text: str) -> KillPoint:
        """``name`` or ``name:before`` / ``name:after``; ``ValueError`` for anything else."""
        name, _, when = text.strip().partition(":")
        when = when or "before"
        if not name or when not in WHEN:
            raise ValueError(f"kill point {text!r}: expected <activity>[:before|after]")
        return cls(name, when)

    def __str__(self) -> str:
        return f"{self.activity}:{self.when}"


def parse_points(spec: str) -> list[KillPoint]:
    """The points of a ``LOS_CHAOS_KILL_AT`` value (empty entries ignored)."""
    return [KillPoint.parse(part) for part in spec.split(",") if part.strip()]


def read_fired(path: Path | None) -> list[tuple[str, str, int]]:
    """The points already fired, as ``(point, workflow id, attempt)`` lines of the fired file (none without one)."""
    if path is None or not path.exists():
        return []
    fired = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            fired.append((parts[0], parts[1], int(parts[2])))
    return fired


class ChaosKiller:
    """The points still to fire in this stack, and the act of firing one (recorded, then the process ends)."""

    def __init__(
        self,
        points: list[KillPoint],
        fired_file: Path | None,
        armed_file: Path | None = None,
        max_loss: float | None = None,
    ):
        self.fired_file = fired_file
        self.armed_file = armed_file
        self.max_loss = max_loss
        self.in_flight: dict[object, float] = {}  # running activities → their start-to-close timeout (s)
        self.held: set[str] = set()  # points held back by the loss bound at least once (logged once each)
        done = {point for point, _, _ in read_fired(fired_file)}
        self.pending = {str(p): p for p in points if str(p) not in done}

    def due(self, name: str, when: str, me: object = None) -> str | None:
        """The point to fire now for activity ``name`` at ``when`` (``me``: its in-flight token), if it has not
        fired yet, the worker is armed and no other activity in flight would cost more than ``max_loss``."""
        return self._check(name, when, me)[0]

    async def due_soon(self, name: str, when: str, me: object, patience: float) -> str | None:
        """:meth:`due`, but a point held back only by the loss bound waits up to ``patience`` seconds (checked every
        50 ms) for the long activities in flight to end; ``None`` when it is still held back then."""
        deadline = time.monotonic() + patience
        while True:
            key, held = self._check(name, when, me)
            if key is not None or not held or time.monotonic() >= deadline:
                return key
            await asyncio.sleep(0.05)

    def _check(self, name: str, when: str, me: object) -> tuple[str | None, bool]:
        """``(point to fire now or None, whether it is held back by the loss bound alone)``."""
        key = f"{name}:{when}"
        if key not in self.pending or (self.armed_file is not None and not self.armed_file.exists()):
            return None, False
        if self.max_loss is not None:
            longest = max((t for token, t in self.in_flight.items() if token is not me), default=0.0)
            if longest > self.max_loss:
                if key not in self.held:  # said once: why a point a test waits for has not fired
                    self.held.add(key)
                    log.warning("chaos: %s held back: an activity with a %.0f s timeout is in flight", key, longest)
                return None, True
        return key, False

    def claim(self, key: str, workflow_id: str, attempt: int) -> bool:
        """Record the point as fired in the fired file (under an exclusive lock, synced), unless another worker
        process of the stack fired it first: several workers share one fired file, each point fires once in all.
        ``True`` when this process claimed it (no fired file: always)."""
        if self.fired_file is None:
            return True
        fd = os.open(self.fired_file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            if any(point == key for point, _, _ in read_fired(self.fired_file)):
                return False
            os.write(fd, f"{key} {workflow_id or '-'} {attempt}\n".encode())
            os.fsync(fd)
            return True
        finally:
            os.close(fd)

    def fire(self, key: str, workflow_id: str, attempt: int) -> None:
        """Record the point as fired (synced, so the restarted worker skips it), then exit at once. Returns, doing
        nothing more, when another worker process of the stack has fired the point meanwhile."""
        self.pending.pop(key, None)
        if not self.claim(key, workflow_id, attempt):
            return
        log.warning("chaos: killing the worker at %s (%s, attempt %d)", key, workflow_id, attempt)
        logging.shutdown()
        os._exit(EXIT_CODE)


# A loan's workflow task timeout (the server's default; loans start without one of their own, api/loan_start.py).
WORKFLOW_TASK_TIMEOUT_SECONDS = 10.0


def loss_seconds(info: activity.Info) -> float:
    """How long an attempt of this activity lost with its worker waits before Temporal retries it: for a local activity
    the workflow task timeout (the task it runs in is lost with the worker and run again, the activity with it); else
    its heartbeat timeout when it has one (the server then takes the worker for dead), else its start-to-close timeout;
    seconds, infinite when it has neither."""
    if info.is_local:
        return WORKFLOW_TASK_TIMEOUT_SECONDS
    timeouts = [t for t in (info.heartbeat_timeout, info.start_to_close_timeout or info.schedule_to_close_timeout) if t]
    return min(t.total_seconds() for t in timeouts) if timeouts else float("inf")


class _KillInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, killer: ChaosKiller):
        super().__init__(next)
        self.killer = killer

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        me = object()
        loss = loss_seconds(info)
        patience = min(PATIENCE, loss / 3)  # what is left of its own timeout still covers its body
        self.killer.in_flight[me] = loss
        try:
            if key := await self.killer.due_soon(info.activity_type, "before", me, patience):
                self.killer.fire(key, info.workflow_id or "", info.attempt)
            result = await self.next.execute_activity(input)
            if key := await self.killer.due_soon(info.activity_type, "after", me, patience):
                self.killer.fire(key, info.workflow_id or "", info.attempt)
            return result
        finally:
            self.killer.in_flight.pop(me, None)


class ChaosInterceptor(Interceptor):
    """Worker interceptor that kills the process at the configured kill points (see the module's docstring)."""

    def __init__(self, killer: ChaosKiller):
        self.killer = killer

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _KillInbound(next, self.killer)


def interceptors(environ: dict[str, str] | None = None) -> list[Interceptor]:
    """``[ChaosInterceptor]`` when ``LOS_CHAOS_KILL_AT`` names points still to fire, else ``[]``."""
    env = os.environ if environ is None else environ
    spec = env.get(KILL_AT_ENV, "")
    if not spec.strip():
        return []
    fired, armed, max_loss = env.get(FIRED_ENV), env.get(ARMED_ENV), env.get(MAX_LOSS_ENV)
    killer = ChaosKiller(
        parse_points(spec),
        Path(fired) if fired else None,
        Path(armed) if armed else None,
        float(max_loss) if max_loss else None,
    )
    if not killer.pending:
        return []
    log.warning("chaos: this worker will kill itself at %s", ", ".join(sorted(killer.pending)))
    return [ChaosInterceptor(killer)]
