"""The two sides of a due-date storm that ``bench/collections_day.py`` and ``bench/portfolio.py`` share: each loan's
Razorpay ``payment_link.paid`` webhook, signed as Razorpay signs it and sent to the API, and the same number of bare
signals to a null workflow (the baseline of the ratio)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from null_client import wait_until_waiting
from null_workflow import NullInput, NullLoanWorkflow


# ------------------------------------------------------------------------------------------- webhooks
def link_paid_webhook(loan_id: str, link_id: str, url: str, amount: int, phone: str, secret: str) -> tuple[bytes, dict]:
    """The ``payment_link.paid`` event Razorpay sends when the borrower pays the loan's link, signed as Razorpay
    signs it (the sandbox's own builders and signer)."""
    from sandbox import gateway_events, webhooks

    notes = {"loan_id": loan_id, "installment_no": 1, "purpose": "INSTALLMENT"}  # the link's notes (links.py)
    link = {
        "id": link_id,
        "amount": amount,
        "reference_id": f"{loan_id}:1:{amount}",
        "notes": notes,
        "description": "Demo Finance loan installment 1",
        "contact": phone,
    }
    payment_id = "pay_" + uuid.uuid4().hex[:14]
    payment = gateway_events.razorpay_payment(payment_id, amount, phone, notes, "order_" + uuid.uuid4().hex[:14])
    body = json.dumps(gateway_events.razorpay_payment_link_paid(link, payment, url)).encode()
    headers = webhooks.Outbox(secret, 0.0, []).headers("razorpay", body, webhooks.new_event_id())
    return body, headers


async def send_webhooks(
    api_url: str, brand_id: str, hooks: list[tuple[bytes, dict]], concurrency: int
) -> tuple[float, list[tuple[int, str, float]]]:
    """POST every webhook, ``concurrency`` in flight; returns (the wall-clock instant the first was sent, and per
    webhook its HTTP status, answer status and latency in ms)."""

    gate = asyncio.Semaphore(concurrency)
    path = f"/api/v1/webhooks/{brand_id}/razorpay"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=api_url, timeout=120, limits=limits) as http:
        await http.get("/health")  # the connection pool's first connection, outside the measurement

        async def one(body: bytes, headers: dict) -> tuple[int, str, float]:
            async with gate:
                sent = time.perf_counter()
                resp = await http.post(path, content=body, headers=headers)
                ms = (time.perf_counter() - sent) * 1000
                try:
                    answer = resp.json().get("status", "?")
                except ValueError:
                    answer = "?"
                return resp.status_code, str(answer), ms

        first = time.time()
        answers = await asyncio.gather(*(one(body, headers) for body, headers in hooks))
    return first, list(answers)


# ------------------------------------------------------------------------------------------- null side
RESULT_WAITS = 200  # null runs whose end is awaited at once


async def null_signals(client: Any, task_queue: str, n: int, concurrency: int, prefix: str) -> float:
    """N null workflows, each waiting for one signal; sends the N signals ``concurrency`` at a time and returns
    the seconds from the first signal to the last workflow done with its signal."""
    gate = asyncio.Semaphore(concurrency)
    handles = []
    for i in range(n):
        handles.append(
            await client.start_workflow(
                NullLoanWorkflow.run, NullInput(f"{prefix}-{i}", ["S"]), id=f"{prefix}-{i}", task_queue=task_queue
            )
        )

    async def ready(handle: Any) -> None:
        async with gate:
            await wait_until_waiting(handle, 0)

    await asyncio.gather(*(ready(h) for h in handles))

    async def one(handle: Any) -> None:
        async with gate:
            await handle.signal(NullLoanWorkflow.event, "payment")

    # each result() is a long poll on the server until that run closes: a few hundred at a time, as the frontend
    # refuses more than its per-namespace limit of concurrent long polls (1,200 by default)
    waits = asyncio.Semaphore(RESULT_WAITS)

    async def done(handle: Any) -> None:
        async with waits:
            await handle.result()

    started = time.perf_counter()
    await asyncio.gather(*(one(h) for h in handles))
    await asyncio.gather(*(done(h) for h in handles))
    return time.perf_counter() - started
