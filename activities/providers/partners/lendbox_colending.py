"""Lendbox's co-lending lifecycle (split books): the operations after Lendbox has booked a loan (``lendbox.py``),
as a subclass of :class:`~activities.providers.partners.lendbox.Lendbox`, and its signed webhook.

Lendbox's co-lending API reference is shared with partners under agreement and is not published; no public
documentation of it could be found. The operations are those the seed lists for Lendbox's co-lending lifecycle
(loan creation, borrower id, repayment schedule, document upload, eSign, disbursal UTR, credit-order callback,
transaction status, loan status, wallet orders, foreclosure amount, NOC); the paths, field names and the webhook's
signature scheme below are this build's choice, each kept in this module alone so matching the signed specification
touches nothing else. Auth as for booking: ``X-Api-Key`` and ``X-Partner-Id``. Amounts are rupee strings with 2
decimals (:func:`rupees`), rates percent strings, dates ISO (IST).

=====================================================  ==========================================================
call                                                   answer
=====================================================  ==========================================================
``POST /lendbox/v1/colending/borrowers``               ``{"borrower_id"}``
``POST /lendbox/v1/colending/loans``                   ``{"loan_id", "status"}`` (its share, both rates)
``POST .../loans/{id}/documents``                      ``{"document_id"}`` (base64 content, SHA-256)
``POST .../loans/{id}/esign``                          ``{"esign_id", "sign_url", "status"}``; ESIGN callback
``PUT .../loans/{id}/repayment-schedule``              ``{"status": "ACCEPTED", "installments"}``
``POST .../loans/{id}/disbursal``                      ``{"request_id", "status": "PENDING"}``; DISBURSED callback
``POST /lendbox/v1/colending/wallet/orders``           ``{"wallet_order_id", "status"}``; CREDIT_ORDER callback
``GET /lendbox/v1/colending/transactions/{order_id}``  ``{"order_id", "status", "utr"}``
``GET .../loans/{id}``                                 ``{"loan_id", "status", "principal_outstanding"}``
``GET .../loans/{id}/foreclosure?date=``               ``{"foreclosure_amount", "principal", "interest"}``
``GET .../loans/{id}/noc``                             the NOC PDF (``application/pdf``)
=====================================================  ==========================================================

Webhook: every callback is one ``POST`` to ``/api/v1/webhooks/{brandId}/partners/lendbox`` with the JSON
``{"event_id", "event", "partner_loan_id", "lendbox_loan_id", "occurred_at", "data"}`` (``event``: ESIGN,
DISBURSED, CREDIT_ORDER, LOAN_STATUS), headers ``X-Lendbox-Timestamp`` (Unix seconds) and ``X-Lendbox-Signature``
(hex HMAC-SHA256 with the partner's ``webhook_secret`` over ``"{timestamp}.{raw body}"``). A signature older than
:data:`SIGNATURE_WINDOW_SECONDS` is refused (replay); Lendbox retries any non-2xx answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.partners.base import percent, rupees
from activities.providers.partners.lendbox import Lendbox

BASE = "/lendbox/v1/colending"
SIGNATURE_WINDOW_SECONDS = 300
EVENTS = frozenset({"ESIGN", "DISBURSED", "CREDIT_ORDER", "LOAN_STATUS"})


def paise(text: Any) -> int:
    """A rupee amount as Lendbox writes it (``"1234.56"`` or a number) → integer paise; ValueError otherwise."""
    whole, _, frac = str(text).strip().partition(".")
    if not whole.lstrip("-").isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(f"not a rupee amount: {text!r}")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac or "0").ljust(2, "0")))


def sign(secret: str, timestamp: str, raw: bytes) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{raw}"`` with ``secret`` (what ``X-Lendbox-Signature`` carries)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LendboxEvent:
    """A verified callback: its id (idempotency), type, our loan reference and Lendbox's, and its data."""

    event_id: str
    event: str
    partner_loan_id: str
    lendbox_loan_id: str | None
    data: dict[str, Any]


