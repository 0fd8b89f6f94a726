"""Servicing: autopay (see ``workflows.loan``). With an ACTIVE mandate each installment is debited on its due date at
09:00 IST after a pre-debit notice at least 24 hours before (NPCI's rule for UPI Autopay; sent 48 hours before when
there is time); a failed debit is told and retried ``autopay_retries`` times ``autopay_retry_days`` apart, each with
its own notice, while the payment link stays. An installment whose tries are spent is left to the link and
collections, and the next unpaid one is debited on its own due date after its own notice
(``AUTOPAY_LATER_INSTALLMENTS_PATCH``): the money is applied by the brand's waterfall, oldest dues first. A
restructured installment gets tries of its own (``AUTOPAY_RESTRUCTURE_TRIES_PATCH``). Mandate events themselves are
taken in ``workflows.money_in``."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        DebitState,
        InstallmentState,
        MandateDebitCheck,
        MandateDebitRequest,
        MandateDebitResult,
        PaymentFailure,
    )
    from workflows.options import (
        AUTOPAY_CAPTURE_AWAITS_PAYMENT_PATCH,
        AUTOPAY_CAPTURE_SPACES_RETRY_PATCH,
        AUTOPAY_CHARGE_UNANSWERED_PATCH,
        AUTOPAY_DEBIT_CHECK_PATCH,
        AUTOPAY_DEBIT_CHECKS,
        AUTOPAY_LATER_INSTALLMENTS_PATCH,
        AUTOPAY_RESTRUCTURE_TRIES_PATCH,
        DB_RETRY,
        DB_TIMEOUT,
        IST,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
    )

from workflows.base import LoanBase
from workflows.patches import patched

NOTICE_LEAD = timedelta(hours=48)  # pre-debit notice before the debit, when there is time
NPCI_MIN_NOTICE = timedelta(hours=24)  # never less (NPCI UPI Autopay pre-debit notification)
FIRST_DEBIT_CHECK = timedelta(hours=6)  # a debit without an outcome is first looked up the same day (15:00 IST)


class AutopayPhase(LoanBase):
    """The autopay debit of the current installment, step by step on the loan's timers."""

    def _try_key(self, installment_no: int) -> str:
        """``ServicingState.debit_last_try``'s key of an installment: its number under the schedule's version (a
        restructured schedule reuses the numbers)."""
        state = self.servicing
        assert state is not None
        return f"{state.schedule_version}:{installment_no}"

    def _tries_before(self, installment_no: int) -> int:
        """The debit attempt numbers of ``installment_no`` that are not its tries (0 when none): those its number had
        before a restructure gave it a new installment (AUTOPAY_RESTRUCTURE_TRIES_PATCH) and debits dropped uncharged
        (AUTOPAY_DROPPED_DEBIT_PATCH). Its tries count from there."""
        state = self.servicing
        assert state is not None
        return state.debit_tries_before.get(str(installment_no), 0)

    def _restructure_tries_asked(self) -> bool:
        """Ask AUTOPAY_RESTRUCTURE_TRIES_PATCH for a loan in a money-in servicing run: first in
        ``approve_restructure``'s handler, before it waits for the servicing lock, so no local activity's result
        comes first in its workflow task (and nothing the loop does during that wait changes the answer)."""
        if not self.money_in or self.servicing is None:
            return False
        return patched(AUTOPAY_RESTRUCTURE_TRIES_PATCH)

    async def _restart_debit_tries(self, restructured: list[InstallmentState]) -> None:
        """A restructure replaced installments ``restructured`` (numbers reused from the first unpaid one; called
        once the schedule's version moved on): each gets the brand's tries afresh (AUTOPAY_RESTRUCTURE_TRIES_PATCH).

        - The attempts its number already had, one in progress included, become its start: its debits go on
          numbering attempts from there (``debit_failures``), so each has a debit row and a pre-debit notice of its
          own, and its tries are counted from ``debit_tries_before``.
        - A debit notified but not yet sent is not sent (whatever its number: every unpaid installment is
          restructured): its notice named the old installment's date and amount. Its row is recorded FAILED with the
          reason; the new installment gets its own notice.
        - A debit sent and awaiting its outcome is still awaited: a capture is applied like any payment, a failure
          is not counted against the new installment's tries (an outcome still unknown after every look-up spends
          them, as ever).
        - A debit of its number whose outcome never came (it may still be captured) blocks its new tries until that
          outcome arrives (``debit_blocked_by``, ``_autopay``).
        - The old schedule's last failure no longer spaces its first try."""
        state = self.servicing
        assert state is not None
        before = f"{state.schedule_version - 1}:"
        numbers = sorted(inst.number for inst in restructured)
        if state.debit is not None and not state.debit.sent:  # whether or not its number is still due
            dropped, state.debit = state.debit, None
            await self._debit_dropped(dropped, "installment restructured before the charge")
        for n in numbers:
            key = str(n)
            used = state.debit_failures.get(key, 0)
            if state.debit is not None and state.debit.installment_no == n:
                used = max(used, state.debit.attempt)
            if used:
                state.debit_failures[key] = used
                state.debit_tries_before[key] = used
            state.debit_failed_at.pop(key, None)
            open_debit = state.debit_last_try.get(f"{before}{n}") or state.debit_blocked_by.get(key)
            if open_debit and open_debit != "unknown":  # "unknown": no debit id, nothing could ever lift it
                state.debit_blocked_by[key] = open_debit

    async def _debit_dropped(self, debit: DebitState, why: str) -> None:
        """A debit notified but not yet charged is dropped (its mandate cancelled, paused or rejected,
        AUTOPAY_DROPPED_DEBIT_PATCH; or its installment restructured, AUTOPAY_RESTRUCTURE_TRIES_PATCH): its row is
        recorded FAILED, "<why>: not charged", and its attempt number is used up without counting as a try
        (``debit_tries_before``), so the next try gets a debit row and a pre-debit notice of its own rather than
        that row (its mandate, its date)."""
        state = self.servicing
        assert state is not None
        key = str(debit.installment_no)
        made = state.debit_failures.get(key, 0)
        if debit.attempt > made:
            state.debit_tries_before[key] = state.debit_tries_before.get(key, 0) + debit.attempt - made
            state.debit_failures[key] = debit.attempt
        if debit.debit_id:
            await self._debit_outcome(MandateDebitResult(debit.debit_id, "FAILED", f"{why}: not charged"))

    def _debited_past(self, inst: InstallmentState) -> bool:
        """Whether autopay may go past ``inst`` (AUTOPAY_LATER_INSTALLMENTS_PATCH): every try the brand allows for it
        (1 + ``autopay_retries``, a captured debit counted as one) has been made and its last try's outcome is known
        under this schedule (captured, failed, or nothing at the gateway); not when that debit may still be captured,
        nor for an installment whose tries were spent before its last try's outcome was kept."""
        state = self.servicing
        assert state is not None
        tries = state.debit_failures.get(str(inst.number), 0) - self._tries_before(inst.number)
        spent = tries >= 1 + self.inp.policy.autopay_retries
        return spent and state.debit_last_try.get(self._try_key(inst.number)) == ""

    def _decide_autopay_later(self) -> None:
        """Ask AUTOPAY_LATER_INSTALLMENTS_PATCH, then AUTOPAY_CAPTURE_SPACES_RETRY_PATCH, for a loan with an ACTIVE
        mandate (money in): at a servicing run's start, and right after ``record_mandate_event``'s result when a
        mandate becomes ACTIVE, so no local activity's result comes first in its workflow task. Once on, each stays
        on for the run."""
        state = self.servicing
        if not self.money_in or state is None or state.mandate_id is None:
            return
        if not self.autopay_later:
            self.autopay_later = patched(AUTOPAY_LATER_INSTALLMENTS_PATCH)
        if not self.autopay_spaced:
            self.autopay_spaced = patched(AUTOPAY_CAPTURE_SPACES_RETRY_PATCH)

    def _autopay_installment(self, unpaid: list[InstallmentState]) -> InstallmentState | None:
        """The installment autopay works on (``unpaid``: the schedule's unpaid installments, oldest first): the
        oldest; under AUTOPAY_LATER_INSTALLMENTS_PATCH the oldest it may not go past (``_debited_past``). None:
        nothing to debit."""
        if not self.autopay_later:
            return unpaid[0] if unpaid else None
        return next((inst for inst in unpaid if not self._debited_past(inst)), None)

    def _outcome_known(self, debit_id: str | None) -> None:
        """A debit's outcome (captured or failed) is known: the try it ended, or the installment whose last try it
        was (an outcome arriving after every look-up), no longer keeps autopay from going past it."""
        state = self.servicing
        if state is None or not debit_id:
            return
        for key, open_debit in state.debit_last_try.items():
            if open_debit == debit_id:
                state.debit_last_try[key] = ""
        for key in [key for key, open_debit in state.debit_blocked_by.items() if open_debit == debit_id]:
            del state.debit_blocked_by[key]
        if state.debit is not None and state.debit.debit_id == debit_id:
            state.debit_last_try[self._try_key(state.debit.installment_no)] = ""

    async def _autopay(self, now: datetime, current: InstallmentState) -> datetime | None:
        """The current installment's autopay debit: the pre-debit notice, then the charge. Returns when the next
        step is due (None: nothing to do)."""
        state = self.servicing
        assert state is not None
        if state.mandate_id is None:
            return None
        debit = state.debit
        if debit is not None and debit.sent:
            if self._debit_checks_on(debit):
                if debit.checks < AUTOPAY_DEBIT_CHECKS and now >= self._debit_check_at(debit):
                    step = await self._debit_checked(debit)
                    if step == "taken":
                        return None  # the loop applies what the gateway had at once
                    if step != "wait":
                        self._end_debit_try(debit, now, last=step == "unknown", known=step == "over")
                        if step == "over" and debit.unanswered and debit.debit_id is not None:
                            # a charge never answered, and the gateway has nothing for it: its row says so
                            await self._debit_outcome(
                                MandateDebitResult(debit.debit_id, "FAILED", "the gateway did not answer the charge")
                            )
                            return now  # the loop takes its next pass at once, on what arrived meanwhile
                        debit = None
            elif now > debit.charge_at + self._debit_patience():
                # before the patch: no outcome ever came (a lost webhook): that try is over, the link and the next
                # try take over
                self._end_debit_try(debit, now, last=False, known=False)
                debit = None
        if debit is not None and debit.installment_no != current.number:
            if debit.sent:  # its outcome is still awaited
                return self._debit_wake(debit, before=debit.charge_at + self._debit_patience())
            state.debit = debit = None
        if debit is None:
            if state.debit_blocked_by.get(str(current.number)):
                return None  # restructured while a debit of its number may still be captured: its outcome wakes it
            tried = state.debit_failures.get(str(current.number), 0)
            failed_at = state.debit_failed_at.get(str(current.number))
            attempt = tried + 1  # numbered across schedules: a restructured installment's go on from its number's
            if attempt - self._tries_before(current.number) > 1 + self.inp.policy.autopay_retries:
                return None  # the link and reminders take over
            at = self._instants(current)
            charge_at = at["debit"]
            notice_at = at["notice"]
            if failed_at is not None:
                gap = (
                    timedelta(seconds=(self.inp.terms.period_seconds or 3600) / 5)
                    if self.inp.terms.period_seconds
                    else timedelta(days=self.inp.policy.autopay_retry_days)
                )
                charge_at = max(charge_at, failed_at + gap)
                notice_at = charge_at - (gap / 2 if self.inp.terms.period_seconds else NOTICE_LEAD)
            if now < notice_at:
                return notice_at
            if not self.inp.terms.period_seconds:  # never less than 24 hours' notice, counted from when it goes
                charge_at = max(charge_at, workflow.now() + NPCI_MIN_NOTICE)
            debit = DebitState(current.number, attempt, charge_at, current.remaining)
            debit.debit_id = await workflow.execute_activity(
                "notify_mandate_debit",
                self._debit_request(debit),
                result_type=str,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Pre-debit notice, installment {current.number}",
            )
            state.debit = debit
            await self._notice(
                "MANDATE_DEBIT_NOTICE", f"debit-notice:{current.number}:{attempt}", amount=debit.amount,
                chargeOn=str(charge_at.astimezone(IST).date()), installment=current.number,
            )  # fmt: skip
            if not self.inp.terms.period_seconds:  # the notice itself may have waited (retries): keep the 24 hours
                debit.charge_at = max(debit.charge_at, workflow.now() + NPCI_MIN_NOTICE)
        if debit.sent:
            return self._debit_wake(debit, before=None)
        if now < debit.charge_at:
            return debit.charge_at
        debit.amount = min(debit.amount, current.remaining)  # never more than notified
        try:
            result: MandateDebitResult = await workflow.execute_activity(
                "charge_mandate",
                self._debit_request(debit),
                result_type=MandateDebitResult,
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Autopay debit {debit.amount} paise, installment {current.number}",
            )
        except ActivityError as exc:
            if is_cancelled_exception(exc) or not patched(AUTOPAY_CHARGE_UNANSWERED_PATCH):
                raise
            # the gateway did not answer past the retries; a cut-off request may still have reached it: the debit is
            # sent with its outcome unknown, looked up by its receipt like any whose outcome does not arrive
            workflow.logger.warning("autopay debit %s: the gateway did not answer the charge: %s", debit.debit_id,
                                    exc.cause)  # fmt: skip
            debit.sent = debit.unanswered = True
            return self._debit_wake(debit, before=debit.charge_at + self._debit_patience())
        debit.sent = True
        if result.status == "CAPTURED":  # settled at once (or by an earlier try of this very debit)
            if patched(AUTOPAY_CAPTURE_AWAITS_PAYMENT_PATCH):
                # its payment reaches the loan by the gateway's webhook: until then (_debit_settled) or until its
                # patience runs out, this stays the installment's try, so no second debit goes meanwhile
                await self._debit_outcome(MandateDebitResult(result.debit_id, "CAPTURED"))
                return self._debit_wake(debit, before=debit.charge_at + self._debit_patience())
            await self._debit_settled(debit.debit_id)
            return None
        if result.status == "FAILED":
            self.failed_payments.append(
                PaymentFailure(
                    f"debit:{result.debit_id}", "autopay", debit.amount, result.reason, mandate_debit_id=debit.debit_id
                )  # fmt: skip
            )
            return None
        return self._debit_wake(debit, before=None)  # SENT: its outcome comes by webhook, or is looked up

    def _debit_checks_on(self, debit: DebitState) -> bool:
        """Whether a sent debit whose outcome does not arrive is looked up at the gateway (AUTOPAY_DEBIT_CHECK_PATCH;
        before it, the try simply ended at its patience)."""
        return debit.debit_id is not None and patched(AUTOPAY_DEBIT_CHECK_PATCH)

    def _debit_check_at(self, debit: DebitState) -> datetime:
        """When a sent debit without an outcome is next looked up: soon after the charge (FIRST_DEBIT_CHECK, at most
        half its patience: a UPI Autopay capture whose webhook was lost is then found the same day, before the
        installment falls overdue), then at each multiple of its patience."""
        patience = self._debit_patience()
        if debit.checks == 0:
            return debit.charge_at + min(FIRST_DEBIT_CHECK, patience / 2)
        return debit.charge_at + patience * debit.checks

    def _debit_wake(self, debit: DebitState, before: datetime | None) -> datetime | None:
        """When the loop wakes next for a sent debit awaiting its outcome: its next look-up; None when none is left.
        ``before``: the wake the loop had before AUTOPAY_DEBIT_CHECK_PATCH (kept for runs from before it)."""
        if not self._debit_checks_on(debit):
            return before
        return self._debit_check_at(debit) if debit.checks < AUTOPAY_DEBIT_CHECKS else None

    def _end_debit_try(self, debit: DebitState, now: datetime, last: bool, known: bool) -> None:
        """That try is over: the link and reminders stay, and the next try follows the brand's rule; with ``last``
        (its outcome still unknown after every look-up) no further autopay try goes for that installment, so the
        borrower is never debited again while a debit of theirs may still be captured. ``known``: the gateway said
        it has no payment for it (else its outcome is unknown, and autopay does not go past the installment until
        it arrives)."""
        state = self.servicing
        assert state is not None
        key = str(debit.installment_no)
        spent = self._tries_before(debit.installment_no) + 1 + self.inp.policy.autopay_retries
        state.debit_failures[key] = max(debit.attempt, spent) if last else debit.attempt
        state.debit_failed_at[key] = now
        state.debit_last_try[self._try_key(debit.installment_no)] = "" if known else (debit.debit_id or "unknown")
        state.debit = None
        if last:
            workflow.logger.warning(
                "autopay debit %s: no outcome after %d look-ups; no further autopay try for installment %s",
                debit.debit_id, debit.checks, debit.installment_no,
            )  # fmt: skip

    async def _debit_checked(self, debit: DebitState) -> str:
        """A sent debit whose outcome has not arrived, looked up at the gateway (``find_mandate_debit``):

        - ``taken``: captured, its payment is taken as its webhook would have brought it (credited once per
          payment id, also when the webhook comes after all) and settles the debit; or failed, a failed try as
          ``payment.failed`` would have made it;
        - ``wait``: still processing at the bank, or the gateway did not answer past the activity's retries: looked
          up again at the next multiple of its patience;
        - ``over``: the gateway has no payment for it: the try is over, as before;
        - ``unknown``: still processing (or no answer) at the last of AUTOPAY_DEBIT_CHECKS look-ups."""
        assert debit.debit_id is not None
        debit.checks += 1
        try:
            found: MandateDebitCheck = await workflow.execute_activity(
                "find_mandate_debit",
                debit.debit_id,
                result_type=MandateDebitCheck,
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Autopay debit {debit.debit_id}: no outcome yet, asking the gateway",
            )
        except ActivityError as exc:
            workflow.logger.warning("debit %s not looked up: %s", debit.debit_id, exc.cause)
            found = MandateDebitCheck(debit.debit_id, pending=True)
        if found.payment is not None:
            self._take_payment(found.payment)
            return "taken"
        if found.failure is not None:
            self._take_failure(found.failure)
            return "taken"
        if not found.pending:
            return "over"
        return "wait" if debit.checks < AUTOPAY_DEBIT_CHECKS else "unknown"

    def _debit_patience(self) -> timedelta:
        """How long a sent debit's outcome is awaited before that try counts as failed (e-mandates confirm in T+1
        or T+2 working days; a demo product waits half its period)."""
        if self.inp.terms.period_seconds:
            return timedelta(seconds=self.inp.terms.period_seconds / 2)
        return timedelta(days=4)

    def _debit_request(self, debit: DebitState) -> MandateDebitRequest:
        state = self.servicing
        assert state is not None and state.mandate_id is not None
        inst = next(i for i in state.installments if i.number == debit.installment_no)
        return MandateDebitRequest(
            self.inp.loan_id, state.mandate_id, debit.installment_no, debit.attempt, debit.amount, inst.due_date,
            debit.charge_at,
        )  # fmt: skip

    async def _debit_settled(self, mandate_debit_id: str | None) -> None:
        """A payment for an autopay debit arrived: that debit is CAPTURED, and over if it was the one in progress
        (it counts as a try: a remainder left, e.g. a penal charge levied meanwhile, or the installment's own dues
        when the waterfall took older ones first, gets a new notice and debit; under
        AUTOPAY_CAPTURE_SPACES_RETRY_PATCH ``autopay_retry_days`` after the capture, as after a failed try)."""
        if not mandate_debit_id:
            return
        self._outcome_known(mandate_debit_id)
        state = self.servicing
        if state is not None and state.debit is not None and mandate_debit_id == state.debit.debit_id:
            done = str(state.debit.installment_no)
            state.debit_failures[done] = max(state.debit_failures.get(done, 0), state.debit.attempt)
            if self.autopay_spaced:
                state.debit_failed_at[done] = workflow.now()  # the next try keeps the brand's spacing
            state.debit = None
        await self._debit_outcome(MandateDebitResult(mandate_debit_id, "CAPTURED"))

    async def _debit_outcome(self, outcome: MandateDebitResult) -> None:
        """Record a debit's outcome on its row (bookkeeping: a debit the row does not know never stops the loan)."""
        self._outcome_known(outcome.debit_id)
        try:
            await workflow.execute_activity(
                "record_debit_outcome",
                outcome,
                result_type=MandateDebitResult,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Autopay debit {outcome.status}",
            )
        except ActivityError as exc:
            workflow.logger.warning("debit %s outcome not recorded: %s", outcome.debit_id, exc.cause)
