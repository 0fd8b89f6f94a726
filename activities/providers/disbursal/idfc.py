"""IDFC FIRST Bank transfers (disbursal to the borrower's account), its status API, and the webhook that settles
them.

IDFC FIRST Bank's corporate payout API (request, status enquiry, callback) is not published: its API banking
documentation is given to customers at onboarding. The adapter follows the closest public, documented bank
payout API — RazorpayX Payouts (a current-account payout rail of Indian partner banks) — under IDFC's own header
names:

- transfer: ``POST /v1/payouts`` (sandbox: ``/idfc/v1/payouts``), RazorpayX's composite payout to a bank
  account (https://razorpay.com/docs/api/x/payout-composite/create/bank-account): ``{account_number (our debit
  account), amount (paise), currency "INR", mode IMPS | NEFT | RTGS, purpose "payout", fund_account:
  {account_type "bank_account", bank_account: {name, ifsc, account_number}, contact: {name, email, contact,
  type "customer", reference_id}}, queue_if_low_balance, reference_id, narration, notes}``, with the idempotency
  key in ``X-Payout-Idempotency`` (https://razorpay.com/docs/api/x/payout-idempotency/make-request: 4-36
  characters; the same key and body return the same payout). Both ``reference_id`` and the idempotency key are
  our reference (:func:`payout_reference` of the idempotency key); ``notes.loan_id`` is the loan.
- status: ``GET /v1/payouts?account_number=…&reference_id=…`` (https://razorpay.com/docs/api/x/payouts/fetch-all);
  an empty collection is NOT_FOUND; payout states (https://razorpay.com/docs/x/payouts/states-life-cycle)
  ``processed`` → SUCCESS, ``failed`` / ``reversed`` / ``rejected`` / ``cancelled`` → FAILED (the reason from
  ``status_details.description``, https://razorpay.com/docs/x/payouts/status-details), others PENDING.
- callback (https://razorpay.com/docs/webhooks/payouts/, validation
  https://razorpay.com/docs/webhooks/validate-test/): body ``{"entity": "event", "account_id", "event",
  "contains": ["payout"], "payload": {"payout": {"entity": <payout>}}, "created_at"}``; ``X-IDFC-Event-Id``: the
  event's id; ``X-IDFC-Signature``: hex HMAC-SHA256 of the raw body; non-2xx answers are retried with backoff.
  ``payout.processed`` settles the transfer (SUCCESS, with the UTR); ``payout.failed``, ``payout.reversed`` and
  ``payout.rejected`` fail it (FAILED, with the bank's reason); other payout events are stored only.

The webhook address is set at onboarding (RazorpayX: on the dashboard); the sandbox reads it from the
``X-Callback-Url`` header. Config: ``api_key`` (bearer), ``webhook_secret``, option ``account_number`` (our
debit account at the bank).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider
from activities.providers.disbursal.base import (
    BankTransferState,
    Beneficiary,
    Transfer,
    TransferMode,
    TransferStatusAnswer,
)
from activities.providers.signing import SIGNATURE_HEADERS
from domain.outcomes import TransferStatus
from workflows.contracts import DisbursalEvent

PAYOUTS = "/idfc/v1/payouts"
EVENT_ID_HEADER = "X-IDFC-Event-Id"
IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
CALLBACK_URL_HEADER = "X-Callback-Url"
OUTCOMES = {"payout.processed": TransferStatus.SUCCESS, "payout.failed": TransferStatus.FAILED,
            "payout.reversed": TransferStatus.FAILED, "payout.rejected": TransferStatus.FAILED}  # fmt: skip
STATES = {"processed": BankTransferState.SUCCESS, "failed": BankTransferState.FAILED,
          "reversed": BankTransferState.FAILED, "rejected": BankTransferState.FAILED,
          "cancelled": BankTransferState.FAILED, "queued": BankTransferState.PENDING,
          "pending": BankTransferState.PENDING, "scheduled": BankTransferState.PENDING,
          "processing": BankTransferState.PENDING}  # fmt: skip
REASON_MAX = 255


def payout_reference(idempotency_key: str) -> str:
    """Our reference at the bank (``reference_id`` and ``X-Payout-Idempotency``: 4-36 letters, digits, ``-``,
    ``_`` or spaces): the key itself when it fits, else a digest of it."""
    if re.fullmatch(r"[A-Za-z0-9_\- ]{4,36}", idempotency_key):
        return idempotency_key
    return "ref_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def failure_reason(payout: Mapping[str, Any]) -> str:
    """The bank's words for a failed payout: ``status_details.description``, else the older ``failure_reason``."""
    details = payout.get("status_details")
    text = details.get("description") if isinstance(details, Mapping) else None
    return str(text or payout.get("failure_reason") or f"payout {payout.get('status')}")[:REASON_MAX]


