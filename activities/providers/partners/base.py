"""Partner lenders (NBFCs the brand routes loans to): the adapter interface and what crosses it.

A partner is one module in this package: a subclass of :class:`PartnerAdapter` that maps our application
(:class:`PartnerApplication`) to that lender's payload and headers (``payload``, ``headers``), and its answer back
to a :class:`PartnerDecision` (``parse``). The HTTP call, its error classes (``activities.providers.base``:
``ProviderError`` transient and retried within the partner's SLA, ``BusinessRefusal`` a final no) and the time
limit are here, once. Register the module in :data:`activities.providers.partners.ADAPTERS`, give it a sandbox twin
(``sandbox/partners/``) and it can be configured for a brand (docs/partner-lenders.md).

Money crosses this interface as integer paise and rates as basis points; each adapter converts to its lender's
units (rupees, percent) itself. Later operations of a partnership (co-lending: the partner's share of a booked
loan, repayments reported back) are further methods on the same class, each with its own payload and parse.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from activities.providers.base import (
    TRANSIENT_STATUSES,
    BusinessRefusal,
    HttpProvider,
    ProviderConfig,
    ProviderError,
    _refusal_code,
    _refusal_text,
)


@dataclass(frozen=True)
class PartnerApplication:
    """What we send a partner for its credit decision: our ``reference`` (idempotency key: the partner books once
    per reference), the borrower and the offer it priced (paise, basis points, installments, APR percent)."""

    reference: str
    loan_id: str
    full_name: str
    pan: str
    dob: date | None
    phone: str
    email: str | None
    state: str | None
    pincode: str | None
    bureau_score: int | None
    amount: int
    tenure: int
    repay_unit: str
    annual_rate_bps: int
    fees: int
    gst: int
    net_disbursed: int
    emi: int
    apr: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dob"] = self.dob.isoformat() if self.dob else None
        return data


@dataclass(frozen=True)
class PartnerDecision:
    """The partner's answer: ``accepted`` with its own loan ``partner_reference``, or not with its ``reason``
    (and machine ``code`` when it gave one)."""

    accepted: bool
    partner_reference: str | None = None
    reason: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class PartnerDisbursalStatus:
    """The partner's word on its disbursal of a loan it booked: ``status`` (``domain.partners.disbursal.
    PartnerTxnStatus``: DISBURSED, PENDING, FAILED, UNKNOWN), its ``utr`` once disbursed, the ``amount`` it says it
    disbursed (paise, None when it did not say) and its ``detail`` (a failure reason)."""

    status: str
    utr: str | None = None
    amount: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class DisbursalCallback:
    """A verified disbursal callback: the partner's ``event_id``, our ``reference`` (the booking's idempotency key)
    and its own ``partner_reference``, and what it says (:class:`PartnerDisbursalStatus` fields)."""

    event_id: str
    reference: str
    partner_reference: str | None
    status: str
    utr: str | None = None
    amount: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ResendAnswer:
    """The partner's answer to a re-sent disbursal request: ``accepted`` (it takes the request: its disbursal
    follows, confirmed by its UTR as any other), its own ``status`` word and its ``detail`` (a refusal's reason)."""

    accepted: bool
    status: str | None = None
    detail: str | None = None


class CallbackRejected(ValueError):
    """A disbursal callback refused: ``reason`` is ``signature``, ``stale`` or ``payload`` (what was wrong)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


CALLBACK_WINDOW_SECONDS = 300  # a signed callback older (or newer) than this is refused: a replay


def hmac_hex(secret: str, timestamp: str, raw: bytes) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{raw}"`` under ``secret``: the partners' callback signature scheme."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()


def rupees(paise: int) -> str:
    """Paise as a rupee string with 2 decimals (``123456`` → ``"1234.56"``), what most lenders' JSON takes."""
    sign = "-" if paise < 0 else ""
    return f"{sign}{abs(paise) // 100}.{abs(paise) % 100:02d}"


def percent(bps: int) -> str:
    """Basis points as a percent string with 2 decimals (``1850`` → ``"18.50"``)."""
    return f"{bps // 100}.{bps % 100:02d}"


class PartnerAdapter(HttpProvider):
    """One partner lender's API. Subclasses set ``code``, ``name`` and ``submit_path`` and implement
    ``payload``, ``headers`` and ``parse``; ``submit`` does the rest. For the disbursal of a booked loan they set
    ``status_path`` (``{partner_reference}`` and ``{reference}`` filled in, URL-quoted) and ``callback_headers``
    (the timestamp and signature headers of its callback) and implement ``parse_status`` and
    ``parse_disbursal_callback``; ``disbursal_status`` and ``verify_callback`` do the rest."""

    code: str = ""
    name: str = ""
    submit_path: str = ""
    status_path: str = ""
    resend_path: str = ""  # empty: the partner takes no re-sent disbursal request (its case escalates as before)
    callback_headers: tuple[str, str] = ("X-Partner-Timestamp", "X-Partner-Signature")

    def __init__(self, http: httpx.AsyncClient, config: ProviderConfig):
        super().__init__(http, config)

    def payload(self, app: PartnerApplication) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def headers(self, body: bytes) -> dict[str, str]:
        """The request's auth headers for ``body`` (the exact bytes sent). Default: bearer API key."""
        return {"Authorization": f"Bearer {self.config.api_key}"}

    def parse(self, body: Mapping[str, Any]) -> PartnerDecision:  # pragma: no cover - abstract
        raise NotImplementedError

    def refusal(self, body: Any) -> tuple[str | None, str]:
        """The lender's reason code and text from a 4xx body. Default: the shapes most vendors use
        (``{"code", "message"}``, nested under ``detail`` or ``error``)."""
        return _refusal_code(body), _refusal_text(body)

    async def submit(self, app: PartnerApplication, *, timeout: float) -> PartnerDecision:
        """Ask the partner to book ``app``; its decision. ``timeout`` (seconds): the partner's SLA left, so the
        request never outlives it. ProviderError (retried within the SLA) for a transient fault; a 4xx answer is
        a refusal, returned as a decision (the partner said no), never raised."""
        body = json.dumps(self.payload(app), separators=(",", ":"), sort_keys=True).encode()
        try:
            answer = await self.post_signed(self.submit_path, body, timeout=timeout)
        except BusinessRefusal as no:
            return PartnerDecision(False, reason=str(no), code=no.code)
        with self.reading("decision"):
            return self.parse(answer)

    async def post_signed(self, path: str, body: bytes, *, timeout: float) -> dict[str, Any]:
        """POST ``body`` as is (signatures cover these exact bytes), errors classified as ``HttpProvider.call``."""
        vendor = self.vendor
        headers = {"Content-Type": "application/json", **self.headers(body)}
        try:
            resp = await self.http.post(f"{self.config.base_url}{path}", content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{vendor}: {type(exc).__name__}: {exc}", vendor=vendor) from exc
        if resp.status_code >= 500 or resp.status_code in TRANSIENT_STATUSES:
            raise ProviderError(f"{vendor}: HTTP {resp.status_code}", vendor=vendor, status=resp.status_code)
        try:
            data = resp.json()
        except ValueError as exc:
            raise ProviderError(f"{vendor}: non-JSON answer", vendor=vendor, status=resp.status_code) from exc
        if resp.status_code >= 400:
            code, text = self.refusal(data)
            raise BusinessRefusal(
                f"{vendor}: HTTP {resp.status_code}: {text}",
                code=code,
                vendor=vendor,
                status=resp.status_code,
            )
        if not isinstance(data, dict):
            raise ProviderError(f"{vendor}: answer is not a JSON object", vendor=vendor, status=resp.status_code)
        return data

    # ------------------------------------------------------------------------------ the disbursal of a booked loan
    def parse_status(self, body: Mapping[str, Any]) -> PartnerDisbursalStatus:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse_disbursal_callback(self, body: Mapping[str, Any]) -> DisbursalCallback:  # pragma: no cover - abstract
        raise NotImplementedError

    async def disbursal_status(self, *, partner_reference: str, reference: str, timeout: float = 20.0) -> (
        PartnerDisbursalStatus
    ):
        """Ask the partner's status API about its disbursal of the loan it booked as ``partner_reference`` (our
        ``reference``: the booking's idempotency key). ProviderError for a transient fault, BusinessRefusal for a
        4xx (e.g. it does not know the loan)."""
        path = self.status_path.format(partner_reference=quote(partner_reference, safe=""),
                                       reference=quote(reference, safe=""))  # fmt: skip
        answer = await self.call("GET", path, headers=self.headers(b""), timeout=timeout)
        with self.reading("disbursal status"):
            return self.parse_status(answer)

    @property
    def can_resend(self) -> bool:
        """Whether the partner documents a call to re-send its disbursal request (``resend_path``)."""
        return bool(self.resend_path)

    def resend_payload(self, *, reference: str, partner_reference: str, resend_reference: str, amount: int) -> (
        dict[str, Any]
    ):  # pragma: no cover - abstract
        raise NotImplementedError

    def parse_resend(self, body: Mapping[str, Any]) -> ResendAnswer:  # pragma: no cover - abstract
        raise NotImplementedError

    async def resend_disbursal(
        self, *, reference: str, partner_reference: str, resend_reference: str, amount: int, timeout: float = 20.0
    ) -> ResendAnswer:
        """Re-send the disbursal request of the loan the partner booked as ``partner_reference`` (our ``reference``)
        for ``amount`` paise, carrying ``resend_reference`` in the partner's own idempotency field: the same on
        every retry, so the partner disburses once however often it is asked. ProviderError for a transient fault
        (retried); the partner's 4xx is an answer (not accepted, its reason the detail), never raised."""
        path = self.resend_path.format(partner_reference=quote(partner_reference, safe=""),
                                       reference=quote(reference, safe=""))  # fmt: skip
        payload = self.resend_payload(reference=reference, partner_reference=partner_reference,
                                      resend_reference=resend_reference, amount=amount)  # fmt: skip
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        try:
            answer = await self.post_signed(path, body, timeout=timeout)
        except BusinessRefusal as no:
            return ResendAnswer(False, no.code, str(no)[:300])
        with self.reading("disbursal re-send"):
            return self.parse_resend(answer)

    def verify_callback(self, raw: bytes, headers: Mapping[str, str], now: float | None = None) -> DisbursalCallback:
        """The partner's disbursal callback, verified: ``callback_headers`` carry a Unix timestamp within
        :data:`CALLBACK_WINDOW_SECONDS` of ``now`` and the hex HMAC-SHA256 of ``"{timestamp}.{raw}"`` under the
        partner's ``webhook_secret`` (constant-time compare). CallbackRejected otherwise (``signature``, ``stale``),
        or ``payload`` naming the field for a body that does not read."""
        lower = {k.lower(): v for k, v in headers.items()}
        stamp = lower.get(self.callback_headers[0].lower(), "")
        given = lower.get(self.callback_headers[1].lower(), "")
        secret = self.config.webhook_secret
        if not secret or not stamp.isdigit() or not given:
            raise CallbackRejected("signature", "missing signature, timestamp or secret")
        if not hmac.compare_digest(hmac_hex(secret, stamp, raw), given):
            raise CallbackRejected("signature", "signature does not verify")
        if abs((time.time() if now is None else now) - int(stamp)) > CALLBACK_WINDOW_SECONDS:
            raise CallbackRejected("stale", "timestamp outside the window")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise CallbackRejected("payload", "body: not JSON") from exc
        if not isinstance(body, dict):
            raise CallbackRejected("payload", "body: not a JSON object")
        try:
            event = self.parse_disbursal_callback(body)
        except KeyError as exc:
            raise CallbackRejected("payload", f"{exc.args[0]}: required") from exc
        except (TypeError, ValueError) as exc:
            raise CallbackRejected("payload", f"body: {exc}") from exc
        if not event.event_id or not event.reference or len(event.event_id) > 100 or len(event.reference) > 200:
            raise CallbackRejected("payload", "event id or reference: missing or too long")
        if event.utr is not None and (not event.utr.isalnum() or len(event.utr) > 60):
            raise CallbackRejected("payload", "utr: letters and digits, at most 60")
        return event


def rupee_paise(value: Any) -> int:
    """A rupee amount as lenders write it (``"1234.56"``, ``1234.56`` or ``1234``) → integer paise (exact: the text
    of the number is read, never a float's binary value); ValueError otherwise."""
    text = str(value).strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(f"not a rupee amount: {value!r}")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))
