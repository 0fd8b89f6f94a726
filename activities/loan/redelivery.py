"""The payment redelivery's activities (``workflows.payment_redelivery``): stored payment events never delivered
to their loan, found, and the money kept when no running loan takes it. The SQL is ``db.webhook_events``, which the
webhook intake runs too, so a payment is recorded the same way whichever of the two gets to it."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan.common import LoanBase
from db import webhook_events
from domain.outcomes import WebhookOutcome
from workflows.contracts import RedeliveryWindow, UndeliveredPayment, payment_as_json, payment_from_json


class RedeliveryActivities(LoanBase):
    """Activities of the payment redelivery."""

    @activity.defn
    async def undelivered_payments(self, window: RedeliveryWindow) -> list[UndeliveredPayment]:
        """Payment events received in the window, matched to a loan and never delivered, oldest first
        (``db.webhook_events.undelivered_payments``: one whose payment was credited or told to its loan by another
        event is marked delivered there instead). Each payment as its loan takes it."""

        def read(session: Session) -> list[UndeliveredPayment]:
            found = webhook_events.undelivered_payments(
                session, since=window.since, before=window.before, limit=window.limit
            )
            out = []
            for u in found:
                try:
                    payment = payment_from_json(u.payment)
                except (TypeError, ValueError) as exc:  # a row this code cannot read: left for ops, the rest go on
                    activity.logger.warning("payment event %s cannot be redelivered: %s", u.row_id, exc)
                    continue
                twin = str(u.offline_twin) if u.offline_twin else None
                row, loan = str(u.row_id), str(u.loan_id)
                out.append(UndeliveredPayment(row, payment, loan, u.workflow_id, u.loan_terminal, twin))
            return out

        return await self._tx(read)

    @activity.defn
    async def keep_undelivered_payment(self, undelivered: UndeliveredPayment) -> str:
        """A payment no running loan takes (its loan has ended, or its workflow no longer runs) recorded as the webhook
        intake records one: as the loan's credit balance or recovery, or parked for ops (its reference is an APPROVED
        offline payment's, or it cannot be recorded), and its event marked delivered, in one transaction. Returns
        the outcome (``domain.outcomes.WebhookOutcome``: ``recorded_as_credit_balance``, ``recorded_as_recovery``,
        ``duplicate``, ``parked``). Safe to retry: a payment id is recorded once."""
        payment = undelivered.payment
        money = webhook_events.Money.of(payment, payment_as_json(payment))
        if undelivered.offline_twin is not None:
            await asyncio.to_thread(
                webhook_events.park_offline_twin,
                self.db, undelivered.row_id, undelivered.loan_id, money, undelivered.offline_twin,
            )  # fmt: skip
            return WebhookOutcome.PARKED.value
        outcome = await asyncio.to_thread(
            webhook_events.keep_as_credit, self.db, undelivered.row_id, undelivered.loan_id, money
        )
        return str(outcome.value)

    @activity.defn
    async def mark_payment_delivered(self, undelivered: UndeliveredPayment) -> None:
        """The loan's workflow was signalled this payment: its event, and the payment's attempt, marked delivered."""
        payment = undelivered.payment
        await asyncio.to_thread(
            webhook_events.mark_delivered, self.db, undelivered.row_id, payment.gateway, payment.payment_id
        )
