"""The stack's servers restarted under loans in flight, one after another in one run: the Temporal server killed
while the loans are being decided, PostgreSQL shut down hard (crash recovery on start) while they are signed and
disbursed, the API killed just as a burst of payment webhooks leaves the sandbox (which retries undelivered
webhooks, as the gateways do). Every loan completes; every payment is credited once; the money left once; every
ledger balances."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import httpx
import pytest

from los.demo import DemoError, Driver, Journey, demo_identity
from tests.chaos.conftest import ChaosStack
from tests.chaos.invariants import loan_problems, workflow_task_failures
from tests.chaos.patient import patient_driver, pay_until_closed
from tests.conftest import eventually

pytestmark = pytest.mark.chaos

LOANS = 3
TIMEOUT = 240.0


def restart_postgres(stack: ChaosStack, down_for: float = 2.0) -> None:
    """Immediate shutdown of the embedded PostgreSQL (SIGQUIT: no checkpoint, crash recovery at the next start),
    a pause with no database at all, then start it again on the same data, port and socket."""
    assert stack.stack is not None and stack.stack.pg is not None
    server = stack.stack.pg
    pid = server.get_pid()  # type: ignore[attr-defined]
    assert pid, "PostgreSQL is not running"
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)
    time.sleep(down_for)
    server.ensure_postgres_running()  # type: ignore[attr-defined]


async def _apply(driver: Driver, index: int) -> tuple[dict[str, str], Journey, float]:
    phone, pan = demo_identity(index, "auto")
    journey = Journey(phone=phone, pan=pan)
    started = time.monotonic()
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    body = {"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    journey.loan_id, journey.workflow_id = created["id"], created["workflowId"]
    return headers, journey, started


async def test_temporal_then_postgres_then_api_restarted_mid_run(chaos_stack: ChaosStack) -> None:
    driver, transport = await patient_driver(chaos_stack.api, chaos_stack.sandbox, timeout=TIMEOUT)
    applied = asyncio.Barrier(LOANS + 1)
    signed = asyncio.Barrier(LOANS + 1)
    disbursed = asyncio.Barrier(LOANS + 1)
    burst_links: list[str] = []
    api_killed = asyncio.Event()
    pg_back = asyncio.Event()

    barriers = (applied, signed, disbursed)

    async def loan(index: int) -> Journey:
        try:
            return await one_loan(index)
        except BaseException:
            for barrier in barriers:  # the others stop waiting for this one
                await barrier.abort()
            api_killed.set()
            pg_back.set()
            raise

    async def one_loan(index: int) -> Journey:
        headers, journey, started = await _apply(driver, index)
        loan_ids.append(journey.loan_id)
        deadline = started + TIMEOUT
        await applied.wait()  # Temporal is killed now, while the loans are in KYC and the decision
        await driver.complete_kyc(headers, journey.loan_id, deadline)
        detail = await driver.to_signature(headers, journey, deadline)
        await signed.wait()  # PostgreSQL goes down now: the eSign webhooks and the loans' activities meet it
        await driver.sign(headers, journey, detail, deadline)
        await pg_back.wait()  # staff act once it is back (a write the API answered 500 is not sent blindly again)
        loan_now = await driver.disburse(headers, journey, deadline)
        link = await driver.wait_for(
            headers, journey.loan_id, lambda x: x.get("paymentLink") is not None, "first payment link", deadline
        )
        if not link.get("paymentLink"):
            raise DemoError(f"no payment link: {link['status']}")
        await disbursed.wait()
        # The burst: every loan's first installment paid at once; the API is killed before the webhooks arrive.
        url = link["paymentLink"]["url"]
        burst_links.append(link["paymentLink"]["linkId"])
        await driver.pay_link(url)
        await api_killed.wait()
        loan_now = await pay_until_closed(driver, headers, journey.loan_id, deadline, {link["paymentLink"]["linkId"]})
        return await driver.repay(headers, journey, loan_now, deadline, started)

    async def conductor() -> None:
        await applied.wait()
        temporal_restarts = chaos_stack.restarts("temporal")
        chaos_stack.kill("temporal")
        await eventually(lambda: chaos_stack.restarts("temporal") > temporal_restarts, timeout=30)
        await signed.wait()
        await asyncio.to_thread(restart_postgres, chaos_stack)
        pg_back.set()
        await disbursed.wait()
        await eventually(lambda: len(burst_links) == LOANS, timeout=30, interval=0.01)
        api_restarts = chaos_stack.restarts("api")
        chaos_stack.kill("api")
        api_killed.set()
        await eventually(lambda: chaos_stack.restarts("api") > api_restarts, timeout=30)

    loan_ids: list[str] = []
    try:
        results = await asyncio.wait_for(
            asyncio.gather(conductor(), *(loan(i) for i in range(LOANS)), return_exceptions=True), TIMEOUT + 30
        )
    finally:
        await driver.close()
    failed = [repr(r) for r in results if isinstance(r, BaseException)]
    assert not failed, (failed, workflow_task_failures(chaos_stack, loan_ids))
    journeys: list[Journey] = list(results[1:])  # type: ignore[arg-type]

    # A borrower may pay twice while the API is down (the loan, not yet told of the burst payment, offers a new
    # link): every payment the gateway captured is credited once, the extra one kept as the loan's credit. When
    # the held-back payment lands after the rest, the loan waits OVERPAID and staff refund the credit
    # (pay_until_closed): the bank then took the disbursal and that refund.
    problems = {j.loan_id: p for j in journeys if (p := loan_problems(chaos_stack, j.loan_id, "COMPLETED"))}
    assert not problems, problems
    # three installments, or fewer when a second payment made while the API was down paid ahead (an advance to
    # principal re-amortises the rest by tenure): the money is checked above, credited once and all accounted for
    assert all(j.status == "COMPLETED" and 1 <= j.installments_paid <= 3 for j in journeys), [
        (j.status, j.installments_paid) for j in journeys
    ]

    # The burst really met a dead API: its webhooks were refused or unanswered at first, then delivered once.
    hooks = httpx.get(f"{chaos_stack.sandbox}/_webhooks", timeout=10).json()
    burst = [h for h in hooks if any(link in json.dumps(h["payload"]) for link in burst_links)]
    assert burst and all(str(h["status"]).startswith("2") for h in burst), burst
    assert any(h["attempts"] > 1 for h in burst), [(h["vendor"], h["attempts"], h["status"]) for h in burst]
    assert transport.retries > 0  # the client, too, met the restarts
