"""activities.providers.heartbeat: activities heartbeat while they wait on a vendor or the browser, at a third of
their heartbeat timeout, and not at all outside an activity (the API verifying a webhook through an adapter)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.documents import PdfRenderer
from activities.providers import call_with_failover
from activities.providers.base import ProviderConfig
from activities.providers.heartbeat import interval_seconds, keep_alive
from activities.providers.kyc.digitap import DigitapKyc

SLOW = 0.5  # seconds the vendor takes to answer


def _env(heartbeat_timeout: float | None) -> tuple[ActivityEnvironment, list[tuple[Any, ...]]]:
    env = ActivityEnvironment()
    timeout = timedelta(seconds=heartbeat_timeout) if heartbeat_timeout else None
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timeout)
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


def _slow_vendor() -> httpx.AsyncClient:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(SLOW)
        return httpx.Response(200, json={"status": "VALID", "name": "A B", "dob": "1990-01-01"})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_vendor_call_heartbeats_while_the_vendor_answers() -> None:
    env, beats = _env(0.15)  # a beat every 0.05 s
    async with _slow_vendor() as http:
        kyc = DigitapKyc(http, ProviderConfig("kyc", "digitap", "http://vendor.invalid"))
        result = await env.run(kyc.verify_pan, "ABCDE1234F")
    assert result.valid
    assert len(beats) >= 5 and set(beats) == {("waiting for digitap",)}


async def test_failover_beats_once_per_vendor_only_with_a_heartbeat_timeout() -> None:
    brand = {"providers": {"kyc": [{"vendor": "digitap", "base_url": "http://vendor.invalid", "primary": True}]}}
    env, beats = _env(None)
    async with _slow_vendor() as http:
        res = await env.run(call_with_failover, "kyc", brand, http, "verify_pan", "ABCDE1234F")
    assert res.vendor == "digitap"
    assert beats == []  # no heartbeat timeout: nothing to tell the server, no call spent on it
    env, beats = _env(30)
    async with _slow_vendor() as http:
        await env.run(call_with_failover, "kyc", brand, http, "verify_pan", "ABCDE1234F")
    assert beats[0] == ("kyc: digitap",)  # the vendor tried is named first, then the pump while it waits


async def test_nested_blocks_share_one_pump_and_nothing_beats_outside_an_activity() -> None:
    env, beats = _env(0.3)

    async def nested() -> float | None:
        async with keep_alive("outer"), keep_alive("inner"):
            await asyncio.sleep(0.35)
        return interval_seconds()

    assert await env.run(nested) == pytest.approx(0.1)
    assert beats and set(beats) == {("outer",)} and len(beats) <= 6
    async with keep_alive("no activity"):  # the API's process: nothing to do, nothing raised
        await asyncio.sleep(0)
    assert interval_seconds() is None


async def test_the_pdf_renderer_heartbeats_while_it_waits_for_the_browser() -> None:
    env, beats = _env(0.15)
    renderer = PdfRenderer(executable="/nonexistent")

    async def printed(html: str) -> bytes:  # the browser itself is not needed to wait for it
        await asyncio.sleep(0.1)
        return b"%PDF-1.7"

    renderer._pdf = printed  # type: ignore[method-assign]
    await renderer._renders.acquire()  # another document is printing
    asyncio.get_running_loop().call_later(SLOW, renderer._renders.release)
    assert await env.run(renderer.pdf, "<p>agreement</p>") == b"%PDF-1.7"
    assert len(beats) >= 5 and set(beats) == {("printing a PDF",)}
