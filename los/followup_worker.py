"""The follow-up queue's worker, whose activity slots yield to the loans' own work (docs/scaling.md, "Follow-up
queue").

A worker process runs two Temporal workers on the same cores: the loans' (workflow tasks and the database steps
they run as local activities: a payment allocated and recorded, a status moved) and the follow-up queue's
(receipts, notices, payment links). On a due-date storm the second takes CPU from the first, so a payment waits to
be credited while the receipts of the payments before it are rendered.

:class:`YieldingSlotSupplier` gives the follow-up worker its ``followup_max_concurrent`` activity slots. Each waits
while the loans' worker in this process is crediting a storm of payments: at least :data:`STORM_CREDITS` payments
recorded (``record_payment``, ``sme_record_payment``) within the last :data:`STORM_WINDOW_SECONDS`
(:class:`LoanWorkGauge`, fed by :class:`LoanWorkGaugeInterceptor` on the loans' worker); the first slot (none held)
at most :data:`FIRST_SLOT_MAX_DEFER_SECONDS`, so follow-up work always moves, one task at a time, and each further
one at most :data:`MAX_DEFER_SECONDS`. Credits go first on a storm day; the receipts, notices and next links drain
at full speed when it is over. (The SDK reserves
a slot before each poll, so slots an idle worker held when a storm begins still take a task each: the rule holds
from the storm's first follow-ups done on.) Everything else
the loans' worker does (origination, a loan's occasional payment) takes nothing from the follow-up queue: a loan
waits for its follow-up work before it continues as new or ends, so holding it back there would only slow loans.

Built on the Temporal SDK's slot-supplier interface (``temporalio.worker.CustomSlotSupplier``, "Worker
performance" in Temporal's docs: a slot is reserved before the worker polls for a task, and released after it).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    CustomSlotSupplier,
    ExecuteActivityInput,
    FixedSizeSlotSupplier,
    Interceptor,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
    Worker,
    WorkerDeploymentConfig,
    WorkerTuner,
)

from los.chaos import interceptors as chaos_interceptors
from los.observability import LogContextInterceptor
from los.settings import Settings

#: A storm, for the follow-up queue: this many payments recorded by the loans' worker within
#: :data:`STORM_WINDOW_SECONDS` (``Settings.followup_storm_credits``, ``LOS_FOLLOWUP_STORM_CREDITS``: 15; the worker
#: passes the setting in; counted per process). A loan pays now and then; a due-date storm credits tens a second per
#: process (60-70 on bench/collections_day.py, a storm from its first credit to its last at 15). Ten loans in flight,
#: each paying its installments, credit bursts of 5-10 a second (bench/lifecycle.py): at 5, until 5 December, those
#: held their own receipts and next payment links back by 0.4-0.9 s each (docs/scaling.md, "Follow-up queue").
STORM_CREDITS: int = Settings.model_fields["followup_storm_credits"].default
STORM_WINDOW_SECONDS = 1.0
#: The activities that credit a payment (their registered names).
CREDIT_ACTIVITIES = frozenset({"record_payment", "sme_record_payment"})
#: The longest the first slot (none held) waits for a storm to pass (seconds): a receipt, notice or link at least
#: every few seconds per process whatever the storm (it was granted at once before 3 December: the follow-up it ran
#: took about a tenth of a storm's CPU from the credits).
FIRST_SLOT_MAX_DEFER_SECONDS = 2.0
#: The longest a slot beyond the first waits for a storm to pass (seconds); then it is taken anyway.
MAX_DEFER_SECONDS = 30.0
#: How often a waiting reservation looks again (seconds). Polled rather than woken, so that release (called by
#: the SDK from outside the event loop's tasks) only has to touch a counter under a lock.
RECHECK_SECONDS = 0.05


class LoanWorkGauge:
    """When the loans' worker recorded its last :data:`STORM_CREDITS` payments (``time.monotonic()`` seconds). One
    per worker process, shared by the loans' worker (which records) and the follow-up worker (which reads)."""

    def __init__(self, credits: int = STORM_CREDITS, window: float = STORM_WINDOW_SECONDS) -> None:
        """``credits`` at least 1 (ValueError otherwise)."""
        if credits < 1:
            raise ValueError(f"credits must be at least 1, not {credits}")
        self.window = window
        self._starts: deque[float] = deque(maxlen=credits)

    def credited(self) -> None:
        """A payment's recording started."""
        self._starts.append(time.monotonic())

    def busy(self) -> bool:
        """Whether the last ``credits`` payments all started within the last ``window`` seconds (a storm)."""
        starts = self._starts
        return len(starts) == starts.maxlen and time.monotonic() - starts[0] < self.window


