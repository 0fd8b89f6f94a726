"""Servicing's payments: allocation, parking, credit balance (see ``workflows.loan``)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime, time

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain import schedule
    from domain.allocation import AllocationConfig, allocate_payment
    from domain.closure import close_schedule, cooling_off_exit, exit_schedule, foreclosure_quote, settle_all
    from domain.errors import ValidationError
    from domain.money import MAX_ENTERED_PAISE
    from domain.servicing import (
        advance_as_principal,
        apply_parts,
        payable_dues,
        penal_after_value_date,
        untouched_future,
    )
    from domain.settlement import PAYMENT_ORDER, settlement_parts
    from domain.status import LoanStatus
    from workflows.contracts import (
        CreditBalanceRecord,
        InstallmentState,
        ParkedPayment,
        PaymentEvent,
        PaymentPart,
        PaymentRecord,
        StatusChange,
    )
    from workflows.options import (
        DB_RETRY,
        DB_TIMEOUT,
        IST,
        LOCAL_DB_PATCH,
        RECEIPTS_PATCH,
        VALUE_DATED_PENAL_PATCH,
    )

from workflows.base import LoanBase
from workflows.colending import colend_loss, colend_payment
from workflows.patches import patched

# A single payment larger than the largest a loan can be cannot be real: it is parked, not applied (the webhooks
# refuse it at the door with the same bound).
PLAUSIBLE_PAYMENT_PAISE = MAX_ENTERED_PAISE
# The gateway name of a payment staff recorded and another approved (api.partner.payments): its value date is theirs.
OFFLINE = "offline"
# Recording refusals that retrying cannot fix: the payment is parked and the loan goes on.
UNRECORDABLE = frozenset({"UnrecordablePayment", "ValidationError"})


def _payment_problem(payment: PaymentEvent) -> str | None:
    """Why a received payment cannot be applied as it is (None when it can)."""
    amount = payment.amount
    if not isinstance(amount, int) or isinstance(amount, bool):
        return f"amount {amount!r} is not whole paise"
    if amount <= 0:
        return f"amount {amount} paise is not positive"
    if amount > PLAUSIBLE_PAYMENT_PAISE:
        return f"amount {amount} paise is implausible for one payment"
    return None


class ReceiptsPhase(LoanBase):
    """Servicing: money in. Each payment received is allocated by the brand's waterfall and recorded once; an
    advance to principal re-amortises the future; what cannot be applied is parked; what arrives as the loan ends
    becomes its credit balance (docs/servicing.md)."""

    async def _apply_payments(self) -> None:
        """Apply each pending payment in arrival order. One that cannot be applied (malformed, or its
        recording refused for good) is parked for ops and the rest go on; it never blocks the loan."""
        state = self.servicing
        assert state is not None
        while self.pending_payments:
            payment = self.pending_payments.pop(0)
            if payment.payment_id in state.processed_payments:
                continue
            problem = _payment_problem(payment)
            if problem is not None and patched(RECEIPTS_PATCH):
                await self._park(payment, problem)
                continue
            kept, kept_closed_as = copy.deepcopy(state.installments), state.closed_as
            try:
                result = await self._apply_one(payment)
            except (ActivityError, ApplicationError, ValidationError) as exc:
                # an activity task's failure is an ActivityError around the cause; a local activity's (LOCAL_DB_PATCH)
                # non-retryable failure arrives as the ApplicationError itself
                cause = exc.cause if isinstance(exc, ActivityError) else exc
                kind = cause.type if isinstance(cause, ApplicationError) else "ValidationError"
                if kind not in UNRECORDABLE or not patched(RECEIPTS_PATCH):
                    raise
                state.installments = kept  # nothing of it was recorded: undo what it changed here
                state.closed_as = kept_closed_as
                await self._park(payment, f"could not be recorded: {cause}")
                continue
            state.processed_payments.append(payment.payment_id)
            state.total_collected += payment.amount
            state.excess += result
            if self.money_in:  # after the loan's own figures: a receipt or a debit's bookkeeping never holds them
                await self._debit_settled(payment.mandate_debit_id)
                await self._followup(self._receipt(payment))  # in the background with a follow-up queue

    async def _apply_one(self, payment: PaymentEvent) -> int:
        """Allocate one payment (the brand's waterfall), record it, and return its excess in paise. Under the
        money-in patch a payment that pays a foreclosure quote or the cooling-off exit closes the loan instead
        (``_closing_parts``); the interest it pays clears what was accrued first (accrual basis)."""
        state = self.servicing
        assert state is not None
        today = workflow.now().astimezone(IST).date()
        closing = self._closing_parts(payment, today) if self.money_in else None
        reversed_penal: list[tuple[int, int]] = []
        credited: list[tuple[int, int, int]] = []
        if closing is not None:
            parts, excess, advance, reshaped, fees_gst, credited = closing
        else:
            reversed_penal = self._penal_to_reverse(payment, today)
            dues = payable_dues(state.installments, today)
            result = allocate_payment(payment.amount, today, dues, self._allocation_config())
            parts, excess, advance, reshaped, fees_gst = result.parts, result.excess, result.advance_principal, [], 0
        accrued = self._clear_receivable(parts) if self.money_in else 0
        apply_parts(state.installments, parts)
        if advance and not untouched_future(state.installments, skip_paid=self.advance_skips_paid):
            # nothing left to re-amortise (every unpaid installment overdue or part-paid): the advance pays their
            # principal, the last first; any rest is excess (a credit balance), never lost
            extra, rest = advance_as_principal(state.installments, advance, today)
            apply_parts(state.installments, extra)
            parts, advance, excess = [*parts, *extra], 0, excess + rest
        rescheduled_from: int | None = None
        rescheduled: list[InstallmentState] = []
        if advance:
            rescheduled_from, rescheduled = self._reamortize(advance)
        outstanding = sum(i.principal - i.principal_paid for i in state.installments)
        left = [i for i in state.installments if not i.paid]
        record = PaymentRecord(
            self.inp.loan_id,
            payment,
            [(p.number, p.interest, p.principal) for p in parts],
            excess,
            outstanding,
            left[0].due_at if left else None,
            parts=[PaymentPart(p.number, p.penal, p.fees, p.interest, p.principal) for p in parts],
            advance_principal=advance,
            rescheduled_from=rescheduled_from,
            rescheduled=rescheduled,
        )
        if self.money_in:
            dated = payment.paid_on or today
            record = replace(record, accrued_interest=accrued, reshaped=reshaped, fees_gst=fees_gst, value_date=dated)
        reversed_total = sum(paise for _, paise in reversed_penal)
        if reversed_penal:
            record = replace(record, penal_reversed=reversed_penal)
        if credited:
            record = replace(record, interest_credited=credited)
        move = self._arrears_cleared(left) if closing is None else None
        if move is not None:
            record = replace(record, status_change=move)
            self.moving_to = move.to_status
        try:
            await self._database_step(  # local: in the workflow task that took the payment (workflows.options)
                patched(LOCAL_DB_PATCH),
                LoanActivities.record_payment,
                record,
                summary=f"Payment {payment.payment_id}: {payment.amount} paise"
                + (f", {move.from_status} → {move.to_status}" if move is not None else "")
                + (f", penal reversed {reversed_total} paise" if reversed_total else ""),
            )
        except BaseException:
            if move is not None:  # nothing of it was recorded (the payment is parked, or the task retried)
                self.seq, self.moving_to = move.seq - 1, None
            raise
        if move is not None:  # its search attribute goes with the pass's upsert of the next due date and DPD
            self._moved(move.to_status, upsert=False)
        await colend_payment(self, payment, record, today)  # co-lent loans only (co-lending-v1): split by lender
        if reversed_total:  # co-lent loans only: the partner's share of the charges reversed, as for a waiver
            reversal = {"penal": reversed_total}
            await colend_loss(self, "CL_WAIVER", f"penal-reversed:{payment.payment_id}", reversal, today)
        return excess

    def _allocation_config(self) -> AllocationConfig | None:
        """The brand's allocation waterfall for this loan (None: the default order, ``domain.allocation``)."""
        return AllocationConfig(**self.inp.policy.allocation) if self.inp.policy.allocation else None

    def _penal_to_reverse(self, payment: PaymentEvent, today: date) -> list[tuple[int, int]]:
        """A backdated payment (value date before ``today``, IST) that the gateway or the engine dated: the penal
        charges levied since on installments it pays in full by the brand's waterfall
        (``domain.servicing.penal_after_value_date``), taken off the installments here and returned as (number,
        paise) for the payment's record to reverse in its transaction (VALUE_DATED_PENAL_PATCH, asked only when
        there is something to reverse). Empty otherwise, and always for:

        - an offline payment, whose value date staff enter: its penal charges stand, and a waiver within the role's
          limit (``waive_penal``) is how staff take them off;
        - a restructured schedule, whose first installment carries the old installments' unpaid penal charges;
        - a demo product, whose installments fall due by the second, not on their calendar dates."""
        state = self.servicing
        assert state is not None
        if (
            not self.money_in
            or payment.paid_on is None
            or payment.paid_on >= today
            or payment.gateway == OFFLINE
            or state.schedule_version
            or self.inp.terms.period_seconds
        ):
            return []
        found = penal_after_value_date(
            state.installments, payment.paid_on, payment.amount, today, self._allocation_config()
        )
        if not found or not patched(VALUE_DATED_PENAL_PATCH):
            return []
        by_number = {i.number: i for i in state.installments}
        for number, paise in found:
            by_number[number].penal -= paise
        return found

    def _arrears_cleared(self, left: list[InstallmentState]) -> StatusChange | None:
        """The move back to DISBURSED that the payment just applied makes, recorded with it (STATUS_WITH_PAYMENT_PATCH):
        the loan is OVERDUE and no installment it leaves unpaid is past due now. The repayment loop would make the
        same move at its next look at the schedule (same or earlier clock, so nothing more past due); a run before
        the patch makes it there. None when the payment makes no move, or it pays the last installment (the loan's
        closure moves it)."""
        if self.status != LoanStatus.OVERDUE or not left:
            return None
        now = workflow.now()
        if not self.status_with_payment or any(i.due_at <= now for i in left):
            return None
        return self._status_change(LoanStatus.DISBURSED, "arrears cleared")

    def _closing_parts(self, payment: PaymentEvent, today: date) -> tuple | None:
        """A payment that closes the loan early, as (parts, excess, advance, reshaped, fees GST, interest credited),
        or None:

        - ``COOLING_OFF`` within the look-up period and at least the exit amount: principal plus the proportionate
          APR cost, no penalty (RBI Digital Lending); the loan ends CANCELLED;
        - ``FORECLOSURE`` or ``PREPAYMENT`` (a link the borrower asked for) of at least the foreclosure quote
          while a later period is still to come: the quote's interest to date and charge, all principal; the loan
          ends COMPLETED, recorded FORECLOSED. Interest paid for days after it counts towards the principal
          (FORECLOSURE_INTEREST_CREDIT_PATCH: its moves go to record_payment).

        Less than the amount, or an installment payment, is allocated as usual (an advance re-amortises)."""
        state = self.servicing
        assert state is not None
        policy = self.inp.policy
        # judged as of the day the money was paid (the webhook's day, an offline payment's date), never later
        paid_on = min(payment.paid_on or today, today)
        settling = self._settling_parts(payment, paid_on, today)
        if settling is not None:
            return settling
        if payment.purpose == "COOLING_OFF" and policy.cooling_off_days and policy.apr:
            if any(i.principal_paid or i.interest_paid for i in state.installments):
                return None
            disbursed_on = state.disbursed_at.astimezone(IST).date()
            try:
                exit_ = cooling_off_exit(
                    self.inp.terms.amount, policy.apr, disbursed_on, paid_on, policy.cooling_off_days
                )
            except ValidationError:
                return None  # the period is over: the money is applied as a payment
            if payment.amount < exit_.amount:
                return None
            reshaped = exit_schedule(state.installments, exit_)
            parts = settle_all(state.installments, today)
            state.closed_as = "COOLING_OFF_EXIT"
            return parts, payment.amount - exit_.amount, 0, reshaped, 0, []
        if payment.purpose not in ("FORECLOSURE", "PREPAYMENT"):
            return None  # an installment's own payment (or one with no stated purpose) is allocated as usual
        guarded = self.interest_credit  # FORECLOSURE_INTEREST_CREDIT_PATCH also guards a backdated foreclosure
        value_day_began, now = datetime.combine(paid_on, time.min, IST), workflow.now()
        if guarded and any(value_day_began < i.due_at <= now for i in state.installments if not i.paid):
            # dated before a due moment now past: what fell due since (its penal, its period's accrued interest) is
            # not in that day's quote, so the money is applied as a payment, never booked above what came
            return None
        quote = foreclosure_quote(
            state.installments, paid_on, charge_percent=policy.foreclosure_percent, gst_percent=policy.gst_percent,
            credit_unearned=self._credits_unearned(),
        )  # fmt: skip
        if quote.current is None or payment.amount < quote.total:
            return None
        kept = copy.deepcopy(state.installments) if guarded else None
        before = {i.number: (i.interest, i.fees) for i in state.installments}
        credited = close_schedule(state.installments, quote)
        reshaped = [
            (i.number, i.interest, i.fees) for i in state.installments if before[i.number] != (i.interest, i.fees)
        ]
        parts = settle_all(state.installments, today)
        owed = sum(p.total for p in parts)
        if kept is not None and owed > payment.amount:  # (never, by the quote; a guard against booking more)
            state.installments = kept
            return None
        state.closed_as = "FORECLOSED"
        excess = payment.amount - (owed if guarded else quote.total)
        return parts, excess, 0, reshaped, quote.charge_gst, credited

    def _settling_parts(self, payment: PaymentEvent, paid_on: date, today: date) -> tuple | None:
        """A payment that completes an approved settlement (paid on or before its deadline, and with what came since
        the approval at least its amount), as closing parts: interest only to the payment's day, the settlement's
        money to principal first, then interest, fees and penal (``domain.settlement``); the rest is waived by the
        loop (``closed_as`` SETTLED). None otherwise (the payment is allocated as usual and counts towards it)."""
        state = self.servicing
        assert state is not None
        s = self._settlement_open() if self.collections else None
        if s is None or s.deadline is None or paid_on > s.deadline:
            return None
        due = s.amount - (state.total_collected - s.collected_before)
        quote = foreclosure_quote(state.installments, paid_on, charge_percent=None, gst_percent="0")
        # SETTLEMENT_APPLIES_ALL_PATCH: money that pays everything owed closes the loan even below what the settlement
        # still asks (a penal waiver since the approval can leave less owed than that)
        if payment.amount < (min(due, quote.total) if s.applies_all else due):
            return None
        before = {i.number: (i.interest, i.fees) for i in state.installments}
        close_schedule(state.installments, quote)
        reshaped = [
            (i.number, i.interest, i.fees) for i in state.installments if before[i.number] != (i.interest, i.fees)
        ]
        if s.applies_all:  # SETTLEMENT_APPLIES_ALL_PATCH: the whole payment pays; only what it leaves is waived
            owed = sum(
                max(getattr(i, part) - getattr(i, f"{part}_paid"), 0)
                for i in state.installments
                for part in PAYMENT_ORDER
            )
            parts, left = settlement_parts(state.installments, payment.amount, today)
            if payment.amount < owed:
                state.closed_as = "SETTLED"
            else:  # nothing left to waive: paid in full, closed as any paid loan (no settlement, no bureau flag)
                state.closed_as = "FORECLOSED" if quote.current is not None else None
            return parts, left, 0, reshaped, 0, []
        parts, left = settlement_parts(state.installments, max(due, 0), today)
        state.closed_as = "SETTLED"
        return parts, payment.amount - max(due, 0) + left, 0, reshaped, 0, []

    def _clear_receivable(self, parts) -> int:  # noqa: ANN001
        """The part of these interest payments that clears interest accrued earlier (posted receivable)."""
        state = self.servicing
        assert state is not None
        by_number = {i.number: i for i in state.installments}
        cleared = 0
        for part in parts:
            inst = by_number[part.number]
            take = min(part.interest, inst.interest_accrued - inst.receivable_cleared)
            if take > 0:
                inst.receivable_cleared += take
                cleared += take
        return cleared

    async def _park(self, payment: PaymentEvent, reason: str) -> None:
        await workflow.execute_activity_method(
            LoanActivities.park_payment,
            ParkedPayment(self.inp.loan_id, payment, reason),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Payment {payment.payment_id[:40]} parked for ops",
        )
        if self.servicing is not None:
            self.servicing.processed_payments.append(payment.payment_id)

    async def _keep_late_receipts(self) -> None:
        """Payments that arrived as the loan ended: applied as excess (a credit balance) after disbursal,
        recorded as a credit balance before it, parked if malformed. Loops: more may arrive meanwhile.

        On a loan just written off (WRITE_OFF_RECOVERY_PATCH) each is a recovery instead: its installments are
        still unpaid here, but the write-off took them off the books, so ``record_credit_balance`` books the money
        as recovery income (the loan reads WRITTEN_OFF by now: ``db.receipts.is_recovery``)."""
        state = self.servicing
        recovery = self.late_recovery and self.status == LoanStatus.WRITTEN_OFF
        while self.pending_payments:
            if state is not None and not recovery:
                await self._apply_payments()
                continue
            payment = self.pending_payments.pop(0)
            if state is not None and payment.payment_id in state.processed_payments:
                continue
            problem = _payment_problem(payment)
            if problem is not None:
                await self._park(payment, problem)
                continue
            try:
                await workflow.execute_activity_method(
                    LoanActivities.record_credit_balance,
                    CreditBalanceRecord(self.inp.loan_id, payment),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                    summary=f"Payment {payment.payment_id[:40]}: {payment.amount} paise "
                    + ("as a recovery" if recovery else "to credit balance"),
                )
            except ActivityError as exc:
                cause = exc.cause
                if not (isinstance(cause, ApplicationError) and cause.type in UNRECORDABLE):
                    raise
                await self._park(payment, f"could not be recorded as credit balance: {cause}")
                continue
            if state is not None:
                state.processed_payments.append(payment.payment_id)
                state.total_collected += payment.amount
                await self._debit_settled(payment.mandate_debit_id)  # an autopay debit's row: CAPTURED

    def _reamortize(self, advance: int) -> tuple[int, list[InstallmentState]]:
        """An advance to principal re-amortises the untouched future installments (product's prepayment
        mode). Returns the first replaced number and the new installments."""
        state = self.servicing
        assert state is not None
        future = untouched_future(state.installments, skip_paid=self.advance_skips_paid)
        settled = [i for i in state.installments if i not in future]
        balance = sum(i.principal for i in future) - advance
        first = future[0].number
        if balance <= 0:  # the advance repaid every future installment
            state.installments = settled
            return first, []
        disbursed_on = state.disbursed_at.astimezone(IST).date() if self.anchor_ist else state.disbursed_at.date()
        anchor = settled[-1].due_date if settled and settled[-1].due_date else disbursed_on
        plan = schedule.reamortize(
            self.inp.terms.schedule_terms(state.disbursed_at.astimezone(IST).date()),
            balance=balance,
            anchor=anchor,
            next_due=future[0].due_date or anchor,
            remaining=len(future),
            current_emi=future[0].principal + future[0].interest,
            mode=self.inp.policy.prepayment_mode,
            first_number=first,
        )
        new = self._states(plan.rows, state.disbursed_at)
        state.installments = settled + new
        return first, new
