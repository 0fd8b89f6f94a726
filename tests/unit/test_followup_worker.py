"""The worker process's follow-up queue: its configuration (``Settings``, ``los.stack.followup_queue``) and how the
process runs its workers together (``worker.run_until``)."""

from __future__ import annotations

import asyncio

import pytest

from los.followup_worker import LoanWorkGauge, YieldingSlotSupplier, followup_worker
from los.settings import Settings
from los.stack import followup_queue
from worker import run_until


class FakeWorker:
    """Runs until shut down, or fails after ``fail_after`` seconds (as a worker's fatal poll error ends run())."""

    def __init__(self, fail_after: float | None = None) -> None:
        self.fail_after = fail_after
        self.stopped = asyncio.Event()
        self.shutdowns = 0

    async def run(self) -> None:
        if self.fail_after is not None:
            await asyncio.sleep(self.fail_after)
            raise RuntimeError("poll failed")
        await self.stopped.wait()

    async def shutdown(self) -> None:
        self.shutdowns += 1
        self.stopped.set()


async def test_the_stop_event_shuts_every_worker_down() -> None:
    workers = [FakeWorker(), FakeWorker()]
    stop = asyncio.Event()
    running = asyncio.create_task(run_until(workers, stop))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not running.done()
    stop.set()
    await asyncio.wait_for(running, 5)
    assert [w.shutdowns for w in workers] == [1, 1]


async def test_a_failing_worker_stops_the_others_and_its_error_is_raised() -> None:
    healthy, failing = FakeWorker(), FakeWorker(fail_after=0.05)
    with pytest.raises(RuntimeError, match="poll failed"):
        await asyncio.wait_for(run_until([healthy, failing], asyncio.Event()), 5)  # type: ignore[list-item]
    assert healthy.shutdowns == 1 and healthy.stopped.is_set()
    assert failing.shutdowns == 0  # it had already ended


async def test_a_cancelled_caller_still_shuts_every_worker_down() -> None:
    workers = [FakeWorker(), FakeWorker()]
    running = asyncio.create_task(run_until(workers, None))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert [w.shutdowns for w in workers] == [1, 1] and all(w.stopped.is_set() for w in workers)


async def test_two_failing_workers_raise_the_first_error_only() -> None:
    with pytest.raises(RuntimeError, match="poll failed"):
        await asyncio.wait_for(run_until([FakeWorker(0.01), FakeWorker(0.01)], None), 5)  # type: ignore[list-item]


def test_the_embedded_stack_names_a_followup_queue_unless_told_otherwise() -> None:
    assert Settings(task_queue="loans").followup_task_queue is None  # a worker on its own: the loans' own queue
    assert followup_queue(Settings(task_queue="loans")) == "loans-followup"
    assert followup_queue(Settings(task_queue="loans", followup_task_queue="after")) == "after"
    assert followup_queue(Settings(task_queue="loans", followup_task_queue="")) == ""  # switched off


def test_the_followup_worker_polls_its_queue_with_bounded_slots_and_no_workflows(monkeypatch) -> None:  # noqa: ANN001
    import los.followup_worker as module

    built: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(module, "Worker", lambda *args, **kwargs: built.append((args, kwargs)) or "the worker")
    settings = Settings(followup_task_queue="loans-followup", followup_max_concurrent=3)
    activities = [object()]
    versioned = object()
    assert followup_worker("client", settings, activities, versioned) == "the worker"  # type: ignore[arg-type]
    ((args, kwargs),) = built
    assert args == ("client",)
    assert kwargs["task_queue"] == "loans-followup"
    assert kwargs["max_concurrent_activities"] == 3
    assert kwargs["activities"] is activities and "workflows" not in kwargs
    assert kwargs["deployment_config"] is versioned  # the main worker's deployment version, with Worker Versioning


def test_with_the_loans_worker_gauge_its_activity_slots_yield(monkeypatch) -> None:  # noqa: ANN001
    import los.followup_worker as module

    built: list[dict] = []
    monkeypatch.setattr(module, "Worker", lambda *args, **kwargs: built.append(kwargs) or "the worker")
    gauge = LoanWorkGauge()
    settings = Settings(followup_task_queue="loans-followup", followup_max_concurrent=3)
    followup_worker("client", settings, [object()], None, gauge)  # type: ignore[arg-type]
    ((kwargs,),) = [built]
    assert "max_concurrent_activities" not in kwargs  # the tuner bounds them instead
    supplier = kwargs["tuner"]._get_activity_task_slot_supplier()
    assert isinstance(supplier, YieldingSlotSupplier)
    assert supplier.slots == 3 and supplier.gauge is gauge
