"""Activity heartbeats while an activity waits on a vendor, a browser or its turn, so a worker that dies mid-activity
is noticed within the call's ``heartbeat_timeout`` (workflows/heartbeats.py) instead of its whole
``start_to_close_timeout``: the server times the attempt out when heartbeats stop, and retries it on a live worker.

Temporal: a heartbeat is the worker's periodic sign that the activity is alive; with a heartbeat timeout set, an
attempt whose heartbeats stop for longer fails with a heartbeat timeout and is retried under its retry policy
(https://docs.temporal.io/encyclopedia/detecting-activity-failures, "Activity Heartbeats"). The SDKs throttle what
they send to one heartbeat per 0.8 × ``heartbeat_timeout`` (at most 60 s), the latest details sent at the end of
each interval (the rule every SDK follows: temporalio/sdk-java issue 906). A heartbeat is only a sign of life here,
never progress: every activity is idempotent by key, so a retry starts over. Details name a step or a vendor, never
personal data (they travel, encrypted, in the failure of a timed-out attempt).

Outside an activity (the API verifying a webhook through an adapter) both helpers do nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

from temporalio import activity

# Set while a keep_alive pump runs for the current activity: nested keep_alive blocks add no second pump.
_PUMPING: ContextVar[bool] = ContextVar("los_heartbeat_pumping", default=False)
MIN_INTERVAL_SECONDS = 0.05


def beat(what: str) -> None:
    """One heartbeat naming ``what`` (a step, a vendor), when running inside an activity that has a
    ``heartbeat_timeout``; else nothing (without one the server ignores the sign of life, and each beat would still
    cost the worker and the server a call)."""
    if activity.in_activity() and activity.info().heartbeat_timeout:
        activity.heartbeat(what)


def interval_seconds() -> float | None:
    """How often :func:`keep_alive` beats in the current activity: a third of its ``heartbeat_timeout`` (seconds),
    so two beats can be lost before the server gives up on the worker; None outside an activity or without one."""
    if not activity.in_activity():
        return None
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        return None
    return max(timeout.total_seconds() / 3, MIN_INTERVAL_SECONDS)


@contextlib.asynccontextmanager
async def keep_alive(what: str) -> AsyncIterator[None]:
    """Heartbeat every :func:`interval_seconds` while the block runs (a vendor's answer, a PDF render, a queue for
    the browser): the beats come from a task on the worker's event loop, so they stop exactly when the worker
    dies or hangs. Does nothing outside an activity, without a ``heartbeat_timeout``, or inside another
    ``keep_alive`` of the same activity. Raises whatever the block raises."""
    every = interval_seconds()
    if every is None or _PUMPING.get():
        yield
        return
    token = _PUMPING.set(True)
    activity.heartbeat(what)

    async def pump() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat(what)

    task = asyncio.create_task(pump())  # copies this context: the activity's, for activity.heartbeat
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        _PUMPING.reset(token)
