"""Servicing: collections and the way out of a stressed loan (see ``workflows.loan``; docs/collections.md).

Collections are steps of the loan's own servicing phase, not a child workflow: a collections case has no life of its
own apart from the loan's arrears (it opens when an installment is missed and closes when the arrears are paid),
and every decision in it — settle, waive, write off, restructure — changes the loan's schedule, status and ledger,
which only the loan's workflow writes. A child would hold a copy of the loan's state and ask its parent for every
change. The collector's daily work (calls, follow-ups, promises, visits) is records, not workflow state.

- At each day-end while in arrears: the DPD's bucket (the brand's ``collections.buckets``); the ``review_collection``
  activity (re)allocates the loan when its bucket changes and marks broken promises to pay.
- Staff decisions are updates with validators (wrong role 403, wrong state 409, maker-checker 403, nothing written
  on refusal): ``propose_settlement`` → ``approve_settlement`` (another person, within their limit) or
  ``reject_settlement``; ``waive_penal``; ``write_off``; ``propose_restructure`` → ``approve_restructure`` (another
  person) or ``reject_restructure``. Handlers take ``servicing_lock``, which the repayment loop holds for each pass,
  so a decision never interleaves with a payment being applied.
- An approved settlement is paid by its link before its deadline (``workflows.receipts`` applies the paying
  payment) → SETTLED with the rest waived; unpaid at the end of its deadline day (IST) → LAPSED, collection goes on.
- A write-off ends the loan WRITTEN_OFF; money that reaches it later is a recovery (``api.webhooks.intake``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.settlement import (
        WAIVER_ROLES,
        WRITE_OFF_ROLES,
        can_write_off,
        check_limit,
        penal_waiver,
        rupees_and_paise,
        unpaid_penal,
    )
    from domain.status import TERMINAL, LoanStatus
    from workflows.contracts import (
        ClosingPostings,
        CollectionReview,
        LoanWorkflowResult,
        ServicingAction,
        WaiverRequest,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST, WRITE_OFF_RECOVERY_PATCH

from workflows.base import _check_fresh, _refuse
from workflows.colending import colend_loss, colend_overdue
from workflows.collections_base import CollectionsBase
from workflows.patches import patched
from workflows.restructure import RestructureSteps
from workflows.settlement import SettlementSteps


class CollectionsPhase(SettlementSteps, RestructureSteps, CollectionsBase):
    """The updates of collections' decisions, and the steps the servicing loop runs for them (settlement in
    ``workflows.settlement``, restructure in ``workflows.restructure``)."""

    # ---------------------------------------------------------------- waiver
    @workflow.update(
        description="Waive unpaid penal charges (paise), oldest first, within the role's limit; answers the waiver's "
        "id."
    )
    async def waive_penal(self, w: WaiverRequest) -> str:
        await self._locked()
        try:
            self._validate_waiver_now(w)
            state = self.servicing
            assert state is not None
            parts = penal_waiver(state.installments, w.amount)
            wid = str(workflow.uuid4())
            await self._decision("WAIVER", f"waiver:{wid}", "DONE", {
                "id": wid, "brandId": self.inp.brand_id, "amount": w.amount, "parts": parts,
                "reason": w.reason.strip(), "staffId": w.staff_id,
            })  # fmt: skip
            await self._notice("WAIVER", f"waiver:{wid}", amount=w.amount)
            await colend_loss(self, "CL_WAIVER", f"waiver:{wid}", {"penal": w.amount}, self._today())
            self.relink = True
            return wid  # the waiver's id (its row in ``waivers``)
        finally:
            self.servicing_lock.release()

    def _validate_waiver_now(self, w: WaiverRequest) -> None:
        self._check_servicing(w.staff_id, w.role, w.brand_id, WAIVER_ROLES)
        if not w.reason.strip():
            raise _refuse("ValidationError", "a waiver needs a reason", field="reason")
        state = self.servicing
        assert state is not None
        if isinstance(w.amount, bool) or not isinstance(w.amount, int) or w.amount <= 0:
            raise _refuse("ValidationError", "must be a positive whole number of paise", field="amount")
        unpaid = unpaid_penal(state.installments)
        if w.amount > unpaid:
            raise _refuse(
                "ValidationError", f"more than the unpaid penal charges of {rupees_and_paise(unpaid)}", field="amount"
            )
        why = check_limit(w.role, w.amount, w.limit, "penal waiver")
        if why is not None:
            raise _refuse("PermissionDenied", why)

    @waive_penal.validator
    def _validate_waive_penal(self, w: WaiverRequest) -> None:
        _check_fresh(w.expires_at)
        self._validate_waiver_now(w)

    # ---------------------------------------------------------------- write-off
    def _check_write_off(self, a: ServicingAction) -> None:
        self._check_servicing(a.staff_id, a.role, a.brand_id, WRITE_OFF_ROLES, frozenset({LoanStatus.OVERDUE}))
        state = self.servicing
        assert state is not None
        why = can_write_off(state.dpd, a.write_off_dpd)
        if why is not None:
            raise _refuse("Conflict", why)
        if self._settlement_open() is not None:
            raise _refuse("Conflict", "a settlement offer is open on this loan until its deadline")
        if not (a.reason or "").strip():
            raise _refuse("ValidationError", "a write-off needs a reason", field="reason")

    @workflow.update(description="Write the loan off (past the brand's write-off DPD; roles with the authority).")
    async def write_off(self, a: ServicingAction) -> str:
        # first, in the update's own activation: no local activity's result precedes it in its workflow task
        self.late_recovery = self.late_recovery or patched(WRITE_OFF_RECOVERY_PATCH)
        await self._locked()
        try:
            self._check_write_off(a)
            self.write_off_request = a
        finally:
            self.servicing_lock.release()
        # applied by the loop's next pass, unless a payment applied in that pass cleared the arrears (dropped)
        await workflow.wait_condition(lambda: self.write_off_request is None or self.status in TERMINAL)
        if self.status != LoanStatus.WRITTEN_OFF:
            raise _refuse("Conflict", self.write_off_refusal or f"loan is {self.status}")
        return str(self.status)

    def _write_off_still_due(self, now: datetime) -> bool:
        """The accepted write-off, checked again after the payments of this pass: still OVERDUE with arrears, past
        the threshold. Otherwise it is dropped with the reason (the handler answers 409)."""
        a, state = self.write_off_request, self.servicing
        assert a is not None and state is not None
        arrears = [i for i in state.installments if not i.paid and i.due_at <= now]
        why = None
        if self.status != LoanStatus.OVERDUE or not arrears:
            why = "a payment cleared the loan's arrears before the write-off was applied"
        elif state.closed_as is not None:
            why = f"a payment closed the loan ({state.closed_as}) before the write-off was applied"
        else:
            why = can_write_off(state.dpd, a.write_off_dpd)
        if why is None:
            return True
        self.write_off_refusal, self.write_off_request = why, None
        return False

    @write_off.validator
    def _validate_write_off(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._check_write_off(a)

    async def _write_off_now(self) -> LoanWorkflowResult:
        a, state = self.write_off_request, self.servicing
        assert a is not None and state is not None
        if state.settlement is not None:  # a proposal never decided ends with the loan
            await self._decision("SETTLEMENT", f"settlement:{state.settlement.settlement_id}", "CANCELLED", {
                "id": state.settlement.settlement_id, "decidedBy": a.staff_id, "reason": "the loan was written off",
            })  # fmt: skip
        if state.restructure is not None:
            await self._decision("RESTRUCTURE", f"restructure:{state.restructure.restructure_id}", "CANCELLED", {
                "id": state.restructure.restructure_id, "decidedBy": a.staff_id,
            })  # fmt: skip
        posted = await workflow.execute_activity_method(
            LoanActivities.record_closing_postings,
            ClosingPostings(self.inp.loan_id, "WRITE_OFF"),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Write-off postings",
        )
        await colend_loss(self, "CL_WRITE_OFF", f"write-off:{self.inp.loan_id}", posted, self._today())
        await self._record_closure("WRITTEN_OFF")
        return await self._end(
            LoanStatus.WRITTEN_OFF, f"written off: {(a.reason or '').strip()}", f"{a.role}:{a.staff_email}",
            action="WRITE_OFF", actor_id=a.staff_id,
        )  # fmt: skip

    # ---------------------------------------------------------------- the loop's steps
    def _collections_woken(self) -> bool:
        return self.write_off_request is not None or self.relink or self.notice_held

    async def _review_collections(self, now: datetime) -> None:
        """At a DPD change: the bucket, and the allocation activity when the loan is (or stops being) in arrears."""
        state = self.servicing
        assert state is not None
        state.max_dpd = max(state.max_dpd, state.dpd)
        if state.dpd == state.reviewed_dpd:
            return
        bucket = self._policy().bucket_for(state.dpd) if state.dpd > 0 else None
        state.reviewed_dpd = state.dpd
        as_of = now.astimezone(IST).date() - (timedelta(days=1) if self.day_end_run else timedelta(0))
        overdue = sum(i.remaining for i in state.installments if i.overdue and not i.paid)
        try:
            await self._db_step(
                "review_collection",
                CollectionReview(self.inp.loan_id, self.inp.brand_id, state.dpd, bucket, as_of, overdue),
                f"Collections: DPD {state.dpd}, bucket {bucket or '-'}",
            )
        except Exception as exc:  # noqa: BLE001  (refused for good: never fails the loan)
            # an activity task's refusal is an ActivityError around the ApplicationError; a local activity's
            # (SERVICING_LOCAL_PATCH) may arrive as the ApplicationError itself
            cause = exc if isinstance(exc, ApplicationError) else getattr(exc, "cause", None)
            if not isinstance(cause, ApplicationError):
                raise
            workflow.logger.warning("collection review refused: %s", exc)
        await colend_overdue(self, state.dpd, as_of)
