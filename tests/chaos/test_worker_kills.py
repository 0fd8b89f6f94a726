"""The worker dies (os._exit, as a SIGKILL) at every selected kill point while loans run in parallel through the
whole lifecycle — KYC, decision, review, eSign, disbursal, payments, penal charges, settlement, closure — and is
started again each time: every loan ends as it should, the money left once, every payment was credited once, and
every loan's ledger balances."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from los.demo import Driver, Journey, demo_identity
from los.demo_collections import HEAD, MANAGER, _begin, _overdue, _sms_link
from tests.chaos.conftest import ChaosStack
from tests.chaos.invariants import loan_problems, workflow_task_failures
from tests.chaos.patient import patient_driver
from tests.chaos.points import quick_mode, selected_points

pytestmark = pytest.mark.chaos


async def settled(driver: Driver, index: int) -> Journey:
    """An overdue loan settled for 60 % of its principal: proposed by a collection manager, approved by a collection
    head, its link paid by the borrower (``los demo --scenario settlement``, taking a 202 "accepted, in progress"
    as the app would)."""
    headers, j, start, deadline = await _begin(driver, index)
    await _overdue(driver, headers, j, deadline)
    quote = await driver.partner(MANAGER, "GET", f"/loans/{j.loan_id}/foreclosure-quote")
    amount = quote["principal"] * 3 // 5 // 100 * 100
    body = {"amount": amount, "reason": "job loss; one-time settlement offered"}
    await driver.partner(MANAGER, "POST", f"/collection/{j.loan_id}/settlement", json=body)
    await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/settlement/approve", json={"reason": "in policy"})
    await driver.pay_link(await _sms_link(driver, j.phone, "settle loan", deadline))
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan settled", deadline)
    j.status = loan["status"]
    return j


async def test_every_loan_survives_worker_kills_at_every_point(chaos_stack: ChaosStack) -> None:
    points = [str(p) for p in selected_points()]
    quick = quick_mode()
    assert len(points) >= 20, points
    started = time.monotonic()
    driver, transport = await patient_driver(chaos_stack.api, chaos_stack.sandbox, timeout=300 if quick else 600)
    chaos_stack.arm()
    try:
        runs = [driver.journey(*demo_identity(i, "auto")) for i in range(1 if quick else 3)]
        runs.append(driver.journey(*demo_identity(3, "review")))  # the sanction hierarchy (credit_allocation)
        runs.append(settled(driver, 4))
        outcomes = await asyncio.gather(*runs, return_exceptions=True)
    finally:
        chaos_stack.arm(False)
        await driver.close()
    fired = chaos_stack.fired()
    elapsed = time.monotonic() - started
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    with chaos_stack.db() as s:
        mine = [
            r[0]
            for r in s.execute(text("SELECT id::text FROM loans WHERE created_at >= now() - interval '15 minutes'"))
        ]
    assert not failed, (
        f"journeys failed after {elapsed:.0f}s; fired {fired}: {failed}; "
        f"workflow tasks failing: {workflow_task_failures(chaos_stack, mine)}"
    )
    journeys: list[Journey] = list(outcomes)  # type: ignore[arg-type]

    # Every point was reached and killed the worker, which was started again each time.
    assert sorted({point for point, _, _ in fired}) == sorted(points), fired
    assert chaos_stack.worker_restarts() >= len(points)

    problems = {}
    for j in journeys:
        expected = "SETTLED" if j is journeys[-1] else "COMPLETED"
        # every payment the gateway captured credited once (a settled loan: its settlement link's, the only one)
        found = loan_problems(chaos_stack, j.loan_id, expected, None if expected == "COMPLETED" else 1)
        if found:
            problems[j.loan_id] = found
    assert not problems, (problems, fired)
    assert all(j.installments_paid == 3 for j in journeys[:-1]), [j.as_json() for j in journeys]
    print(f"chaos: {len(points)} points, {len(journeys)} loans, {elapsed:.0f}s, {transport.retries} client retries")
