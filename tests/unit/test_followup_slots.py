"""The follow-up worker's slots yield to a storm of credits on the loans' worker (``los.followup_worker``): the
rules of ``YieldingSlotSupplier`` against a gauge the test sets, and the gauge fed by the interceptor."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest

from los.followup_worker import LoanWorkGauge, LoanWorkGaugeInterceptor, YieldingSlotSupplier


class Gauge(LoanWorkGauge):
    """A gauge the test says is busy or not."""

    def __init__(self, busy: bool) -> None:
        super().__init__()
        self.storm = busy

    def busy(self) -> bool:
        return self.storm


CTX: Any = None  # the suppliers read nothing of the SDK's contexts


async def reserved_within(supplier: YieldingSlotSupplier, seconds: float) -> bool:
    try:
        await asyncio.wait_for(supplier.reserve_slot(CTX), seconds)
        return True
    except TimeoutError:
        return False


async def test_the_first_slot_waits_for_a_storm_only_briefly() -> None:
    supplier = YieldingSlotSupplier(3, Gauge(busy=True), max_defer=60, first_defer=0.4)
    started = time.monotonic()
    assert not await reserved_within(supplier, 0.2)  # busy: the first slot waits too
    assert await reserved_within(supplier, 2)  # but no longer than first_defer
    assert time.monotonic() - started >= 0.4
    assert supplier.held == 1
    assert not await reserved_within(supplier, 0.6)  # the second waits while busy, up to max_defer
    assert supplier.held == 1 and supplier.deferred == 3


async def test_the_first_slot_is_granted_at_once_when_no_storm_is_credited() -> None:
    supplier = YieldingSlotSupplier(3, Gauge(busy=False), max_defer=60, first_defer=60)
    assert await reserved_within(supplier, 0.2)
    assert supplier.held == 1 and supplier.deferred == 0


async def test_further_slots_are_granted_once_the_storm_has_passed() -> None:
    gauge = Gauge(busy=True)
    supplier = YieldingSlotSupplier(3, gauge, max_defer=60, first_defer=0)
    await supplier.reserve_slot(CTX)
    waiting = asyncio.create_task(supplier.reserve_slot(CTX))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    gauge.storm = False
    await asyncio.wait_for(waiting, 1)
    assert supplier.held == 2
    assert await reserved_within(supplier, 0.5)
    assert not await reserved_within(supplier, 0.3)  # never more than the slots, storm or not
    assert supplier.held == 3


async def test_a_slot_waits_for_quiet_at_most_max_defer() -> None:
    supplier = YieldingSlotSupplier(2, Gauge(busy=True), max_defer=0.3, first_defer=0)
    await supplier.reserve_slot(CTX)
    assert await reserved_within(supplier, 2)  # busy throughout, granted after 0.3 s
    assert supplier.held == 2


async def test_a_released_slot_is_the_first_again() -> None:
    supplier = YieldingSlotSupplier(2, Gauge(busy=True), max_defer=60, first_defer=0.3)
    await supplier.reserve_slot(CTX)
    waiting = asyncio.create_task(supplier.reserve_slot(CTX))
    await asyncio.sleep(0.5)
    assert not waiting.done()  # a second slot: waits up to max_defer
    supplier.release_slot(CTX)
    await asyncio.wait_for(waiting, 1)  # nothing held now: granted though still busy, first_defer having passed
    assert supplier.held == 1


def test_try_reserve_grants_on_the_same_terms_without_waiting() -> None:
    gauge = Gauge(busy=True)
    supplier = YieldingSlotSupplier(2, gauge)
    assert supplier.try_reserve_slot(CTX) is None  # busy, even for the first
    gauge.storm = False
    assert supplier.try_reserve_slot(CTX) is not None
    gauge.storm = True
    assert supplier.try_reserve_slot(CTX) is None  # busy
    gauge.storm = False
    assert supplier.try_reserve_slot(CTX) is not None
    assert supplier.try_reserve_slot(CTX) is None  # full
    supplier.release_slot(CTX)
    supplier.release_slot(CTX)
    supplier.release_slot(CTX)  # one too many: never below nothing
    assert supplier.held == 0


def test_at_least_one_slot_and_one_credit() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        YieldingSlotSupplier(0, LoanWorkGauge())
    with pytest.raises(ValueError, match="at least 1"):
        LoanWorkGauge(credits=0)


def test_a_storm_is_enough_credits_within_the_window() -> None:
    gauge = LoanWorkGauge(credits=3, window=0.2)
    assert not gauge.busy()
    gauge.credited()
    gauge.credited()
    assert not gauge.busy()  # two payments are no storm
    gauge.credited()
    assert gauge.busy()
    time.sleep(0.25)
    assert not gauge.busy()  # and it passes
    gauge.credited()
    assert not gauge.busy()  # one more after a pause is none either


def test_the_bursts_of_loans_paying_their_installments_are_no_storm_a_due_date_storm_is() -> None:
    # ten loans in flight each paying an installment credit up to ten a second (bench/lifecycle.py): their receipts
    # and next links go at once; a due-date storm credits tens a second (bench/collections_day.py) and holds them back
    gauge = LoanWorkGauge()
    for _ in range(10):
        gauge.credited()
    assert not gauge.busy()
    for _ in range(20):
        gauge.credited()
    assert gauge.busy()


async def test_the_interceptor_counts_only_the_activities_that_credit_a_payment(monkeypatch) -> None:  # noqa: ANN001
    import los.followup_worker as module

    gauge = LoanWorkGauge(credits=1)

    class Next:
        async def execute_activity(self, input: Any) -> str:
            return "done"

    inbound = LoanWorkGaugeInterceptor(gauge).intercept_activity(Next())  # type: ignore[arg-type]
    for name, credits in [("move_status", False), ("send_notice", False), ("record_payment", True)]:
        monkeypatch.setattr(module.activity, "info", lambda name=name: SimpleNamespace(activity_type=name))
        assert await inbound.execute_activity(None) == "done"  # type: ignore[arg-type]
        assert gauge.busy() is credits, name
