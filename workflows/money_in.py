"""Servicing: money in beyond the schedule's own loop (see ``workflows.loan``): failed payments, autopay mandates
and their debits, customer notices and reminders, interest accrued at each period's end, and the credit balance
refunded before the loan completes (docs/money-in.md). Foreclosure and the cooling-off exit are applied with the
payment that pays them (``workflows.receipts``).

Timers, all in the loan's own workflow (never a cron scanning tables): a reminder ``reminder_days`` before each due
date (10:00 IST) and one on it (09:00 IST); an autopay debit on the due date (09:00 IST) after a pre-debit notice at
least 24 hours before it (NPCI's rule for UPI Autopay; sent 48 hours before when there is time), retried
``autopay_retries`` times ``autopay_retry_days`` apart after a failure. A demo product (``period_seconds``) compresses
the same steps into its period: the reminder at half the period before the due instant, the notice at a third, the
debit at a fifth.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.closure import cooling_off_exit, foreclosure_quote
    from domain.errors import ValidationError
    from domain.money import format_inr
    from domain.status import LoanStatus
    from workflows.contracts import (
        AccrualRecord,
        ClosureRecord,
        HeldNotice,
        InstallmentState,
        LoanWorkflowResult,
        MandateDebitResult,
        MandateEvent,
        NoticeRequest,
        PaymentEvent,
        PaymentFailure,
        ReceiptNotice,
        ReceiptRequest,
        RefundSettled,
    )
    from workflows.options import (
        AUTOPAY_DROPPED_DEBIT_PATCH,
        DB_RETRY,
        DB_TIMEOUT,
        IST,
        NOTICE_TIMEOUT,
        RECEIPT_NOTICE_PATCH,
    )

from workflows.autopay import NOTICE_LEAD
from workflows.base import LoanBase
from workflows.patches import patched

NOTICE_HOUR, DUE_HOUR = time(10), time(9)  # IST: reminders, and the due-day notice and autopay debit
# A receipt's storage or renderer down for long must not stop the repayment loop (the GET renders 404 meanwhile).
RECEIPT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=20
)
OVERDUE_NOTICE_DAYS = (1, 7, 30)


class MoneyInPhase(LoanBase):
    """Signals of money in, and the steps the servicing loop runs for them."""

    # ---------------------------------------------------------------- signals
    @workflow.signal(
        description="A gateway's webhook: a payment captured for this loan (paise), applied once per payment id."
    )
    def payment_received(self, event: PaymentEvent) -> None:
        self._take_payment(event)

    def _take_payment(self, event: PaymentEvent) -> None:
        """Queue a payment received (a webhook's signal, or a debit the gateway said it captured) for the loop,
        once per payment id."""
        seen = set(self.servicing.processed_payments) if self.servicing else set()
        if event.payment_id not in seen and all(p.payment_id != event.payment_id for p in self.pending_payments):
            if event.paid_on is None and self.money_in:
                # dated the IST day it arrived: a foreclosure or cooling-off payment is judged as of that day even
                # when the loan applies it after midnight
                event = replace(event, paid_on=workflow.now().astimezone(IST).date())
            self.pending_payments.append(event)

    @workflow.signal(description="A gateway reported a payment attempt failed: no dues change; the borrower is told.")
    def payment_failed(self, event: PaymentFailure) -> None:
        self._take_failure(event)

    def _take_failure(self, event: PaymentFailure) -> None:
        """Queue a failed payment attempt (a webhook's signal, or a debit the gateway said failed) for the loop,
        once per payment id."""
        if all(f.payment_id != event.payment_id for f in self.failed_payments):
            self.failed_payments.append(event)

    @workflow.signal(description="An autopay mandate changed at the gateway (ACTIVE, REJECTED, CANCELLED, PAUSED).")
    def mandate_updated(self, event: MandateEvent) -> None:
        self.mandate_events.append(event)

    @workflow.signal(description="A refund of the credit balance reached the borrower (paise, once per refund id).")
    def refund_settled(self, event: RefundSettled) -> None:
        if all(r.refund_id != event.refund_id for r in self.refunds_settled):
            self.refunds_settled.append(event)

    def _money_in_woken(self) -> bool:
        return bool(self.failed_payments or self.mandate_events or self.refunds_settled)

    # ---------------------------------------------------------------- notices
    async def _notice(self, event: str, key: str, **values: object) -> None:
        """One customer notice, once per ``key`` (best effort: the activity never fails the loan for a vendor)."""
        state = self.servicing
        if state is not None and key in state.notices_sent:
            return
        send = workflow.execute_activity(
            "send_notice",
            NoticeRequest(self.inp.loan_id, event, f"{self.inp.loan_id}:{key}", dict(values)),
            task_queue=self.inp.followup_task_queue,  # None: the loan's own
            start_to_close_timeout=NOTICE_TIMEOUT,
            retry_policy=DB_RETRY,  # retried until sent: once started, it is as good as sent
            summary=f"Notice {event}",
        )
        if self.inp.followup_task_queue:  # in the background (workflows.followup): counted as sent once started
            if state is not None:
                state.notices_sent.append(key)
            await self._followup(send)
            return
        await send
        if state is not None:
            state.notices_sent.append(key)

    def _instants(self, inst: InstallmentState) -> dict[str, datetime]:
        """When this installment's reminder, due-day notice, pre-debit notice and debit go (see module doc)."""
        seconds = self.inp.terms.period_seconds
        if seconds or inst.due_date is None:
            period = timedelta(seconds=seconds or 3600)
            return {
                "reminder": inst.due_at - period / 2,
                "due": inst.due_at - period / 4,
                "notice": inst.due_at - period / 3,
                "debit": inst.due_at - period / 5,
            }
        due_day = inst.due_date
        days = timedelta(days=self.inp.policy.reminder_days)
        debit = datetime.combine(due_day, DUE_HOUR, IST)
        return {
            "reminder": datetime.combine(due_day - days, NOTICE_HOUR, IST),
            "due": datetime.combine(due_day, DUE_HOUR, IST),
            "notice": debit - NOTICE_LEAD,
            "debit": debit,
        }

    async def _reminders(self, now: datetime, current: InstallmentState) -> datetime | None:
        """Send the current installment's reminders whose time has come; the next one's instant."""
        if current.due_at <= now:
            return None
        at = self._instants(current)
        upcoming = []
        for kind, event in (("reminder", "DUE_REMINDER"), ("due", "DUE_TODAY")):
            if kind == "reminder" and self.servicing and self.servicing.mandate_id:
                continue  # the pre-debit notice says it
            key = f"{kind}:{current.number}:{current.due_date}"
            if now >= at[kind]:
                await self._notice(
                    event,
                    key,
                    installment=current.number,
                    amount=current.remaining,
                    dueDate=str(current.due_date) if current.due_date else None,
                )
            elif self.servicing is not None and key not in self.servicing.notices_sent:
                upcoming.append(at[kind])
        return min(upcoming, default=None)

    async def _overdue_notice(self, inst: InstallmentState, dpd: int) -> None:
        if dpd in OVERDUE_NOTICE_DAYS or (dpd == 0 and self.inp.terms.period_seconds):
            # held even inside the window (CONTACT_HOURS_PATCH): the pass sends it after making the link it points at
            await self._recovery_notice(
                "OVERDUE", f"overdue:{inst.number}:{max(dpd, 1)}", HeldNotice("OVERDUE", "", installment=inst.number),
                hold=True, installment=inst.number, dpd=max(dpd, 1), amount=inst.remaining,
            )  # fmt: skip

    # ---------------------------------------------------------------- failed payments and mandates
    async def _take_events(self) -> None:
        """Failed payments (told; a failed autopay debit falls back to the link and is retried later) and mandate
        changes (ACTIVE starts autopay; CANCELLED, REJECTED or PAUSED stops it)."""
        state = self.servicing
        assert state is not None
        while self.mandate_events:
            event = self.mandate_events.pop(0)
            try:
                took = await workflow.execute_activity(
                    "record_mandate_event",
                    event,
                    result_type=str,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                    summary=f"Mandate {event.status}",
                )
            except ActivityError as exc:  # an unknown mandate: nothing to act on, never a failed loan
                workflow.logger.warning("mandate %s not recorded: %s", event.mandate_id, exc.cause)
                continue
            if took is not None and took != event.status:
                continue  # the row refused the move (e.g. a cancelled mandate confirmed late): nothing changes
            if event.status == "ACTIVE":
                state.mandate_id = event.mandate_id
                self._decide_autopay_later()  # right after the activity's result: no local activity's result first
            elif state.mandate_id == event.mandate_id:
                state.mandate_id = None
                if state.debit is not None and not state.debit.sent:
                    dropped, state.debit = state.debit, None  # a debit not yet sent is not sent
                    if patched(AUTOPAY_DROPPED_DEBIT_PATCH):  # right after the activity's result
                        await self._debit_dropped(dropped, f"the mandate is {event.status} before the charge")
        while self.failed_payments:
            failure = self.failed_payments.pop(0)
            debit = state.debit
            if failure.mandate_debit_id:
                await self._debit_outcome(MandateDebitResult(failure.mandate_debit_id, "FAILED", failure.reason))
            if failure.mandate_debit_id and debit is not None and debit.debit_id == failure.mandate_debit_id:
                state.debit = None  # the next try comes after the brand's retry interval
                await self._notice(
                    "PAYMENT_FAILED", f"failed:{failure.payment_id}", amount=failure.amount, reason=failure.reason,
                    autopay=True,
                    retry=debit.attempt - self._tries_before(debit.installment_no) <= self.inp.policy.autopay_retries,
                )  # fmt: skip
                state.debit_failures[str(debit.installment_no)] = debit.attempt
                state.debit_failed_at[str(debit.installment_no)] = workflow.now()
                continue
            await self._notice(
                "PAYMENT_FAILED", f"failed:{failure.payment_id}", amount=failure.amount, reason=failure.reason
            )
        while self.refunds_settled:
            refund = self.refunds_settled.pop(0)
            if refund.refund_id not in state.refund_ids:
                state.refund_ids.append(refund.refund_id)
                state.refunded += refund.amount

    async def _receipt(self, payment: PaymentEvent) -> None:
        """The credited payment's receipt (PDF, numbered, stored), then the borrower's notice linking it: one
        activity under ``receipt-with-notice-v1``. A receipt that cannot be issued (tried for a while) leaves the
        notice to go without its number; staff re-issue the receipt. The path is decided when the servicing run
        starts (``RECEIPT_NOTICE_AT_START_PATCH``), so no marker lands in a credit's workflow task; a run from before
        it decides at its first credit."""
        key = f"paid:{payment.gateway}:{payment.payment_id}"
        state = self.servicing
        if self.receipt_notice or patched(RECEIPT_NOTICE_PATCH):
            if state is not None and key in state.notices_sent:
                return
            try:
                await workflow.execute_activity_method(
                    LoanActivities.issue_receipt_and_notify,
                    ReceiptNotice(
                        self.inp.loan_id, payment.gateway, payment.payment_id, f"{self.inp.loan_id}:{key}",
                        {"amount": payment.amount, "paymentId": payment.payment_id},
                    ),
                    task_queue=self.inp.followup_task_queue,  # None: the loan's own
                    start_to_close_timeout=NOTICE_TIMEOUT,
                    retry_policy=RECEIPT_RETRY,
                    summary=f"Receipt and notice for {payment.payment_id[:40]}",
                )  # fmt: skip
            except ActivityError as exc:
                workflow.logger.warning("receipt for %s not issued: %s", payment.payment_id, exc.cause)
                await self._notice("PAYMENT_RECEIVED", key, amount=payment.amount, paymentId=payment.payment_id,
                                   receiptNo=None)  # fmt: skip
                return
            if state is not None:
                state.notices_sent.append(key)
            return
        try:  # a receipt never holds up the loan: tried for a while, then left for a staff re-issue
            receipt = await workflow.execute_activity(
                "issue_receipt",
                ReceiptRequest(self.inp.loan_id, payment.gateway, payment.payment_id),
                start_to_close_timeout=NOTICE_TIMEOUT,
                retry_policy=RECEIPT_RETRY,
                summary=f"Receipt for {payment.payment_id[:40]}",
            )
        except ActivityError as exc:
            workflow.logger.warning("receipt for %s not issued: %s", payment.payment_id, exc.cause)
            receipt = None
        number = receipt.get("receipt_no") if isinstance(receipt, dict) else receipt
        number = number if isinstance(number, str) else None
        await self._notice(
            "PAYMENT_RECEIVED", f"paid:{payment.gateway}:{payment.payment_id}", amount=payment.amount,
            paymentId=payment.payment_id, receiptNo=number,
        )  # fmt: skip

    # ---------------------------------------------------------------- accrual
    async def _accrue(self, now: datetime) -> None:
        """Interest on the accrual basis, at each period's end: when an installment's due date is over, the part of
        its interest not yet collected is posted receivable (Dr INTEREST_RECEIVABLE / Cr INTEREST_INCOME) with the
        due date as value date; what was collected before was income when collected. So income to any date equals
        the schedule's interest of the periods ended by then (plus interest collected ahead of its period)."""
        state = self.servicing
        assert state is not None
        if state.asset_class == "NPA":
            return  # RBI IRACP: income on an NPA is recognised when received, never accrued
        by_date: dict = {}
        since = state.accrual_since or state.disbursed_at
        for inst in state.installments:
            if inst.accrued or inst.due_at > now:
                continue
            if inst.due_at < since:  # ended before this loan's accrual began: it stays on the cash basis
                inst.accrued = True
                continue
            # interest already posted receivable and not yet cleared (carried onto it by a restructure) is not
            # posted twice; for every other installment that part is 0
            amount = max(0, inst.interest - inst.interest_paid - (inst.interest_accrued - inst.receivable_cleared))
            day = inst.due_date if inst.due_date and not self.inp.terms.period_seconds else now.astimezone(IST).date()
            by_date.setdefault(day, []).append((inst, amount))
        for day, items in sorted(by_date.items()):
            amounts = [(i.number, a) for i, a in items if a > 0]
            if amounts:
                record = AccrualRecord(self.inp.loan_id, day, amounts)
                await self._db_step(LoanActivities.accrue_interest, record, f"Interest accrued to {day}")
            for inst, amount in items:
                inst.accrued, inst.interest_accrued = True, inst.interest_accrued + amount

    # ---------------------------------------------------------------- the end of servicing
    async def _close(self) -> LoanWorkflowResult:
        """Everything is paid. A credit balance keeps the loan OVERPAID until it is refunded (more money may still
        arrive, and is kept as credit too); then COMPLETED, recorded as REPAID or FORECLOSED."""
        state = self.servicing
        assert state is not None
        while state.excess - state.refunded > 0:
            credit = state.excess - state.refunded
            if self.status != LoanStatus.OVERPAID:
                await self._move(LoanStatus.OVERPAID, f"credit balance of {format_inr(credit)} to refund")
                await self._notice("OVERPAID", "overpaid", amount=credit)
            self._release_pass()  # a staff decision waiting for the lock is refused (the loan is OVERPAID)
            await workflow.wait_condition(lambda: bool(self.pending_payments) or self._money_in_woken())
            await self._apply_payments()
            await self._take_events()
        closed_as = state.closed_as or "REPAID"
        await workflow.execute_activity_method(
            LoanActivities.record_closure,
            ClosureRecord(self.inp.loan_id, closed_as),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Closed as {closed_as}",
        )
        await self._notice("CLOSED", "closed", closedAs=closed_as)
        await self._closure_documents()
        if closed_as == "FORECLOSED":
            reason = "foreclosed"
        elif self.status == LoanStatus.OVERPAID:  # paid off earlier; what ends it now is the refund
            reason = "credit balance refunded"
        else:
            reason = "all installments paid"
        return await self._end(LoanStatus.COMPLETED, reason)

    async def _exit_cooling_off(self) -> LoanWorkflowResult:
        """The borrower exited within the cooling-off period: CANCELLED, recorded as COOLING_OFF_EXIT."""
        await workflow.execute_activity_method(
            LoanActivities.record_closure,
            ClosureRecord(self.inp.loan_id, "COOLING_OFF_EXIT"),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Closed as COOLING_OFF_EXIT",
        )
        await self._notice("CLOSED", "closed", closedAs="COOLING_OFF_EXIT")
        return await self._end(LoanStatus.CANCELLED, "borrower exited within the cooling-off period")

    # ---------------------------------------------------------------- queries (the API's quotes)
    @workflow.query(description="The foreclosure quote on an IST date (ISO), paise by component, from loan state.")
    def quote_foreclosure(self, on: str) -> dict:
        state = self.servicing
        if state is None:
            raise ApplicationError("the loan is not being repaid", type="Conflict")
        quote = foreclosure_quote(
            state.installments,
            date.fromisoformat(on),
            charge_percent=self.inp.policy.foreclosure_percent,
            gst_percent=self.inp.policy.gst_percent,
            credit_unearned=self._credits_unearned(),
        )
        return quote.as_dict() | {"creditBalance": max(0, state.excess - state.refunded)}

    @workflow.query(description="The cooling-off exit on an IST date (ISO): amount, APR cost, last day; or why not.")
    def quote_cooling_off(self, on: str) -> dict:
        state = self.servicing
        policy = self.inp.policy
        if state is None or self.status != LoanStatus.DISBURSED:
            return {"available": False, "reason": f"the loan is {self.status}"}
        if not policy.cooling_off_days or not policy.apr:
            return {"available": False, "reason": "this loan was made before the cooling-off exit was offered"}
        if any(i.principal_paid or i.interest_paid for i in state.installments):
            return {"available": False, "reason": "a repayment has already been made"}
        disbursed_on = state.disbursed_at.astimezone(IST).date()
        try:
            exit_ = cooling_off_exit(self.inp.terms.amount, policy.apr, disbursed_on, date.fromisoformat(on),
                                     policy.cooling_off_days)  # fmt: skip
        except ValidationError as exc:
            return {"available": False, "reason": str(exc)}
        return {"available": True, **exit_.as_dict()}
