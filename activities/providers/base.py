"""What every provider adapter shares: its configuration, its error classes and the HTTP call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class ProviderError(Exception):
    """A transient provider fault (timeout, 5xx, malformed answer): the activity retries."""


class BusinessRefusal(Exception):
    """The provider answered, and the answer is no. Never retried."""


@dataclass(frozen=True)
class ProviderConfig:
    kind: str
    vendor: str
    base_url: str
    api_key: str = ""
    webhook_secret: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_brand(cls, brand_config: dict[str, Any], kind: str) -> ProviderConfig:
        try:
            raw = dict(brand_config["providers"][kind])
        except KeyError as exc:
            raise BusinessRefusal(f"brand has no {kind} provider configured") from exc
        return cls(
            kind=kind,
            vendor=raw.pop("vendor"),
            base_url=raw.pop("base_url").rstrip("/"),
            api_key=raw.pop("api_key", ""),
            webhook_secret=raw.pop("webhook_secret", ""),
            options=raw,
        )


class HttpProvider:
    """Base of the vendor adapters: one JSON call with the errors classified."""

    def __init__(self, http: httpx.AsyncClient, config: ProviderConfig):
        self.http = http
        self.config = config

    async def call(
        self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        url = f"{self.config.base_url}{path}"
        hdrs = {"Authorization": f"Bearer {self.config.api_key}", **(headers or {})}
        try:
            resp = await self.http.request(method, url, json=json, headers=hdrs, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.config.vendor}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderError(f"{self.config.vendor}: HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise ProviderError(f"{self.config.vendor}: non-JSON answer") from exc
        if resp.status_code >= 400:
            raise BusinessRefusal(f"{self.config.vendor}: HTTP {resp.status_code}: {body}")
        return body
