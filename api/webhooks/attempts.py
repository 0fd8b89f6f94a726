"""Payment attempts (``payment_attempts``): every payment a gateway reports, kept once per (gateway, payment id) in
the same transaction as its stored webhook event (``api.webhooks.intake``, whose module docstring says how attempts
decide what is signalled). The statements are built once: built per event, with its cache key, they were a visible
part of the API's CPU on a storm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.dialects.postgresql import insert

from db.models import PaymentAttempt, PaymentTransaction
from db.session import core, table
from workflows.contracts import PaymentEvent, PaymentFailure

CAPTURED, FAILED = "CAPTURED", "FAILED"  # payment_attempts.status


def record_attempt(session: Any, brand_id: str, loan_id: str | None, arg: Any) -> tuple[str, bool] | None:
    """Keep the gateway's payment attempt once per (gateway, payment id) and return its status now with whether
    its capture was already signalled to the loan (``delivered_at``, set by ``db.webhook_events.delivered``): a capture
    turns a failed attempt into a captured one (a late authorisation); a failure never turns a captured one back,
    nor one the loan has credited with no attempt kept (an autopay debit found captured by the workflow's look-up,
    its webhooks lost: ``workflows.autopay``): that failure keeps the attempt as captured. None for an event about
    no gateway payment."""
    if isinstance(arg, PaymentEvent) and arg.gateway != "offline":
        status, order_id, method, failure = CAPTURED, arg.link_id, arg.mode, None
    elif isinstance(arg, PaymentFailure):
        status, order_id, method, failure = FAILED, arg.order_id, None, arg.reason
    else:
        return None
    values = {
        "brand_id": brand_id,
        "loan_id": loan_id,
        "gateway": arg.gateway,
        "gateway_payment_id": arg.payment_id,
        "order_id": order_id,
        "amount": arg.amount,
        "method": method,
        "status": status,
        "failure_reason": failure,
        "mandate_debit_id": arg.mandate_debit_id,
    }
    statement = _CAPTURE_ATTEMPT if status == CAPTURED else _FAIL_ATTEMPT
    credited = (
        session.execute(_CREDITED, {"gateway": arg.gateway, "payment": arg.payment_id, "loan": loan_id}).first()
        if status == FAILED and loan_id is not None
        else None
    )
    if credited is not None:  # the credit stands: the attempt is kept as the capture it was, and as delivered
        statement = _CAPTURE_ATTEMPT
        values = {**values, "status": CAPTURED, "failure_reason": None, "method": credited.mode}
        values.update(amount=credited.amount, delivered_at=datetime.now(UTC))
    kept = core(session).execute(statement, values).one_or_none()
    if kept is None:  # a failure after the row was kept: it changed nothing, the row says what stands
        kept = session.execute(
            select(PaymentAttempt.status, PaymentAttempt.delivered_at).where(
                PaymentAttempt.gateway == arg.gateway, PaymentAttempt.gateway_payment_id == arg.payment_id
            )
        ).one()
    status, delivered_at = kept  # inserted, or a capture written over the row kept (its delivered_at unchanged)
    return status, delivered_at is not None


_ATTEMPTS = table(PaymentAttempt)
_NEW_ATTEMPT = insert(_ATTEMPTS)
# Built once (a statement built per event, with its cache key, was a visible part of the API's CPU on a storm).
_CAPTURE_ATTEMPT = _NEW_ATTEMPT.on_conflict_do_update(
    index_elements=["gateway", "gateway_payment_id"],
    set_={
        "status": CAPTURED,
        "failure_reason": None,
        "amount": func.coalesce(
            case((_ATTEMPTS.c.status == CAPTURED, _ATTEMPTS.c.amount)), _NEW_ATTEMPT.excluded.amount
        ),
        "loan_id": func.coalesce(_ATTEMPTS.c.loan_id, _NEW_ATTEMPT.excluded.loan_id),
        "order_id": func.coalesce(_ATTEMPTS.c.order_id, _NEW_ATTEMPT.excluded.order_id),
        "method": func.coalesce(_NEW_ATTEMPT.excluded.method, _ATTEMPTS.c.method),
        "mandate_debit_id": func.coalesce(_ATTEMPTS.c.mandate_debit_id, _NEW_ATTEMPT.excluded.mandate_debit_id),
        "updated_at": func.now(),
    },
).returning(_ATTEMPTS.c.status, _ATTEMPTS.c.delivered_at)
_FAIL_ATTEMPT = _NEW_ATTEMPT.on_conflict_do_nothing(index_elements=["gateway", "gateway_payment_id"]).returning(
    _ATTEMPTS.c.status, _ATTEMPTS.c.delivered_at
)
# The loan's credit of a payment, if it has one (``payment_transactions`` is unique on the gateway and its payment id).
_CREDITED = select(PaymentTransaction.mode, PaymentTransaction.amount).where(
    PaymentTransaction.gateway == bindparam("gateway"),
    PaymentTransaction.gateway_payment_id == bindparam("payment"),
    PaymentTransaction.loan_id == bindparam("loan"),
)
