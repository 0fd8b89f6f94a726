"""What the webhook endpoints do once an event is verified and parsed: store it once, find its loan,
signal the loan's workflow, and keep money that no running loan can take.

Outcomes (the ``status`` of the 200 answer, :class:`domain.outcomes.WebhookOutcome`):

- ``delivered`` — the loan's workflow was signalled;
- ``parked`` — a payment that could not be recorded as credit balance: kept for ops with the reason;
- ``duplicate`` — this provider event id was handled before (or this payment id is already recorded);
- ``ignored`` — a non-payment event that needs no action, or whose loan/workflow is gone;
- ``recorded_as_credit_balance`` — a payment for a loan in a terminal status, or whose workflow has
  finished: recorded once per gateway payment id as the loan's credit balance
  (:func:`db.receipts.record_credit_balance`), never dropped;
- ``unmatched`` — a payment whose loan cannot be identified: the event is stored with ``loan_id`` NULL and
  ``delivered_at`` NULL for ops to find and assign (docs/sandbox.md, "Webhooks").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError
from temporalio.service import RPCError, RPCStatusCode

from activities.providers.webhooks import InboundEvent, LoanSignal
from api.deps import is_uuid
from db import receipts
from db.models import Loan, WebhookEvent
from domain.errors import ServiceUnavailable, ValidationError
from domain.outcomes import WebhookOutcome
from domain.status import TERMINAL
from workflows.loan import LoanWorkflow

#: The workflow signal each adapter's ``InboundEvent.signal`` names, by method reference (the one place the
#: names meet the workflow; ``tests/unit/test_workflow_calls_contract.py`` checks it covers every name).
SIGNALS: dict[LoanSignal, Callable[..., None]] = {
    LoanSignal.PAYMENT_RECEIVED: LoanWorkflow.payment_received,
    LoanSignal.PAYMENT_FAILED: LoanWorkflow.payment_failed,
    LoanSignal.MANDATE_UPDATED: LoanWorkflow.mandate_updated,
    LoanSignal.ESIGN_COMPLETED: LoanWorkflow.esign_completed,
    LoanSignal.DISBURSAL_SETTLED: LoanWorkflow.disbursal_settled,
    LoanSignal.KYC_INPUT: LoanWorkflow.kyc_input,
}


@dataclass(frozen=True)
class Stored:
    """The stored event's row id, whether it was handled before, and the loan it names (if any)."""

    row_id: str
    delivered: bool
    loan_id: str | None
    workflow_id: str | None
    loan_terminal: bool


def store(db: Any, provider: str, brand_id: str, event: InboundEvent, body: dict) -> Stored:
    """Insert the raw event once per (provider, event id) with the loan it names when that loan belongs
    to ``brand_id``; returns what the stored row says."""
    with db.unit_of_work() as session:
        loan = session.get(Loan, event.loan_ref) if event.loan_ref and is_uuid(event.loan_ref) else None
        if loan is not None and loan.brand_id != brand_id:
            loan = None
        session.execute(
            insert(WebhookEvent)
            .values(
                provider=provider,
                event_id=event.event_id,
                event_type=event.event_type,
                loan_id=loan.id if loan else None,
                payload=body,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        )
        row = session.scalars(
            select(WebhookEvent).where(WebhookEvent.provider == provider, WebhookEvent.event_id == event.event_id)
        ).one()
        return Stored(
            row.id,
            row.delivered_at is not None,
            loan.id if loan else None,
            loan.workflow_id if loan else None,
            loan is not None and loan.status in TERMINAL,
        )


def _delivered(session: Any, row_id: str) -> None:
    session.execute(update(WebhookEvent).where(WebhookEvent.id == row_id).values(delivered_at=datetime.now(UTC)))


def mark_delivered(db: Any, row_id: str) -> None:
    with db.unit_of_work() as session:
        _delivered(session, row_id)


async def signal(temporal: Any, workflow_id: str, name: LoanSignal, arg: Any) -> bool:
    """Send the workflow the signal ``name`` (its method in :data:`SIGNALS`); False when it no longer runs
    (NOT_FOUND). Any other failure is a 503 so the vendor retries (the stored event is still undelivered then)."""
    method = SIGNALS[name]
    client = await temporal.get()
    try:
        await client.get_workflow_handle(workflow_id).signal(method, arg)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable(f"could not deliver event: {exc.message}") from exc
        return False
    return True


def keep_as_credit(db: Any, stored: Stored, event: InboundEvent) -> dict:
    """Record a payment no running loan can take as the loan's credit balance, and mark the event
    delivered, in one transaction (a retry after a crash finds it undelivered and records nothing twice)."""
    loan_id = stored.loan_id or ""
    payment = event.arg
    try:
        with db.unit_of_work() as session:
            recorded = receipts.record_credit_balance(
                session, loan_id, gateway=payment.gateway, payment_id=payment.payment_id, amount=payment.amount
            )
            _delivered(session, stored.row_id)
    except (DataError, ValidationError) as exc:  # refused for good: parked for ops, never a 500 or a lost rupee
        with db.unit_of_work() as session:
            receipts.park_payment(
                session,
                loan_id,
                gateway=payment.gateway,
                payment_id=payment.payment_id,
                amount=payment.amount,
                reason=f"could not be recorded as credit balance: {exc}"[:500],
                payload=dataclasses.asdict(payment),
            )
            _delivered(session, stored.row_id)
        return {
            "status": WebhookOutcome.PARKED,
            "eventId": event.event_id,
            "reason": "kept for ops: it could not be recorded",
        }
    if not recorded:
        return {"status": WebhookOutcome.DUPLICATE, "eventId": event.event_id, "reason": "payment already recorded"}
    return {
        "status": WebhookOutcome.RECORDED_AS_CREDIT_BALANCE,
        "eventId": event.event_id,
        "amountPaise": event.arg.amount,
    }


async def handle(db: Any, temporal: Any, provider: str, brand_id: str, event: InboundEvent, body: dict) -> dict:
    """Store ``event`` once and act on it (see the module docstring for the answers)."""
    stored = store(db, provider, brand_id, event, body)
    if stored.delivered:
        return {"status": WebhookOutcome.DUPLICATE, "eventId": event.event_id}
    if event.is_payment:
        if stored.loan_id is None:
            return {
                "status": WebhookOutcome.UNMATCHED,
                "eventId": event.event_id,
                "reason": "no loan of this brand matches",
            }
        if stored.loan_terminal:
            return keep_as_credit(db, stored, event)
    if stored.workflow_id is None or event.signal is None:
        return {
            "status": WebhookOutcome.IGNORED,
            "eventId": event.event_id,
            "reason": "no matching loan" if stored.workflow_id is None else f"{event.event_type} needs no action",
        }
    if not await signal(temporal, stored.workflow_id, event.signal, event.arg):
        if event.is_payment:  # the loan's workflow has finished: the money is still the borrower's
            return keep_as_credit(db, stored, event)
        mark_delivered(db, stored.row_id)
        return {
            "status": WebhookOutcome.IGNORED,
            "eventId": event.event_id,
            "reason": "the loan's workflow has finished",
        }
    mark_delivered(db, stored.row_id)
    return {"status": WebhookOutcome.DELIVERED, "eventId": event.event_id}
