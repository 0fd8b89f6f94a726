"""IDFC FIRST Bank transfers (disbursal to the borrower's account), and the webhook that settles them.

IDFC's corporate payout API and its callback format are not published. The callback follows the closest
public, documented bank-payout webhook — RazorpayX Payouts (https://razorpay.com/docs/webhooks/payouts/,
validation https://razorpay.com/docs/webhooks/validate-test/) — under IDFC's own header names:

- body ``{"entity": "event", "account_id", "event", "contains": ["payout"], "payload": {"payout":
  {"entity": {"id", "amount" (paise), "currency" "INR", "status", "utr", "mode", "reference_id", ...}}},
  "created_at"}``; ``reference_id`` is the reference we sent with the transfer (the loan id);
- ``X-IDFC-Event-Id``: the event's id; ``X-IDFC-Signature``: hex HMAC-SHA256 of the raw body;
- non-2xx answers are retried with backoff (as RazorpayX: for 24 hours).

``payout.processed`` settles the transfer (SUCCESS, with the UTR); ``payout.failed``, ``payout.reversed``
and ``payout.rejected`` fail it (FAILED); other payout events (queued, initiated, updated...) are stored and
need no action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import HttpProvider
from activities.providers.disbursal.base import Transfer
from activities.providers.signing import SIGNATURE_HEADERS
from domain.outcomes import TransferStatus
from workflows.contracts import DisbursalEvent

EVENT_ID_HEADER = "X-IDFC-Event-Id"
OUTCOMES = {"payout.processed": TransferStatus.SUCCESS, "payout.failed": TransferStatus.FAILED,
            "payout.reversed": TransferStatus.FAILED, "payout.rejected": TransferStatus.FAILED}  # fmt: skip


class IdfcDisbursal(HttpProvider):
    signature_header = SIGNATURE_HEADERS["idfc"]

    async def transfer(
        self, *, amount: int, reference_id: str, beneficiary: dict, callback_url: str, idempotency_key: str
    ) -> Transfer:
        body = await self.call(
            "POST",
            "/idfc/transfers",
            json={
                "amount": amount,
                "reference_id": reference_id,
                "beneficiary": beneficiary,
                "callback_url": callback_url,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        return Transfer(body["transfer_id"], body["status"])

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified payout webhook → :class:`InboundEvent` with a ``DisbursalEvent`` (transfer id,
        SUCCESS/FAILED, UTR) for the ``disbursal_settled`` signal. ``ValidationError`` naming the field."""
        event_id = w.header(headers, EVENT_ID_HEADER)
        event = w.text(w.at(body, "event"), "event", w.EVENT_TYPE_MAX) or ""
        payout = w.at(body, "payload.payout.entity")
        if not isinstance(payout, Mapping):
            raise w.invalid("payload.payout.entity", "must be an object")
        loan_ref = w.text(payout.get("reference_id"), "payload.payout.entity.reference_id", required=False)
        if event not in OUTCOMES:
            return w.InboundEvent(event_id, event, loan_ref, None, None)
        transfer_id = w.text(payout.get("id"), "payload.payout.entity.id") or ""
        w.paise(payout.get("amount"), "payload.payout.entity.amount")
        w.inr(payout.get("currency"), "payload.payout.entity.currency")
        settled = OUTCOMES[event] == TransferStatus.SUCCESS
        utr = w.text(payout.get("utr"), "payload.payout.entity.utr", w.UTR_MAX, required=settled)
        return w.InboundEvent(
            event_id,
            event,
            loan_ref,
            w.LoanSignal.DISBURSAL_SETTLED,
            DisbursalEvent(transfer_id, OUTCOMES[event], utr, event_id),
        )
