"""The loan workflow's shared state and status moves (see ``workflows.loan``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.access import ReviewAction, ReviewStage
    from domain.lifecycle import check_move
    from domain.status import LoanStatus
    from workflows.contracts import (
        DebitState,
        DisbursalEvent,
        EsignEvent,
        HeldNotice,
        InstallmentState,
        KfsAcceptance,
        LoanWorkflowInput,
        LoanWorkflowResult,
        MandateDebitResult,
        MandateEvent,
        PaymentEvent,
        PaymentFailure,
        RefundSettled,
        ServicingState,
        StaffAction,
        StatusChange,
    )
    from workflows.options import (
        DB_RETRY,
        DB_TIMEOUT,
        LOAN_STATUS,
        LOCAL_DB_PATCH,
        ORIGINATION_LOCAL_PATCH,
        RECEIPTS_PATCH,
    )


from workflows.patches import patched, upsert_changed


class LoanStopped(Exception):  # noqa: N818  (a control-flow signal, not an error)
    """Raised inside origination when the loan ends on the way (ops reject a loan on hold, staff cancel an
    agreement): ``LoanWorkflow._originate`` ends the loan in ``status`` with ``reason``."""

    def __init__(self, status: LoanStatus, reason: str, actor: str = "system", action: StaffAction | None = None):
        super().__init__(reason)
        self.status, self.reason, self.actor, self.action = status, reason, actor, action


def _refuse(kind: str, message: str, field: str | None = None) -> ApplicationError:
    """A refusal the API turns into its HTTP error (``api.workflow_calls.REFUSALS``: 403, 404, 409, 422, 503 by
    ``kind``); ``field`` (the request's field, as the API names it: ``reason``, ``firstDue``) goes in the error's
    details, so the answer's ``errors[]`` names it and its message reads ``field: message``."""
    details = ({"field": field},) if field else ()
    return ApplicationError(message, *details, type=kind, non_retryable=True)


def _check_fresh(expires_at: datetime | None) -> None:
    """Refuse a request that reached the workflow after its caller stopped waiting (e.g. no worker ran):
    the caller was told it was not applied, so applying it now would be a silent later success."""
    if expires_at is not None and workflow.now() > expires_at:
        raise _refuse("Expired", "this request reached the loan after its caller stopped waiting; send it again")


class LoanBase:
    """What every phase of the loan workflow shares: its state (attributes below) and the one way a status
    changes (``_move``: an idempotent ``record_status`` activity, then the ``LoanStatus`` search attribute)."""

    # The loan's state, set in LoanWorkflow.__init__ (declared here so every phase can use it).
    inp: LoanWorkflowInput
    status: LoanStatus
    seq: int
    staff_decision: tuple[str, StaffAction] | None
    disbursal_approval: StaffAction | None
    esign_event: EsignEvent | None
    disbursal_events: dict[str, DisbursalEvent]
    awaited_transfer: str | None
    pending_payments: list[PaymentEvent]
    failed_payments: list[PaymentFailure]
    mandate_events: list[MandateEvent]
    refunds_settled: list[RefundSettled]
    money_in: bool
    local_steps: bool  # SERVICING_LOCAL_PATCH, decided once per servicing run
    # STATUS_WITH_PAYMENT_PATCH, decided once per servicing run; and a status moved with a payment whose LoanStatus
    # search attribute goes with the pass's next upsert (NextDueAt, DPD) instead of one of its own
    status_with_payment: bool
    receipt_notice: bool  # RECEIPT_NOTICE_AT_START_PATCH: receipts with their notice, decided at the run's start
    advance_skips_paid: bool  # GRACE_ADVANCE_PATCH, decided at a servicing run's start where it matters
    anchor_ist: bool  # IST_ANCHOR_PATCH, the same
    interest_credit: bool  # FORECLOSURE_INTEREST_CREDIT_PATCH, decided at a servicing run's start
    contact_hours: bool  # CONTACT_HOURS_PATCH, the same
    notice_held: bool  # a handler held a notice for the contact hours (CONTACT_HOURS_PATCH): the loop plans its wake
    status_attribute_due: bool
    servicing: ServicingState | None
    servicing_lock: asyncio.Lock
    loop_holds_lock: bool
    collections: bool  # COLLECTIONS_PATCH, decided once per servicing run
    write_off_request: Any  # the accepted write-off (workflows.collections), None until one is
    late_recovery: bool  # WRITE_OFF_RECOVERY_PATCH: money reaching the loan as it is written off is a recovery
    autopay_later: bool  # AUTOPAY_LATER_INSTALLMENTS_PATCH, asked where a servicing run has an ACTIVE mandate
    autopay_spaced: bool  # AUTOPAY_CAPTURE_SPACES_RETRY_PATCH, asked where AUTOPAY_LATER_INSTALLMENTS_PATCH is
    relink: bool
    day_end_v2: bool
    day_end_run: bool
    kyc_step: str | None
    kyc_waiting: str | None
    kyc_results: dict[str, str]
    kyc_inputs: dict[str, str | None]
    kyc_links: dict[str, str]
    kyc_notes: dict[str, str]
    kyc_seen: int
    kyc_step_inputs: dict[str, int]  # the customer's inputs by the step they were given for
    kyc_attempted_at: dict[str, int]  # the inputs (_inputs_for) each step's last attempt was started with
    kyc_inputs_ahead: bool  # KYC_INPUTS_AHEAD_PATCH, decided where the KYC phase starts
    aadhaar_reference: str | None
    aadhaar_facts: dict
    facts: dict
    rejection: str | None
    review_v2: bool
    review_stage: ReviewStage | None
    reviewers: dict[str, str]
    review_outcome: tuple[ReviewAction, StaffAction] | None
    review_lock: asyncio.Lock
    last_forwarder: str | None
    recorded_stage: ReviewStage | None  # the review stage the last recorded move led to (domain.lifecycle)
    # Money out (MONEY_OUT_PATCH): the KFS the borrower accepted (None: none, or it lapsed and a new one is wanted),
    # the open eSign docket, the borrower's ask for a new link, staff cancelling a declined agreement, the hold.
    kfs_acceptance: KfsAcceptance | None
    kfs_wanted: bool
    kfs_recorded: str | None
    kfs_accepted_on: date | None  # the IST day (workflow clock) the acceptance was recorded
    docket_id: str | None
    esign_events: dict[str, EsignEvent]
    resend_requested: bool
    agreement_cancel: StaffAction | None
    hold_decision: tuple[str, StaffAction] | None
    hold_lock: asyncio.Lock  # one hold at a time (steps run side by side in the KYC phase)
    stopped: LoanStopped | None  # ops rejected the loan on a hold: any later refusal ends it the same way
    money_out: bool | None  # MONEY_OUT_PATCH as the agreement phase decided it (None: not reached yet)
    holds_cleared: int
    # The status a move is recording right now (its record_status activity in flight), else None. The database
    # shows it before ``status`` does: a staff action taken on what the database shows is checked against it.
    moving_to: LoanStatus | None
    # Follow-up work started and not yet finished (workflows.followup; only a loan with a follow-up queue), the
    # payment link being made and the one last asked for.
    followups: list[asyncio.Task]
    link_task: asyncio.Task | None
    link_wanted: object

    async def _move(
        self,
        to: LoanStatus,
        reason: str | None = None,
        actor: str = "system",
        *,
        action: str | None = None,
        actor_id: str | None = None,
        review_stage: str | None = None,
        details: dict | None = None,
        assign_to: str | None = None,
        reassign: bool = False,
    ) -> None:
        change = self._status_change(to, reason, actor, review_stage=review_stage)
        if action is not None or review_stage is not None:  # staff actions and review stages only: older
            change = replace(  # histories recorded the plain form
                change,
                action=action,
                actor_id=actor_id,
                review_stage=review_stage,
                details=details,
                brand_id=self.inp.brand_id,
                assign_to=assign_to,
                reassign=reassign,
            )
        self.moving_to = to
        await self._database_step(
            patched(LOCAL_DB_PATCH), LoanActivities.record_status, change, summary=f"{self.status} → {to}"
        )
        self._moved(to, review_stage)

    @property
    def kyc_input_count(self) -> int:
        """The customer's inputs to the KYC steps so far, every step's (``kyc_status``'s ``inputsReceived``)."""
        return sum(self.kyc_step_inputs.values())

    def _status_change(
        self, to: LoanStatus, reason: str | None, actor: str = "system", *, review_stage: str | None = None
    ) -> StatusChange:
        """The next status move's record (its ``seq`` taken). The loan state machine (domain.lifecycle): a move the
        lifecycle does not allow fails the workflow task loudly (retried, nothing recorded) instead of writing it."""
        check_move(self.status, to, review_stage=review_stage, from_review_stage=self.recorded_stage)
        self.seq += 1
        return StatusChange(self.inp.loan_id, self.seq, self.status, to, reason, actor)

    def _moved(self, to: LoanStatus, review_stage: str | None = None, *, upsert: bool = True) -> None:
        """A move is recorded: the workflow's status and the ``LoanStatus`` search attribute follow it (``upsert``
        False: the caller sets the attribute with its next upsert, ``status_attribute_due``)."""
        self.status = to
        self.moving_to = None
        self.recorded_stage = ReviewStage(review_stage) if to == LoanStatus.UNDER_REVIEW and review_stage else None
        if upsert:
            upsert_changed([LOAN_STATUS.value_set(to)])
        else:
            self.status_attribute_due = True

    async def _db_step(self, activity: Any, arg: Any, summary: str) -> Any:
        """A database-only step of the repayment loop (``activity``: a ``LoanActivities`` method or a registered
        activity's name): a local activity in the workflow task that decided it under SERVICING_LOCAL_PATCH, else an
        activity task, as runs before it recorded. Same activity, same idempotency key, same retry policy."""
        return await self._database_step(self.local_steps, activity, arg, summary=summary)

    async def _origination_step(self, activity: Any, *args: Any, summary: str) -> Any:
        """A database-only step of origination (``activity``: a ``LoanActivities`` or ``KycActivities`` method;
        ``args`` its arguments): a local activity in the workflow task that decided it under ORIGINATION_LOCAL_PATCH
        (decided at a run's first such step, then the same for the run), else an activity task, as runs before it
        recorded. Same activity, same idempotency key, same retry policy; returns what the activity returns."""
        return await self._database_step(patched(ORIGINATION_LOCAL_PATCH), activity, *args, summary=summary)

    @staticmethod
    async def _database_step(local: bool, activity: Any, *args: Any, summary: str) -> Any:
        """``activity`` with ``args`` and the database steps' timeout and retry policy: a local activity when
        ``local``, else an activity task."""
        run = workflow.execute_local_activity if local else workflow.execute_activity
        return await run(
            activity, args=list(args), start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY, summary=summary
        )

    def _credits_unearned(self) -> bool:
        """Whether a foreclosure credits interest paid for days after it (FORECLOSURE_INTEREST_CREDIT_PATCH): not on
        a restructured schedule (its first installment carries earlier interest, which a day count would spread over
        the new period) nor a loan started for partner routing (a co-lent loan's split is of the cash parts only)."""
        from workflows.colending import _routed  # (that module's own imports stay out of this one's)

        state = self.servicing
        return self.interest_credit and state is not None and state.schedule_version == 0 and not _routed()

    def _release_pass(self) -> None:
        """The repayment loop lets go of ``servicing_lock`` (before it sleeps or ends), so decisions can run."""
        if getattr(self, "loop_holds_lock", False):
            self.loop_holds_lock = False
            self.servicing_lock.release()

    async def _end(self, to: LoanStatus, reason: str, actor: str = "system", **extra: Any) -> LoanWorkflowResult:
        await self._move(to, reason, actor, **extra)
        self._release_pass()  # a decision waiting for the lock then finds the loan ended and is refused
        self.link_wanted = None  # a payment link still waiting its turn is not made for a loan that has ended
        await workflow.wait_condition(workflow.all_handlers_finished)
        while True:
            if self.pending_payments and patched(RECEIPTS_PATCH):
                await self._keep_late_receipts()
            if not self.followups:
                break
            # follow-up work still out (workflows.followup): it finishes in this run, and what arrives meanwhile
            # (a late payment, a staff action) is taken as above
            await self._drain_followups()
            await workflow.wait_condition(workflow.all_handlers_finished)
        state = self.servicing
        return LoanWorkflowResult(
            self.inp.loan_id,
            to,
            installments_paid=sum(1 for i in state.installments if i.paid) if state else 0,
            total_collected=state.total_collected if state else 0,
        )

    async def _continue_as_new(self) -> None:
        self._release_pass()
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self.followups:  # what is still out finishes in this run (a handler may start more meanwhile)
            await self._drain_followups()
            await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            replace(
                self.inp,
                status=self.status,
                status_seq=self.seq,
                servicing=self.servicing,
                pending_payments=list(self.pending_payments),
                pending_failures=list(self.failed_payments),
                pending_mandate_events=list(self.mandate_events),
                refunds_settled=list(self.refunds_settled),
            )
        )

    def _check_staff(
        self, action: StaffAction, roles: frozenset[str], states: set[LoanStatus], *, as_recorded: bool = False
    ) -> None:
        """Refuse a staff action of another brand, a role that may not take it, or a loan in none of ``states``.
        ``as_recorded``: a status being recorded counts as reached (the staff member acted on what the
        database shows; the handler must then wait for ``moving_to`` to clear)."""
        if action.brand_id != self.inp.brand_id:
            raise _refuse("NotFound", "loan not found")
        if action.role not in roles:
            raise _refuse("PermissionDenied", f"role {action.role} may not do this")
        status = self.moving_to if as_recorded and self.moving_to is not None else self.status
        if status not in states:
            raise _refuse("Conflict", f"loan is {status}")

    async def _keep_late_receipts(self) -> None:  # workflows.receipts
        raise NotImplementedError

    def _installments(self, now: datetime) -> list[InstallmentState]:  # workflows.servicing
        raise NotImplementedError

    # workflows.money_in
    async def _notice(self, event: str, key: str, **values: object) -> None:
        raise NotImplementedError

    # workflows.followup
    async def _followup(self, work: Any) -> None:
        raise NotImplementedError

    async def _followup_link(self, make: Any, wanted: object) -> None:
        raise NotImplementedError

    async def _drain_followups(self) -> None:
        raise NotImplementedError

    def _money_in_woken(self) -> bool:
        raise NotImplementedError

    async def _take_events(self) -> None:
        raise NotImplementedError

    async def _accrue(self, now: datetime) -> None:
        raise NotImplementedError

    async def _reminders(self, now: datetime, current: InstallmentState) -> datetime | None:
        raise NotImplementedError

    async def _autopay(self, now: datetime, current: InstallmentState) -> datetime | None:
        raise NotImplementedError

    def _decide_autopay_later(self) -> None:
        raise NotImplementedError

    def _autopay_installment(self, unpaid: list[InstallmentState]) -> InstallmentState | None:
        raise NotImplementedError

    def _outcome_known(self, debit_id: str | None) -> None:
        raise NotImplementedError

    async def _debit_dropped(self, debit: DebitState, why: str) -> None:  # workflows.autopay
        raise NotImplementedError

    def _tries_before(self, installment_no: int) -> int:  # workflows.autopay
        raise NotImplementedError

    def _restructure_tries_asked(self) -> bool:  # workflows.autopay
        raise NotImplementedError

    async def _restart_debit_tries(self, restructured: list[InstallmentState]) -> None:  # workflows.autopay
        raise NotImplementedError

    async def _overdue_notice(self, inst: InstallmentState, dpd: int) -> None:
        raise NotImplementedError

    async def _close(self) -> LoanWorkflowResult:
        raise NotImplementedError

    async def _closure_documents(self) -> None:  # workflows.collections
        raise NotImplementedError

    def _settlement_open(self) -> Any:  # workflows.collections: the approved SettlementState, or None
        raise NotImplementedError

    async def _settlement_link_follows(self) -> None:  # workflows.settlement
        raise NotImplementedError

    async def _recovery_notice(
        self, event: str, key: str, about: HeldNotice | None = None, hold: bool = False, **values: object
    ) -> None:
        raise NotImplementedError  # workflows.held_notices

    def _held_notices_wake(self) -> datetime | None:  # workflows.held_notices
        raise NotImplementedError

    async def _release_held_notices(self) -> None:  # workflows.held_notices
        raise NotImplementedError

    def _settlement_due(self) -> datetime | None:  # workflows.collections
        raise NotImplementedError

    async def _lapse_settlement(self, now: datetime) -> None:  # workflows.collections
        raise NotImplementedError

    async def _close_settled(self) -> LoanWorkflowResult:  # workflows.collections
        raise NotImplementedError

    async def _settlement_paid_in_full(self) -> None:  # workflows.collections
        raise NotImplementedError

    async def _write_off_now(self) -> LoanWorkflowResult:  # workflows.collections
        raise NotImplementedError

    async def _review_collections(self, now: datetime) -> None:  # workflows.collections
        raise NotImplementedError

    def _collections_woken(self) -> bool:  # workflows.collections
        raise NotImplementedError

    def _write_off_still_due(self, now: datetime) -> bool:  # workflows.collections
        raise NotImplementedError

    async def _exit_cooling_off(self) -> LoanWorkflowResult:
        raise NotImplementedError

    async def _debit_settled(self, mandate_debit_id: str | None) -> None:  # workflows.autopay
        raise NotImplementedError

    async def _debit_outcome(self, outcome: MandateDebitResult) -> None:  # workflows.autopay
        raise NotImplementedError

    def _instants(self, inst: InstallmentState) -> dict[str, datetime]:
        raise NotImplementedError

    async def _receipt(self, payment: PaymentEvent) -> None:
        raise NotImplementedError

    async def _apply_payments(self) -> None:  # workflows.receipts
        raise NotImplementedError

    def _take_payment(self, event: PaymentEvent) -> None:  # workflows.money_in
        raise NotImplementedError

    def _take_failure(self, event: PaymentFailure) -> None:  # workflows.money_in
        raise NotImplementedError

    def _states(self, rows, start: datetime) -> list[InstallmentState]:  # noqa: ANN001  (workflows.servicing)
        raise NotImplementedError
