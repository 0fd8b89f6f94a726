"""`los up` keeps its children running: a worker and a sandbox killed with SIGKILL in the middle of a
loan are started again (the rest of the stack never stops) and the loan goes on to closure; a killed
Temporal dev server and API come back too and work flows again."""

from __future__ import annotations

import os
import re
import signal
import time

import httpx
import pytest

from los.demo import Driver, Journey, demo_identity
from tests.conftest import eventually
from tests.e2e.conftest import UpProcess

pytestmark = pytest.mark.e2e

RESTART = r"los\.up: {name} exited with -9 \(SIGKILL\) after \d+ s; restarting in \d+ s \(restart (\d+)\)"


async def killed_and_back(stack: UpProcess, *names: str) -> None:
    """SIGKILL the named children at once, then wait until `los up` has said so and started new ones."""
    pids = {name: stack.pid_of(name) for name in names}
    assert all(pids.values()), pids
    restarts_before = {name: len(re.findall(RESTART.format(name=name), stack.output())) for name in names}
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]

    def all_back() -> bool:
        out = stack.output()
        for name in names:
            if len(re.findall(RESTART.format(name=name), out)) != restarts_before[name] + 1:
                return False
            new = stack.pid_of(name)
            if new is None or new == pids[name]:
                return False
        return True

    await eventually(all_back, timeout=60, interval=0.2)
    assert stack.proc is not None and stack.proc.poll() is None  # `los up` itself never stopped
    for name in names:
        note = (stack.home / "logs" / f"{name}.log").read_text(errors="replace")
        assert re.search(rf"--- los up: {name} exited with -9 \(SIGKILL\)", note), name


async def test_killed_worker_and_sandbox_restart_and_the_loan_in_flight_completes(stack: UpProcess) -> None:
    driver = Driver(stack.api, stack.sandbox)
    try:
        phone, pan = demo_identity(0, "auto")
        journey = Journey(phone=phone, pan=pan)
        started = time.monotonic()
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )
        journey.loan_id, journey.workflow_id = loan["id"], loan["workflowId"]
        await driver.complete_kyc(headers, loan["id"], time.monotonic() + 90)

        detail = await driver.to_signature(headers, journey, time.monotonic() + 60)  # the KFS accepted
        # The sandbox writes its state file shortly after a burst of calls; a SIGKILL before that would
        # lose the eSign docket itself (as a real vendor never would), so kill it once the docket is saved.
        docket = detail["agreement"]["signingUrl"].rstrip("/").rsplit("/", 1)[-1]
        state_file = stack.home / "sandbox-state.json"
        await eventually(lambda: state_file.exists() and docket in state_file.read_text(), timeout=10)

        await killed_and_back(stack, "worker", "sandbox")
        # The API was never down while its neighbours were restarted.
        assert httpx.get(f"{stack.api}/health", timeout=5).status_code == 200

        async def sandbox_up() -> bool:
            try:
                return (await driver.sandbox.get("/gupshup/messages", params={"to": phone})).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(sandbox_up, timeout=30, interval=0.2)
        # Sign, disburse (the bank's webhook comes from the new sandbox), repay: the new worker does the work.
        journey = await driver.carry_on(headers, journey, started)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED" and journey.installments_paid == 3
    statuses = [h["to"] for h in journey.history]
    assert "AGREEMENT_SIGNED" in statuses and "DISBURSED" in statuses


async def test_killed_temporal_and_api_restart_and_work_flows_again(stack: UpProcess) -> None:
    await killed_and_back(stack, "temporal", "api")
    # The API, the Temporal server and a worker reconnected to it: a new loan is decided end to end.
    driver = Driver(stack.api, stack.sandbox)
    try:

        async def api_up() -> bool:
            try:
                return (await driver.api.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(api_up, timeout=60, interval=0.25)
        journey = await driver.journey(*demo_identity(0, "reject"))
    finally:
        await driver.close()
    assert journey.status == "REJECTED"


async def test_worker_killed_while_the_bank_holds_a_transfer_gives_one_transfer(stack: UpProcess) -> None:
    """The bank takes the transfer but has not answered (account 2222…: the sandbox bank records it, then keeps the
    caller waiting) when the worker is SIGKILLed. The restarted worker retries the attempt: it finds the request
    sent, asks the bank's status API instead of sending again, and the loan completes with one transfer."""
    driver = Driver(stack.api, stack.sandbox)
    try:
        phone, pan = demo_identity(0, "auto")
        journey = Journey(phone=phone, pan=pan)
        started = time.monotonic()
        deadline = started + 180
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers, account="22221234567")
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )
        journey.loan_id, journey.workflow_id = loan["id"], loan["workflowId"]
        await driver.complete_kyc(headers, loan["id"], deadline)
        detail = await driver.to_signature(headers, journey, deadline)
        await driver.sign(headers, journey, detail, deadline)
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")

        async def taken() -> list:
            return (await driver.sandbox.get("/_transfers", params={"loan_id": loan["id"]})).json()

        assert len(await eventually(taken, timeout=60, interval=0.05)) == 1
        await killed_and_back(stack, "worker")  # while the bank still keeps the worker's request waiting
        loan_now = await driver.wait_for(
            headers, loan["id"], lambda x: x["status"] in ("DISBURSED", "OVERDUE"), "disbursal", deadline
        )
        assert len(await taken()) == 1  # the money left once
        journey = await driver.repay(headers, journey, loan_now, deadline, started)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED"
