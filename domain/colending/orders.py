"""The partner's wallet orders of a co-lent loan (its part of each repayment sent to its wallet) and their resend
by ops, maker-checker as the escrow's remittances are (``domain.colending.escrow``): one staff member asks for a
failed order to be sent again, another approves it, and the approval sends it.

An order kept on the loan is a mapping with ``status`` (the partner's answer or callback: ``SUCCESS``, ``PENDING``,
``FAILED``, ``REFUSED: <reason>``), ``walletOrderId``, ``utr``, ``amount`` (paise) and ``paymentId``; its
``resend`` (when asked) holds ``status`` (:data:`RESEND_PENDING` awaiting approval, :data:`RESEND_SENDING` while the
approval sends it, then ``SENT``, ``REFUSED`` or ``REJECTED``), who asked and decided, when it went, and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.errors import Conflict, PermissionDenied

RESEND_PENDING, RESEND_SENDING = "PENDING", "SENDING"
#: A resend stamped SENDING longer ago than this is taken as lost (its process died), so it may be approved again.
SENDING_STALE = timedelta(minutes=2)
FAILED_STATUSES = frozenset({"FAILED", "REJECTED", "REFUSED", "CANCELLED"})


def failed(order: Mapping[str, Any]) -> bool:
    """Whether the partner does not hold the order: refused when it was sent, failed by its callback, or never
    taken (no wallet order id)."""
    status = str(order.get("status") or "")
    return status.split(":", 1)[0].strip() in FAILED_STATUSES or not order.get("walletOrderId")


def in_flight(order: Mapping[str, Any], now: datetime) -> bool:
    """Whether a resend of the order is being sent now (stamped SENDING less than :data:`SENDING_STALE` ago)."""
    resend = order.get("resend") or {}
    if resend.get("status") != RESEND_SENDING:
        return False
    at = resend.get("sendingAt")
    return at is None or now - datetime.fromisoformat(str(at)) < SENDING_STALE


def check_resend(order: Mapping[str, Any], now: datetime) -> None:
    """Conflict (409, naming ``orderRef``) unless the order may be asked to be sent again: it failed at the partner
    (an order that succeeded, or that the partner holds and has not answered, is not sent twice), and no resend of
    it awaits approval or is in flight."""
    status = str(order.get("status") or "")
    if status == "SUCCESS":
        utr = order.get("utr")
        raise Conflict(f"the order already succeeded at the partner{f' (UTR {utr})' if utr else ''}: nothing to resend",
                       field="orderRef")  # fmt: skip
    if not failed(order):
        raise Conflict(f"the partner holds the order ({status or 'sent'}): wait for its callback", field="orderRef")
    if in_flight(order, now):
        raise Conflict("a resend of this order is being sent now", field="orderRef")
    if (order.get("resend") or {}).get("status") == RESEND_PENDING:
        raise Conflict("a resend of this order already awaits approval", field="orderRef")


def check_resend_decision(order: Mapping[str, Any], checker: str, now: datetime) -> None:
    """Maker-checker on a resend: Conflict (409) while it is in flight, when none awaits approval, or when the order
    succeeded meanwhile; PermissionDenied (403) when ``checker`` asked for it."""
    resend = order.get("resend") or {}
    if in_flight(order, now):
        raise Conflict("a resend of this order is being sent now", field="orderRef")
    if resend.get("status") not in (RESEND_PENDING, RESEND_SENDING):
        raise Conflict("no resend of this order awaits approval", field="orderRef")
    if str(order.get("status") or "") == "SUCCESS":
        raise Conflict("the order already succeeded at the partner: nothing to resend", field="orderRef")
    if resend.get("requestedBy") == checker:
        raise PermissionDenied("maker-checker: you asked for this resend, so another staff member approves it",
                               field="requestedBy")  # fmt: skip
