"""The follow-up worker's slots yield to the loans' worker (``los.followup_worker``): the rules of
``YieldingSlotSupplier`` against a gauge the test sets, and the gauge fed by the interceptor."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from los.followup_worker import LoanWorkGauge, LoanWorkGaugeInterceptor, YieldingSlotSupplier


class Gauge(LoanWorkGauge):
    """A gauge whose quiet time the test sets."""

    def __init__(self, quiet_for: float) -> None:
        super().__init__()
        self.quiet = quiet_for

    def quiet_for(self) -> float:
        return self.quiet


CTX: Any = None  # the suppliers read nothing of the SDK's contexts


async def reserved_within(supplier: YieldingSlotSupplier, seconds: float) -> bool:
    try:
        await asyncio.wait_for(supplier.reserve_slot(CTX), seconds)
        return True
    except TimeoutError:
        return False


async def test_the_first_slot_is_granted_even_while_the_loans_worker_is_busy() -> None:
    supplier = YieldingSlotSupplier(3, Gauge(quiet_for=0.0), quiet=0.5, max_defer=60)
    assert await reserved_within(supplier, 0.5)
    assert supplier.held == 1
    assert not await reserved_within(supplier, 0.3)  # the second waits while busy
    assert supplier.held == 1 and supplier.deferred == 1


async def test_further_slots_are_granted_once_the_loans_worker_is_quiet() -> None:
    gauge = Gauge(quiet_for=0.0)
    supplier = YieldingSlotSupplier(3, gauge, quiet=0.5, max_defer=60)
    await supplier.reserve_slot(CTX)
    waiting = asyncio.create_task(supplier.reserve_slot(CTX))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    gauge.quiet = 0.6
    await asyncio.wait_for(waiting, 1)
    assert supplier.held == 2
    assert await reserved_within(supplier, 0.5)
    assert not await reserved_within(supplier, 0.3)  # never more than the slots, quiet or not
    assert supplier.held == 3


async def test_a_slot_waits_for_quiet_at_most_max_defer() -> None:
    supplier = YieldingSlotSupplier(2, Gauge(quiet_for=0.0), quiet=0.5, max_defer=0.3)
    await supplier.reserve_slot(CTX)
    assert await reserved_within(supplier, 2)  # busy throughout, granted after 0.3 s
    assert supplier.held == 2


async def test_a_released_slot_is_the_first_again() -> None:
    supplier = YieldingSlotSupplier(2, Gauge(quiet_for=0.0), quiet=0.5, max_defer=60)
    await supplier.reserve_slot(CTX)
    waiting = asyncio.create_task(supplier.reserve_slot(CTX))
    await asyncio.sleep(0.2)
    supplier.release_slot(CTX)
    await asyncio.wait_for(waiting, 1)  # nothing held: granted though still busy
    assert supplier.held == 1


def test_try_reserve_grants_on_the_same_terms_without_waiting() -> None:
    gauge = Gauge(quiet_for=0.0)
    supplier = YieldingSlotSupplier(2, gauge, quiet=0.5)
    assert supplier.try_reserve_slot(CTX) is not None
    assert supplier.try_reserve_slot(CTX) is None  # busy
    gauge.quiet = 1.0
    assert supplier.try_reserve_slot(CTX) is not None
    assert supplier.try_reserve_slot(CTX) is None  # full
    supplier.release_slot(CTX)
    supplier.release_slot(CTX)
    supplier.release_slot(CTX)  # one too many: never below nothing
    assert supplier.held == 0


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        YieldingSlotSupplier(0, LoanWorkGauge())


async def test_the_interceptor_marks_each_activity_started() -> None:
    gauge = LoanWorkGauge()
    assert gauge.quiet_for() == float("inf")

    class Next:
        async def execute_activity(self, input: Any) -> str:
            return "done"

    inbound = LoanWorkGaugeInterceptor(gauge).intercept_activity(Next())  # type: ignore[arg-type]
    assert await inbound.execute_activity(None) == "done"  # type: ignore[arg-type]
    assert gauge.quiet_for() < 1