class IdfcDisbursal(HttpProvider):
    signature_header = SIGNATURE_HEADERS["idfc"]

    def _account(self) -> str:
        account = self.config.options.get("account_number")
        if not account:
            raise BusinessRefusal("idfc: option 'account_number' is not configured", code="NOT_CONFIGURED")
        return str(account)

    async def transfer(
        self,
        *,
        amount: int,
        reference_id: str,
        beneficiary: Beneficiary,
        mode: TransferMode,
        callback_url: str,
        idempotency_key: str,
    ) -> Transfer:
        reference = payout_reference(idempotency_key)
        contact = {"name": beneficiary.name, "type": "customer", "reference_id": reference_id}
        contact.update({k: v for k, v in (("email", beneficiary.email), ("contact", beneficiary.phone)) if v})
        body = await self.call(
            "POST",
            PAYOUTS,
            json={
                "account_number": self._account(),
                "amount": amount,
                "currency": "INR",
                "mode": mode.value,
                "purpose": "payout",
                "fund_account": {
                    "account_type": "bank_account",
                    "bank_account": {
                        "name": beneficiary.name,
                        "ifsc": beneficiary.ifsc,
                        "account_number": beneficiary.account_number,
                    },
                    "contact": contact,
                },
                "queue_if_low_balance": True,
                "reference_id": reference,
                "narration": "Loan disbursal",
                "notes": {"loan_id": reference_id},
            },
            headers={IDEMPOTENCY_HEADER: reference, CALLBACK_URL_HEADER: callback_url},
        )
        with self.reading("payout"):
            return Transfer(str(body["id"]), STATES[body["status"]].value)

    async def transfer_status(self, *, idempotency_key: str) -> TransferStatusAnswer:
        query = {"account_number": self._account(), "reference_id": payout_reference(idempotency_key)}
        body = await self.call("GET", PAYOUTS, params=query)
        with self.reading("payouts"):
            items = body["items"]
            if not items:
                return TransferStatusAnswer(BankTransferState.NOT_FOUND)
            payout = items[0]
            state = STATES[payout["status"]]
            return TransferStatusAnswer(
                state,
                transfer_id=str(payout["id"]),
                utr=payout.get("utr") or None,
                reason=failure_reason(payout) if state is BankTransferState.FAILED else None,
            )

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified payout webhook → :class:`InboundEvent` with a ``DisbursalEvent`` (transfer id,
        SUCCESS/FAILED, UTR, the bank's reason when FAILED) for the ``disbursal_settled`` signal.
        ``ValidationError`` naming the field."""
        event_id = w.header(headers, EVENT_ID_HEADER)
        event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
        payout = w.at(body, "payload.payout.entity")
        if not isinstance(payout, Mapping):
            raise w.invalid("payload.payout.entity", "must be an object")
        notes = w.notes(payout.get("notes"), "payload.payout.entity.notes")
        loan_ref = w.text(
            notes.get("loan_id") or payout.get("reference_id"), "payload.payout.entity.notes.loan_id", required=False
        )
        if event not in OUTCOMES:
            return w.InboundEvent(event_id, event, loan_ref, None, None)
        transfer_id = w.text(payout.get("id"), "payload.payout.entity.id") or ""
        w.paise(payout.get("amount"), "payload.payout.entity.amount")
        w.inr(payout.get("currency"), "payload.payout.entity.currency")
        settled = OUTCOMES[event] == TransferStatus.SUCCESS
        utr = w.text(payout.get("utr"), "payload.payout.entity.utr", w.UTR_MAX, required=settled)
        reason = None if settled else failure_reason(payout)
        return w.InboundEvent(
            event_id,
            event,
            loan_ref,
            w.LoanSignal.DISBURSAL_SETTLED,
            DisbursalEvent(transfer_id, OUTCOMES[event], utr, event_id, reason=reason),
        )
