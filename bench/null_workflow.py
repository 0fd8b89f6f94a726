"""bench/lifecycle.py's null loan workflow: a production loan's Temporal traffic without business work.

It replays a *script* taken from a real ``LoanWorkflow`` history, one string per run, one letter per
event in history order:

    A  run one no-op activity                      (ACTIVITY_TASK_SCHEDULED)
    L  run the same no-op as a local activity       (MARKER_RECORDED, the SDK's local-activity marker)
    S  wait for the next signal from the client     (WORKFLOW_EXECUTION_SIGNALED)
    U  wait for the next update from the client     (WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    u  answer the oldest open update                (WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    T  start a timer (one day), cancelled when the next awaited activity/signal/update arrives, as
       the production workflow cancels its eSign-expiry / due-date timers (TIMER_STARTED)

and continues-as-new between runs, so a null lifecycle has exactly as many activities, local activities,
signals, updates, timers and continue-as-new as the production lifecycle it mirrors.

Kept in its own small module (no project imports) so the workflow sandbox re-imports only this file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

ACTIVITY = "null_step"
NULL_TIMEOUT = timedelta(seconds=15)
NULL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
TIMER = timedelta(days=1)


@dataclass
class NullStep:
    """Argument of the no-op activity: which lifecycle, and the activity's 0-based number in it (tasks and local
    activities counted together, in history order)."""

    lifecycle: str
    number: int


@dataclass
class NullInput:
    lifecycle: str
    scripts: list[str]
    run: int = 0
    signals_carried: int = 0


@workflow.defn
class NullLoanWorkflow:
    @workflow.init
    def __init__(self, inp: NullInput) -> None:
        self.signals = inp.signals_carried
        self.signals_used = 0
        self.updates = 0
        self.updates_used = 0
        self.updates_released = 0
        self.waiting_at = -1

    @workflow.run
    async def run(self, inp: NullInput) -> int:
        number = sum(script.count("A") + script.count("L") for script in inp.scripts[: inp.run])
        offset = sum(len(script) for script in inp.scripts[: inp.run])
        timers: list[asyncio.Task[None]] = []
        for i, step in enumerate(inp.scripts[inp.run]):
            if step in ("A", "L"):
                execute = workflow.execute_activity if step == "A" else workflow.execute_local_activity
                await execute(
                    ACTIVITY,
                    NullStep(inp.lifecycle, number),
                    start_to_close_timeout=NULL_TIMEOUT,
                    retry_policy=NULL_RETRY,
                )
                number += 1
            elif step == "S":
                wanted = self.signals_used + 1
                self.waiting_at = offset + i
                await workflow.wait_condition(lambda wanted=wanted: self.signals >= wanted)
                self.waiting_at = -1
                self.signals_used = wanted
            elif step == "U":
                wanted = self.updates_used + 1
                self.waiting_at = offset + i
                await workflow.wait_condition(lambda wanted=wanted: self.updates >= wanted)
                self.waiting_at = -1
                self.updates_used = wanted
            elif step == "u":
                self.updates_released += 1
                continue
            elif step == "T":
                timers.append(asyncio.create_task(workflow.sleep(TIMER)))
                continue
            else:
                raise ValueError(f"unknown script step {step!r}")
            # The awaited event came in a later workflow task than the timer's start, so the
            # cancellation is recorded (a timer started and cancelled in one task never reaches history).
            await self._cancel(timers)
        await self._cancel(timers)
        self.updates_released = self.updates
        await workflow.wait_condition(workflow.all_handlers_finished)
        if inp.run + 1 < len(inp.scripts):
            workflow.continue_as_new(replace(inp, run=inp.run + 1, signals_carried=self.signals - self.signals_used))
        return number

    @staticmethod
    async def _cancel(timers: list[asyncio.Task[None]]) -> None:
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        timers.clear()

    @workflow.query
    def waiting(self) -> int:
        """The script position (over all runs) of the signal or update the workflow now waits for, else -1."""
        return self.waiting_at

    @workflow.signal
    def event(self, note: str) -> None:
        self.signals += 1

    @workflow.update
    async def decide(self, note: str) -> int:
        """Like the staff updates: accepted at once, answered where production answered (step "u")."""
        self.updates += 1
        mine = self.updates
        await workflow.wait_condition(lambda: self.updates_released >= mine)
        return mine
