"""The dialer kind: click-to-call bridges (the agent's phone or extension first, then the customer) and the call events
the vendor sends back. What every dialer adapter shares: the :class:`Dialer` protocol, the parsed :class:`CallEvent`,
our call statuses, the HTTP call with the errors classified for failover, the agent's number from the brand's settings,
and the masking of the customer's number.

**Statuses** (``dialer_calls.status``): INITIATED (we asked the vendor) → RINGING → ANSWERED (the customer picked up)
→ one terminal status: COMPLETED (answered, then hung up), MISSED (nobody answered, or the call was ended before
anyone did), BUSY (busy or rejected), FAILED (the call could not be made: invalid number, network, or no vendor took
it). ``db.dialer`` moves a call forward only; a terminal status stays.

**Errors, for failover** (``activities.providers.failover``): a transport error, a time-out, an HTTP 5xx / 408 / 429,
an answer that is not the vendor's JSON — and the vendor refusing *our credentials* (HTTP 401 / 403: the account is
unusable right now, another vendor can still place the call) — are :class:`ProviderError`: the brand's next dialer
takes the call. Any other refusal (a bad number, an agent the vendor does not know) is a :class:`BusinessRefusal`:
another vendor would be asked the same, so it stops there. A vendor with no number for this agent is
:class:`UnsupportedOperation` (skipped).

**Agents.** The number the vendor rings first comes from the vendor's options in the brand's provider settings:
``extension.<staff id>`` or ``extension.<staff email>`` (an Acefone extension / EID, a Stringee agent number). A vendor
that rings an ordinary phone (``phone_fallback``) uses the staff member's phone when no extension is set.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from activities.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    TRANSIENT_STATUSES,
    BusinessRefusal,
    ProviderConfig,
    ProviderError,
    UnsupportedOperation,
)

INITIATED, RINGING, ANSWERED = "INITIATED", "RINGING", "ANSWERED"
COMPLETED, MISSED, BUSY, FAILED = "COMPLETED", "MISSED", "BUSY", "FAILED"
STATUSES = (INITIATED, RINGING, ANSWERED, COMPLETED, MISSED, BUSY, FAILED)
TERMINAL = frozenset({COMPLETED, MISSED, BUSY, FAILED})

EVENT_MAX = 40  # dialer_call_events.event
CALL_ID_MAX = 100  # dialer_calls.provider_call_id
CAUSE_MAX = 60  # dialer_calls.hangup_cause
AGENT_MAX = 30  # dialer_calls.agent_number
URL_MAX = 2000


@dataclass(frozen=True)
class CallEvent:
    """One verified, parsed call event.

    ``event_key``: the vendor's identity of this event (the same on a redelivery), stored once; ``event``: the
    vendor's word for it (at most 40 characters); ``provider_call_id``: the vendor's id of the call; ``ref``: our
    call id as the vendor carries it back (the click-to-call's custom data), or None; ``status``: our status after
    this event (None: it changes none); timings (aware datetimes) and ``duration_seconds`` (talk time) when the event
    states them; ``recording_url`` (http(s) only); ``hangup_cause`` (the vendor's words); ``agent_number`` (the
    extension or number that took the call)."""

    provider: str
    event: str
    event_key: str
    provider_call_id: str | None
    ref: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    recording_url: str | None = None
    hangup_cause: str | None = None
    agent_number: str | None = None


class Dialer(Protocol):
    """A click-to-call vendor."""

    async def initiate(self, agent_number: str, customer_number: str, ref: str) -> str | None:
        """Ask the vendor to ring ``agent_number`` (an extension or phone) and, when the agent answers, to dial
        ``customer_number`` (10 digits, or 91 and 10 digits); ``ref`` (our call id) travels with the call and comes
        back in its events. The vendor's call id when its answer carries one (else the events bring it)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        """Whether a webhook came from the vendor, by the vendor's documented check, with the brand's secret."""
        ...

    def parse_webhook(self, body: Mapping[str, Any]) -> CallEvent:
        """The event in the vendor's documented body; ``domain.errors.ValidationError`` naming the field when a
        field the system uses is missing or malformed."""
        ...


@dataclass(frozen=True)
class Agent:
    """The staff member placing the call, as the vendors' settings name agents."""

    staff_id: str
    email: str | None = None
    phone: str | None = None


def digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def mask_number(number: Any) -> str:
    """A phone number as it is kept: XXXXXX and its last 4 digits."""
    return "XXXXXX" + digits(number)[-4:]


_LONG_DIGITS = re.compile(r"\+?[0-9]{8,}")
_PHONE_LIKE = _LONG_DIGITS
_NUMBER_KEYS = re.compile(
    r"number|phone|mobile|msisdn|alias|caller|callee|destination|customer|actor|^to$|^from$", re.I
)


def _masked(match: re.Match[str]) -> str:
    return "X" * (len(match.group(0)) - 4) + match.group(0)[-4:]


def mask_payload(value: Any, key: str = "") -> Any:
    """A vendor's body as it is stored, phone numbers masked to X's and their last 4 digits: under a key naming a
    number or a party (``call_to_number``, ``customer_no_with_prefix``, ``from`` / ``to``, ``alias``...) every run of
    8 or more digits, JSON integers included; elsewhere a value that is nothing but such a run (``"919876543210"``).
    Ids with separators (``1758782566.8131``, ``call-vn-1-…``), timestamps and short numbers stay as sent."""
    numbery = bool(key) and bool(_NUMBER_KEYS.search(key))
    if isinstance(value, dict):
        return {k: mask_payload(v, k if not numbery else key) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and numbery and len(str(abs(value))) >= 8:
        return mask_payload(str(value), key)
    if isinstance(value, str):
        if numbery:
            return _LONG_DIGITS.sub(_masked, value)
        whole = _PHONE_LIKE.fullmatch(value.strip())
        return _masked(whole) if whole else value
    return value


def indian_number(number: str) -> str:
    """91 and the 10 digits (the form Stringee dials); a number already in another form is kept as digits."""
    d = digits(number)
    return "91" + d if len(d) == 10 else d


def clean(value: Any, max_length: int | None = None) -> str | None:
    """A vendor's value as text: None when absent, empty, or an unfilled template variable (``$recording_url``);
    cut to ``max_length``."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    if not text or text.startswith("$") or text.lower() in ("null", "none", "undefined"):
        return None
    return text[:max_length] if max_length else text


def http_url(value: Any) -> str | None:
    """A recording URL worth keeping: http(s) and at most 2000 characters; anything else (a ``javascript:`` link, a
    path) is dropped rather than shown to staff."""
    text = clean(value)
    if text is None or len(text) > URL_MAX or not re.match(r"https?://[^\s]+$", text, re.I):
        return None
    return text


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison; no secret configured refuses everything."""
    return bool(expected) and given is not None and hmac.compare_digest(expected.encode(), given.strip().encode())


class DialerAdapter:
    """Base of the dialer adapters: the brand's settings for the vendor and one HTTP call classified for failover
    (module docstring)."""

    #: whether the vendor can ring the agent's own phone when no extension is configured
    phone_fallback: bool = False

    def __init__(self, http: httpx.AsyncClient, config: ProviderConfig):
        self.http = http
        self.config = config

    @property
    def vendor(self) -> str:
        return self.config.vendor

    def option(self, name: str) -> str:
        """A required vendor option; missing: a configuration refusal."""
        value = self.config.options.get(name)
        if value is None or value == "":
            raise BusinessRefusal(f"{self.vendor}: option {name!r} is not configured", code="NO_PROVIDER")
        return str(value)

    def agent_number(self, agent: Agent) -> str:
        """The number this vendor rings for ``agent``: ``extension.<staff id>`` or ``extension.<email>`` in the
        vendor's options, else (vendors ringing phones) the staff member's phone. None configured:
        :class:`UnsupportedOperation`, so failover tries the brand's next dialer."""
        options = self.config.options
        for key in (f"extension.{agent.staff_id}", f"extension.{(agent.email or '').lower()}"):
            value = clean(options.get(key), AGENT_MAX)
            if value:
                return value
        if self.phone_fallback and digits(agent.phone):
            return digits(agent.phone)
        raise UnsupportedOperation(f"{self.vendor}: no extension configured for this staff member")

    async def send(self, method: str, path: str, *, json: Any, headers: dict[str, str]) -> tuple[int, Any]:
        """One call to the vendor: (HTTP status, JSON answer). Transport errors, time-outs, 5xx / 408 / 425 / 429,
        401 / 403 (our credentials refused) and non-JSON answers raise :class:`ProviderError`."""
        vendor = self.vendor
        limit = self.config.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        try:
            resp = await self.http.request(
                method, f"{self.config.base_url}{path}", json=json, headers=headers, timeout=limit
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{vendor}: {type(exc).__name__}: {exc}", vendor=vendor) from exc
        if resp.status_code >= 500 or resp.status_code in TRANSIENT_STATUSES:
            raise ProviderError(f"{vendor}: HTTP {resp.status_code}", vendor=vendor, status=resp.status_code)
        if resp.status_code in (401, 403):
            raise ProviderError(
                f"{vendor}: HTTP {resp.status_code}: our credentials were refused",
                vendor=vendor,
                status=resp.status_code,
            )
        try:
            return resp.status_code, resp.json()
        except ValueError as exc:
            raise ProviderError(f"{vendor}: non-JSON answer", vendor=vendor, status=resp.status_code) from exc

    def refused(self, status: int, why: Any, details: Any = None) -> BusinessRefusal:
        """The vendor said no to this call: its reason (at most 200 characters, long digit runs masked)."""
        text = _LONG_DIGITS.sub(_masked, str(why or "refused"))[:200]
        return BusinessRefusal(
            f"{self.vendor}: HTTP {status}: {text}", vendor=self.vendor, status=status, details=mask_payload(details)
        )
