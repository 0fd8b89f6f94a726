"""Dialer vendors (kind ``dialer``): Acefone click-to-call, Stringee callout. ``place_call`` rings the agent and
then the customer through the brand's dialers in failover order (``activities.providers.failover``): the primary
(Acefone) first, the next (Stringee) when the primary is down, times out or refuses our credentials, or has no
extension for this agent. See ``base`` for the statuses and errors, each vendor's module for its documented API,
and docs/dialer.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from activities.providers.dialer.acefone import AcefoneDialer
from activities.providers.dialer.base import Agent, CallEvent, Dialer, mask_number, mask_payload
from activities.providers.dialer.stringee import StringeeDialer
from activities.providers.failover import call_with_failover

KIND = "dialer"

__all__ = [
    "KIND",
    "AcefoneDialer",
    "Agent",
    "CallEvent",
    "Dialer",
    "Placed",
    "StringeeDialer",
    "mask_number",
    "mask_payload",
    "place_call",
]


@dataclass(frozen=True)
class Placed:
    """A call a vendor took: which vendor, the number it rings for the agent, its call id (None until its first
    event when its answer has none), and every vendor tried (``Attempt.as_dict()``)."""

    vendor: str
    agent_number: str
    provider_call_id: str | None
    attempts: list[dict[str, Any]]


async def place_call(
    brand_config: Mapping[str, Any], http: httpx.AsyncClient, agent: Agent, customer_number: str, ref: str
) -> Placed:
    """Ring ``agent`` and bridge ``customer_number`` through the first of the brand's dialers that takes the call.
    Raises ``BusinessRefusal`` (a vendor said no, or no dialer is configured or has an extension for the agent:
    codes ``NO_PROVIDER`` / ``UNSUPPORTED``) or ``ProviderError`` (every dialer down), each with ``attempts``."""

    async def ring(adapter: Any) -> tuple[str, str | None]:
        number = adapter.agent_number(agent)
        return number, await adapter.initiate(number, customer_number, ref)

    result = await call_with_failover(KIND, brand_config, http, ring)
    number, call_id = result.value
    return Placed(result.vendor, number, call_id, result.attempts_as_dicts())
