"""Servicing's repayment loop, penal charges and delinquency (see ``workflows.loan``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain import schedule
    from domain.charges import PenalChargeSpec, charge_config_from_dict
    from domain.delinquency import AssetClass, assess, days_past_due
    from domain.servicing import dated_dues, flat_penal_on_overdue, penal_accruals
    from domain.settlement import waive_remaining
    from domain.status import LoanStatus
    from workflows.contracts import (
        DelinquencyRecord,
        InstallmentState,
        LoanWorkflowResult,
        OverdueRecord,
        PaymentLinkRequest,
        PenalLevy,
    )
    from workflows.options import (
        BRAND_ID,
        COLLECTIONS_PATCH,
        CONTACT_HOURS_PATCH,
        DAY_END_PATCH,
        DPD,
        FORECLOSURE_INTEREST_CREDIT_PATCH,
        GRACE_ADVANCE_PATCH,
        IST,
        IST_ANCHOR_PATCH,
        LOAN_AMOUNT,
        LOAN_STATUS,
        MAX_RUN_EVENTS,
        MONEY_IN_PATCH,
        NEXT_DUE_AT,
        OVERDUE_RECHECK,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
        RECEIPT_NOTICE_AT_START_PATCH,
        SERVICING_LOCAL_PATCH,
        STATUS_WITH_PAYMENT_PATCH,
    )

from workflows.base import LoanBase
from workflows.patches import patched, upsert_changed


def _next_ist_midnight(now: datetime) -> datetime:
    """The next 00:00 IST after ``now``: when the day-end of today has run."""
    local = now.astimezone(IST)
    return datetime.combine(local.date() + timedelta(days=1), time(0), IST)


class ServicingPhase(LoanBase):
    """Servicing: the repayment loop. Each pass accrues penal charges, applies payments, marks installments
    overdue, moves DISBURSED ↔ OVERDUE, records DPD and the RBI asset class as of the last day-end, keeps the
    current installment's payment link, then sleeps until the next due date or day-end or payment."""

    async def _service(self) -> LoanWorkflowResult:
        state = self.servicing
        assert state is not None
        upsert_changed(
            [
                LOAN_STATUS.value_set(self.status),
                BRAND_ID.value_set(self.inp.brand_id),
                LOAN_AMOUNT.value_set(self.inp.terms.amount),
            ]
        )
        self.day_end_v2 = patched(DAY_END_PATCH)
        self.money_in = patched(MONEY_IN_PATCH)
        self.local_steps = patched(SERVICING_LOCAL_PATCH)
        # at the run's start, so its marker (and the SDK's TemporalChangeVersion upsert) is not a credit's work
        self.status_with_payment = patched(STATUS_WITH_PAYMENT_PATCH)
        self.receipt_notice = self.money_in and patched(RECEIPT_NOTICE_AT_START_PATCH)
        self._decide_autopay_later()  # a run that begins with an ACTIVE mandate: at its start
        self.collections = self.money_in and patched(COLLECTIONS_PATCH)
        self.interest_credit = self.money_in and patched(FORECLOSURE_INTEREST_CREDIT_PATCH)
        # a product timed in seconds (the demo's) has no night to wait out, so only a calendar product asks (a marker)
        self.contact_hours = self.money_in and not self.inp.terms.period_seconds and patched(CONTACT_HOURS_PATCH)
        # only a schedule with an installment of nothing (a grace period) is affected, so only it asks (a marker)
        grace = any(i.principal == 0 and i.interest == 0 for i in state.installments)
        self.advance_skips_paid = grace and patched(GRACE_ADVANCE_PATCH)
        # only a loan disbursed between midnight and 05:30 IST has an IST date other than its UTC one, and only with
        # nothing paid yet does an advance re-amortise from disbursal
        disbursed = state.disbursed_at
        early = disbursed.astimezone(IST).date() != disbursed.date()
        untouched = not any(i.principal_paid or i.interest_paid for i in state.installments)
        self.anchor_ist = early and untouched and patched(IST_ANCHOR_PATCH)
        if self.money_in and state.accrual_since is None:
            state.accrual_since = workflow.now()
        woke_for_money_in, last_link = False, (0, 0)
        while True:
            now = workflow.now()
            if self.collections:  # held for the pass: a staff decision never interleaves with a payment
                await self.servicing_lock.acquire()
                self.loop_holds_lock = True
            await self._accrue_penal(now)
            await self._apply_payments()
            if self.money_in:
                await self._take_events()
                if state.closed_as == "COOLING_OFF_EXIT":
                    return await self._exit_cooling_off()
            if self.collections:
                self.relink = False
                if self.write_off_request is not None and self.late_recovery and self.pending_payments:
                    await self._apply_payments()  # those that arrived during this pass's steps count first
                if self.write_off_request is not None and self._write_off_still_due(now):
                    return await self._write_off_now()
                if state.closed_as == "SETTLED":
                    waive_remaining(state.installments)  # the settlement paid: the rest is waived
                await self._lapse_settlement(now)
                if state.closed_as is None:
                    await self._settlement_link_follows()  # part-paid another way: a link for what is still to pay
            unpaid = [i for i in state.installments if not i.paid]
            if not unpaid:
                upsert_changed([NEXT_DUE_AT.value_unset(), DPD.value_set(0)])
                await self._record_delinquency(now)
                if self.collections:
                    await self._review_collections(now)  # a collections case ends with the loan
                if self.collections and state.closed_as == "SETTLED":
                    return await self._close_settled()
                if self.collections:
                    await self._settlement_paid_in_full()  # an approved settlement nothing was waived for
                if self.money_in:
                    return await self._close()
                return await self._end(LoanStatus.COMPLETED, "all installments paid")
            current = unpaid[0]
            past_due = [i for i in unpaid if i.due_at <= now]
            for inst in past_due:
                if not inst.overdue:
                    await self._mark_overdue(inst, now)
            if past_due and self.status != LoanStatus.OVERDUE:
                await self._move(LoanStatus.OVERDUE, f"installment {past_due[0].number} unpaid after due date")
            elif not past_due and self.status == LoanStatus.OVERDUE:
                await self._move(LoanStatus.DISBURSED, "arrears cleared")
            await self._record_delinquency(now)
            if self.collections:
                await self._review_collections(now)
            next_step = None
            if self.money_in:
                await self._accrue(now)
                if past_due:
                    await self._overdue_notice(past_due[0], self._installment_dpd(past_due[0], now))
                debited = self._autopay_installment(unpaid)  # the oldest; or the oldest with tries left
                steps = [
                    await self._reminders(now, current),
                    await self._autopay(now, debited) if debited is not None else None,
                ]
                next_step = min((s for s in steps if s is not None), default=None)
                if (held := self._held_notices_wake()) is not None:  # notices waiting for 08:00 IST
                    next_step = held if next_step is None else min(next_step, held)
            status: list[SearchAttributeUpdate[Any]] = []
            if self.status_attribute_due:  # a move recorded with a payment this pass (STATUS_WITH_PAYMENT_PATCH)
                status, self.status_attribute_due = [LOAN_STATUS.value_set(self.status)], False
            upsert_changed([*status, NEXT_DUE_AT.value_set(current.due_at), DPD.value_set(state.dpd)])
            link = (current.number, current.remaining)
            if not (woke_for_money_in and link == last_link):  # a reminder's wake changes no link
                await self._ensure_link(current)
            last_link = link
            if self.money_in:
                await self._release_held_notices()  # after the link they point at (CONTACT_HOURS_PATCH)
            if not past_due:
                wait = current.due_at - now
            elif self.day_end_v2 and not self.inp.terms.period_seconds:
                wait = _next_ist_midnight(now) - now  # each day-end, whenever a payment woke us meanwhile
            else:
                wait = OVERDUE_RECHECK
            if self.collections and (lapse := self._settlement_due()) is not None:
                next_step = lapse if next_step is None else min(next_step, lapse)
            for_money_in = next_step is not None and next_step - now < wait
            if for_money_in:
                assert next_step is not None
                wait = max(next_step - now, timedelta(0))
            self.notice_held = False  # what this pass held is in its wake-up; a handler's hold from now wakes the loop
            self._release_pass()
            try:
                await workflow.wait_condition(
                    lambda: (
                        bool(self.pending_payments)
                        or (self.money_in and self._money_in_woken())
                        or (self.collections and self._collections_woken())
                    ),
                    timeout=wait,
                    timeout_summary="reminder or autopay step" if for_money_in else f"installment {current.number} due",
                )
                self.day_end_run = woke_for_money_in = False
            except asyncio.TimeoutError:
                self.day_end_run, woke_for_money_in = not for_money_in, for_money_in
            state.woke_for_day_end = self.day_end_run
            info = workflow.info()
            pending = self.collections and self._collections_woken()  # a decision to act on first, in this run
            if not pending and (
                info.is_continue_as_new_suggested()
                or (self.collections and info.get_current_history_length() > MAX_RUN_EVENTS)
            ):
                if self.followups:  # workflows.followup: finish them first, while what arrives can still be taken
                    await self._drain_followups()
                    if self._woken_while_draining():
                        continue
                await self._continue_as_new()

    def _woken_while_draining(self) -> bool:
        """A payment, a money-in event or a staff decision arrived while follow-up work was drained: the loop takes
        it before continuing as new."""
        return bool(
            self.pending_payments
            or (self.money_in and self._money_in_woken())
            or (self.collections and self._collections_woken())
        )

    async def _ensure_link(self, current: InstallmentState) -> None:
        """The current installment's payment link for exactly what is due on it (with a follow-up queue, made in
        the background in the order asked: ``workflows.followup``)."""
        request = PaymentLinkRequest(
            self.inp.loan_id,
            self.inp.brand_id,
            self.inp.policy.payment_provider,
            current.number,
            current.remaining,
        )
        await self._followup_link(
            lambda: workflow.execute_activity_method(
                LoanActivities.ensure_payment_link,
                request,
                task_queue=self.inp.followup_task_queue,  # None: the loan's own
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Payment link, installment {request.installment_no}",
            ),
            request,
        )

    def _installments(self, now: datetime) -> list[InstallmentState]:
        """The schedule from the engine; each installment's timer fires when its due date is over (midnight
        IST after it), or every ``period_seconds`` for demo products."""
        terms = self.inp.terms
        plan = schedule.generate(terms.schedule_terms(now.astimezone(IST).date()))
        return self._states(plan.rows, now)

    def _states(self, rows, start: datetime) -> list[InstallmentState]:  # noqa: ANN001
        seconds = self.inp.terms.period_seconds
        return [
            InstallmentState(
                r.number,
                start + timedelta(seconds=seconds * r.number)
                if seconds
                else datetime.combine(r.due_date + timedelta(days=1), time(0), IST),
                r.principal,
                r.interest,
                due_date=r.due_date,
                days=r.days,
                fees=r.fees,
            )
            for r in rows
        ]

    def _penal_spec(self) -> PenalChargeSpec | None:
        raw = self.inp.policy.penal
        if not raw:
            return None
        return charge_config_from_dict({"penal": raw}).penal

    async def _levy(self, inst: InstallmentState, amount: int, key: str, reason: str) -> None:
        if amount <= 0:
            return
        if self.servicing is not None and self.servicing.schedule_version:
            key = f"v{self.servicing.schedule_version}:{key}"  # a restructured schedule reuses the numbers
        await self._db_step(
            LoanActivities.levy_penal,
            PenalLevy(self.inp.loan_id, inst.number, amount, key, reason),
            f"Penal charge {amount} paise, installment {inst.number}",
        )
        inst.penal += amount

    async def _accrue_penal(self, now: datetime) -> None:
        """Percent-per-annum penal charges on each overdue installment's unpaid principal + interest, simple,
        for the days since last computed (RBI 2023: a charge, never added to principal or interest)."""
        state = self.servicing
        if state is None:
            return
        by_number = {i.number: i for i in state.installments}
        for accrual in penal_accruals(state.installments, now.astimezone(IST).date(), self._penal_spec()):
            inst = by_number[accrual.number]
            await self._levy(inst, accrual.amount, accrual.key, accrual.reason)
            inst.penal_accrued_to = accrual.until

    async def _record_delinquency(self, now: datetime) -> None:
        """DPD and RBI asset class (SMA-0/1/2, NPA with the upgrade-only-when-all-arrears-paid rule)."""
        state = self.servicing
        assert state is not None
        today = now.astimezone(IST).date()
        dues = dated_dues(state.installments)
        if self.day_end_v2:
            # As of the last day-end run: at any moment of day D that is D-1's, so count from the start of D
            # (RBI IRACP: due 31 Mar unpaid is DPD 1 at the day-end of 31 Mar, NPA at the day-end of 29 Jun).
            result = assess(dues, today, state.asset_class, npa_days=self.inp.policy.npa_days, at_day_end=False)
        else:
            result = assess(dues, today, state.asset_class, npa_days=self.inp.policy.npa_days)
        if self.collections and state.npa_until is not None and today < state.npa_until:
            # RBI Prudential Framework (2019): restructured, so NPA until the specified period has passed
            result = replace(result, asset_class=AssetClass.NPA)
        if (result.dpd, str(result.asset_class)) != (state.dpd, state.asset_class):
            changed = str(result.asset_class) != state.asset_class
            state.dpd, state.asset_class = result.dpd, str(result.asset_class)
            record = DelinquencyRecord(self.inp.loan_id, state.dpd, state.asset_class)
            if self.day_end_v2:
                # A timer run at 00:00 IST is the previous date's day-end; a payment moves it during today.
                as_of = today - timedelta(days=1) if self.day_end_run else today
                record = replace(record, as_of=as_of, class_changed=changed)
            await self._db_step(LoanActivities.record_delinquency, record, f"DPD {state.dpd}, {state.asset_class}")

    def _installment_dpd(self, inst: InstallmentState, now: datetime) -> int:
        if self.day_end_v2 and inst.due_date is not None and not self.inp.terms.period_seconds:
            return days_past_due(inst.due_date, now.astimezone(IST).date(), at_day_end=False)
        return max(0, (now - inst.due_at).days)

    async def _mark_overdue(self, inst: InstallmentState, now: datetime) -> None:
        await self._db_step(
            LoanActivities.mark_overdue,
            OverdueRecord(self.inp.loan_id, inst.number, self._installment_dpd(inst, now)),
            f"Installment {inst.number} overdue",
        )
        inst.overdue = True
        flat = flat_penal_on_overdue(inst, self._penal_spec())
        if self.money_in:
            await self._overdue_notice(inst, max(1, self._installment_dpd(inst, now)))
        await self._levy(inst, flat, f"penal:{inst.number}:flat", "delayed payment (per occurrence)")
