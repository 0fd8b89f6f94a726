"""Sandbox twins of the partner lenders' disbursal of a loan they booked: each partner's status API in its own shape
and auth (``activities/providers/partners/``: ``status_path``, ``parse_status``) and its signed disbursal callback
(``parse_disbursal_callback``, ``callback_headers``).

A booking (``sandbox.partners``: an approved application) is disbursed :data:`DISBURSE_AFTER` seconds later with a
UTR of its own. Scenario switches:

- ``POST /_partners/disbursals`` ``{"partner", "reference", "status", "afterResend"?}``: the disbursals of
  ``partner`` whose reference contains ``reference`` answer ``status`` (PENDING: held, FAILED, DISBURSED: at once,
  LOST: the partner has no such disbursal, its status API answers 404) until cleared by
  ``DELETE /_partners/disbursals``. A switch holds the booking's first disbursal; one with ``afterResend`` true holds
  only the disbursal a re-send started (a partner that fails again);
- the re-send of a failed or lost disbursal, each partner in its own shape and auth (Kavach
  ``POST /kavach/api/v2/loan-applications/{applicationId}/disbursement/retry`` keyed by ``retryRef``, Navodaya
  ``POST /navodaya/v1/disbursal_requests/{request_id}/redisburse`` keyed by ``redisbursal_id``): the first one starts
  a new disbursal (DISBURSED :data:`DISBURSE_AFTER` seconds later, with a UTR of its own); the same reference again
  answers as the first did and pays nothing more; another reference, or a booking not failed or lost, is 409. Each
  booking counts the calls (``resendCalls``) and the payouts the re-send started (``resendPayouts``, at most 1);
- ``POST /_partners/disbursal-callback`` ``{"partner", "reference", "url"}``: the partner sends its callback for
  that booking (its state now) to ``url``, signed with the partner secret (hex HMAC-SHA256 of ``timestamp.body``),
  retried until a 2xx; the same booking's callback keeps its event id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from activities.providers.partners.base import hmac_hex, rupee_paise, rupees
from activities.providers.partners.navodaya import SIGNATURE_WINDOW_SECONDS, signature
from sandbox.context import Sandbox

DISBURSE_AFTER = 1.0  # seconds from the booking to the partner's disbursal, unless a switch says otherwise
STATUSES = frozenset({"PENDING", "FAILED", "DISBURSED", "LOST"})
UTR_PREFIX = {"lendbox": "LBXD", "kavach": "KVFD", "navodaya": "NAVD"}
HEADERS = {
    "lendbox": ("X-Lendbox-Timestamp", "X-Lendbox-Signature"),
    "kavach": ("X-Kavach-Timestamp", "X-Kavach-Signature"),
    "navodaya": ("X-Navodaya-Timestamp", "X-Navodaya-Signature"),
}


def paise_of(value: Any) -> int:
    """A rupee amount as a lender's request carries it → paise (0 when absent or unreadable: the twin is lenient)."""
    try:
        return rupee_paise(value)
    except ValueError:
        return 0


def _digits(seed: str, n: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**n).zfill(n)


