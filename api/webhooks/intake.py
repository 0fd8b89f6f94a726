"""What the webhook endpoints do once an event is verified and parsed: store it once, find its loan,
record the gateway's payment attempt, signal the loan's workflow, and keep money that no running loan can take.

**Which loan.** The loan the event names (``InboundEvent.loan_ref``: our notes, carried back by the vendor) when it
is a loan of this brand. A payment event that names none but names the link or order it was made on
(``PaymentEvent.link_id``, ``PaymentFailure.order_id``: Cashfree's link payments carry only the link) finds its
loan by the link this gateway made for it (``payment_links``: provider and link id, the brand's loans only).

**Payment attempts.** Every payment a gateway reports is kept in ``payment_attempts``, once per (gateway, payment
id), in the same transaction as the stored event: ``CAPTURED`` from a ``PaymentEvent``, ``FAILED`` from a
``PaymentFailure``, or ``CAPTURED`` from one whose payment the loan has credited with no attempt kept (an autopay
debit the workflow found captured by look-up; offline payments are not gateway attempts). ``FAILED`` never
overwrites ``CAPTURED`` (events arrive out of order: a failure reported after the capture changes nothing, no dues
and no signal); ``CAPTURED`` overwrites ``FAILED`` (a late authorisation). A failure is signalled to the running
loan (``payment_failed``: the borrower is told; no dues change); for a loan that has ended it is stored only.

Outcomes (the ``status`` of the 200 answer, :class:`domain.outcomes.WebhookOutcome`):

- ``delivered`` — the loan's workflow was signalled;
- ``recorded_as_recovery`` — a payment reaching a WRITTEN_OFF loan: recovery income, once per gateway payment id;
- ``parked`` — a payment that could not be recorded as credit balance, or whose reference (UPI RRN, UTR) is an
  APPROVED offline payment's (the same money, recorded by staff before the webhook came): kept for ops with the
  reason;
- ``duplicate`` — this provider event id was handled before, this payment id is already recorded, or another
  event of this captured payment was already delivered to the loan (Razorpay's ``payment.captured`` and
  ``payment_link.paid`` for one payment on a link: one signal, not two);
- ``ignored`` — a non-payment event that needs no action, or whose loan/workflow is gone; a failed attempt for a
  payment already captured, or for a loan that has ended;
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

from sqlalchemy import bindparam, select
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError, RPCStatusCode

from activities.providers.webhooks import InboundEvent, LoanSignal
from api.deps import is_uuid
from api.webhooks.attempts import CAPTURED, record_attempt
from db import webhook_events
from db.mandates import apply_mandate_event
from db.models import (
    Loan,
    Mandate,
    PaymentLink,
    WebhookEvent,
)
from db.session import core, insert_once, table
from domain.errors import ServiceUnavailable
from domain.outcomes import WebhookOutcome
from domain.status import TERMINAL
from workflows.contracts import MandateEvent, PaymentEvent, PaymentFailure, payment_as_json
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
    """The stored event's row id, whether it was handled before, the loan it names (if any), and the status of
    its payment attempt after this event (``CAPTURED`` / ``FAILED``; None for an event about no payment)."""

    row_id: str
    delivered: bool
    loan_id: str | None
    workflow_id: str | None
    loan_terminal: bool
    attempt: str | None = None
    attempt_delivered: bool = False  # the captured payment was signalled to its loan before (another event of it)
    by_link: bool = False  # the loan was found by the payment's link (its notes named none)
    link_purpose: str | None = None  # that link's purpose (``payment_links.purpose``), read with it
    # an APPROVED offline payment of the brand with this gateway payment's reference (UPI RRN, UTR): the same money
    # recorded by staff before its webhook came (its id)
    offline_twin: str | None = None


def _link_ref(arg: Any) -> str | None:
    """The link or order a payment event names (where its loan can be found when its notes name none)."""
    if isinstance(arg, PaymentEvent):
        return arg.link_id
    if isinstance(arg, PaymentFailure):
        return arg.order_id
    return None


def find_loan(session: Any, brand_id: str, event: InboundEvent) -> Any | None:
    """The brand's loan the event names, as a row of ``id``, ``workflow_id`` and ``status`` (what the intake reads;
    loading the whole loan was about 8 % of the API's CPU on a due-date storm); for a payment event naming none,
    the loan of the link the gateway made (``payment_links``: this gateway, this link id), with that link's
    ``link_purpose`` (what the loan needs of an event without our notes: :func:`as_paid`)."""
    if event.loan_ref is not None:
        if not is_uuid(event.loan_ref):
            return None
        return session.execute(_LOAN_BY_ID, {"brand": brand_id, "loan": event.loan_ref}).first()
    link_ref = _link_ref(event.arg)
    if not link_ref:
        return None
    return session.execute(_LOAN_BY_LINK, {"brand": brand_id, "gateway": event.arg.gateway, "link": link_ref}).first()


# Built once, as the intake's other statements (below): every webhook of a storm runs them.
_LOAN_COLUMNS = select(Loan.id, Loan.workflow_id, Loan.status).where(Loan.brand_id == bindparam("brand"))
_LOAN_BY_ID = _LOAN_COLUMNS.where(Loan.id == bindparam("loan"))
_LOAN_BY_LINK = (
    _LOAN_COLUMNS.add_columns(PaymentLink.purpose.label("link_purpose"))
    .join(PaymentLink, PaymentLink.loan_id == Loan.id)
    .where(PaymentLink.provider == bindparam("gateway"), PaymentLink.link_id == bindparam("link"))
)


_EVENTS = table(WebhookEvent)
_STORE_EVENT = insert_once(WebhookEvent, "provider", "event_id")


def _signal_arg(event: InboundEvent, loan: Any | None) -> dict | None:
    """What ``webhook_events.signal_arg`` keeps of a payment event matched to a loan: the payment as its loan takes
    it (with its link's purpose when the link found the loan and the event named none), for the payment redelivery
    (``workflows.payment_redelivery``) to send again should this event stay undelivered. None for any other event."""
    arg = event.arg
    if not isinstance(arg, PaymentEvent) or loan is None:
        return None
    if arg.purpose is None and event.loan_ref is None:
        arg = dataclasses.replace(arg, purpose=loan.link_purpose)
    return payment_as_json(arg)


def store(db: Any, provider: str, brand_id: str, event: InboundEvent, body: dict) -> Stored:
    """:func:`store_in` in a transaction of its own."""
    with db.unit_of_work() as session:
        return store_in(session, provider, brand_id, event, body)


def store_in(session: Any, provider: str, brand_id: str, event: InboundEvent, body: dict) -> Stored:
    """Insert the raw event once per (provider, event id) with the loan it names when that loan belongs
    to ``brand_id``, and its payment attempt (:func:`record_attempt`), in ``session``'s transaction (committed by
    the caller); returns what the stored rows say."""
    loan = find_loan(session, brand_id, event)
    row = {
        "provider": provider,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "loan_id": loan.id if loan else None,
        "payload": body,
        "signal_arg": _signal_arg(event, loan),
    }
    row_id = core(session).execute(_STORE_EVENT, row).scalar_one_or_none()
    delivered = False
    if row_id is None:  # stored before (the vendor's retry, or a duplicate): what that row says
        row_id, delivered_at = session.execute(
            select(WebhookEvent.id, WebhookEvent.delivered_at).where(
                WebhookEvent.provider == provider, WebhookEvent.event_id == event.event_id
            )
        ).one()
        delivered = delivered_at is not None
    attempt = record_attempt(session, brand_id, loan.id if loan else None, event.arg)
    arg, twin = event.arg, None
    if isinstance(arg, PaymentEvent) and loan is not None:
        twin = webhook_events.offline_twin(session, brand_id, arg.gateway, arg.reference)
    return Stored(
        row_id,
        delivered,
        loan.id if loan else None,
        loan.workflow_id if loan else None,
        loan is not None and loan.status in TERMINAL,
        attempt[0] if attempt else None,
        attempt is not None and attempt[1],
        by_link=loan is not None and event.loan_ref is None,
        link_purpose=loan.link_purpose if loan is not None and event.loan_ref is None else None,
        offline_twin=twin,
    )


def as_paid(db: Any, stored: Stored, payment: PaymentEvent) -> PaymentEvent:
    """The payment as the loan should take it: with the purpose of the link it paid when the gateway's event does not
    carry our notes (Cashfree's link payments name only the link). The link's purpose was read with the event's loan
    when the link found it (``stored.by_link``, the usual case); else it is read here, in a transaction of its own.
    The loan dates the payment the day its signal arrives."""
    purpose, loan_id = payment.purpose, stored.loan_id
    if purpose is None and stored.by_link:
        purpose = stored.link_purpose
    elif purpose is None and payment.link_id and loan_id:
        with db.unit_of_work() as session:
            purpose = webhook_events.link_purpose(session, loan_id, payment.gateway, payment.link_id)
    return dataclasses.replace(payment, purpose=purpose)


def record_mandate(db: Any, loan_id: str, event: MandateEvent) -> None:
    """Move the loan's mandate as the gateway says (``db.mandates.apply_mandate_event``); one of another loan is
    left alone."""
    with db.unit_of_work() as session:
        mandate = session.get(Mandate, event.mandate_id) if is_uuid(event.mandate_id) else None
        if mandate is not None and mandate.loan_id == loan_id:
            apply_mandate_event(session, event, datetime.now(UTC))


def mark_delivered(db: Any, row_id: str, payment: PaymentEvent | None = None) -> None:
    """The stored event delivered; with ``payment`` (a gateway's capture the loan was signalled), its attempt too,
    in the same transaction, so a later event of the same payment is not signalled again."""
    if payment is None:
        webhook_events.mark_delivered(db, row_id)
    else:
        webhook_events.mark_delivered(db, row_id, payment.gateway, payment.payment_id)


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


def money(payment: PaymentEvent) -> webhook_events.Money:
    """The payment as it is recorded when no loan workflow takes it."""
    return webhook_events.Money.of(payment, payment_as_json(payment))


def keep_as_credit(db: Any, stored: Stored, event: InboundEvent) -> dict:
    """Record a payment no running loan can take as the loan's credit balance (or recovery, or parked for ops when
    it cannot be recorded) and mark the event delivered, in one transaction (``db.webhook_events.keep_as_credit``);
    the answer to send."""
    outcome = webhook_events.keep_as_credit(db, stored.row_id, stored.loan_id or "", money(event.arg))
    if outcome == WebhookOutcome.PARKED:
        return {"status": outcome, "eventId": event.event_id, "reason": "kept for ops: it could not be recorded"}
    if outcome == WebhookOutcome.DUPLICATE:
        return {"status": outcome, "eventId": event.event_id, "reason": "payment already recorded"}
    return {"status": outcome, "eventId": event.event_id, "amountPaise": event.arg.amount}


def park_offline_twin(db: Any, stored: Stored, event: InboundEvent) -> dict:
    """A gateway payment whose reference (UPI RRN, UTR) is an APPROVED offline payment's: staff recorded this very
    money from the borrower's proof before the gateway's webhook came, and it was credited then. Crediting it again
    would count one payment twice, so it is parked for ops with both ids (``db.webhook_events.park_offline_twin``)
    and the event marked delivered, in one transaction."""
    reason = webhook_events.park_offline_twin(
        db, stored.row_id, stored.loan_id or "", money(event.arg), stored.offline_twin or ""
    )
    return {"status": WebhookOutcome.PARKED, "eventId": event.event_id, "reason": reason}


async def handle(db: Any, temporal: Any, provider: str, brand_id: str, event: InboundEvent, body: dict) -> dict:
    """Store ``event`` once (:func:`store`) and act on it (:func:`act`).

    Each transaction runs in the API's thread pool, never on the event loop: a webhook storm's events are stored
    side by side while others wait on PostgreSQL or on the workflow's signal (on the loop, one event's queries held
    every other request of the process, webhooks and the app's polling alike)."""
    stored = await run_in_threadpool(store, db, provider, brand_id, event, body)
    return await act(db, temporal, event, stored)


async def act(db: Any, temporal: Any, event: InboundEvent, stored: Stored) -> dict:
    """Act on ``event``, stored as ``stored`` says (:func:`store_in`, committed): signal its loan, keep its money
    as credit balance or recovery, or answer why not (see the module docstring for the answers). Its transactions
    run in the API's thread pool (see :func:`handle`)."""
    if stored.delivered:
        return {"status": WebhookOutcome.DUPLICATE, "eventId": event.event_id}
    if event.is_payment:
        if stored.loan_id is None:
            return {
                "status": WebhookOutcome.UNMATCHED,
                "eventId": event.event_id,
                "reason": "no loan of this brand matches",
            }
        if isinstance(event.arg, PaymentEvent) and stored.attempt == CAPTURED and stored.attempt_delivered:
            # another event of a payment the loan was already signalled (Razorpay sends payment.captured and
            # payment_link.paid for one payment on a link): stored, and no second signal (the loan would drop it);
            # checked before a terminal status, as the loan may have ended with this very payment still to record
            await run_in_threadpool(mark_delivered, db, stored.row_id)
            return {
                "status": WebhookOutcome.DUPLICATE,
                "eventId": event.event_id,
                "reason": "payment already delivered to the loan",
            }
        if isinstance(event.arg, PaymentEvent) and stored.offline_twin is not None:
            return await run_in_threadpool(park_offline_twin, db, stored, event)
        if stored.loan_terminal:
            return await run_in_threadpool(keep_as_credit, db, stored, event)
    if isinstance(event.arg, PaymentFailure) and stored.workflow_id is not None:
        if stored.attempt == CAPTURED or stored.loan_terminal:  # nothing for the loan to act on: stored only
            await run_in_threadpool(mark_delivered, db, stored.row_id)
            return {
                "status": WebhookOutcome.IGNORED,
                "eventId": event.event_id,
                "reason": "the payment was captured" if stored.attempt == CAPTURED else "the loan has ended",
            }
    if isinstance(event.arg, MandateEvent) and stored.loan_id is not None:
        # the mandate's row follows the gateway at once, whatever phase the loan is in (a borrower who authorised
        # before disbursal sees it ACTIVE); the loan's workflow, signalled below, records the same move (a no-op)
        await run_in_threadpool(record_mandate, db, stored.loan_id, event.arg)
    if stored.workflow_id is None or event.signal is None:
        return {
            "status": WebhookOutcome.IGNORED,
            "eventId": event.event_id,
            "reason": "no matching loan" if stored.workflow_id is None else f"{event.event_type} needs no action",
        }
    arg = event.arg
    if isinstance(arg, PaymentEvent) and arg.purpose is None and arg.link_id and stored.loan_id:
        # only an event without our notes needs the link's purpose: read with its loan when its link found it (no
        # database work here, on the event loop), else in a transaction of its own
        if stored.by_link:
            arg = dataclasses.replace(arg, purpose=stored.link_purpose)
        else:
            arg = await run_in_threadpool(as_paid, db, stored, arg)
    if not await signal(temporal, stored.workflow_id, event.signal, arg):
        if event.is_payment:  # the loan's workflow has finished: the money is still the borrower's
            return await run_in_threadpool(keep_as_credit, db, stored, event)
        await run_in_threadpool(mark_delivered, db, stored.row_id)
        return {
            "status": WebhookOutcome.IGNORED,
            "eventId": event.event_id,
            "reason": "the loan's workflow has finished",
        }
    payment = arg if isinstance(arg, PaymentEvent) and stored.attempt == CAPTURED else None
    await run_in_threadpool(mark_delivered, db, stored.row_id, payment)
    return {"status": WebhookOutcome.DELIVERED, "eventId": event.event_id}
