"""Staff API: /api/v1/partner (login) and /api/v1/partner/brand/{brandId}/... (brand-scoped)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import db_session, is_uuid, temporal
from api.products import preview_for
from api.security import Principal, check_password, current_staff, issue_token
from api.views import loan_detail, loan_summary
from api.workflow_calls import staff_update
from db.models import Brand, Loan, LoanProduct, StaffUser
from domain.errors import AuthenticationError, NotFound
from domain.status import LoanStatus
from workflows.contracts import StaffAction

router = APIRouter(prefix="/api/v1/partner", tags=["partner (staff)"])
Db = Annotated[Session, Depends(db_session, scope="function")]
Staff = Annotated[Principal, Depends(current_staff)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


@router.post("/auth/login")
def staff_login(request: Request, body: LoginIn, session: Db) -> dict:
    user = session.scalars(select(StaffUser).where(StaffUser.email == body.email.strip().lower())).first()
    if user is None or not user.is_active or not check_password(user.password_hash, body.password):
        raise AuthenticationError("invalid email or password")
    token = issue_token(request.app.state.settings, Principal("staff", user.id, user.brand_id, user.role, user.email))
    return {
        **token,
        "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "brandId": user.brand_id},
    }


def brand_scope(brand_id: str, staff: Staff, session: Db) -> Principal:
    """The staff user must belong to the brand in the path; anything else is 'not found'."""
    if not is_uuid(brand_id) or staff.brand_id != brand_id:
        raise NotFound("brand not found")
    brand = session.get(Brand, brand_id)
    if brand is None or not brand.is_active:
        raise NotFound("brand not found")
    return staff


Scoped = Annotated[Principal, Depends(brand_scope)]


def _loan(session: Session, brand_id: str, loan_id: str) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    return loan


@router.get("/brand/{brand_id}/loans")
def list_loans(
    brand_id: str,
    staff: Scoped,
    session: Db,
    status: Annotated[LoanStatus | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict:
    query = select(Loan).where(Loan.brand_id == brand_id)
    if status is not None:
        query = query.where(Loan.status == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    loans = session.scalars(query.order_by(Loan.created_at.desc()).offset((page - 1) * limit).limit(limit)).all()
    return {"items": [loan_summary(loan) for loan in loans], "page": page, "limit": limit, "total": total}


@router.get("/brand/{brand_id}/loans/{loan_id}")
def get_loan(brand_id: str, loan_id: str, staff: Scoped, session: Db) -> dict:
    return loan_detail(session, _loan(session, brand_id, loan_id), staff=True)


@router.get("/brand/{brand_id}/loans/{loan_id}/schedule-preview")
def schedule_preview(
    brand_id: str,
    loan_id: str,
    staff: Scoped,
    session: Db,
    disbursed_on: Annotated[date | None, Query(alias="disbursedOn")] = None,
) -> dict:
    """The loan's schedule, charges, APR and Key Fact Statement, as if disbursed on ``disbursedOn``
    (default: its disbursal date, or today if not yet disbursed)."""
    loan = _loan(session, brand_id, loan_id)
    product = session.get_one(LoanProduct, loan.product_id)
    on = disbursed_on or (loan.disbursed_at.date() if loan.disbursed_at else date.today())
    return {
        "loanId": loan.id,
        "disbursedOn": on.isoformat(),
        **preview_for(session, product, loan.amount, loan.tenure, on, with_kfs=True, loan_account_no=loan.id),
    }


async def _decide(
    brand_id: str, loan_id: str, staff: Principal, session: Session, client: Client, update: str, body: DecisionIn
) -> dict:
    loan = _loan(session, brand_id, loan_id)
    session.rollback()  # hold no transaction open across the workflow call
    action = StaffAction(staff.id, staff.email or "", staff.role or "", brand_id, body.reason)
    status = await staff_update(client, loan.workflow_id, update, action)
    return {"loanId": loan.id, "status": status}


@router.post("/brand/{brand_id}/loans/{loan_id}/sanction")
async def sanction(
    brand_id: str,
    loan_id: str,
    staff: Scoped,
    session: Db,
    client: Annotated[Client, Depends(temporal)],
    body: DecisionIn | None = None,
) -> dict:
    return await _decide(brand_id, loan_id, staff, session, client, "sanction", body or DecisionIn())


@router.post("/brand/{brand_id}/loans/{loan_id}/reject")
async def reject(
    brand_id: str,
    loan_id: str,
    body: DecisionIn,
    staff: Scoped,
    session: Db,
    client: Annotated[Client, Depends(temporal)],
) -> dict:
    return await _decide(brand_id, loan_id, staff, session, client, "reject", body)


@router.post("/brand/{brand_id}/loans/{loan_id}/approve-disbursal")
async def approve_disbursal(
    brand_id: str,
    loan_id: str,
    staff: Scoped,
    session: Db,
    client: Annotated[Client, Depends(temporal)],
    body: DecisionIn | None = None,
) -> dict:
    return await _decide(brand_id, loan_id, staff, session, client, "approve_disbursal", body or DecisionIn())
