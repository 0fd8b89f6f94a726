"""The demo driver's footing: its HTTP clients, its errors, and how it reads a loan and waits for it to change.

``los.demo.Driver`` is built on this (customer steps in ``los.demo_customer``, staff steps in ``los.demo_staff``);
the demos and tests import everything from ``los.demo``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from los.seed import DEMO_PASSWORD

TERMINAL = {"COMPLETED", "REJECTED", "EXPIRED", "CANCELLED", "SETTLED", "WRITTEN_OFF"}
# How the driver polls the loan while it waits for the next step, like an app would: soon after it acted
# (most steps follow within a few hundred ms), then less and less often, never slower than POLL_MAX seconds.
POLL_FIRST = 0.05
POLL_GROWTH = 2.0
POLL_MAX = 0.25
# The longest wait a read asks of the API for the loan to change (Prefer: wait=N; the API allows 20 s).
LONG_POLL_SECONDS = 20


class DemoError(RuntimeError):
    """A step the API (or the sandbox) refused, or a wait that ran out of time: the message names the call or the
    loan and what was waited for."""


def kyc_finished(kyc: dict[str, Any]) -> bool:
    """Whether a loan's KYC progress (``GET /web/loans/{id}?include=kyc``'s ``kyc``) has every step's result and waits
    for nothing: what is left is the credit decision."""
    steps, results = kyc.get("steps") or [], kyc.get("results") or {}
    return (
        bool(steps)
        and kyc.get("waitingFor") is None
        and all(results.get(step) not in (None, "WAITING") for step in steps)
    )


class DriverBase:
    """Two HTTP clients (the API, the sandbox's vendor pages) and the loan reads every step waits with.

    ``brand``: the brand code the customer registers with and the staff sign in to; ``password``: the seeded staff's;
    ``timeout``: seconds a journey may take, counted from its start."""

    def __init__(
        self, api_url: str, sandbox_url: str, brand: str = "demo", password: str = DEMO_PASSWORD, timeout: float = 180.0
    ):
        self.api = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=30.0)
        self.sandbox = httpx.AsyncClient(base_url=sandbox_url.rstrip("/"), timeout=30.0)
        self.brand = brand
        self.password = password
        self.timeout = timeout
        self._staff_tokens: dict[str, str] = {}
        self._brand_id = ""  # the staff's brand id, known after the first sign-in
        self._sign_in = asyncio.Lock()  # journeys in flight share one sign-in per role (not one each)
        self._seen: dict[str, tuple[str, dict[str, Any]]] = {}  # loan id -> (ETag, detail) last read by wait_for

    async def close(self) -> None:
        await self.api.aclose()
        await self.sandbox.aclose()

    async def _ok(self, resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            raise DemoError(f"{resp.request.method} {resp.request.url.path} → {resp.status_code}: {resp.text}")
        return resp.json()

    async def loan(self, headers: dict[str, str], loan_id: str, kyc: bool = False) -> dict[str, Any]:
        """The borrower's read of the loan (``kyc``: with its KYC progress, which asks the workflow)."""
        params = {"include": "kyc"} if kyc else None
        return await self._ok(await self.api.get(f"/api/v1/web/loans/{loan_id}", headers=headers, params=params))

    async def wait_for(
        self, headers: dict[str, str], loan_id: str, predicate, what: str, deadline: float
    ) -> dict[str, Any]:
        """Read the loan until ``predicate(loan)`` holds or it ends, as an app waits for its next step: a read sends
        the ``ETag`` of the loan last read (here or by an earlier wait) with ``Prefer: wait=N``, so the API answers
        when the loan changes (or 304 after N seconds) instead of being asked again and again (docs/api.md,
        "Waiting for a loan to change"). Unless the loan last read already satisfies ``predicate`` (or had ended):
        then it is read afresh at once. An API that does not wait is read again after a growing pause, at most
        POLL_MAX. Raises DemoError at ``deadline`` (time.monotonic())."""
        pause = POLL_FIRST
        seen = self._seen.get(loan_id)
        etag = None
        if seen is not None and not predicate(seen[1]) and seen[1]["status"] not in TERMINAL:
            etag = seen[0]
        while time.monotonic() < deadline:
            conditional = dict(headers)
            if etag is not None:
                wait = max(1, min(LONG_POLL_SECONDS, int(deadline - time.monotonic())))
                conditional.update({"If-None-Match": etag, "Prefer": f"wait={wait}"})
            resp = await self.api.get(f"/api/v1/web/loans/{loan_id}", headers=conditional)
            if resp.status_code == 304:
                if "preference-applied" not in resp.headers:
                    await asyncio.sleep(pause)
                    pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            loan = await self._ok(resp)
            etag = resp.headers.get("etag")
            if etag is not None:
                self._seen[loan_id] = (etag, loan)
            if predicate(loan):
                return loan
            if loan["status"] in TERMINAL:
                return loan
            if etag is None:
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
        raise DemoError(f"loan {loan_id}: timed out waiting for {what}")
