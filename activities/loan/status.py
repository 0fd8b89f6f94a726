"""A loan's status moves: the history row, the loan's columns, and for staff actions in the sanction hierarchy
the audit log, the (re)assignment of the loan and the staff notifications, all in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan import queries
from activities.loan.common import LoanBase
from db.models import Loan
from db.notifications import notify
from domain.status import TERMINAL, LoanStatus
from los import metrics
from workflows.contracts import StatusChange


def _still_acts(session: Session, staff_id: str | None, brand_id: str, stage: str | None) -> str | None:
    """``staff_id`` if they are still active in the brand with the stage's role (or a super admin): a loan is
    never handed back to someone who left or changed role since; it goes to the stage's pool instead."""
    if staff_id is None:
        return None
    row = queries.staff_standing(session, staff_id, brand_id)
    if row is None or not row[0]:
        return None
    return staff_id if row[1] == "SUPER_ADMIN" or (stage is not None and row[2] == stage) else None


def _review_state(loan: Loan) -> dict[str, Any]:
    return {
        "status": loan.status,
        "reviewStage": loan.review_stage,
        "assignedTo": loan.assigned_to,
        "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
        "sanctionConditions": loan.sanction_conditions,
    }


def _history_row(session: Session, change: StatusChange) -> str | None:
    """The move's ``loan_status_history`` row, once per (loan, seq); its id, or None when it was recorded before."""
    return queries.insert_status_history(
        session,
        loan_id=change.loan_id,
        seq=change.seq,
        from_status=change.from_status,
        to_status=change.to_status,
        reason=change.reason,
        actor=change.actor,
        action=change.action,
        actor_id=change.actor_id,
        details=change.details,
    )


def _by_the_system(change: StatusChange) -> bool:
    return not (change.actor_id or change.action or change.reassign or change.details or change.review_stage)


def record_system_move(session: Session, change: StatusChange) -> tuple[str, int] | None:
    """A move the system makes (no staff action, review stage, details or reassignment), once per (loan, seq): the
    history row, the loan's columns in one statement, and the staff member the loan is assigned to told, as for any
    move; (brand id, amount in paise), or None when this move was recorded before. ``record_status`` runs it for
    such moves, and ``record_payment`` for the move a payment makes (``PaymentRecord.status_change``)."""
    if _history_row(session, change) is None:
        return None
    key = f"status:{change.loan_id}:{change.seq}"
    terminal = LoanStatus(change.to_status) in TERMINAL
    closed = datetime.now(UTC) if terminal else None
    brand_id, amount, assigned_to = queries.move_loan_status(
        session, change.loan_id, change.to_status, change.reason, closed=closed
    )
    if assigned_to and change.from_status != change.to_status:
        notify(
            session,
            assigned_to,
            brand_id,
            "STATUS_CHANGE",
            f"Loan is now {change.to_status}",
            change.reason or "",
            {"loanId": change.loan_id, "from": change.from_status, "to": change.to_status},
            f"{key}:status",
        )
    return brand_id, amount


class StatusActivities(LoanBase):
    @activity.defn
    async def record_status(self, change: StatusChange) -> None:
        """One status move (or review-stage move) of a loan, once: the history row, the loan's columns, and
        for staff actions the audit log and notifications, all in one transaction."""

        def write(session: Session) -> tuple[str, int] | None:
            if _by_the_system(change):  # the repayment loop's moves: one statement on the loan
                return record_system_move(session, change)
            if _history_row(session, change) is None:
                return None
            key = f"status:{change.loan_id}:{change.seq}"
            loan = session.get_one(Loan, change.loan_id, with_for_update=True)
            before = _review_state(loan)
            values: dict[str, Any] = {"status": change.to_status, "status_reason": change.reason}
            if LoanStatus(change.to_status) in TERMINAL:
                values["closed_at"] = datetime.now(UTC)
                values["next_due_at"] = None
            values["review_stage"] = (
                change.review_stage if LoanStatus(change.to_status) == LoanStatus.UNDER_REVIEW else None
            )
            if change.reassign:
                holder = _still_acts(session, change.assign_to, loan.brand_id, change.review_stage)
                values["assigned_to"] = holder
                values["assigned_at"] = datetime.now(UTC) if holder else None
            details = change.details or {}
            if "scoreOverride" in details:
                values["score_override"] = Decimal(str(details["scoreOverride"]))
                values["score_override_reason"] = details.get("reason")
            if "conditions" in details:
                values["sanction_conditions"] = details["conditions"]
            queries.update_loan(session, change.loan_id, **values)
            session.flush()
            session.refresh(loan)
            after = _review_state(loan)
            if change.actor_id:
                role, _, email = change.actor.partition(":")
                queries.insert_audit(
                    session,
                    key,
                    brand_id=loan.brand_id,
                    actor_id=change.actor_id,
                    actor_email=email or None,
                    actor_role=role or None,
                    action=f"loan.{(change.action or 'status').lower()}",
                    entity_type="loan",
                    entity_id=loan.id,
                    before=before,
                    after=after,
                )
            previous = before["assignedTo"]
            if previous and previous != change.actor_id and change.from_status != change.to_status:
                notify(
                    session,
                    previous,
                    loan.brand_id,
                    "STATUS_CHANGE",
                    f"Loan is now {change.to_status}",
                    change.reason or "",
                    {"loanId": loan.id, "from": change.from_status, "to": change.to_status},
                    f"{key}:status",
                )
            if change.reassign and after["assignedTo"] and after["assignedTo"] != previous:
                notify(
                    session,
                    after["assignedTo"],
                    loan.brand_id,
                    "NEW_ASSIGNMENT",
                    "Loan assigned to you",
                    change.reason or "",
                    {"loanId": loan.id, "reviewStage": change.review_stage},
                    f"{key}:assign",
                )
            return loan.brand_id, loan.amount

        if moved := await self._tx(write):  # counted once, when recorded (docs/observability.md)
            metrics.status_moved(moved[0], change.from_status, change.to_status, moved[1])
