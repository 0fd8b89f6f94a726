"""What every provider adapter shares: its configuration, its error classes and the HTTP call.

Errors are the contract between an adapter and its caller:

- :class:`ProviderError` — a transient fault (timeout, connection error, HTTP 5xx/429/408, an answer that
  is not JSON or lacks what the vendor promises). The Temporal activity lets it propagate so the call is
  retried with backoff, and :func:`activities.providers.failover.call_with_failover` moves on to the brand's
  next vendor for the kind.
- :class:`BusinessRefusal` — the provider answered and the answer is *no* (bad input, an unknown
  reference, a consent that is not approved…). Never retried, never failed over: another vendor would be
  asked the same question. ``code`` carries the vendor's machine-readable reason when it gave one.
- :class:`UnsupportedOperation` — the configured vendor cannot do this at all (e.g. DigiLocker asked to
  verify a PAN). Failover skips it.

Brand configuration (``brand.config["providers"][kind]``) takes two forms; both are accepted everywhere::

    {"bureau": {"vendor": "cibil", "base_url": ..., "api_key": ..., "webhook_secret": ...}}
    {"bureau": [{"vendor": "cibil", "primary": true, "active": true, "base_url": ..., ...},
                {"vendor": "equifax", "base_url": ..., ...}]}

Any other key of a vendor's entry lands in ``ProviderConfig.options`` (e.g. ``timeout_seconds``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from activities.providers import signing
from activities.providers.heartbeat import keep_alive

DEFAULT_TIMEOUT_SECONDS = 20.0
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class ProviderError(Exception):
    """A transient provider fault (timeout, 5xx, 429, malformed answer): the activity retries.

    ``attempts`` is filled by the failover helper when every vendor failed (one dict per vendor tried)."""

    def __init__(self, message: str, *, vendor: str | None = None, status: int | None = None, attempts: Any = ()):
        super().__init__(message)
        self.vendor = vendor
        self.status = status
        self.attempts = tuple(attempts)


class BusinessRefusal(Exception):
    """The provider answered, and the answer is no. Never retried, never failed over.

    ``code`` is the vendor's reason code when it gave one (e.g. ``AADHAAR_INVALID``), ``status`` the HTTP
    status, ``attempts`` the failover record when the refusal came through the failover helper."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        vendor: str | None = None,
        status: int | None = None,
        details: Any = None,
        attempts: Any = (),
    ):
        super().__init__(message)
        self.code = code
        self.vendor = vendor
        self.status = status
        self.details = details
        self.attempts = tuple(attempts)


class UnsupportedOperation(Exception):
    """The configured vendor does not offer this operation; failover tries the next vendor."""


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in {"", "0", "false", "no", "off"}
    return bool(value)


@dataclass(frozen=True)
class ProviderConfig:
    kind: str
    vendor: str
    base_url: str
    api_key: str = ""
    webhook_secret: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    primary: bool = False
    active: bool = True
    # the webhook secret before the last rotation, accepted until ``previous_secret_until`` (ISO 8601 instant):
    # ``activities.providers.signing.previous_secret``
    previous_secret: str = ""
    previous_secret_until: str = ""

    @classmethod
    def _parse(cls, kind: str, entry: Any) -> ProviderConfig:
        if not isinstance(entry, Mapping):
            raise BusinessRefusal(f"{kind} provider config must be an object, got {type(entry).__name__}")
        raw = dict(entry)
        vendor, base_url = raw.pop("vendor", None), raw.pop("base_url", None)
        if not vendor or not base_url:
            raise BusinessRefusal(f"{kind} provider config needs 'vendor' and 'base_url'")
        return cls(
            kind=kind,
            vendor=str(vendor),
            base_url=str(base_url).rstrip("/"),
            api_key=raw.pop("api_key", "") or "",
            webhook_secret=raw.pop("webhook_secret", "") or "",
            primary=_truthy(raw.pop("primary", None), False),
            active=_truthy(raw.pop("active", None), True),
            previous_secret=raw.pop("previous_secret", "") or "",
            previous_secret_until=str(raw.pop("previous_secret_until", "") or ""),
            options=raw,
        )

    @classmethod
    def configured(cls, brand_config: Mapping[str, Any], kind: str) -> list[ProviderConfig]:
        """Every vendor configured for ``kind``, active or not, in the order written."""
        providers = (brand_config or {}).get("providers") or {}
        entry = providers.get(kind) if isinstance(providers, Mapping) else None
        if entry is None:
            return []
        if isinstance(entry, list | tuple):
            return [cls._parse(kind, e) for e in entry]
        single = cls._parse(kind, entry)
        if isinstance(entry, Mapping) and "primary" not in entry:
            single = replace(single, primary=True)  # the only vendor is the primary one
        return [single]

    @classmethod
    def candidates(cls, brand_config: Mapping[str, Any], kind: str) -> list[ProviderConfig]:
        """The vendors to try for ``kind``, in order: active ones only, primary first, then list order.
        (The single-object form is one candidate, primary.) Empty when nothing is configured or active."""
        active = [c for c in cls.configured(brand_config, kind) if c.active]
        return sorted(active, key=lambda c: not c.primary)  # stable: list order among equals

    @classmethod
    def from_brand(cls, brand_config: Mapping[str, Any], kind: str) -> ProviderConfig:
        """The vendor a single call uses: the first candidate (the primary, in the list form)."""
        found = cls.candidates(brand_config, kind)
        if not found:
            raise BusinessRefusal(f"brand has no {kind} provider configured", code="NO_PROVIDER")
        return found[0]

    @classmethod
    def for_vendor(cls, brand_config: Mapping[str, Any], kind: str, vendor: str) -> ProviderConfig:
        """A named vendor's settings, active or not (webhook verification: a vendor switched off after a
        request was sent still calls back for it, and its signature must still verify)."""
        for cfg in cls.configured(brand_config, kind):
            if cfg.vendor == vendor:
                return cfg
        raise BusinessRefusal(f"brand has no {kind} provider {vendor!r} configured", code="NO_PROVIDER")

    @property
    def timeout_seconds(self) -> float | None:
        value = self.options.get("timeout_seconds")
        return float(value) if value is not None else None


