"""`los demo --scenario multi-nbfc-fallback`: a loan routed across the brand's partner lenders, over the public API
and the sandbox's partner twins (docs/partner-lenders.md).

An admin configures three partners through the settings API (Lendbox cheapest, with a 3-second DECISION SLA;
Kavach Finvest; Navodaya Credit), and the sandbox is told to keep Lendbox silent for this loan only
(``POST /_partners/behaviour``). The borrower applies; once sanctioned the loan is offered to each eligible partner,
tried by APR: Lendbox misses its SLA and is skipped (recorded SLA_BREACHED, with the time it took), Kavach accepts
and books it at its own rate. The borrower then accepts the KFS (now at Kavach's terms), signs, is disbursed and
repays every installment: COMPLETED. The partners the demo switched on are switched off again at the end, so the
brand's other demo journeys run as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from los.demo import DemoError, Driver, Journey, demo_identity, random_account

ADMIN = "ADMIN"
PARTNERS = (  # code, name, rate (bps), fee (bps), DECISION SLA (s), priority
    ("lendbox", "Lendbox", 1600, 100, 3, 10),
    ("kavach", "Kavach Finvest", 1900, 150, 20, 20),
    ("navodaya", "Navodaya Credit", 2200, 200, 20, 30),
)
SANDBOX_SETTINGS = {"lendbox": {"partnerId": "DEMO-PARTNER"}, "navodaya": {"webhookSecret": "sandbox-partner-secret"}}


def partner_body(code: str, name: str, rate: int, fee: int, sla: int, priority: int, base_url: str) -> dict:
    """A partner as the settings API takes it: ₹1,000 to ₹10,00,000 over 1 to 36 installments."""
    settings = {"baseUrl": base_url, "apiKey": f"demo-{code}-key", **SANDBOX_SETTINGS.get(code, {})}
    return {
        "code": code, "name": name, "adapter": code, "active": True, "priority": priority,
        "minAmount": 1_000_00, "maxAmount": 10_00_000_00, "minTenure": 1, "maxTenure": 36,
        "pricing": {"annualRateBps": rate, "processingFeeBps": fee, "processingFeeMin": 0},
        "sla": {"DECISION": sla}, "settings": settings,
    }  # fmt: skip


async def _configure(driver: Driver) -> dict[str, str]:
    """The three partners active with the demo's terms (created the first time): code → partner id."""
    existing = {p["code"]: p for p in await driver.partner(ADMIN, "GET", "/partner-lenders")}
    base_url = str(driver.sandbox.base_url).rstrip("/")
    ids = {}
    for code, name, rate, fee, sla, priority in PARTNERS:
        body = partner_body(code, name, rate, fee, sla, priority, base_url)
        if code in existing:
            saved = await driver.partner(ADMIN, "PUT", f"/partner-lenders/{code}", json=body)
        else:
            saved = await driver.partner(ADMIN, "POST", "/partner-lenders", json=body)
        ids[code] = saved["id"]
    age = [{"fact": "age", "op": ">=", "value": 21, "reason": "younger than 21"}]
    await driver.partner(ADMIN, "PUT", "/partner-lenders/kavach/rules", json={"rules": age, "note": "demo"})
    return ids


async def _switch_off(driver: Driver) -> None:
    base_url = str(driver.sandbox.base_url).rstrip("/")
    for code, name, rate, fee, sla, priority in PARTNERS:
        body = partner_body(code, name, rate, fee, sla, priority, base_url) | {"active": False}
        await driver.partner(ADMIN, "PUT", f"/partner-lenders/{code}", json=body)


async def _routed(driver: Driver, loan_id: str, deadline: float) -> dict[str, Any]:
    """The loan's routing as staff see it, once a partner booked it (DemoError if none does in time)."""
    while time.monotonic() < deadline:
        routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
        if any(a["outcome"] == "ACCEPTED" for a in routing["attempts"]):
            return routing
        await _pause()
    raise DemoError(f"loan {loan_id}: no partner booked it in time (is the brand's routing switched on?)")


async def _pause() -> None:
    await asyncio.sleep(0.25)


async def multi_nbfc_fallback(driver: Driver, index: int) -> Journey:
    """The first partner lender misses its SLA and the next accepts: the loan is booked with it, then COMPLETED."""
    start = time.monotonic()
    deadline = start + driver.timeout
    await _configure(driver)
    try:
        phone, pan = demo_identity(index, "auto")
        j = Journey(phone=phone, pan=pan)
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers, random_account())
        body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
        created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
        j.loan_id, j.workflow_id = created["id"], created["workflowId"]
        # Lendbox keeps this loan waiting past its SLA (the sandbox's switch, for this loan only).
        await driver._ok(
            await driver.sandbox.post(
                "/_partners/behaviour",
                json={"partner": "lendbox", "mode": "timeout", "times": 0, "reference": j.loan_id},
            )
        )
        await driver.complete_kyc(headers, j.loan_id, deadline)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
        if loan["status"] == "UNDER_REVIEW":
            await driver.sanction_via_hierarchy(j.loan_id, "demo: income verified")
        routing = await _routed(driver, j.loan_id, deadline)
        tried = [(a["partnerCode"], a["outcome"]) for a in routing["attempts"]]
        if tried != [("lendbox", "SLA_BREACHED"), ("kavach", "ACCEPTED")]:
            raise DemoError(f"loan {j.loan_id}: routed {tried}, expected Lendbox past its SLA then Kavach")
        await driver.accept_kfs(headers, j.loan_id)
        loan = await driver.wait_for(
            headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
        )
        await driver.sign(headers, j, loan, deadline)
        loan = await driver.disburse(headers, j, deadline)
        journey = await driver.repay(headers, j, loan, deadline, start)
    finally:
        await _switch_off(driver)
        await driver.sandbox.delete("/_partners/behaviour")
    if journey.status != "COMPLETED":
        raise DemoError(f"loan {journey.loan_id} ended {journey.status}")
    return journey


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {
    "multi-nbfc-fallback": multi_nbfc_fallback,
}