class _Recording(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, gauge: LoanWorkGauge) -> None:
        super().__init__(next)
        self._gauge = gauge

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if activity.info().activity_type in CREDIT_ACTIVITIES:
            self._gauge.credited()
        return await super().execute_activity(input)


class LoanWorkGaugeInterceptor(Interceptor):
    """Worker interceptor for the loans' worker: records on ``gauge`` each payment it starts recording (activity
    or local activity named in :data:`CREDIT_ACTIVITIES`; a timestamp, nothing else about it is read)."""

    def __init__(self, gauge: LoanWorkGauge) -> None:
        self.gauge = gauge

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Recording(next, self.gauge)


class YieldingSlotSupplier(CustomSlotSupplier):
    """At most ``slots`` activity slots, each granted only while the loans' worker is not crediting a storm
    (``gauge.busy()``) or after waiting ``first_defer`` seconds (the first slot: none held) or ``max_defer`` (a
    further one). ``slots`` must be at least 1 (ValueError otherwise)."""

    def __init__(
        self,
        slots: int,
        gauge: LoanWorkGauge,
        max_defer: float = MAX_DEFER_SECONDS,
        first_defer: float = FIRST_SLOT_MAX_DEFER_SECONDS,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self.slots, self.gauge, self.max_defer, self.first_defer = slots, gauge, max_defer, first_defer
        self._held = 0
        self._lock = threading.Lock()
        self.deferred = 0  # reservations that had to wait with a slot free (tests, and the curious)

    @property
    def held(self) -> int:
        """Slots reserved now (polling or running a task)."""
        return self._held

    def _take(self, waited: float) -> bool:
        with self._lock:
            if self._held >= self.slots:
                return False
            if waited < (self.max_defer if self._held else self.first_defer) and self.gauge.busy():
                return False
            self._held += 1
            return True

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        """Wait for a slot as the class describes; cancellable (the SDK cancels reservations at shutdown)."""
        started = time.monotonic()
        counted = False
        while not self._take(time.monotonic() - started):
            if not counted and self._held < self.slots:
                self.deferred, counted = self.deferred + 1, True
            await asyncio.sleep(RECHECK_SECONDS)
        return SlotPermit()

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        """A slot now, on the same terms without waiting, or None."""
        return SlotPermit() if self._take(0.0) else None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        """Nothing to do: a slot counts from its reservation."""

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        with self._lock:
            self._held = max(self._held - 1, 0)


def followup_worker(
    client: Client,
    settings: Settings,
    activities: list[Any],
    versioned: WorkerDeploymentConfig | None,
    gauge: LoanWorkGauge | None = None,
) -> Worker:
    """The worker of the follow-up task queue (``Settings.followup_task_queue``): the same activities, no workflows,
    at most ``followup_max_concurrent`` at once. A loan's receipts, notices and payment links wait there in the
    server's queue while its payments are credited, and drain as slots free; with Worker Versioning it joins the
    main worker's deployment version, so a versioned loan's follow-up tasks find it. With ``gauge`` (the loans'
    worker's) every slot waits while the loans' worker credits a storm of payments (the first one only briefly)."""
    assert settings.followup_task_queue
    slots: dict[str, Any] = {"max_concurrent_activities": settings.followup_max_concurrent}
    if gauge is not None:
        one = FixedSizeSlotSupplier(1)  # no workflows, local activities or Nexus tasks run here
        slots = {
            "tuner": WorkerTuner.create_composite(
                workflow_supplier=one,
                activity_supplier=YieldingSlotSupplier(settings.followup_max_concurrent, gauge),
                local_activity_supplier=one,
                nexus_supplier=one,
            )
        }
    return Worker(
        client,
        task_queue=settings.followup_task_queue,
        activities=activities,
        **slots,
        graceful_shutdown_timeout=timedelta(seconds=10),
        interceptors=[LogContextInterceptor(), *chaos_interceptors()],
        deployment_config=versioned,
    )