def _refusal_code(body: Any) -> str | None:
    """The vendor's reason code from an error body ({"code"}, {"detail": {"code"}}, {"error": {"code"}})."""
    if not isinstance(body, Mapping):
        return None
    for holder in (body, body.get("detail"), body.get("error")):
        if isinstance(holder, Mapping) and isinstance(holder.get("code"), str):
            return holder["code"]
    return None


def _refusal_text(body: Any) -> str:
    """The vendor's code and description from an error body, at most 200 characters; digit runs of 9 or more
    (account, Aadhaar or phone numbers a vendor may echo) masked to their last 4."""
    parts: list[str] = []
    holders = [body, body.get("detail"), body.get("error")] if isinstance(body, Mapping) else [body]
    for holder in holders:
        if isinstance(holder, str):
            parts.append(holder)
        elif isinstance(holder, Mapping):
            for key in ("code", "message", "description", "reason", "error_description"):
                if isinstance(holder.get(key), str):
                    parts.append(holder[key])
    text = "; ".join(dict.fromkeys(p for p in parts if p)) or "refused"
    return re.sub(r"\d{5,}(\d{4})", lambda m: "X" * (len(m.group(0)) - 4) + m.group(1), text)[:200]


def rupees_to_paise(value: Any) -> int:
    """A vendor's rupee amount (int, "45000.50" or a JSON float 45000.5) to integer paise, half-up.
    Floats only ever come from vendors' JSON; they go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_date(value: Any, *formats: str) -> date:
    """A vendor date: ISO ``YYYY-MM-DD`` (or an ISO timestamp) unless other ``formats`` are given."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in formats:
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, fmt).date()
    return date.fromisoformat(text[:10])


class HttpProvider:
    """Base of the vendor adapters: one HTTP call with the errors classified.

    The timeout of every call is the vendor's ``timeout_seconds`` option when configured, else the call's
    own default (20 s)."""

    def __init__(self, http: httpx.AsyncClient, config: ProviderConfig):
        self.http = http
        self.config = config

    #: the header carrying the hex HMAC-SHA256 of a webhook's raw body (adapters that receive webhooks set it)
    signature_header: str = ""

    @property
    def vendor(self) -> str:
        return self.config.vendor

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """Whether ``raw`` (the webhook body, unparsed) carries a valid signature under this vendor's
        ``signature_header`` with the brand's ``webhook_secret`` (constant-time compare)."""
        wanted = self.signature_header.lower()
        given = next((v for k, v in headers.items() if k.lower() == wanted), None) if wanted else None
        return signing.verify(raw, self.config.webhook_secret, given)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        url = f"{self.config.base_url}{path}"
        hdrs = {"Authorization": f"Bearer {self.config.api_key}", **(headers or {})}
        limit = self.config.timeout_seconds or timeout or DEFAULT_TIMEOUT_SECONDS
        vendor = self.config.vendor
        try:
            async with keep_alive(f"waiting for {vendor}"):  # a dead worker shows within the heartbeat timeout
                resp = await self.http.request(
                    method, url, json=json, params=params, files=files, data=data, headers=hdrs, timeout=limit
                )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{vendor}: {type(exc).__name__}: {exc}", vendor=vendor) from exc
        if resp.status_code >= 500 or resp.status_code in TRANSIENT_STATUSES:
            raise ProviderError(f"{vendor}: HTTP {resp.status_code}", vendor=vendor, status=resp.status_code)
        try:
            body = resp.json()
        except ValueError as exc:
            raise ProviderError(f"{vendor}: non-JSON answer", vendor=vendor, status=resp.status_code) from exc
        if resp.status_code >= 400:
            # The message (which reaches the workflow's history and the hold's reason) names the vendor's code and
            # description only: a vendor may echo what it was sent (an account number); the body stays in details.
            raise BusinessRefusal(
                f"{vendor}: HTTP {resp.status_code}: {_refusal_text(body)}",
                code=_refusal_code(body),
                vendor=vendor,
                status=resp.status_code,
                details=body,
            )
        if not isinstance(body, dict):
            raise ProviderError(f"{vendor}: answer is not a JSON object", vendor=vendor, status=resp.status_code)
        return body

    @contextlib.contextmanager
    def reading(self, what: str) -> Iterator[None]:
        """Parse a vendor answer: a missing key or a wrong type is a malformed answer (transient)."""
        try:
            yield
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError) as exc:
            raise ProviderError(f"{self.config.vendor}: malformed {what}: {exc!r}", vendor=self.config.vendor) from exc
