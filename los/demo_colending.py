"""`los demo --scenario co-lending`: a loan co-lent 80:20 with Lendbox, over the public API and the sandbox's
Lendbox twin (docs/co-lending.md).

An admin switches Lendbox on as the brand's partner lender (the settings API) and sets the brand's co-lending
agreement with it: Lendbox funds 20 % of each loan's principal at 12 % a year on its share, the brand keeps 80 %
(RBI Co-Lending Arrangements Directions 2025: each lender keeps at least 10 %), fees stay with the brand and penal
charges are shared by principal. The borrower applies; once sanctioned Lendbox books the loan; the borrower accepts
the KFS, signs and is disbursed. The loan is then booked as co-lent: Lendbox gets the borrower, the loan, the signed
agreement, its eSign, its share of the schedule, and funds its share (its UTR arrives by its signed callback). The
borrower repays every installment; each payment is split between the two lenders, and Lendbox's part goes to its
wallet. COMPLETED, then checked: each lender's sub-ledger balances, its principal is repaid, and the two lenders'
collections sum to what the borrower paid. Lendbox is switched off again at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from los.demo import DemoError, Driver, Journey, demo_identity, random_account
from los.demo_partners import partner_body

ADMIN = "ADMIN"
LENDBOX = ("lendbox", "Lendbox", 1600, 100, 20, 10)  # code, name, rate (bps), fee (bps), DECISION SLA (s), priority
AGREEMENT = {"partnerShareBps": 2000, "partnerRateBps": 1200, "feesRule": "ORIGINATOR", "penalRule": "SHARE",
             "minOriginatorShareBps": 1000, "active": True}  # fmt: skip
SECRET = "sandbox-partner-secret"  # noqa: S105 - the sandbox twin's published test secret


def _lendbox(driver: Driver, active: bool = True) -> dict[str, Any]:
    body = partner_body(*LENDBOX, str(driver.sandbox.base_url).rstrip("/"))
    body["settings"] |= {"partnerId": "DEMO-PARTNER", "webhookSecret": SECRET}
    return body | {"active": active}


async def _configure(driver: Driver) -> None:
    existing = {p["code"] for p in await driver.partner(ADMIN, "GET", "/partner-lenders")}
    if "lendbox" in existing:
        await driver.partner(ADMIN, "PUT", "/partner-lenders/lendbox", json=_lendbox(driver))
    else:
        await driver.partner(ADMIN, "POST", "/partner-lenders", json=_lendbox(driver))
    await driver.partner(ADMIN, "PUT", "/co-lending/agreements/lendbox", json=AGREEMENT)


async def _co_lent(driver: Driver, loan_id: str, deadline: float, ready: Callable[[dict], bool], what: str) -> dict:
    """The co-lent loan as staff see it, once ``ready`` (DemoError if not in time)."""
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await driver.partner("LOAN_EXECUTIVE", "GET", f"/co-lending/loans/{loan_id}")
        except DemoError:
            last = None
        if last is not None and ready(last):
            return last
        await asyncio.sleep(0.25)
    raise DemoError(f"loan {loan_id}: {what} not seen in time (last: {last})")


async def _booked(driver: Driver, loan_id: str, deadline: float) -> None:
    """Wait until Lendbox has booked the loan (its routing attempt ACCEPTED)."""
    while time.monotonic() < deadline:
        routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
        tried = [(a["partnerCode"], a["outcome"]) for a in routing["attempts"]]
        if ("lendbox", "ACCEPTED") in tried:
            return
        if tried and all(o != "ACCEPTED" for _, o in tried):
            raise DemoError(f"loan {loan_id}: Lendbox did not book it: {tried}")
        await asyncio.sleep(0.25)
    raise DemoError(f"loan {loan_id}: Lendbox did not book it in time")


def _check(loan: dict[str, Any], paid: int) -> None:
    """Each lender's book balances and is repaid; together they collected what the borrower paid."""
    for side in ("originator", "partner"):
        book = loan[side]
        if not book["balanced"]:
            raise DemoError(f"the {side}'s sub-ledger does not balance: {book['balances']}")
        if book["balances"].get("CL_PRINCIPAL", 0) != 0:
            raise DemoError(f"the {side}'s principal is not repaid: {book['balances']}")
    collected = sum(loan[s]["balances"].get("CL_COLLECTIONS", 0) for s in ("originator", "partner"))
    if collected != paid:
        raise DemoError(f"the lenders collected {collected} paise, the borrower paid {paid}")
    if loan["partner"]["principal"] + loan["originator"]["principal"] != loan["principal"]:
        raise DemoError("the lenders' principal does not sum to the loan's")


async def co_lending(driver: Driver, index: int) -> Journey:
    """A loan co-lent 80:20 with Lendbox, disbursed and repaid: COMPLETED, both lenders' books balanced."""
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
        await driver.complete_kyc(headers, j.loan_id, deadline)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
        if loan["status"] == "UNDER_REVIEW":
            await driver.sanction_via_hierarchy(j.loan_id, "demo: income verified")
        await _booked(driver, j.loan_id, deadline)
        await driver.accept_kfs(headers, j.loan_id)
        loan = await driver.wait_for(
            headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
        )
        await driver.sign(headers, j, loan, deadline)
        loan = await driver.disburse(headers, j, deadline)
        await _co_lent(driver, j.loan_id, deadline, lambda x: bool(x["partnerUtr"]), "Lendbox's funding (UTR)")
        journey = await driver.repay(headers, j, loan, deadline, start)
        if journey.status != "COMPLETED":
            raise DemoError(f"loan {journey.loan_id} ended {journey.status}")
        staff_view = await driver.partner("LOAN_EXECUTIVE", "GET", f"/loans/{j.loan_id}")
        paid = int(staff_view["totalCollectedPaise"])
        split = await _co_lent(
            driver, j.loan_id, deadline,
            lambda x: x["partner"]["balances"].get("CL_PRINCIPAL", 1) == 0, "every payment split",
        )  # fmt: skip
        _check(split, paid)
    finally:
        await driver.partner(ADMIN, "PUT", "/partner-lenders/lendbox", json=_lendbox(driver, active=False))
    return journey


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {"co-lending": co_lending}
