"""What every vendor family of the sandbox shares: its state, id maker, request helpers, the way it
misbehaves, idempotency memory and the webhook outbox (:class:`sandbox.webhooks.Outbox`)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from datetime import UTC, date, datetime
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from sandbox import scenarios
from sandbox.webhooks import Outbox


class Sandbox:
    """One sandbox's shared parts. ``state`` is what the state file keeps; ``hang_for``: seconds a
    "time-out" keeps the caller waiting (it stops as soon as the caller gives up)."""

    def __init__(self, state: dict[str, Any], outbox: Outbox, hang_for: float):
        self.state = state
        self.outbox = outbox
        self.hang_for = hang_for
        self.counter = itertools.count(1)

    @property
    def delay(self) -> float:
        return self.outbox.delay

    @property
    def tasks(self) -> set[asyncio.Task]:
        return self.outbox.tasks

    def send_later(
        self, vendor: str, url: str, payload: dict, after: float | None = None, event_id: str | None = None
    ) -> None:
        """A signed webhook to ``url`` after ``after`` seconds (default: the sandbox's delay), retried."""
        self.outbox.send(vendor, url, payload, after, event_id)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.counter):06d}{secrets.token_hex(4)}"

    @staticmethod
    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @staticmethod
    def today() -> date:
        return datetime.now(UTC).date()

    @staticmethod
    def refuse(status: int, code: str, message: str) -> Any:
        raise scenarios.Refusal(status, code, message)

    @staticmethod
    async def json_body(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "body must be JSON") from exc
        if not isinstance(body, dict):
            raise HTTPException(400, "body must be a JSON object")
        return body

    async def misbehave(self, request: Request, mode: str) -> Response:
        """Answer like a vendor having a bad day: an error status, a time-out (hang until the caller gives
        up, then 504), or a 200 whose body is not what the API promises."""
        if mode == scenarios.TIMEOUT:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.hang_for
            while loop.time() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
            return JSONResponse({"detail": "upstream timed out"}, status_code=504)
        if mode == "malformed":
            return JSONResponse({"unexpected": "shape", "sandbox_fault": "malformed"})
        if mode == "non_json":
            return PlainTextResponse("<html><body>Bad gateway (sandbox)</body></html>", media_type="text/html")
        return JSONResponse({"detail": f"sandbox fault {mode}"}, status_code=int(mode))

    def idempotent(self, key: str | None, scope: str) -> Any:
        return self.state["idempotency"].get(f"{scope}:{key}") if key else None

    def remember(self, key: str | None, scope: str, value: Any) -> Any:
        if key:
            self.state["idempotency"][f"{scope}:{key}"] = value
        return value


def missing(what: str) -> Any:
    raise HTTPException(404, f"{what} not found")
