"""`los demo --scenario NAME`: one named journey over the public API, as a customer, the staff and the sandbox's
vendors would play it. Money out here, each ending COMPLETED; money in (autopay, offline payments, prepayment,
foreclosure, refunds, the cooling-off exit, another gateway) in ``los.demo_money_in``, in the same table.
`los demo --scenario list` prints the names.

The sandbox decides the unhappy branch from the inputs (docs/sandbox.md): the beneficiary's account number (its
first four digits pick a bank scenario), the signer's choice on the eSign page. Nothing here reaches around the
API: a hold is cleared by loan ops through the partner API, a lost bank callback by the reconciler's schedule.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from los.demo import DemoError, Driver, Journey, demo_identity, random_account


def _account(prefix: str) -> str:
    return f"{prefix}{random.randrange(10**6, 10**7)}"  # 11 digits


async def _begin(
    driver: Driver, index: int, account: str, *, product: str = "DEMO-FAST", tenure: int = 3, amount: int = 50_000
) -> tuple[dict[str, str], Journey, float, float]:
    """Register, apply for ``amount`` rupees over ``tenure`` periods of ``product`` with ``account`` as the salary
    account, answer KYC: (headers, journey, start, deadline)."""
    start = time.monotonic()
    deadline = start + driver.timeout
    phone, pan = demo_identity(index, "auto")
    j = Journey(phone=phone, pan=pan)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers, account)
    body = {"amount": str(amount), "tenure": tenure, "productCode": product}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    j.loan_id, j.workflow_id = created["id"], created["workflowId"]
    await driver.complete_kyc(headers, j.loan_id, deadline)
    return headers, j, start, deadline


async def _signed(driver: Driver, headers: dict[str, str], j: Journey, deadline: float) -> dict[str, Any]:
    loan = await driver.to_signature(headers, j, deadline)
    return await driver.sign(headers, j, loan, deadline)


async def _plain(driver: Driver, index: int, prefix: str) -> Journey:
    """The happy path, with a salary account whose bank misbehaves as ``prefix`` says."""
    headers, j, start, deadline = await _begin(driver, index, _account(prefix))
    await _signed(driver, headers, j, deadline)
    loan = await driver.disburse(headers, j, deadline)
    return await driver.repay(headers, j, loan, deadline, start)


async def lost_bank_webhook(driver: Driver, index: int) -> Journey:
    """The bank settles the transfer but its callback never arrives: the reconciler's schedule asks the bank's
    status API once the transfer is past the brand's SLA and settles the loan."""
    return await _plain(driver, index, "1111")


async def bank_timeout(driver: Driver, index: int) -> Journey:
    """The bank takes the transfer but the request times out: the retry asks the bank's status API, finds the
    transfer and waits for it; exactly one transfer at the bank."""
    return await _plain(driver, index, "2222")


async def transfer_failed_then_retried(driver: Driver, index: int) -> Journey:
    """The first transfer fails at the bank ("Beneficiary bank unavailable"): the loan goes back to loan ops with
    the bank's reason; a new approval is a new attempt, which settles."""
    headers, j, start, deadline = await _begin(driver, index, _account("5555"))
    await _signed(driver, headers, j, deadline)
    await driver.staff_action("LOAN_EXECUTIVE", j.loan_id, "approve-disbursal")
    await driver.wait_for(
        headers,
        j.loan_id,
        lambda x: x["status"] == "AGREEMENT_SIGNED" and "failed" in (x["statusHistory"][-1].get("reason") or ""),
        "the failed transfer back with loan ops",
        deadline,
    )
    loan = await driver.disburse(headers, j, deadline)
    return await driver.repay(headers, j, loan, deadline, start)


