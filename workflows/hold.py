"""The hold: a step refused in a way retrying cannot fix parks the loan for ops instead of failing its workflow
(see ``workflows.loan``).

A provider's business refusal (an activity failing with ``BusinessRefusal``: no provider configured for a kind,
the account closed, a vendor's permanent error) or a check that cannot pass as things stand (the beneficiary's
name does not match) moves the loan to ``NEEDS_ATTENTION`` with the step and the reason. Loan ops or an admin then
``resume_hold`` (the loan returns to the status it left and the step runs again, e.g. once the customer fixed their
account) or ``reject_hold`` with a reason (the loan ends REJECTED). No loan's workflow ends Failed because a
provider said no, nor (PROVIDER_FAULT_HOLD_PATCH) because it never answered: a step that failed with its retries all
spent is held the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.status import TERMINAL, LoanStatus
    from workflows.contracts import StaffAction
    from workflows.options import HOLD_PATCH, PROVIDER_FAULT_HOLD_PATCH

from workflows.base import LoanBase, LoanStopped, _check_fresh, _refuse
from workflows.patches import patched

T = TypeVar("T")

HOLD_ROLES = frozenset({"LOAN_EXECUTIVE", "ADMIN", "SUPER_ADMIN"})
RESUME, REJECT = "RESUME", "REJECT"


def _failure(err: BaseException) -> BaseException:
    """The activity's own failure in ``err``: the cause of an ``ActivityError``, else ``err`` itself (a local
    activity's failure arrives bare, see ``business_refusal``)."""
    return err.cause if isinstance(err, ActivityError) and err.cause is not None else err


def business_refusal(err: BaseException) -> str | None:
    """The refusal's message when ``err`` is an activity that failed with ``BusinessRefusal``, else None. An activity
    task's failure reaches the workflow as an ``ActivityError`` whose cause is the activity's ``ApplicationError``; a
    local activity's (a KYC lookup, a database step) as that ``ApplicationError`` itself (the Python SDK 1.35), and
    its timeout as an ``ActivityError`` when it happens but as the bare ``TimeoutError`` when its marker is replayed:
    the hold reads every shape."""
    cause = _failure(err)
    if isinstance(cause, ApplicationError) and cause.type == "BusinessRefusal":
        return cause.message
    return None


def retries_spent(err: BaseException) -> str:
    """The hold's reason for a step that failed once its retry policy gave up (a vendor down or timing out on every
    try, a failure retrying cannot fix): the failure's kind (its ``ApplicationError`` type, or the exception's class:
    ``TimeoutError``), never its message, which may quote what the vendor was sent. The same text whether the failure
    arrives wrapped in an ``ActivityError`` (live) or bare (a local activity's marker replayed)."""
    cause = _failure(err)
    kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause).__name__
    return f"failed with its retries spent ({kind}); run it again once the cause is cleared"


def _cancelled(err: BaseException) -> bool:
    """Whether ``err`` is an activity's cancellation (wrapped in an ``ActivityError`` or bare)."""
    return isinstance(_failure(err), CancelledError)


class HoldPhase(LoanBase):
    """``_or_hold`` around a step; ``_hold`` to park the loan; the ops updates that clear a hold."""

    async def _or_hold(self, step: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``; when it fails with a business refusal, or with any other failure once its retry policy gave up
        (a vendor down or timing out on every try: ``retries_spent``, PROVIDER_FAULT_HOLD_PATCH), park the loan
        (``_hold``) and run it again once ops resume it. Loans started before the hold (HOLD_PATCH) fail as they
        did when replayed (one still running when a worker of this code takes it over is held); a cancellation is
        raised as it is. ``call`` runs activities only: every failure it raises is an activity's."""
        while True:
            try:
                return await call()
            except FailureError as err:  # an activity task's failure, or a local activity's, in any of its shapes
                reason = business_refusal(err)
                if reason is None and not _cancelled(err) and patched(PROVIDER_FAULT_HOLD_PATCH):
                    reason = retries_spent(err)
                if reason is None or not patched(HOLD_PATCH):
                    raise
                # Steps running side by side (KYC) take turns: one hold at a time, each with its own decision.
                async with self.hold_lock:
                    if self.stopped is not None:  # ops rejected the loan on an earlier hold
                        raise self.stopped from None
                    await self._hold(step, reason)

    async def _hold(self, step: str, reason: str) -> None:
        """Hold the loan in NEEDS_ATTENTION until ops decide: returns once resumed (the loan back in the status
        it left); raises ``LoanStopped`` (REJECTED, the staff member's reason) when ops reject it."""
        back_to = self.status
        self.hold_decision = None
        await self._move(
            LoanStatus.NEEDS_ATTENTION,
            f"{step}: {reason}",
            action="HOLD",
            details={"step": step, "resumeTo": str(back_to)},
        )
        await workflow.wait_condition(lambda: self.hold_decision is not None)
        assert self.hold_decision is not None
        decision, action = self.hold_decision
        actor = f"{action.role}:{action.staff_email}"
        if decision == REJECT:
            self.hold_decision = None
            self.stopped = LoanStopped(
                LoanStatus.REJECTED, action.reason or f"rejected on hold ({step})", actor, action
            )
            raise self.stopped
        await self._move(
            back_to, action.reason or f"resumed: {step} runs again", actor, action="RESUME", actor_id=action.staff_id
        )
        self.hold_decision = None
        self.holds_cleared += 1

    @workflow.update(
        description="Loan ops or an admin resume a loan on hold (NEEDS_ATTENTION): it returns to the status it "
        "left and the step that stopped runs again (StaffAction; answers the loan's status)."
    )
    async def resume_hold(self, action: StaffAction) -> str:
        cleared = self.holds_cleared
        self.hold_decision = (RESUME, action)
        await workflow.wait_condition(
            lambda: (self.holds_cleared > cleared and self.moving_to is None) or self.status in TERMINAL
        )
        return self.status

    @resume_hold.validator
    def _validate_resume_hold(self, action: StaffAction) -> None:
        self._check_hold(action)

    @workflow.update(
        description="Loan ops or an admin reject a loan on hold (NEEDS_ATTENTION) with a reason: it ends REJECTED "
        "(StaffAction with reason; answers the loan's status)."
    )
    async def reject_hold(self, action: StaffAction) -> str:
        self.hold_decision = (REJECT, action)
        await workflow.wait_condition(lambda: self.status in TERMINAL and self.moving_to is None)
        return self.status

    @reject_hold.validator
    def _validate_reject_hold(self, action: StaffAction) -> None:
        self._check_hold(action)
        if not (action.reason or "").strip():
            raise _refuse("ValidationError", "required to reject a loan on hold", field="reason")

    def _check_hold(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        self._check_staff(action, HOLD_ROLES, {LoanStatus.NEEDS_ATTENTION}, as_recorded=True)
        if self.hold_decision is not None:
            raise _refuse("Conflict", "this hold is already being cleared")