class Book:
    """The twins' bookings (kept in the sandbox's state) and the switches over their disbursal."""

    def __init__(self, sbx: Sandbox, secret: str):
        self.sbx = sbx
        self.secret = secret
        self.items: dict[str, dict[str, Any]] = sbx.state.setdefault("partner_bookings", {})
        self.modes: list[dict[str, str]] = []

    def booked(self, partner: str, reference: str, partner_reference: str, amount: int) -> None:
        """A partner approved ``reference`` as ``partner_reference``: its disbursal of ``amount`` paise follows."""
        key = f"{partner}:{partner_reference}"
        self.items.setdefault(key, {"partner": partner, "reference": reference, "partner_reference": partner_reference,
                                    "amount": amount, "booked_at": time.time()})  # fmt: skip

    def find(self, partner: str, partner_reference: str | None = None, reference: str | None = None) -> dict:
        for item in self.items.values():
            if item["partner"] == partner and (
                item["partner_reference"] == partner_reference or (reference and reference in item["reference"])
            ):
                return item
        raise HTTPException(404, "no such loan")

    def state(self, item: dict[str, Any]) -> tuple[str, str | None]:
        """(status, utr) of a booking's disbursal now: the first one's, or once re-sent the re-sent one's."""
        resent = item.get("resent_at")
        mine = (
            m for m in self.modes
            if m["partner"] == item["partner"] and m["reference"] in item["reference"]
            and bool(m.get("after_resend")) == bool(resent)
        )  # fmt: skip
        due = time.time() - (resent or item["booked_at"]) >= DISBURSE_AFTER
        status = next((m["status"] for m in mine), "DISBURSED" if due else "PENDING")
        seed = item["reference"] + (":resent:utr" if resent else ":utr")
        utr = UTR_PREFIX[item["partner"]] + _digits(seed, 12) if status == "DISBURSED" else None
        return status, utr

    def resend(self, item: dict[str, Any], resend_reference: str) -> None:
        """A re-sent disbursal request for ``item`` under the partner's idempotency ``resend_reference``: the first
        starts a new disbursal, the same reference again changes nothing; 409 for another reference or a booking
        whose disbursal has not failed or been lost."""
        item["resend_calls"] = item.get("resend_calls", 0) + 1
        if item.get("resend_reference"):
            if item["resend_reference"] != resend_reference:
                raise HTTPException(409, "a re-send with another reference was taken")
            return
        status, _ = self.state(item)
        if status not in ("FAILED", "LOST"):
            raise HTTPException(409, f"already_disbursed: the disbursal is {status}")
        item["resend_reference"], item["resent_at"] = resend_reference, time.time()
        item["resend_payouts"] = item.get("resend_payouts", 0) + 1

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        """The booking's disbursal in its partner's own shape (404 when the partner lost it)."""
        status, utr = self.state(item)
        if status == "LOST":
            raise HTTPException(404, "no disbursal for this loan")
        failed = "beneficiary bank rejected the credit" if status == "FAILED" else None
        partner = item["partner"]
        if partner == "lendbox":
            return {"lendbox_loan_id": item["partner_reference"], "status": status, "utr": utr,
                    "amount": rupees(item["amount"]), "reason": failed}  # fmt: skip
        if partner == "kavach":
            kavach = {"DISBURSED": "SUCCESS", "PENDING": "IN_PROGRESS", "FAILED": "FAILED"}[status]
            return {"applicationId": item["partner_reference"], "disbursementStatus": kavach, "utrNumber": utr,
                    "disbursedAmount": float(rupees(item["amount"])), "failureReason": failed}  # fmt: skip
        return {"request_id": item["reference"], "loan_account_number": item["partner_reference"],
                "disbursal_status": status.lower() if status != "PENDING" else "processing", "utr": utr,
                "amount_paise": item["amount"], "failure_reason": failed}  # fmt: skip

    def callback(self, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The booking's callback body in its partner's shape, and its event id (stable per booking and state)."""
        body = self.answer(item)
        status, _ = self.state(item)
        resent = ":resent" if item.get("resent_at") else ""
        event_id = "evt_" + _digits(f"{item['partner']}:{item['reference']}:{status}{resent}", 14)
        partner = item["partner"]
        if partner == "lendbox":
            return {"event_id": event_id, "event": "LOAN_DISBURSAL", "partner_loan_id": item["reference"],
                    "lendbox_loan_id": item["partner_reference"], "data": body}, event_id  # fmt: skip
        if partner == "kavach":
            return {"eventId": event_id, "eventType": "DISBURSEMENT_STATUS", "externalRef": item["reference"],
                    **body}, event_id  # fmt: skip
        return {"event_id": event_id, **body}, event_id


def register(app: FastAPI, sbx: Sandbox, secret: str) -> Book:
    """The three partners' disbursal status endpoints, the callback signers and the switches on ``app``."""
    book = Book(sbx, secret)

    for partner, (stamp_header, signature_header) in HEADERS.items():

        def signer(body: bytes, _s: str, _e: str | None, sh: str = stamp_header, gh: str = signature_header) -> dict:
            stamp = str(int(time.time()))
            return {sh: stamp, gh: hmac_hex(secret, stamp, body)}

        sbx.outbox.sign_with(f"{partner}-disbursal", signer, attempt_header=f"X-{partner.title()}-Attempt")

    @app.get("/lendbox/v1/partner/loans/{loan_id}/disbursal")
    def lendbox_disbursal(loan_id: str, request: Request) -> dict:
        if not request.headers.get("x-api-key") or not request.headers.get("x-partner-id"):
            raise HTTPException(401, "X-Api-Key and X-Partner-Id are required")
        return book.answer(book.find("lendbox", loan_id))

    @app.get("/kavach/api/v2/loan-applications/{application_id}/disbursement")
    def kavach_disbursal(application_id: str, request: Request) -> dict:
        token = request.headers.get("authorization", "")
        if not token.startswith("Bearer ") or len(token) <= len("Bearer "):
            raise HTTPException(401, "bearer token required")
        return book.answer(book.find("kavach", application_id))

    @app.get("/navodaya/v1/disbursal_requests/{request_id}")
    def navodaya_disbursal(request_id: str, request: Request) -> dict:
        stamp = request.headers.get("x-navodaya-timestamp", "")
        given = request.headers.get("x-navodaya-signature", "")
        if not request.headers.get("x-navodaya-key") or not stamp.isdigit():
            raise HTTPException(401, "key and timestamp")
        if abs(time.time() - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
            raise HTTPException(401, "timestamp too old")
        if not hmac.compare_digest(signature(secret, stamp, b""), given):
            raise HTTPException(401, "bad signature")
        return book.answer(book.find("navodaya", reference=request_id))

    @app.post("/kavach/api/v2/loan-applications/{application_id}/disbursement/retry")
    async def kavach_retry(application_id: str, request: Request) -> dict:
        token = request.headers.get("authorization", "")
        if not token.startswith("Bearer ") or len(token) <= len("Bearer "):
            raise HTTPException(401, "bearer token required")
        body = await sbx.json_body(request)
        retry_ref = str(body.get("retryRef") or "")
        if not retry_ref or not body.get("externalRef"):
            raise HTTPException(400, "externalRef and retryRef are required")
        item = book.find("kavach", application_id)
        book.resend(item, retry_ref)
        return {"applicationId": application_id, "retryRef": retry_ref, "disbursementStatus": "IN_PROGRESS"}

    @app.post("/navodaya/v1/disbursal_requests/{request_id}/redisburse")
    async def navodaya_redisburse(request_id: str, request: Request) -> dict:
        raw = await request.body()
        stamp = request.headers.get("x-navodaya-timestamp", "")
        given = request.headers.get("x-navodaya-signature", "")
        if not request.headers.get("x-navodaya-key") or not stamp.isdigit():
            raise HTTPException(401, "key and timestamp")
        if abs(time.time() - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
            raise HTTPException(401, "timestamp too old")
        if not hmac.compare_digest(signature(secret, stamp, raw), given):
            raise HTTPException(401, "bad signature")
        body = await sbx.json_body(request)
        redisbursal_id = str(body.get("redisbursal_id") or "")
        if not redisbursal_id:
            raise HTTPException(400, "redisbursal_id is required")
        item = book.find("navodaya", reference=request_id)
        book.resend(item, redisbursal_id)
        return {"request_id": item["reference"], "redisbursal_id": redisbursal_id, "disbursal_status": "processing"}

    @app.post("/_partners/disbursals")
    async def hold_disbursals(request: Request) -> dict:
        body = await sbx.json_body(request)
        partner, status, reference = body.get("partner"), body.get("status"), str(body.get("reference") or "")
        if partner not in HEADERS:
            raise HTTPException(400, f"partner must be one of {', '.join(HEADERS)}")
        if status not in STATUSES:
            raise HTTPException(400, f"status must be one of {', '.join(sorted(STATUSES))}")
        after = bool(body.get("afterResend"))
        book.modes.insert(0, {"partner": partner, "status": status, "reference": reference, "after_resend": after})
        return book.modes[0]

    @app.get("/_partners/disbursals")
    def list_disbursals() -> dict:
        """The switches in force and every booking with its disbursal's state now."""
        now = time.time()
        return {"modes": list(book.modes), "bookings": [
            {**item, "age": round(now - item["booked_at"], 3), "state": book.state(item)[0],
             "resendCalls": item.get("resend_calls", 0), "resendPayouts": item.get("resend_payouts", 0)}
            for item in book.items.values()
        ]}  # fmt: skip

    @app.delete("/_partners/disbursals")
    def clear_disbursals() -> dict:
        cleared = len(book.modes)
        book.modes.clear()
        return {"cleared": cleared}

    @app.post("/_partners/disbursal-callback")
    async def send_callback(request: Request) -> dict:
        body = await sbx.json_body(request)
        partner, url = body.get("partner"), body.get("url")
        if partner not in HEADERS or not isinstance(url, str) or not url.startswith("http"):
            raise HTTPException(400, "partner and url are required")
        item = book.find(partner, reference=str(body.get("reference") or "") or None)
        payload, event_id = book.callback(item)
        sbx.send_later(f"{partner}-disbursal", url, payload, 0.0, event_id)
        return {"eventId": event_id, "payload": payload}

    return book