async def penny_drop_mismatch(driver: Driver, index: int) -> Journey:
    """After signing, the customer makes someone else's account their primary one: the penny drop before the
    transfer finds another name and parks the loan (NEEDS_ATTENTION); the customer adds their own account back and
    loan ops resume the loan, which is verified and disbursed."""
    headers, j, start, deadline = await _begin(driver, index, random_account())
    await _signed(driver, headers, j, deadline)
    await driver.add_account(headers, _account("9999"), primary=True)  # the sandbox's bank holds another name
    await driver.staff_action("LOAN_EXECUTIVE", j.loan_id, "approve-disbursal")
    await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "NEEDS_ATTENTION", "the hold", deadline)
    await driver.add_account(headers, random_account(), primary=True)
    await driver.staff_action("LOAN_EXECUTIVE", j.loan_id, "hold/resume", "the customer corrected the account")
    loan = await driver.wait_for(
        headers, j.loan_id, lambda x: x["status"] in ("DISBURSED", "OVERDUE"), "disbursal", deadline
    )
    return await driver.repay(headers, j, loan, deadline, start)


async def esign_declined_then_resent(driver: Driver, index: int) -> Journey:
    """The signer declines the agreement; the customer asks for a fresh link, which they sign."""
    headers, j, start, deadline = await _begin(driver, index, random_account())
    loan = await driver.to_signature(headers, j, deadline)
    first = loan["agreement"]["docketId"]
    await driver.sign(headers, j, loan, deadline, outcome="DECLINED")
    await driver.wait_for(
        headers,
        j.loan_id,
        lambda x: "declined" in (x["statusHistory"][-1].get("reason") or ""),
        "the decline recorded",
        deadline,
    )
    await driver._ok(await driver.api.post(f"/api/v1/web/loans/{j.loan_id}/agreement/resend", headers=headers))
    loan = await driver.wait_for(
        headers,
        j.loan_id,
        lambda x: x["agreement"] is not None and x["agreement"]["docketId"] != first and x["agreement"]["signingUrl"],
        "a new signing link",
        deadline,
    )
    await driver.sign(headers, j, loan, deadline)
    loan = await driver.disburse(headers, j, deadline)
    return await driver.repay(headers, j, loan, deadline, start)


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {
    "lost-bank-webhook": lost_bank_webhook,
    "bank-timeout": bank_timeout,
    "transfer-failed-then-retried": transfer_failed_then_retried,
    "penny-drop-mismatch": penny_drop_mismatch,
    "esign-declined-then-resent": esign_declined_then_resent,
}

from los import demo_money_in  # noqa: E402 - money-in journeys, same table (they use _begin and _signed above)

SCENARIOS.update(demo_money_in.SCENARIOS)
from los import demo_collections  # noqa: E402 - collections, settlement, write-off and reloan journeys

SCENARIOS.update(demo_collections.SCENARIOS)
SCENARIOS.update(__import__("los.demo_sme").demo_sme.SCENARIOS)  # SME invoice financing (los/demo_sme.py)
from los import demo_partners  # noqa: E402 - partner lenders: routing across NBFCs with fallback

SCENARIOS.update(demo_partners.SCENARIOS)
SCENARIOS.update(__import__("los.demo_colending").demo_colending.SCENARIOS)  # co-lending (los/demo_colending.py)
SCENARIOS.update(__import__("los.demo_partner_sla").demo_partner_sla.SCENARIOS)  # a partner's disbursal past its SLA


def summaries() -> dict[str, str]:
    """Each scenario's name → the first sentence of its docstring, in the order ``los demo --scenario list`` shows."""

    def first_sentence(doc: str | None) -> str:
        text = " ".join((doc or "").split()).replace("``", "")  # reST literals read as plain words on a terminal
        return text.split(": ")[0].split(". ")[0].rstrip(".")

    return {name: first_sentence(fn.__doc__) for name, fn in SCENARIOS.items()}


def describe() -> str:
    """The scenario names, each with the first sentence of its docstring, one per line."""
    return "\n".join(f"{name:30} {summary}" for name, summary in summaries().items())


async def run_scenario(
    api_url: str, sandbox_url: str, name: str, brand: str = "demo", timeout: float = 300.0
) -> Journey:
    """Run scenario ``name`` once, within ``timeout`` seconds; its journey (``DemoError`` when it does not end as
    told)."""
    if name not in SCENARIOS:
        raise DemoError(f"unknown scenario {name!r}; `los demo --scenario list` names them")
    driver = Driver(api_url, sandbox_url, brand, timeout=timeout)
    try:
        return await SCENARIOS[name](driver, random.randrange(10**6))
    finally:
        await driver.close()
