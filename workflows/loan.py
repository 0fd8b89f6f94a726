"""LoanWorkflow: one loan from application to closure.

Orchestration only: every side effect is an activity, every decision comes from ``domain``. The phases live in
their own modules, and ``run`` reads as the table of contents of a loan's life:

- origination: ``workflows.kyc`` (KYC steps, credit decision) → ``workflows.review`` (auto-sanction or the
  sanction hierarchy) → ``workflows.agreement`` (agreement, eSign) → ``workflows.disbursal`` (approval, transfer);
- servicing: ``workflows.servicing`` (repayment loop, penal charges, DPD/asset class) with ``workflows.receipts``
  (payments, parking, credit balance), ``workflows.money_in`` (notices, reminders, accrual, OVERPAID, quotes) and
  ``workflows.autopay`` (mandate debits), ``workflows.collections`` (allocation, settlement, waiver, write-off,
  restructure, closure documents);
- anywhere in origination: ``workflows.hold`` (a step refused for good parks the loan in NEEDS_ATTENTION for ops).

One workflow type on one id (``loan-<id>``): the run continues-as-new at the origination → servicing boundary (and
whenever Temporal suggests it while servicing), carrying its state in the input, so a loan of any tenure keeps a
small history. Shared state and status moves: ``workflows.base``; timeouts, retries, patch ids:
``workflows.options``.
"""

from __future__ import annotations

import asyncio
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # The contracts' own modules, by name: pydantic resolves a dataclass's annotations through
    # sys.modules[cls.__module__], and inside the sandbox only the modules imported here are registered there.
    import workflows.contracts.activities  # noqa: F401
    import workflows.contracts.colending  # noqa: F401
    import workflows.contracts.colending_losses  # noqa: F401
    import workflows.contracts.collections  # noqa: F401
    import workflows.contracts.messages  # noqa: F401
    import workflows.contracts.money_in  # noqa: F401
    import workflows.contracts.partners  # noqa: F401
    from domain import rules
    from domain.access import ReviewAction, ReviewStage
    from domain.status import LoanStatus
    from workflows.contracts import (
        DisbursalEvent,
        EsignEvent,
        KfsAcceptance,
        LoanWorkflowInput,
        LoanWorkflowResult,
        MandateEvent,
        PaymentEvent,
        PaymentFailure,
        RefundSettled,
        ServicingAction,
        ServicingState,
        StaffAction,
    )
    from workflows.options import BRAND_ID, DPD, LOAN_AMOUNT, LOAN_STATUS, NEXT_DUE_AT

from workflows.agreement import AgreementPhase
from workflows.autopay import AutopayPhase
from workflows.base import LoanStopped
from workflows.collections import CollectionsPhase
from workflows.disbursal import DisbursalPhase
from workflows.followup import FollowupPhase
from workflows.held_notices import HeldNoticesPhase
from workflows.kyc import KycPhase
from workflows.money_in import MoneyInPhase
from workflows.patches import decide_epoch, upsert_changed
from workflows.receipts import ReceiptsPhase
from workflows.review import ReviewPhase
from workflows.servicing import ServicingPhase

__all__ = ["BRAND_ID", "DPD", "LOAN_AMOUNT", "LOAN_STATUS", "NEXT_DUE_AT", "LoanWorkflow"]


