"""Every periodic job as a Temporal Schedule, registered by the worker when it starts.

A job is a :class:`ScheduledJob`: the schedule's id, the workflow it starts, and how often (an interval or a
time of day in UTC, read from the settings when it can be tuned). :func:`ensure_schedules` creates each one
once; on a restart an existing schedule gets its timing set again and keeps everything else, a pause set by ops
in the Temporal UI (Schedules page) or with ``temporal schedule toggle --pause`` included. Overlapping runs are
skipped. A failure (e.g. no permission to create schedules on Temporal Cloud, where ops create them) is logged
and never stops the worker. The catalogue of jobs is in docs/operations.md ("Scheduled jobs").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from los.settings import Settings

log = logging.getLogger("los.worker")


@dataclass(frozen=True)
class ScheduledJob:
    """One periodic job.

    ``workflow_run`` is the workflow's ``run`` method (it takes no argument). Exactly one of ``every`` (an
    interval, or a function of the settings giving one; ``None`` or zero switches the job off and deletes an
    existing schedule) and ``at_utc`` (``(hour, minute)`` in UTC, every day; IST is UTC+05:30 with no daylight
    saving) is set; ``days_of_month`` narrows ``at_utc`` to those days (1-31)."""

    schedule_id: str
    workflow_run: Callable[..., Any]
    every: timedelta | Callable[[Settings], timedelta | None] | None = None
    at_utc: tuple[int, int] | None = None
    days_of_month: tuple[int, ...] = ()
    description: str = ""

    def spec(self, settings: Settings) -> ScheduleSpec | None:
        """The schedule's timing for these settings, or ``None`` when the job is switched off."""
        if self.at_utc is not None:
            hour, minute = self.at_utc
            calendar = ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])
            if self.days_of_month:
                calendar = ScheduleCalendarSpec(
                    hour=[ScheduleRange(hour)],
                    minute=[ScheduleRange(minute)],
                    day_of_month=[ScheduleRange(day) for day in self.days_of_month],
                )
            return ScheduleSpec(calendars=[calendar])
        every = self.every(settings) if callable(self.every) else self.every
        if not every or every <= timedelta(0):
            return None
        return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)])


async def ensure_schedule(
    client: Client, settings: Settings, job: ScheduledJob, schedule_id: str | None = None
) -> None:
    """Create ``job``'s schedule (under ``schedule_id``, default ``job.schedule_id``; its note the job's
    ``description``) or set the timing of the one that exists, keeping its pause state and notes. A job switched
    off by its settings deletes its schedule.
    Never raises: a failure is logged."""
    schedule_id = schedule_id or job.schedule_id
    spec = job.spec(settings)
    if spec is None:
        try:
            await client.get_schedule_handle(schedule_id).delete()
        except Exception:  # noqa: BLE001 - none to delete
            pass
        return
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(job.workflow_run, id=f"{schedule_id}-run", task_queue=settings.task_queue),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        # what the job does, in the UI's Schedules page; set on creation, or on a restart when the schedule has no
        # note (ops' own note, e.g. why they paused it, is kept)
        state=ScheduleState(note=job.description),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def keep_timing(update: ScheduleUpdateInput) -> ScheduleUpdate:
            current = update.description.schedule
            current.spec = schedule.spec
            if not current.state.note:  # one made before notes were set; a note of ops' own is kept
                current.state.note = job.description
            return ScheduleUpdate(schedule=current)

        try:
            await client.get_schedule_handle(schedule_id).update(keep_timing)
        except Exception as exc:  # noqa: BLE001
            log.warning("schedule %s not updated: %s", schedule_id, exc)
    except Exception as exc:  # noqa: BLE001 - e.g. no permission on Temporal Cloud: ops create it
        log.warning("schedule %s not created: %s", schedule_id, exc)


async def ensure_schedules(client: Client, settings: Settings, jobs: list[ScheduledJob]) -> None:
    """:func:`ensure_schedule` for each job, in order."""
    for job in jobs:
        await ensure_schedule(client, settings, job)