class WebhookRejected(ValueError):
    """A callback refused: ``reason`` is ``signature``, ``stale`` or ``payload`` (what was wrong)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


class LendboxColending(Lendbox):
    """Lendbox with its co-lending operations (each one HTTP call; ProviderError transient, BusinessRefusal a 4xx
    answer) and its webhook's verification (:meth:`parse_callback`)."""

    def _auth(self) -> dict[str, str]:
        return self.headers(b"")

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return await self.post_signed(f"{BASE}{path}", raw, timeout=20.0)

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.call("GET", f"{BASE}{path}", params=params, headers=self._auth())

    async def create_borrower(self, reference: str, borrower: Mapping[str, Any]) -> str:
        """Lendbox's borrower id for our customer (``reference``: idempotent at Lendbox). ``borrower``: name, pan,
        dob (ISO), mobile, email, state, pincode."""
        with self.reading("borrower"):
            return str((await self._post("/borrowers", {"partner_customer_id": reference, **borrower}))["borrower_id"])

    async def create_loan(
        self,
        *,
        reference: str,
        borrower_id: str,
        booking_id: str | None,
        principal: int,
        share: int,
        share_bps: int,
        blended_bps: int,
        lendbox_bps: int,
        tenure: int,
        disbursed_on: date,
        callback_url: str,
    ) -> tuple[str, str]:
        """The co-lent loan at Lendbox: (its loan id, its status). ``principal`` and ``share`` paise (the whole
        loan and Lendbox's part), rates bps (the borrower's blended and Lendbox's own on its share); Lendbox sends
        the loan's callbacks to ``callback_url``."""
        body = {
            "partner_loan_id": reference,
            "borrower_id": borrower_id,
            "lendbox_loan_id": booking_id,
            "principal": rupees(principal),
            "lendbox_share": rupees(share),
            "lendbox_share_percent": percent(share_bps),
            "roi_blended": percent(blended_bps),
            "roi_lendbox": percent(lendbox_bps),
            "tenure_months": tenure,
            "disbursal_date": disbursed_on.isoformat(),
            "callback_url": callback_url,
        }
        with self.reading("loan"):
            answer = await self._post("/loans", body)
            return str(answer["loan_id"]), str(answer.get("status") or "CREATED")

    async def upload_document(self, loan_id: str, doc_type: str, name: str, content: bytes) -> str:
        """Upload one document of the loan (``doc_type``: AGREEMENT, KFS, SCHEDULE); its document id."""
        body = {
            "doc_type": doc_type,
            "file_name": name,
            "sha256": hashlib.sha256(content).hexdigest(),
            "content_base64": base64.b64encode(content).decode(),
        }
        with self.reading("document"):
            return str((await self._post(f"/loans/{loan_id}/documents", body))["document_id"])

    async def start_esign(self, loan_id: str) -> tuple[str, str | None]:
        """Lendbox's own eSign of its co-lending agreement with the borrower: (esign id, signing URL). Its outcome
        arrives by the ESIGN callback."""
        with self.reading("esign"):
            answer = await self._post(f"/loans/{loan_id}/esign", {})
            return str(answer["esign_id"]), answer.get("sign_url")

    async def sync_schedule(self, loan_id: str, lines: list[dict[str, Any]]) -> int:
        """Lendbox's repayment schedule of its share: ``lines`` of {number, due_date (ISO), principal, interest,
        fees} in paise; the number of installments it accepted."""
        body = {
            "installments": [
                {"number": x["number"], "due_date": x["due_date"], "principal": rupees(x["principal"]),
                 "interest": rupees(x["interest"]), "fees": rupees(x.get("fees", 0))}
                for x in lines
            ]
        }  # fmt: skip
        with self.reading("schedule"):
            answer = await self.call("PUT", f"{BASE}/loans/{loan_id}/repayment-schedule", json=body,
                                     headers=self._auth())  # fmt: skip
            return int(answer["installments"])

    async def request_disbursal(self, loan_id: str, amount: int, reference: str) -> str:
        """Ask Lendbox to fund its share (``amount`` paise) of the disbursed loan; its request id. The UTR arrives
        by the DISBURSED callback."""
        with self.reading("disbursal"):
            body = {"amount": rupees(amount), "request_ref": reference}
            return str((await self._post(f"/loans/{loan_id}/disbursal", body))["request_id"])

    async def wallet_order(self, loan_id: str, order_id: str, parts: Mapping[str, int]) -> tuple[str, str]:
        """A credit order to Lendbox's wallet: its part of one repayment (``parts``: principal, interest, fees,
        penal, paise); (wallet order id, status). Idempotent by our ``order_id``."""
        body = {"order_id": order_id, "loan_id": loan_id, "amount": rupees(sum(parts.values())),
                **{k: rupees(v) for k, v in parts.items()}}  # fmt: skip
        with self.reading("wallet order"):
            answer = await self._post("/wallet/orders", body)
            return str(answer["wallet_order_id"]), str(answer["status"])

    async def transaction_status(self, order_id: str) -> dict[str, Any]:
        """A wallet order's status at Lendbox (``{"order_id", "status", "utr"}``)."""
        return await self._get(f"/transactions/{order_id}")

    async def loan_status(self, loan_id: str) -> dict[str, Any]:
        """Lendbox's view of the loan: ``status`` and ``principal_outstanding`` (converted to paise)."""
        answer = await self._get(f"/loans/{loan_id}")
        with self.reading("loan status"):
            return {"status": str(answer["status"]),
                    "principal_outstanding": paise(answer.get("principal_outstanding", "0"))}  # fmt: skip

    async def foreclosure_amount(self, loan_id: str, on: date) -> dict[str, int]:
        """What Lendbox says closes its share on ``on``: total, principal and interest in paise."""
        answer = await self._get(f"/loans/{loan_id}/foreclosure", {"date": on.isoformat()})
        with self.reading("foreclosure"):
            return {"total": paise(answer["foreclosure_amount"]), "principal": paise(answer["principal"]),
                    "interest": paise(answer["interest"])}  # fmt: skip

    async def noc(self, loan_id: str) -> bytes:
        """Lendbox's no-objection certificate for a closed loan (PDF bytes); BusinessRefusal while it is open."""
        url = f"{self.config.base_url}{BASE}/loans/{loan_id}/noc"
        try:
            resp = await self.http.get(url, headers=self._auth(), timeout=20.0)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.vendor}: {type(exc).__name__}", vendor=self.vendor) from exc
        if resp.status_code >= 500:
            raise ProviderError(f"{self.vendor}: HTTP {resp.status_code}", vendor=self.vendor, status=resp.status_code)
        if resp.status_code >= 400 or not resp.content.startswith(b"%PDF"):
            raise BusinessRefusal(f"{self.vendor}: NOC not available (HTTP {resp.status_code})", vendor=self.vendor,
                                  status=resp.status_code)  # fmt: skip
        return resp.content

    def parse_callback(self, raw: bytes, headers: Mapping[str, str], now: float | None = None) -> LendboxEvent:
        """A callback verified and typed. WebhookRejected: ``signature`` (missing or wrong), ``stale`` (timestamp
        outside :data:`SIGNATURE_WINDOW_SECONDS`), ``payload`` (not the documented shape)."""
        low = {k.lower(): v for k, v in headers.items()}
        stamp, given = low.get("x-lendbox-timestamp", ""), low.get("x-lendbox-signature", "")
        secret = self.config.webhook_secret
        if not secret or not stamp.isdigit() or not given:
            raise WebhookRejected("signature", "X-Lendbox-Timestamp and X-Lendbox-Signature are required")
        if not hmac.compare_digest(sign(secret, stamp, raw), given):
            raise WebhookRejected("signature", "X-Lendbox-Signature does not match the body")
        if abs((time.time() if now is None else now) - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
            raise WebhookRejected("stale", f"X-Lendbox-Timestamp is more than {SIGNATURE_WINDOW_SECONDS} s away")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise WebhookRejected("payload", "body is not JSON") from exc
        if not isinstance(body, dict):
            raise WebhookRejected("payload", "body is not a JSON object")
        for name in ("event_id", "event", "partner_loan_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise WebhookRejected("payload", f"{name}: required")
        if body["event"] not in EVENTS:
            raise WebhookRejected("payload", f"event: one of {', '.join(sorted(EVENTS))}")
        data = body.get("data")
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise WebhookRejected("payload", "data: must be an object")
        return LendboxEvent(body["event_id"], body["event"], body["partner_loan_id"], body.get("lendbox_loan_id"),
                            data)  # fmt: skip


#: Adapters with a co-lending lifecycle, by the adapter code a partner is configured with.
COLENDING_ADAPTERS: dict[str, type[LendboxColending]] = {"lendbox": LendboxColending}


def colending_adapter(http: httpx.AsyncClient, code: str, settings: Mapping[str, Any]) -> LendboxColending | None:
    """The co-lending adapter of a partner configured with adapter ``code`` and ``settings`` (base_url, api_key,
    webhook_secret, options); None when that lender has no co-lending API in this build."""
    from activities.providers.base import ProviderConfig

    cls = COLENDING_ADAPTERS.get(code)
    return cls(http, ProviderConfig._parse("partner", {"vendor": code, **settings})) if cls else None