@workflow.defn
class LoanWorkflow(
    KycPhase,
    ReviewPhase,
    AgreementPhase,
    DisbursalPhase,
    ReceiptsPhase,
    MoneyInPhase,
    HeldNoticesPhase,
    AutopayPhase,
    CollectionsPhase,
    ServicingPhase,
    FollowupPhase,
):
    @workflow.init
    def __init__(self, inp: LoanWorkflowInput) -> None:
        self.inp = inp
        self.status = LoanStatus(inp.status)
        self.seq = inp.status_seq
        self.moving_to: LoanStatus | None = None
        self.staff_decision: tuple[str, StaffAction] | None = None
        self.disbursal_approval: StaffAction | None = None
        self.esign_event: EsignEvent | None = None
        self.disbursal_events: dict[str, DisbursalEvent] = {}
        self.awaited_transfer: str | None = None
        self.pending_payments: list[PaymentEvent] = list(inp.pending_payments)
        self.servicing: ServicingState | None = inp.servicing
        self.day_end_v2 = False  # DAY_END_PATCH, decided once per run
        # This pass was woken by a day-end timer (not by a payment); carried across continue-as-new.
        self.day_end_run = bool(inp.servicing.woke_for_day_end) if inp.servicing is not None else False
        self.kyc_step: str | None = None
        self.kyc_waiting: str | None = None
        self.kyc_results: dict[str, str] = {}
        self.kyc_inputs: dict[str, str | None] = {}
        self.kyc_links: dict[str, str] = {}  # e.g. the DigiLocker authorisation URL the customer opens
        self.kyc_notes: dict[str, str] = {}  # why a step waits for the customer (e.g. a statement's password)
        self.kyc_seen = 0
        self.kyc_step_inputs: dict[str, int] = {}
        self.kyc_attempted_at: dict[str, int] = {}
        self.kyc_attempts: dict[str, int] = {}  # KYC_READ_ON_UPLOAD_PATCH: each step's attempts so far
        self.kyc_inputs_ahead = False
        self.aadhaar_reference: str | None = None
        self.aadhaar_facts: dict = {}
        self.facts: dict = {}
        self.rejection: str | None = None
        # Sanction hierarchy (patched REVIEW_PATCH): the stage, who acted at which stage (maker-checker),
        # and the final verdict once a sanction head sanctions or someone rejects.
        self.review_v2 = False
        self.review_stage: ReviewStage | None = None
        self.reviewers: dict[str, str] = {}
        self.review_outcome: tuple[ReviewAction, StaffAction] | None = None
        self.review_lock = asyncio.Lock()
        self.last_forwarder: str | None = None
        self.recorded_stage: ReviewStage | None = None
        # Money out and the hold (workflows.agreement, workflows.disbursal, workflows.hold)
        self.kfs_acceptance: KfsAcceptance | None = None
        self.kfs_wanted = False
        self.kfs_recorded: str | None = None
        self.kfs_accepted_on: date | None = None
        self.docket_id: str | None = None
        self.esign_events: dict[str, EsignEvent] = {}
        self.resend_requested = False
        self.agreement_cancel: StaffAction | None = None
        self.hold_decision: tuple[str, StaffAction] | None = None
        self.hold_lock = asyncio.Lock()
        self.stopped: LoanStopped | None = None
        self.money_out: bool | None = None
        self.holds_cleared = 0
        # Money in (workflows.money_in)
        self.failed_payments: list[PaymentFailure] = list(inp.pending_failures)
        self.mandate_events: list[MandateEvent] = list(inp.pending_mandate_events)
        self.refunds_settled: list[RefundSettled] = list(inp.refunds_settled)
        self.money_in = False  # MONEY_IN_PATCH, decided once per servicing run
        self.local_steps = False  # SERVICING_LOCAL_PATCH, decided once per servicing run
        self.status_with_payment = self.status_attribute_due = False  # STATUS_WITH_PAYMENT_PATCH
        self.receipt_notice = False  # RECEIPT_NOTICE_AT_START_PATCH
        self.advance_skips_paid = False  # GRACE_ADVANCE_PATCH
        self.anchor_ist = False  # IST_ANCHOR_PATCH
        self.interest_credit = False  # FORECLOSURE_INTEREST_CREDIT_PATCH, decided once per servicing run
        self.contact_hours = False  # CONTACT_HOURS_PATCH, decided once per servicing run
        self.notice_held = False  # a handler held a notice for 08:00 IST: the loop's next pass plans its wake-up
        # Collections (workflows.collections): COLLECTIONS_PATCH, decided once per servicing run; the lock the
        # repayment loop holds for each pass and decisions take; a write-off accepted; a link to remake.
        self.collections = False
        self.servicing_lock = asyncio.Lock()
        self.loop_holds_lock = False
        self.write_off_request: ServicingAction | None = None
        self.write_off_refusal: str | None = None  # why an accepted write-off was dropped (arrears paid meanwhile)
        self.late_recovery = False  # WRITE_OFF_RECOVERY_PATCH, asked where a write-off is requested
        self.autopay_later = False  # AUTOPAY_LATER_INSTALLMENTS_PATCH
        self.autopay_spaced = False  # AUTOPAY_CAPTURE_SPACES_RETRY_PATCH
        self.relink = False
        self.followups: list[asyncio.Task] = []  # follow-up work out in the background (workflows.followup)
        self.link_task: asyncio.Task | None = None
        self.link_wanted: object = None
        self.patch_epoch: int | None = None  # the run's patch epoch (workflows.patches), decided first in run()

    # ---------------------------------------------------------------- the life of a loan
    @workflow.run
    async def run(self, inp: LoanWorkflowInput) -> LoanWorkflowResult:
        decide_epoch()  # before anything else the run records (workflows.patches)
        if self.servicing is None:
            done = await self._originate()
            if done is not None:
                await self._drain_followups()
                return done
            await self._continue_as_new()
        result = await self._service()
        await self._drain_followups()  # a loan's last receipt and notices go out before its run ends
        return result

    async def _originate(self) -> LoanWorkflowResult | None:
        """Application to disbursal; the loan's end (a result) when it stops on the way, None once disbursed."""
        inp = self.inp
        upsert_changed(
            [
                LOAN_STATUS.value_set(self.status),
                BRAND_ID.value_set(inp.brand_id),
                LOAN_AMOUNT.value_set(inp.terms.amount),
            ]
        )
        key = f"loan-{inp.loan_id}"
        try:
            verdict = await self._decide(key)
            if verdict.decision == rules.Decision.REJECT:
                return await self._end(LoanStatus.REJECTED, verdict.reason)
            ended = await self._sanction(verdict)
            if ended is None:
                ended = await self._sign_agreement(key)
            if ended is not None:
                return ended
            await self._disburse(key)
        except LoanStopped as stop:  # ops rejected a loan on hold, staff cancelled a declined agreement
            action = stop.action
            return await self._end(
                stop.status,
                stop.reason,
                stop.actor,
                action="REJECT" if stop.status == LoanStatus.REJECTED else "CANCEL",
                actor_id=action.staff_id if action else None,
            )
        return None

    @workflow.query(description="The loan at a glance: status, installments paid, total collected (paise).")
    def snapshot(self) -> dict:
        state = self.servicing
        return {
            "loan_id": self.inp.loan_id,
            "status": str(self.status),
            "installments_paid": sum(1 for i in state.installments if i.paid) if state else 0,
            "total_collected": state.total_collected if state else 0,
        }
