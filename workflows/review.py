"""Origination's sanction: auto-sanction or the staff review hierarchy (see ``workflows.loan``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from domain.access import REASONED_ACTIONS, REVIEW_RULES, ReviewAction, ReviewStage
    from domain.status import LoanStatus
    from workflows.contracts import (
        LoanWorkflowResult,
        StaffAction,
    )
    from workflows.options import (
        MONEY_IN_PATCH,
        PARTNER_ROUTING_PATCH,
        REVIEW_PATCH,
    )

from workflows.base import _check_fresh, _refuse
from workflows.partner_routing import PartnerRoutingPhase
from workflows.patches import patched

# Roles that may take each review action at some stage (a wrong role is 403; the right role at the wrong
# stage is 409).
REVIEW_ACTION_ROLES = {
    verb: frozenset(r for (_, v), (roles, _) in REVIEW_RULES.items() if v == verb for r in roles)
    for verb in ReviewAction
}
SANCTION_ROLES = frozenset({"SANCTION_MANAGER", "SANCTION_HEAD", "ADMIN", "SUPER_ADMIN"})
PAST = {
    ReviewAction.FORWARD: "forwarded",
    ReviewAction.APPROVE: "approved",
    ReviewAction.SEND_BACK: "sent back",
    ReviewAction.REJECT: "rejected",
    ReviewAction.SANCTION: "sanctioned",
}


def _score_ok(text: str) -> bool:
    try:
        score = Decimal(text)
    except ArithmeticError:
        return False
    return score.is_finite() and 0 <= score <= 100 and score == score.quantize(Decimal("0.01"))


def _review_reason(verb: ReviewAction, action: StaffAction) -> str:
    words = {
        ReviewAction.FORWARD: "forwarded to the sanction manager",
        ReviewAction.APPROVE: "approved by the sanction manager, to the sanction head",
        ReviewAction.SEND_BACK: "sent back to the credit executive",
        ReviewAction.REJECT: "rejected",
        ReviewAction.SANCTION: "sanctioned by the sanction head",
    }[verb]
    parts = [words]
    if action.reason_code:
        parts.append(f"[{action.reason_code}]")
    if action.reason:
        parts.append(action.reason)
    return ": ".join([parts[0], " ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _review_details(verb: ReviewAction, action: StaffAction) -> dict:
    details: dict = {"action": verb.value}
    if action.reason_code:
        details["reasonCode"] = action.reason_code
    if action.reason:
        details["reason"] = action.reason
    if action.score_override is not None:
        details["scoreOverride"] = action.score_override
    if action.conditions:
        details["conditions"] = action.conditions
    return details


class ReviewPhase(PartnerRoutingPhase):
    """Origination, second part: the sanction. Auto-sanction, or manual review up the sanction hierarchy (credit
    executive forwards → sanction manager approves, sends back or rejects → sanction head sanctions, sends back
    or rejects), each action a validated update; loans that reached review before the hierarchy: one decision."""

    async def _sanction(self, verdict: rules.DecisionResult) -> LoanWorkflowResult | None:
        """SANCTIONED (None), or the loan's end when staff reject it."""
        if verdict.decision == rules.Decision.AUTO_SANCTION:
            await self._move(LoanStatus.SANCTIONED, f"auto-sanctioned: {verdict.reason}")
        elif patched(REVIEW_PATCH):
            self.review_v2 = True
            self.review_stage = ReviewStage.CREDIT_EXECUTIVE
            await self._move(
                LoanStatus.UNDER_REVIEW, f"manual review: {verdict.reason}", review_stage=self.review_stage
            )
            await workflow.wait_condition(lambda: self.review_outcome is not None)
            assert self.review_outcome is not None
            final, by = self.review_outcome
            actor = f"{by.role}:{by.staff_email}"
            extra: dict[str, Any] = {
                "action": final.value,
                "actor_id": by.staff_id,
                "details": _review_details(final, by),
            }
            if final == ReviewAction.REJECT:
                return await self._end(LoanStatus.REJECTED, _review_reason(final, by), actor, **extra)
            await self._move(LoanStatus.SANCTIONED, _review_reason(final, by), actor, **extra)
        else:  # loans that reached manual review before the sanction hierarchy: one staff decision
            await self._move(LoanStatus.UNDER_REVIEW, f"manual review: {verdict.reason}")
            await workflow.wait_condition(lambda: self.staff_decision is not None)
            assert self.staff_decision is not None
            verb, action = self.staff_decision
            actor = f"{action.role}:{action.staff_email}"
            if verb == "reject":
                why = " ".join(p for p in (f"[{action.reason_code}]" if action.reason_code else "", action.reason) if p)
                return await self._end(LoanStatus.REJECTED, why or "rejected by staff", actor)
            await self._move(LoanStatus.SANCTIONED, action.reason or "sanctioned by staff", actor)
        if self._partner_routing_wanted() and patched(PARTNER_ROUTING_PATCH):  # booked with a partner
            await self._route_partners(f"loan-{self.inp.loan_id}")
        if patched(MONEY_IN_PATCH):  # the borrower is told, and asked to read and accept the KFS
            await self._notice("SANCTIONED", "sanctioned", amount=self.inp.terms.amount)
        return None

    def _check_review(self, verb: ReviewAction, action: StaffAction, *, as_recorded: bool = False) -> None:
        """Refuse a review action the loan's stage, the actor's role or maker-checker does not allow.
        ``as_recorded`` (validators): a move to UNDER_REVIEW being recorded counts as done, since staff act on
        what the database shows; the handler then waits for it (:meth:`_review`)."""
        if action.brand_id != self.inp.brand_id:
            raise _refuse("NotFound", "loan not found")
        if action.role not in REVIEW_ACTION_ROLES[verb]:
            raise _refuse("PermissionDenied", f"role {action.role} may not {verb.value.lower()} a loan")
        status = self.moving_to if as_recorded and self.moving_to is not None else self.status
        if status != LoanStatus.UNDER_REVIEW or self.review_stage is None:
            raise _refuse("Conflict", f"loan is {status}, not under review")
        if self.review_outcome is not None:
            raise _refuse("Conflict", "a final decision was already taken")
        rule = REVIEW_RULES.get((self.review_stage, verb))
        if rule is None:
            raise _refuse("Conflict", f"a loan at the {self.review_stage} stage cannot be {PAST[verb]}")
        if action.role not in rule[0]:
            raise _refuse("PermissionDenied", f"role {action.role} does not act at the {self.review_stage} stage")
        acted = self.reviewers.get(action.staff_id)
        if acted is not None and acted != self.review_stage:
            raise _refuse(
                "PermissionDenied",
                f"maker-checker: you already acted on this loan at the {acted} stage; another person must act now",
            )
        if verb in REASONED_ACTIONS and not (action.reason_code or "").strip():
            raise _refuse("ValidationError", "pick a reason from the brand's status reasons", field="reasonCode")
        if action.score_override is not None:
            if not _score_ok(action.score_override):
                raise _refuse(
                    "ValidationError", "a number from 0 to 100 with 2 decimals at most", field="scoreOverride"
                )
            if not (action.reason or "").strip():
                raise _refuse("ValidationError", "overriding the evaluation score needs a reason", field="reason")

    async def _review(self, verb: ReviewAction, action: StaffAction) -> str:
        async with self.review_lock:
            if self.moving_to is not None:  # accepted while the move to UNDER_REVIEW was being recorded
                await workflow.wait_condition(lambda: self.moving_to is None)
            self._check_review(verb, action)  # again: another action may have gone first
            stage = self.review_stage
            assert stage is not None
            self.reviewers[action.staff_id] = stage
            next_stage = REVIEW_RULES[(stage, verb)][1]
            if next_stage is None:  # sanctioned or rejected: the main flow records it
                self.review_outcome = (verb, action)
                await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
                return str(self.status)
            if verb == ReviewAction.FORWARD:
                self.last_forwarder = action.staff_id
            self.review_stage = next_stage
            # Sent back: to the credit executive who forwarded it; forward: to the next stage's pool.
            await self._move(
                LoanStatus.UNDER_REVIEW,
                _review_reason(verb, action),
                f"{action.role}:{action.staff_email}",
                action=verb.value,
                actor_id=action.staff_id,
                review_stage=next_stage,
                details=_review_details(verb, action),
                assign_to=self.last_forwarder if next_stage == ReviewStage.CREDIT_EXECUTIVE else None,
                reassign=True,
            )
            return str(self.status)

    @workflow.update(description="Credit executive forwards a loan under review to the sanction manager (StaffAction).")
    async def forward(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.FORWARD, action)

    @forward.validator
    def _validate_forward(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.FORWARD, action, as_recorded=True)

    @workflow.update(
        description="Sanction manager approves, with conditions, and sends the loan to the sanction head (StaffAction)."
    )
    async def approve(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.APPROVE, action)

    @approve.validator
    def _validate_approve(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.APPROVE, action, as_recorded=True)

    @workflow.update(
        description="Sanction manager or head sends the loan back to the credit executive, with a reason (StaffAction)."
    )
    async def send_back(self, action: StaffAction) -> str:
        return await self._review(ReviewAction.SEND_BACK, action)

    @send_back.validator
    def _validate_send_back(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)  # in validators only: an accepted update is never refused later
        self._check_review(ReviewAction.SEND_BACK, action, as_recorded=True)

    @workflow.update(description="Sanction head sanctions the loan (StaffAction); the agreement follows.")
    async def sanction(self, action: StaffAction) -> str:
        if self.review_v2:
            return await self._review(ReviewAction.SANCTION, action)
        self.staff_decision = ("sanction", action)
        await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
        return self.status

    @sanction.validator
    def _validate_sanction(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        if self.review_v2:
            return self._check_review(ReviewAction.SANCTION, action, as_recorded=True)
        self._check_staff(action, SANCTION_ROLES, {LoanStatus.UNDER_REVIEW})
        if self.staff_decision is not None:
            raise _refuse("Conflict", "a decision was already taken")

    @workflow.update(
        description="Sanction manager or head rejects the loan with one of the brand's reasons (StaffAction)."
    )
    async def reject(self, action: StaffAction) -> str:
        if self.review_v2:
            return await self._review(ReviewAction.REJECT, action)
        self.staff_decision = ("reject", action)
        await workflow.wait_condition(lambda: self.status != LoanStatus.UNDER_REVIEW)
        return self.status

    @reject.validator
    def _validate_reject(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        if self.review_v2:
            return self._check_review(ReviewAction.REJECT, action, as_recorded=True)
        self._validate_sanction(action)
        if not (action.reason or action.reason_code or "").strip():
            raise _refuse("ValidationError", "a rejection needs a reason", field="reason")
