"""The null side of ``bench/lifecycle.py``: this process's client for ``NullLoanWorkflow`` (bench/null_workflow.py),
sending each lifecycle's signals and updates at the points its production history had them, and the no-op activity
that reports its progress."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from null_workflow import ACTIVITY, NullInput, NullLoanWorkflow, NullStep
from shapes import Outcome, Shape
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateStage

QUERY_INTERVAL = 0.01  # seconds between `waiting` queries before a signal or update


@dataclass
class Progress:
    """A null lifecycle as seen from this process: how many of its activities ran, when it decided."""

    decision: int
    ran: int = 0
    decided_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def step(self, number: int) -> None:
        if number == self.decision and self.decided_at is None:
            self.decided_at = time.time()
        self.ran = max(self.ran, number + 1)
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_ran(self, count: int) -> None:
        while self.ran < count:
            await self.changed.wait()


PROGRESS: dict[str, Progress] = {}


@activity.defn(name=ACTIVITY)
async def null_step(step: NullStep) -> None:
    progress = PROGRESS.get(step.lifecycle)
    if progress is not None:
        progress.step(step.number)


async def wait_until_waiting(handle: Any, position: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await handle.query(NullLoanWorkflow.waiting) != position:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{handle.id} never waited at script position {position}")
        await asyncio.sleep(QUERY_INTERVAL)


async def null_lifecycle(client: Client, task_queue: str, workflow_id: str, shape: Shape) -> Outcome:
    progress = PROGRESS[workflow_id] = Progress(shape.decision)
    t0 = time.time()
    await client.start_workflow(
        NullLoanWorkflow.run, NullInput(workflow_id, shape.scripts), id=workflow_id, task_queue=task_queue
    )
    handle = client.get_workflow_handle(workflow_id)  # no run id: follows continue-as-new
    activities_before = 0
    updates = []
    for position, step in enumerate("".join(shape.scripts)):
        if step in "AL":
            activities_before += 1
        elif step in "SU":
            # Like the Driver, which acts once the API shows the loan's new status: send only when the
            # workflow waits for it, so each signal/update gets its own workflow task as in production.
            await progress.wait_ran(activities_before)
            await wait_until_waiting(handle, position)
            if step == "S":
                await handle.signal(NullLoanWorkflow.event, "event")
            else:
                # Accepted now, answered where production answered it ("u"), which may come after a later
                # signal (a bank webhook faster than the disbursal's recording): do not wait for the answer.
                updates.append(
                    await handle.start_update(
                        NullLoanWorkflow.decide, "decide", wait_for_stage=WorkflowUpdateStage.ACCEPTED
                    )
                )
    await asyncio.gather(*(update.result() for update in updates))
    await handle.result()
    PROGRESS.pop(workflow_id, None)
    assert progress.decided_at is not None
    return Outcome(workflow_id, (progress.decided_at - t0) * 1000, "COMPLETED")


async def null_batch(
    client: Client, task_queue: str, shapes: list[Shape], concurrency: int, prefix: str
) -> tuple[list[Outcome], float]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, shape: Shape) -> Outcome:
        async with sem:
            return await null_lifecycle(client, task_queue, f"{prefix}-{i}", shape)

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(i, s) for i, s in enumerate(shapes)))
    return list(outcomes), time.perf_counter() - started
