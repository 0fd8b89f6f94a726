"""A buyer's credit to a financed invoice that arrived once the invoice was settled (docs/invoice-financing.md, "A
credit while the invoice is settled"): counted exactly once per (request, payment id), applied to the invoice's dues
still left, the rest kept as the business's credit balance (refundable). Used by the workflow's activity
(``activities.sme.late_credits``, while the request is PAID or closing) and by the Smart Collect webhook
(``api.webhooks.sme_collect``, once its workflow has ended). The balance is refunded maker-checker
(``api.sme.credit_refunds``): a refund names the OPEN credits it pays, and approving it closes them, each once.
Money is paise, instants tz-aware (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import SmeCreditBalance, SmeCreditRefund, SmeFinancingRequest, SmePayment
from domain.sme.credits import mode_of, utr_of


@dataclass(frozen=True)
class KeptCredit:
    """What a late credit did: ``applied`` paise to the invoice's dues left, ``kept`` paise as the business's credit
    balance; ``counted`` False when that payment id had been counted before (nothing changed)."""

    applied: int
    kept: int
    counted: bool


def dues_left(request: SmeFinancingRequest, collected: int) -> int:
    """What the business still owes on a settled invoice (paise): the advance, the discount and the late charge
    less what was collected (0 once paid in full, as a settled invoice is)."""
    return max(0, request.advance + request.discount + request.late_charge - collected)


def keep_late_credit(
    session: Session,
    request: SmeFinancingRequest,
    *,
    payment_id: str,
    amount: int,
    source: str,
    paid_at: datetime,
    received_while: str,
) -> KeptCredit:
    """Count a credit that arrived while ``request`` (row-locked by the caller) was settled (``received_while``: its
    status then, PAID or CLOSED): a payment of the request once per ``payment_id`` (``sme_payments``), its part up to
    the dues left applied, the rest the business's OPEN credit balance (``sme_credit_balances``), the request's
    collected total updated. A payment id counted before changes nothing (``counted`` False)."""
    if amount <= 0:
        raise ValueError("amount must be positive paise")
    before = sum(session.scalars(select(SmePayment.amount).where(SmePayment.request_id == request.id)))
    added = session.execute(
        insert(SmePayment)
        .values(request_id=request.id, brand_id=request.brand_id, payment_id=payment_id[:80], amount=amount,
                source=source[:20], paid_at=paid_at, utr=utr_of(payment_id), mode=mode_of(source))
        .on_conflict_do_nothing(index_elements=["request_id", "payment_id"])
        .returning(SmePayment.id)
    ).first()  # fmt: skip
    if added is None:
        return KeptCredit(0, 0, False)
    applied = min(amount, dues_left(request, before))
    session.execute(
        insert(SmeCreditBalance)
        .values(brand_id=request.brand_id, request_id=request.id, business_id=request.business_id,
                payment_id=payment_id[:80], amount=amount, applied=applied, kept=amount - applied,
                source=source[:20], received_while=received_while[:20], status="OPEN", paid_at=paid_at)
        .on_conflict_do_nothing(index_elements=["request_id", "payment_id"])
    )  # fmt: skip
    request.collected = before + amount
    return KeptCredit(applied, amount - applied, True)


def balances_of(session: Session, request_id: str) -> list[SmeCreditBalance]:
    """The request's late credits, oldest first."""
    query = select(SmeCreditBalance).where(SmeCreditBalance.request_id == request_id)
    return list(session.scalars(query.order_by(SmeCreditBalance.created_at)))


def open_credits(session: Session, request_id: str) -> list[SmeCreditBalance]:
    """The request's late credits still OPEN with something kept (its refundable balance), oldest first."""
    query = select(SmeCreditBalance).where(
        SmeCreditBalance.request_id == request_id, SmeCreditBalance.status == "OPEN", SmeCreditBalance.kept > 0
    )
    return list(session.scalars(query.order_by(SmeCreditBalance.created_at, SmeCreditBalance.id)))


def refunds_of(session: Session, request_id: str) -> list[SmeCreditRefund]:
    """The refunds recorded against the request's credit balance, oldest first."""
    query = select(SmeCreditRefund).where(SmeCreditRefund.request_id == request_id)
    return list(session.scalars(query.order_by(SmeCreditRefund.created_at, SmeCreditRefund.id)))


def pending_refund(session: Session, request_id: str, *, lock: bool = False) -> SmeCreditRefund | None:
    """The request's refund waiting for its checker (at most one), row-locked with ``lock``."""
    query = select(SmeCreditRefund).where(SmeCreditRefund.request_id == request_id, SmeCreditRefund.status == "PENDING")
    return session.scalars(query.with_for_update() if lock else query).first()


def close_credits(session: Session, refund: SmeCreditRefund) -> int:
    """Close the credits ``refund`` pays (OPEN → CLOSED, each once) and answer the paise closed. Raises ValueError
    when any of them is no longer OPEN (refunded before: nothing is closed twice; the caller rolls back)."""
    closed = session.execute(
        update(SmeCreditBalance)
        .where(SmeCreditBalance.id.in_(refund.credit_ids), SmeCreditBalance.status == "OPEN")
        .values(status="CLOSED")
        .returning(SmeCreditBalance.kept)
    ).scalars().all()  # fmt: skip
    if len(closed) != len(refund.credit_ids):
        raise ValueError("a credit of this refund is no longer open")
    return sum(closed)
