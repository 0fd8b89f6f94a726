"""Slow vendors, for the chaos suite (docs/chaos.md): ``POST /_chaos/slow`` makes a vendor answer correctly, but
only after a delay. ``POST /_faults`` (sandbox/app.py) covers the other misbehaviours (5xx, 429, a hang that ends
when the caller gives up, garbage answers); this is the one it lacks: an answer that comes, late.

Like the fault drills, slow drills live in memory only and may be limited to one API key or path prefix."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.context import Sandbox


class _SlowMiddleware:
    """Delays the requests a slow drill matches, then lets the vendor's own route answer."""

    def __init__(self, app: ASGIApp, drills: list[dict[str, Any]], vendors: frozenset[str]):
        self.app = app
        self.drills = drills
        self.vendors = vendors

    def _match(self, scope: Scope) -> dict[str, Any] | None:
        path = scope["path"]
        vendor = path.strip("/").split("/", 1)[0]
        if vendor not in self.vendors:
            return None
        headers = dict(scope.get("headers") or [])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ").strip()
        for drill in self.drills:
            if drill["vendor"] != vendor or (drill.get("api_key") and drill["api_key"] != token):
                continue
            if drill.get("path") and not path.startswith(drill["path"]):
                continue
            drill["hits"] += 1
            if drill["times"] and drill["hits"] >= drill["times"]:
                self.drills.remove(drill)
            return drill
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.drills and (drill := self._match(scope)):
            await asyncio.sleep(drill["seconds"])
        await self.app(scope, receive, send)


def register(app: FastAPI, sbx: Sandbox, vendors: frozenset[str] | None = None) -> None:
    """Add the slow drills' routes and middleware to the sandbox app (``vendors``: the prefixes that may be slowed,
    by default the same as ``POST /_faults`` accepts)."""
    if vendors is None:
        from sandbox.app import VENDOR_PREFIXES

        vendors = VENDOR_PREFIXES
    drills: list[dict[str, Any]] = []
    app.state.slow_drills = drills
    app.add_middleware(_SlowMiddleware, drills=drills, vendors=vendors)

    @app.post("/_chaos/slow")
    async def add_slow(request: Request) -> dict:
        """Make ``vendor`` answer ``seconds`` late (its answer otherwise unchanged) for its next ``times`` calls
        (default 1; 0 = until DELETE /_chaos/slow), optionally only for ``api_key`` and/or paths under ``path``."""
        body = await sbx.json_body(request)
        vendor, seconds, times = str(body.get("vendor", "")), body.get("seconds"), body.get("times", 1)
        if vendor not in vendors:
            raise HTTPException(400, f"vendor must be one of {sorted(vendors)}")
        if not isinstance(seconds, int | float) or not 0 < seconds <= 600:
            raise HTTPException(400, "seconds must be a number in (0, 600]")
        if not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        drill = {
            "id": sbx.new_id("slw"),
            "vendor": vendor,
            "seconds": float(seconds),
            "times": times,
            "hits": 0,
            "api_key": body.get("api_key"),
            "path": body.get("path"),
        }
        drills.append(drill)
        return drill

    @app.get("/_chaos/slow")
    def list_slow() -> list[dict]:
        return drills

    @app.delete("/_chaos/slow")
    def clear_slow(vendor: str | None = None) -> dict:
        before = len(drills)
        drills[:] = [d for d in drills if vendor is not None and d["vendor"] != vendor]
        return {"cleared": before - len(drills)}
