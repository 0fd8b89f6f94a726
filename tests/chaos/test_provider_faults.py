"""Providers misbehaving while loans run (docs/sandbox.md "Provider settings and failover", docs/money-out.md):

- a bureau answering 503 for the whole run, an eSign vendor answering garbage, a penny-drop vendor that hangs and
  a KYC vendor that answers slowly: each fault moves to the brand's next vendor (or, slow, is simply waited for),
  the loan completes, and every attempt is on record;
- the bank answering 503 for a while, then once too slowly (after our 5 s timeout): while it is down the loan waits
  visibly (its transfer activity retrying with the bank's error on record) and nothing is sent; once it is back the
  transfer is asked about under the same reference, never sent twice, and the loan disburses and completes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from temporalio.client import Client

from los.demo import DemoError, Journey, demo_identity
from tests.chaos.conftest import ChaosStack
from tests.chaos.invariants import loan_problems
from tests.chaos.patient import patient_driver
from tests.conftest import eventually

pytestmark = pytest.mark.chaos


def drill(stack: ChaosStack, route: str, **body) -> dict:  # noqa: ANN003
    """Start a sandbox drill (``/_faults`` or ``/_chaos/slow``)."""
    resp = httpx.post(f"{stack.sandbox}{route}", json=body, timeout=10)
    resp.raise_for_status()
    return resp.json()


def clear(stack: ChaosStack) -> None:
    httpx.delete(f"{stack.sandbox}/_faults", timeout=10).raise_for_status()
    httpx.delete(f"{stack.sandbox}/_chaos/slow", timeout=10).raise_for_status()


def attempts(stack: ChaosStack, loan_id: str, kind: str) -> list[tuple[str, list]]:
    """(vendor that answered, attempts in order) of each recorded provider call of ``kind`` for the loan."""
    from sqlalchemy import text

    with stack.db() as s:
        rows = s.execute(
            text("SELECT provider, attempts FROM provider_calls WHERE loan_id = :loan AND kind = :kind"),
            {"loan": loan_id, "kind": kind},
        ).all()
    return [(provider, list(tried or [])) for provider, tried in rows]


async def test_providers_down_hanging_slow_or_answering_garbage(chaos_stack: ChaosStack) -> None:
    """Both loans at once (the faults stay on for the whole run, the bank's only for its part of it)."""
    clear(chaos_stack)
    drill(chaos_stack, "/_faults", vendor="cibil", mode="503", times=0)  # the primary bureau down for the whole run
    drill(chaos_stack, "/_faults", vendor="signzy", mode="malformed", times=0)  # the primary eSign answers garbage
    drill(chaos_stack, "/_faults", vendor="razorpay", mode="timeout", times=0, path="/razorpay/fund_accounts")
    drill(chaos_stack, "/_chaos/slow", vendor="digitap", seconds=2, times=0)  # slow, inside the adapters' timeout
    try:
        failover, bank = await asyncio.gather(
            failover_loan(chaos_stack), bank_loan(chaos_stack), return_exceptions=True
        )
    finally:
        clear(chaos_stack)
    for outcome in (failover, bank):
        if isinstance(outcome, BaseException):
            raise outcome


async def failover_loan(chaos_stack: ChaosStack) -> None:
    """A loan through the faulty bureau, eSign, penny drop and KYC vendors: each failover on record."""
    driver, _ = await patient_driver(chaos_stack.api, chaos_stack.sandbox, timeout=200)
    try:
        journey = await driver.journey(*demo_identity(0, "auto"))
    finally:
        await driver.close()
    faults = httpx.get(f"{chaos_stack.sandbox}/_faults", timeout=10).json()
    assert journey.status == "COMPLETED" and journey.installments_paid == 3, journey.as_json()
    assert not loan_problems(chaos_stack, journey.loan_id, "COMPLETED")
    hits = {f["vendor"]: f["hits"] for f in faults}
    assert hits["cibil"] >= 1 and hits["signzy"] >= 1, faults  # the faults were really met

    bureau = attempts(chaos_stack, journey.loan_id, "BUREAU")
    assert bureau and all(provider == "equifax" for provider, _ in bureau), bureau
    tried = [a["vendor"] for a in bureau[0][1]]
    assert tried[:2] == ["cibil", "equifax"] and bureau[0][1][0]["outcome"] == "error", bureau
    with chaos_stack.db() as s:
        from sqlalchemy import text

        esign = s.execute(
            text("SELECT esign_provider, status FROM loan_agreements WHERE loan_id = :loan"), {"loan": journey.loan_id}
        ).one()
    assert tuple(esign) == ("signdesk", "SIGNED"), esign
    penny = attempts(chaos_stack, journey.loan_id, "PENNY_DROP")
    assert penny and penny[0][0] == "cashfree", penny  # Razorpay hung; the adapter gave up at its timeout
    hung = penny[0][1][0]
    assert hung["vendor"] == "razorpay" and hung["outcome"] == "error" and hung["elapsed_ms"] >= 19_000, penny
    kyc = attempts(chaos_stack, journey.loan_id, "PAN")
    assert kyc and kyc[0][0] == "digitap" and kyc[0][1][0]["elapsed_ms"] >= 2_000, kyc  # slow, waited for


async def bank_loan(chaos_stack: ChaosStack) -> None:
    """A loan whose bank is down when it is approved, then slow: a visible wait, then one transfer."""
    driver, _ = await patient_driver(chaos_stack.api, chaos_stack.sandbox, timeout=200)
    try:
        phone, pan = demo_identity(0, "auto")
        journey = Journey(phone=phone, pan=pan)
        started = time.monotonic()
        deadline = started + 200
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )
        journey.loan_id, journey.workflow_id = loan["id"], loan["workflowId"]
        await driver.complete_kyc(headers, loan["id"], deadline)
        detail = await driver.to_signature(headers, journey, deadline)
        await driver.sign(headers, journey, detail, deadline)
        # The bank answers 503 to everything for a while.
        drill(chaos_stack, "/_faults", vendor="idfc", mode="503", times=0)
        down_since = time.monotonic()
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")

        assert chaos_stack.stack is not None
        namespace = chaos_stack.stack.settings.temporal_namespace
        client = await Client.connect(f"127.0.0.1:{chaos_stack.ports['temporal']}", namespace=namespace)
        handle = client.get_workflow_handle(journey.workflow_id)

        async def retrying_visibly() -> list:
            pending = (await handle.describe()).raw_description.pending_activities
            return [
                p
                for p in pending
                if p.activity_type.name == "initiate_disbursal"
                and p.attempt >= 3
                and p.last_failure.application_failure_info.type == "ProviderError"
            ]

        # While the bank is down: the transfer activity retries with the bank's error on record (its type in the
        # clear, its message sealed by the payload codec), the loan is neither failed nor moved on, nothing sent.
        await eventually(retrying_visibly, timeout=45, interval=0.5)
        status = (await driver.loan(headers, loan["id"]))["status"]
        assert status in ("AGREEMENT_SIGNED", "DISBURSAL_PENDING"), status
        taken = httpx.get(f"{chaos_stack.sandbox}/_transfers", params={"loan_id": loan["id"]}, timeout=10).json()
        assert taken == [], taken
        assert time.monotonic() - down_since < 45
        # The bank comes back, slow: its next answer (to the status API or the transfer, whichever the retried
        # attempt asks) comes after our 5 s timeout; the attempt after asks again under the same reference.
        drill(chaos_stack, "/_chaos/slow", vendor="idfc", seconds=8, times=1)
        httpx.delete(f"{chaos_stack.sandbox}/_faults", params={"vendor": "idfc"}, timeout=10).raise_for_status()
        loan_now = await driver.wait_for(
            headers, loan["id"], lambda x: x["status"] in ("DISBURSED", "OVERDUE"), "disbursal", deadline
        )
        if loan_now["status"] not in ("DISBURSED", "OVERDUE"):
            raise DemoError(f"not disbursed: {loan_now['status']}")
        journey = await driver.repay(headers, journey, loan_now, deadline, started)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED", journey.as_json()
    assert not loan_problems(chaos_stack, journey.loan_id, "COMPLETED")
