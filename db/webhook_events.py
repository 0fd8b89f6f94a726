"""Stored provider events (``webhook_events``) and what becomes of a payment no running loan takes: the statements
the webhook intake (``api.webhooks.intake``) and the payment redelivery (``workflows.payment_redelivery``) share.

A payment event matched to a loan is stored with ``signal_arg``: the payment as the loan's workflow takes it
(a ``PaymentEvent``'s fields as JSON: ``workflows.contracts.payment_as_json``; here only its ``gateway``,
``payment_id``, ``link_id``, ``purpose`` and ``reference`` are read). Its ``delivered_at`` is set once the loan
was told, or the money was kept otherwise (credit balance, recovery, parked for ops). A row that stays undelivered
(the API stopped between storing the event and signalling the loan, and the gateway gave up retrying) is found by
:func:`undelivered_payments` and delivered again; everything here is safe to run twice for one payment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import DataError

from db import receipts
from db.models import (
    Loan,
    OfflinePayment,
    ParkedPayment,
    PaymentAttempt,
    PaymentLink,
    PaymentTransaction,
    WebhookEvent,
)
from db.session import core, table
from domain.errors import ValidationError
from domain.ops_jobs import IST
from domain.outcomes import WebhookOutcome
from domain.status import TERMINAL

_EVENTS = table(WebhookEvent)
_ATTEMPTS = table(PaymentAttempt)
_MARK_DELIVERED = (
    update(_EVENTS).where(_EVENTS.c.id == bindparam("row_id")).values(delivered_at=bindparam("delivered_at"))
)
# A gateway's capture signalled to its loan: a later event of the same payment is stored without a second signal.
_MARK_ATTEMPT_DELIVERED = (
    update(_ATTEMPTS)
    .where(
        _ATTEMPTS.c.gateway == bindparam("b_gateway"),
        _ATTEMPTS.c.gateway_payment_id == bindparam("b_payment_id"),
        _ATTEMPTS.c.delivered_at.is_(None),
    )
    .values(delivered_at=bindparam("b_delivered_at"))
)


def delivered(session: Any, row_id: str, gateway: str | None = None, payment_id: str | None = None) -> None:
    """Mark the stored event ``row_id`` delivered in ``session``'s transaction; with a gateway's payment (``gateway``,
    ``payment_id``: a capture the loan was signalled), its attempt too, so a later event of the same payment is not
    signalled again. An offline payment has no attempt."""
    at = datetime.now(UTC)
    core(session).execute(_MARK_DELIVERED, {"row_id": row_id, "delivered_at": at})
    if gateway is not None and payment_id is not None and gateway != "offline":
        params = {"b_gateway": gateway, "b_payment_id": payment_id, "b_delivered_at": at}
        core(session).execute(_MARK_ATTEMPT_DELIVERED, params)


def mark_delivered(db: Any, row_id: str, gateway: str | None = None, payment_id: str | None = None) -> None:
    """:func:`delivered` in a transaction of its own."""
    with db.unit_of_work() as session:
        delivered(session, row_id, gateway, payment_id)


@dataclass(frozen=True)
class Money:
    """A gateway payment as it is recorded when no loan workflow takes it: amount in paise, mode and reference for
    the receipt, ``payload`` (the payment's fields) kept with it when it is parked."""

    gateway: str
    payment_id: str
    amount: int
    mode: str | None
    reference: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, payment: Any, payload: dict[str, Any]) -> Money:
        """The money of ``payment`` (a ``workflows.contracts.PaymentEvent``: gateway, payment id, amount in paise,
        mode, reference), ``payload`` its fields as JSON (``workflows.contracts.payment_as_json``): the one way the
        intake and the payment redelivery build it."""
        return cls(payment.gateway, payment.payment_id, payment.amount, payment.mode, payment.reference, payload)


def keep_as_credit(db: Any, row_id: str, loan_id: str, money: Money) -> WebhookOutcome:
    """Record a payment no running loan can take as the loan's credit balance (a recovery when the loan is written
    off: ``db.receipts.record_credit_balance``) and mark its event ``row_id`` delivered, in one transaction (a retry
    after a crash finds it undelivered and records nothing twice). A payment its fields cannot be recorded with is
    parked for ops instead (never a lost rupee). Returns ``RECORDED_AS_CREDIT_BALANCE``,
    ``RECORDED_AS_RECOVERY``, ``DUPLICATE`` (this gateway payment id was recorded before) or ``PARKED``."""
    try:
        with db.unit_of_work() as session:
            recovery = receipts.is_recovery(session, loan_id)
            recorded = receipts.record_credit_balance(
                session, loan_id, gateway=money.gateway, payment_id=money.payment_id, amount=money.amount,
                mode=money.mode, reference=money.reference,
            )  # fmt: skip
            delivered(session, row_id)
    except (DataError, ValidationError) as exc:  # refused for good: parked for ops, never a 500 or a lost rupee
        with db.unit_of_work() as session:
            receipts.park_payment(
                session, loan_id, gateway=money.gateway, payment_id=money.payment_id, amount=money.amount,
                reason=f"could not be recorded as credit balance: {exc}"[:500], payload=money.payload,
            )  # fmt: skip
            delivered(session, row_id)
        return WebhookOutcome.PARKED
    if not recorded:
        return WebhookOutcome.DUPLICATE
    return WebhookOutcome.RECORDED_AS_RECOVERY if recovery else WebhookOutcome.RECORDED_AS_CREDIT_BALANCE


