"""A request that waits on PostgreSQL holds no other request of the API process.

Routes that use the database run in the API's thread pool (``api.deps``): a registration waiting on another
transaction's row (the same phone being inserted, not yet committed) leaves the event loop free, so the health check
and another customer's registration answer at once, and the waiting one completes when the row is released. Were
the route ``async`` with its queries on the loop, every request of the process would wait behind it."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
from sqlalchemy.orm import Session

from db.models import Customer, new_id


def _phone() -> str:
    from los.demo_identities import plain_phone

    while not plain_phone(phone := "9" + "".join(random.choice("0123456789") for _ in range(9))):
        pass
    return phone  # no sandbox scenario reacts to it


async def test_a_registration_waiting_on_a_row_lock_holds_no_other_request(app, brand, db) -> None:  # noqa: ANN001
    phone = _phone()
    with Session(db.engine) as holder:  # another transaction inserting the same customer, not committed yet
        holder.add(Customer(id=new_id(), brand_id=brand["brand_id"], phone=phone))
        holder.flush()
        async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as http:
            register = {"phoneNumber": phone, "brand": brand["brand_code"]}
            waiting = asyncio.create_task(http.post("/api/v1/web/auth/register", json=register))
            await asyncio.sleep(1.5)
            assert not waiting.done(), "the registration should wait for the uncommitted row"

            started = time.monotonic()
            health = await http.get("/health")
            other = await http.post(
                "/api/v1/web/auth/register", json={"phoneNumber": _phone(), "brand": brand["brand_code"]}
            )
            elapsed = time.monotonic() - started
            assert health.status_code == 200, health.text
            assert other.status_code == 201, other.text
            assert elapsed < 5, f"other requests waited {elapsed:.1f} s behind the blocked one"
            assert not waiting.done()

            holder.rollback()  # the row is released: the waiting registration creates the customer
            answer = await asyncio.wait_for(waiting, timeout=20)
    assert answer.status_code == 201, answer.text
    assert answer.json()["customerId"]
