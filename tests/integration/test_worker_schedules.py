"""The worker registers every periodic job (``worker.SCHEDULED_JOBS``, ``los/schedules.py``): started as in
production (``worker.run_worker``), it creates one Temporal Schedule per job, each starting the job's workflow on the
worker's task queue with the job's timing, and that workflow type is one the worker runs (unversioned, and under
Worker Versioning as its PINNED variant)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import ScheduleActionStartWorkflow, ScheduleDescription

from los.settings import Settings
from tests.conftest import eventually
from worker import SCHEDULED_JOBS, run_worker, workflows_for


def type_name(fn: object) -> str:
    """The workflow type a ``@workflow.run`` method belongs to."""
    return workflow._Definition.from_run_fn(fn).name  # type: ignore[arg-type]


async def test_the_worker_registers_a_schedule_for_every_job(dev_env, database_url, storage_dir) -> None:  # noqa: ANN001
    client = dev_env.client
    ids = [job.schedule_id for job in SCHEDULED_JOBS]
    assert len(ids) == len(set(ids)) >= 9  # one schedule per job
    for schedule_id in ids:  # a clean slate: the worker creates them
        with contextlib.suppress(Exception):
            await client.get_schedule_handle(schedule_id).delete()
    queue = f"schedules-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=database_url,
        temporal_address=client.service_client.config.target_host,
        task_queue=queue,
        storage_dir=storage_dir,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, client=client, stop=stop))
    try:

        async def described() -> dict[str, ScheduleDescription] | None:
            found = {}
            for schedule_id in ids:
                try:
                    found[schedule_id] = await client.get_schedule_handle(schedule_id).describe()
                except Exception:  # noqa: BLE001 - not created yet
                    return None
            return found

        schedules = await eventually(described, timeout=30)
        assert not running.done()  # the worker runs on after registering them
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        for schedule_id in ids:  # leave nothing firing on a queue nobody polls
            with contextlib.suppress(Exception):
                await client.get_schedule_handle(schedule_id).delete()

    runs = {type_name(cls.run) for cls in workflows_for(settings)}
    versioned = Settings(worker_deployment_name="los", worker_build_id="b1")
    runs_versioned = {workflow._Definition.must_from_class(cls).name for cls in workflows_for(versioned)}
    for job in SCHEDULED_JOBS:
        schedule = schedules[job.schedule_id].schedule
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow), job.schedule_id
        assert action.workflow == type_name(job.workflow_run), job.schedule_id
        assert action.task_queue == queue and action.id == f"{job.schedule_id}-run"
        assert action.workflow in runs and action.workflow in runs_versioned, job.schedule_id  # the worker runs it
        assert schedule.policy.overlap.name == "SKIP"
        assert schedule.state.note == job.description and job.description, job.schedule_id  # shown in the UI
        spec = job.spec(settings)
        assert spec is not None, job.schedule_id  # every job is on with the default settings
        if job.at_utc is not None:
            [calendar] = schedule.spec.calendars
            hour, minute = job.at_utc
            assert [(r.start, r.end or r.start) for r in calendar.hour] == [(hour, hour)], job.schedule_id
            assert [(r.start, r.end or r.start) for r in calendar.minute] == [(minute, minute)], job.schedule_id
            if job.days_of_month:
                assert sorted(r.start for r in calendar.day_of_month) == sorted(job.days_of_month)
        else:
            [interval] = schedule.spec.intervals
            assert interval.every == spec.intervals[0].every > timedelta(0), job.schedule_id
