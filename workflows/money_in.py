"""Servicing: money in beyond the schedule's own loop (see ``workflows.loan``): failed payments, autopay mandates
and their debits, customer notices and reminders, interest accrual, foreclosure, the cooling-off exit, and the
credit balance refunded (docs/money-in.md)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import MandateEvent, PaymentFailure, RefundSettled

from workflows.base import LoanBase


class MoneyInPhase(LoanBase):
    """Signals of money in, and the steps the servicing loop runs for them."""

    @workflow.signal(description="A gateway reported a payment attempt failed: no dues change; the borrower is told.")
    def payment_failed(self, event: PaymentFailure) -> None:
        if all(f.payment_id != event.payment_id for f in self.failed_payments):
            self.failed_payments.append(event)

    @workflow.signal(description="An autopay mandate changed at the gateway (ACTIVE, REJECTED, CANCELLED, PAUSED).")
    def mandate_updated(self, event: MandateEvent) -> None:
        self.mandate_events.append(event)

    @workflow.signal(description="A refund of the credit balance reached the borrower (paise, once per refund id).")
    def refund_settled(self, event: RefundSettled) -> None:
        if all(r.refund_id != event.refund_id for r in self.refunds_settled):
            self.refunds_settled.append(event)