def offline_twin(session: Any, brand_id: str, gateway: str, reference: str | None) -> str | None:
    """The id of the brand's APPROVED offline payment whose reference (UTR, UPI RRN) is this gateway payment's
    ``reference``: the same money, recorded by staff from the borrower's proof before the gateway's webhook came.
    None when there is no reference or the payment is itself offline."""
    if not reference or gateway == "offline":
        return None
    return session.execute(
        select(OfflinePayment.id).where(
            OfflinePayment.brand_id == brand_id,
            OfflinePayment.reference == re.sub(r"\s+", "", reference).upper(),  # as offline ones are kept
            OfflinePayment.status == "APPROVED",
        )
    ).scalar_one_or_none()


def park_offline_twin(db: Any, row_id: str, loan_id: str, money: Money, twin: str) -> str:
    """Park a gateway payment whose reference is the APPROVED offline payment ``twin``'s (crediting it again would
    count one payment twice) for ops with both ids, and mark its event delivered, in one transaction; returns the
    reason kept with it. Ops reverse the offline entry and apply this one, or resolve it."""
    reason = (
        f"reference {money.reference} is offline payment {twin}'s (APPROVED): the same money "
        "recorded twice? Kept for ops to reconcile"
    )
    with db.unit_of_work() as session:
        receipts.park_payment(
            session, loan_id, gateway=money.gateway, payment_id=money.payment_id, amount=money.amount,
            reason=reason, payload=money.payload,
        )  # fmt: skip
        delivered(session, row_id)
    return reason


def link_purpose(session: Any, loan_id: str, gateway: str, link_id: str) -> str | None:
    """The purpose (INSTALLMENT, PREPAYMENT, FORECLOSURE, ...) of the payment link ``link_id`` this gateway made for
    the loan, or None."""
    return session.scalars(
        select(PaymentLink.purpose).where(
            PaymentLink.loan_id == loan_id, PaymentLink.provider == gateway, PaymentLink.link_id == link_id
        )
    ).first()


@dataclass(frozen=True)
class Undelivered:
    """A stored payment event never delivered (:func:`undelivered_payments`): its row, the payment as kept
    (``signal_arg``; its ``purpose`` filled from its link when the gateway's event named none, and ``paid_on`` the
    IST day the event was received when it names none, so the loan dates the money the day it came, not the day it
    is redelivered), its loan, that loan's workflow id and whether the loan is in a terminal status, and
    ``offline_twin`` (the APPROVED offline payment with its reference, if any)."""

    row_id: str
    payment: dict[str, Any]
    loan_id: str
    workflow_id: str | None
    loan_terminal: bool
    offline_twin: str | None


_CREDITED = select(PaymentTransaction.id).where(
    PaymentTransaction.gateway == bindparam("gateway"), PaymentTransaction.gateway_payment_id == bindparam("payment")
)
_PARKED = select(ParkedPayment.id).where(
    ParkedPayment.loan_id == bindparam("loan"),
    ParkedPayment.gateway == bindparam("gateway"),
    ParkedPayment.gateway_payment_id == bindparam("payment"),
)


def undelivered_payments(session: Any, *, since: datetime, before: datetime, limit: int) -> list[Undelivered]:
    """Payment events received in [``since``, ``before``) and matched to a loan that were never delivered, oldest
    first, at most ``limit``. An event whose payment is kept already (credited to a loan, or parked for ops) is
    marked delivered here, in ``session``'s transaction, and not returned. One that was only signalled to its loan
    by another event of it is returned: a loan that ended, or a workflow stopped, before applying it dropped it, and
    a running loan ignores a payment id it has seen."""
    rows = session.execute(
        select(
            WebhookEvent.id,
            WebhookEvent.signal_arg,
            WebhookEvent.received_at,
            Loan.id,
            Loan.brand_id,
            Loan.workflow_id,
            Loan.status,
        )
        .join(Loan, Loan.id == WebhookEvent.loan_id)
        .where(
            WebhookEvent.delivered_at.is_(None),
            WebhookEvent.signal_arg.is_not(None),
            func.jsonb_typeof(WebhookEvent.signal_arg) == "object",  # a payment kept, never a JSON null
            WebhookEvent.received_at >= since,
            WebhookEvent.received_at < before,
        )
        .order_by(WebhookEvent.received_at)
        .limit(limit)
    ).all()
    out: list[Undelivered] = []
    for row_id, kept, received_at, loan_id, brand_id, workflow_id, status in rows:
        gateway, payment_id = kept.get("gateway"), kept.get("payment_id")
        ids = {"gateway": gateway, "payment": payment_id, "loan": loan_id}
        if session.execute(_CREDITED, ids).first() or session.execute(_PARKED, ids).first():
            delivered(session, row_id)  # the money is kept already: nothing more to do
            continue
        payment = dict(kept)
        if payment.get("purpose") is None and payment.get("link_id") and gateway:
            payment["purpose"] = link_purpose(session, loan_id, gateway, payment["link_id"])
        if not payment.get("paid_on"):
            payment["paid_on"] = received_at.astimezone(IST).date().isoformat()
        twin = offline_twin(session, brand_id, gateway or "", payment.get("reference"))
        out.append(Undelivered(row_id, payment, loan_id, workflow_id, status in TERMINAL, twin))
    return out
