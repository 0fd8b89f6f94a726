"""Who holds a loan: manual (re)allocation, POST /api/v1/partner/brand/{brandId}/loans/{loanId}/allocate, and the
allocation rules the staff-user routes share (a loan under review goes only to someone holding its stage's role;
a person who leaves the brand or changes role gives their loans back to the pool)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import is_uuid
from api.loan_views import StaffLoanSummary
from api.partner.common import Db, staff_router
from api.security import Principal
from api.types import Uuid
from api.views import staff_loan_summary
from db.models import Loan, StaffBrandRole, StaffUser
from db.notifications import notify
from domain.access import Permission as P
from domain.access import ReviewStage, Role
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import TERMINAL, LoanStatus

router = staff_router()


class AllocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: Uuid | None = Field(alias="staffId", description="the new holder; null puts the loan back in the pool")
    reason: str | None = Field(default=None, max_length=500)


STAGE_ROLE = {
    ReviewStage.CREDIT_EXECUTIVE.value: Role.CREDIT_EXECUTIVE.value,
    ReviewStage.SANCTION_MANAGER.value: Role.SANCTION_MANAGER.value,
    ReviewStage.SANCTION_HEAD.value: Role.SANCTION_HEAD.value,
}


def release_held_loans(session: Session, staff_id: str, brand_id: str, new_role: str | None = None) -> list[str]:
    """Loans this person holds in the brand go back to the pool: all of them (``new_role`` None: they leave
    the brand), or those under review at a stage their new role does not act at."""
    query = update(Loan).where(
        Loan.brand_id == brand_id, Loan.assigned_to == staff_id, Loan.status.not_in([s.value for s in TERMINAL])
    )
    if new_role is not None:
        query = query.where(Loan.review_stage.in_([stage for stage, role in STAGE_ROLE.items() if role != new_role]))
    return list(session.scalars(query.values(assigned_to=None, assigned_at=None).returning(Loan.id)).all())


def check_allocatable(loan: Loan, holder_role: str | None, field: str) -> None:
    """The allocation rules of one loan: nothing to allocate once it ended; under review it goes only to
    someone holding its stage's role (``holder_role`` None: back to the pool, always allowed)."""
    if LoanStatus(loan.status) in TERMINAL:
        raise Conflict(f"loan {loan.id} is {loan.status}; nothing to allocate", field=field)
    needed = STAGE_ROLE.get(loan.review_stage or "")
    if holder_role is not None and needed and holder_role != needed:
        raise ValidationError(
            f"loan {loan.id} is at the {loan.review_stage} stage: it goes to a {needed}, not a {holder_role}",
            field=field,
        )


@router.post("/brand/{brand_id}/loans/{loan_id}/allocate", response_model=StaffLoanSummary)
def allocate_loan(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: AllocateIn,
    staff: Annotated[Principal, Allow(P.LOANS_ALLOCATE, api_key=False)],
    session: Db,
) -> dict:
    """Manual (re)allocation. A loan under review goes only to someone holding its stage's role in this brand."""
    loan = session.get(Loan, loan_id, with_for_update=True) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    holder_role = None
    if body.staff_id is not None:
        if not is_uuid(body.staff_id):
            raise ValidationError("not a staff id", field="staffId")
        holder = session.execute(
            select(StaffUser, StaffBrandRole.role)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(StaffUser.id == body.staff_id, StaffBrandRole.brand_id == brand_id)
        ).first()
        if holder is None or not holder[0].is_active:
            raise ValidationError("no active staff member of this brand has that id", field="staffId")
        holder_role = holder[1]
    check_allocatable(loan, holder_role, "staffId")
    before = {"assignedTo": loan.assigned_to}
    loan.assigned_to = body.staff_id
    loan.assigned_at = datetime.now(UTC) if body.staff_id else None
    audit(
        session,
        request,
        staff,
        "loan.allocate",
        "loan",
        loan.id,
        before=before,
        after={"assignedTo": body.staff_id, "reason": body.reason},
    )
    if body.staff_id and body.staff_id != before["assignedTo"]:
        notify(
            session,
            body.staff_id,
            brand_id,
            "NEW_ASSIGNMENT",
            "Loan assigned to you",
            body.reason or f"assigned by {staff.email}",
            {"loanId": loan.id, "reviewStage": loan.review_stage},
        )
    session.commit()
    return staff_loan_summary(loan)
