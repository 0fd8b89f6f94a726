"""On a real Temporal server: the follow-up worker (``los.followup_worker.followup_worker``) runs one follow-up
activity at a time while the loans' worker of its process records payments back to back (a storm), and all its
slots when it does not."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from los.followup_worker import LoanWorkGauge, LoanWorkGaugeInterceptor, followup_worker
from los.settings import Settings


class Probe:
    """What the follow-up activities saw: for each, when it started and how many ran then (itself included);
    each takes ``seconds``."""

    def __init__(self, seconds: float = 0.3) -> None:
        self.seconds = seconds
        self.running = 0
        self.starts: list[tuple[float, int]] = []


PROBE = Probe()


@activity.defn(name="followup_probe")
async def followup_probe(n: int) -> int:
    PROBE.running += 1
    PROBE.starts.append((time.monotonic(), PROBE.running))
    try:
        await asyncio.sleep(PROBE.seconds)
    finally:
        PROBE.running -= 1
    return n


@activity.defn(name="record_payment")  # the name of the activity that credits a payment
async def loan_step_probe() -> None:
    await asyncio.sleep(0.04)


@workflow.defn(name="FollowupSlotsBusyLoan", sandboxed=False)
class BusyLoan:
    """Payments recorded back to back by local activity, as a storm's loans record them, until told to stop (at
    most about two minutes of them)."""

    def __init__(self) -> None:
        self.stopped = False

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True

    @workflow.run
    async def run(self) -> None:
        for _ in range(3000):
            if self.stopped:
                return
            await workflow.execute_local_activity(loan_step_probe, start_to_close_timeout=timedelta(seconds=10))


@workflow.defn(name="FollowupSlotsProbe", sandboxed=False)
class FollowupSlotsProbe:
    """Follow-up activities asked for all at once, as a storm's loans ask for receipts and links."""

    @workflow.run
    async def run(self, followup_queue: str, followups: int) -> list[int]:
        done = await asyncio.gather(
            *(
                workflow.execute_activity(
                    followup_probe, i, task_queue=followup_queue, start_to_close_timeout=timedelta(seconds=30)
                )
                for i in range(followups)
            )
        )
        return list(done)


async def run_probe(dev_env, storm: bool, seconds: float) -> None:  # noqa: ANN001
    """Six follow-ups of ``seconds`` each on a follow-up worker of 3 slots fed by the loans' worker's gauge; with
    ``storm``, that worker records payments back to back from before the follow-up worker starts until they are
    done."""
    global PROBE
    PROBE = Probe(seconds)
    client = dev_env.client
    loans_queue = f"loans-{uuid.uuid4().hex[:8]}"
    settings = Settings(followup_task_queue=f"{loans_queue}-followup", followup_max_concurrent=3)
    gauge = LoanWorkGauge(credits=5)  # the mechanism, not the threshold: a storm the BusyLoan keeps up when slow
    loans = Worker(
        client,
        task_queue=loans_queue,
        workflows=[FollowupSlotsProbe, BusyLoan],
        activities=[loan_step_probe],
        interceptors=[LoanWorkGaugeInterceptor(gauge)],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    followups = followup_worker(client, settings, [followup_probe], None, gauge)
    run_id = uuid.uuid4().hex[:8]
    async with loans:
        busy = None
        if storm:
            busy = await client.start_workflow(BusyLoan.run, id=f"followup-slots-busy-{run_id}", task_queue=loans_queue)
            deadline = time.monotonic() + 20
            while not gauge.busy():  # the loans' worker is crediting payments
                assert time.monotonic() < deadline, "the loans' worker never credited a storm"
                await asyncio.sleep(0.02)
        async with followups:
            result = await client.execute_workflow(
                FollowupSlotsProbe.run,
                args=[settings.followup_task_queue, 6],
                id=f"followup-slots-{run_id}",
                task_queue=loans_queue,
            )
            assert result == list(range(6))
        if busy is not None:
            assert gauge.busy(), "the storm passed before the follow-ups were done"
            await busy.signal(BusyLoan.stop)
            await busy.result()


async def test_followups_run_one_at_a_time_while_the_loans_worker_credits_a_storm(dev_env) -> None:  # noqa: ANN001
    await run_probe(dev_env, storm=True, seconds=0.3)
    assert len(PROBE.starts) == 6
    assert [running for _, running in PROBE.starts] == [1] * 6, PROBE.starts
    # and about one every FIRST_SLOT_MAX_DEFER_SECONDS (2 s; the next reservation waits from its own start, while
    # the follow-up before it runs): granted at once, they would start 0.3 s apart (the margin is for a busy machine,
    # where the storm's gauge may dip for a moment)
    gaps = [b - a for (a, _), (b, _) in zip(PROBE.starts, PROBE.starts[1:], strict=False)]
    assert min(gaps) >= 1.0, gaps


async def test_followups_take_every_slot_when_no_storm_is_credited(dev_env) -> None:  # noqa: ANN001
    await run_probe(dev_env, storm=False, seconds=1.0)
    assert max(running for _, running in PROBE.starts) == 3, PROBE.starts
