"""A client that behaves as a well-written app does while the system is being broken under it: it sends again
what the API says was not applied (503: "send it again") and what never got an answer (the API restarting), reads
again what was answered 500 (the database restarting), and, for a short while, sends again what the loan refused
because it was still catching up (409 after a 202 "accepted, in progress")."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from los.demo import TERMINAL, Driver, Journey

RETRY_STATUSES = {502, 503, 504}
# A read answered 500 while the database restarts (the API has no 503 for that: docs/chaos.md) is read again.
READ_RETRY_STATUSES = RETRY_STATUSES | {500}
RETRY_FOR = 120.0  # seconds a request keeps being sent again after a 5xx or no answer
CONFLICT_FOR = 30.0  # seconds a 409 is sent again (the loan catching up with an action it accepted)


class PatientTransport(httpx.AsyncBaseTransport):
    """Sends a request again after a 502/503/504, a 409 (for a while) or a transport error; counts what it did."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.retries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        while True:
            waited = time.monotonic() - started
            try:
                response = await self.inner.handle_async_request(request)
            except (httpx.TransportError, OSError):
                if waited > RETRY_FOR:
                    raise
            else:
                statuses = READ_RETRY_STATUSES if request.method in ("GET", "HEAD") else RETRY_STATUSES
                again = response.status_code in statuses and waited < RETRY_FOR
                again |= response.status_code == 409 and waited < CONFLICT_FOR
                if not again:
                    return response
                await response.aread()
                await response.aclose()
            self.retries += 1
            await asyncio.sleep(0.5)

    async def aclose(self) -> None:
        await self.inner.aclose()


class PatientDriver(Driver):
    """The demo driver whose borrower repays as :func:`pay_until_closed` does: a loan left OVERPAID by a payment
    that raced the link superseding it (the worker killed while installments fell due on a compressed-time
    product, then every overdue installment at once) has its credit refunded by staff and completes, where the
    plain demo borrower would wait for a link that never comes."""

    async def repay(
        self, headers: dict[str, str], j: Journey, loan: dict[str, Any], deadline: float, start: float
    ) -> Journey:
        ended = await pay_until_closed(self, headers, j.loan_id, deadline, set())
        return await super().repay(headers, j, ended, deadline, start)


async def patient_driver(api_url: str, sandbox_url: str, timeout: float) -> tuple[Driver, PatientTransport]:
    """The demo driver (a :class:`PatientDriver`), its API calls through a :class:`PatientTransport` (the
    sandbox's as they are)."""
    driver = PatientDriver(api_url, sandbox_url, timeout=timeout)
    transport = PatientTransport()
    await driver.api.aclose()
    driver.api = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=30.0, transport=transport)
    return driver, transport


async def pay_until_closed(
    driver: Driver, headers: dict[str, str], loan_id: str, deadline: float, paid: set[str]
) -> dict:
    """Pay each payment link the loan offers until it ends, as a borrower would: a link the loan cancelled just
    before it was paid (it offered a newer one) is refused by the gateway, and the newer one is paid instead.
    A payment that reached the loan after the rest were paid (a webhook held back while the API was down, or a
    link paid while the loan was superseding it) leaves it OVERPAID with that credit: staff refund whatever is
    refundable, as a lender would (``refund_credit``), again if more credit lands after a refund, and the loan
    completes. ``paid``: link ids already paid (grows). The loan as it ended."""
    while time.monotonic() < deadline:
        loan = await driver.loan(headers, loan_id)
        if loan["status"] in TERMINAL:
            return loan
        if loan["status"] == "OVERPAID":
            credit = await driver.partner("LOAN_EXECUTIVE", "GET", f"/loans/{loan_id}/refunds")
            if credit["refundablePaise"] > 0:  # (none while a refund of all of it is still open)
                await refund_credit(driver, loan_id)
        link = loan.get("paymentLink")
        if link and link["linkId"] not in paid:
            paid.add(link["linkId"])
            await driver.sandbox.get(link["url"])
            answer = await driver.sandbox.post(link["url"])
            if answer.status_code != 400:  # 400: cancelled at the gateway (superseded): pay the next one
                answer.raise_for_status()
        await asyncio.sleep(0.2)
    raise AssertionError(f"loan {loan_id} not closed in time")


async def refund_credit(driver: Driver, loan_id: str) -> dict:
    """An OVERPAID loan's credit balance refunded as staff do it: a loan executive asks for the refund, a collection
    manager (a different person: maker-checker) approves it; the bank's transfer then settles it and the loan
    completes. The refund as asked."""
    asked = await driver.partner(
        "LOAN_EXECUTIVE", "POST", f"/loans/{loan_id}/refunds", json={"reason": "payment credited after the last"}
    )
    await driver.partner("COLLECTION_MANAGER", "POST", f"/refunds/{asked['id']}/approve")
    return asked
