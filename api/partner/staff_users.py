"""Partner users of a brand (seed 001 "Partner Users"): /api/v1/partner/brand/{brandId}/user..., and bulk loan
allocation to one person (the brand's audit log is ``api.partner.audit_logs``).

One account (one email, one password) may work in several brands, with a role in each (``StaffBrandRole``).
A brand's admins manage the role held *here*. What belongs to the whole account (its password, whether it is
active) they change only for people who work in no other brand; super admins are managed through
/api/v1/admin only, and SUPER_ADMIN is never granted here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.partner.allocation import check_allocatable, release_held_loans
from api.partner.auth import end_sign_ins
from api.partner.staff_users_schemas import LoansAllocated, StaffMember, StaffMemberPage, StaffMemberRemoved
from api.security import Principal, hash_password
from api.types import Uuid, Whole
from api.views import staff_loan_summary
from db.models import Loan, StaffBrandRole, StaffUser
from db.notifications import notify
from domain.access import Permission as P
from domain.access import Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}", tags=["partner users"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Manager = Annotated[Principal, Allow(P.STAFF_MANAGE, api_key=False)]

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^[6-9][0-9]{9}$"
PASSWORD_MIN = 10
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=200, pattern=EMAIL_PATTERN)]
Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
Password = Annotated[str, StringConstraints(max_length=200)]


def check_password_policy(password: str) -> None:
    if len(password) < PASSWORD_MIN or not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        raise ValidationError(
            f"the password needs at least {PASSWORD_MIN} characters, with both letters and digits", field="password"
        )


def staff_view(user: StaffUser, role: str | None) -> dict[str, Any]:
    """A staff account as lists show it (never the password hash); ``role`` is the role in the brand asked about."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": role,
        "isActive": user.is_active,
        "reportingToId": user.reporting_to_id,
        "lastLoginAt": user.last_login_at.isoformat() if user.last_login_at else None,
        "createdAt": user.created_at.isoformat() if user.created_at else None,
    }


def _grantable(role: Role) -> str:
    if role == Role.SUPER_ADMIN:
        raise ValidationError("SUPER_ADMIN is granted only by platform admins (/api/v1/admin)", field="role")
    return role.value


def _member(session: Session, brand_id: str, user_id: str, *, lock: bool = False) -> tuple[StaffUser, StaffBrandRole]:
    """The user and their role in this brand; another brand's user (or an unknown id) is 404."""
    query = (
        select(StaffUser, StaffBrandRole)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(StaffUser.id == user_id, StaffBrandRole.brand_id == brand_id)
    )
    row = session.execute(query.with_for_update() if lock else query).first() if is_uuid(user_id) else None
    if row is None:
        raise NotFound("user not found")
    return row[0], row[1]


def _manageable(user: StaffUser) -> None:
    if user.role == Role.SUPER_ADMIN:
        raise PermissionDenied("super admins are managed through /api/v1/admin")


def _reporting_to(session: Session, brand_id: str, manager_id: str | None, user_id: str | None = None) -> str | None:
    if manager_id is None:
        return None
    if manager_id == user_id:
        raise ValidationError("a user cannot report to themself", field="reportingToId")
    try:
        manager, _ = _member(session, brand_id, manager_id)
    except NotFound:
        manager = None
    if manager is None or not manager.is_active:
        raise ValidationError("no active staff member of this brand has that id", field="reportingToId")
    return manager.id


def _other_brands(session: Session, user_id: str, brand_id: str) -> bool:
    return (
        session.scalars(
            select(StaffBrandRole.id).where(StaffBrandRole.staff_id == user_id, StaffBrandRole.brand_id != brand_id)
        ).first()
        is not None
    )


def _snapshot(user: StaffUser, role: str | None) -> dict[str, Any]:
    """What the audit log keeps of an account (no password hash)."""
    return {
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": role,
        "isActive": user.is_active,
        "reportingToId": user.reporting_to_id,
    }


# ------------------------------------------------------------------------------------------- list
class UserFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = Field(default=None, description="role in this brand")
    active: bool | None = None
    search: str | None = Field(default=None, max_length=100, description="part of the name or email")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


@router.get("/user", response_model=StaffMemberPage)
def list_users(
    brand_id: str, staff: Annotated[Principal, Allow(P.STAFF_VIEW)], session: Db, f: Annotated[UserFilters, Query()]
) -> dict:
    """Staff working in this brand, with the role they hold here."""
    query = (
        select(StaffUser, StaffBrandRole.role)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(StaffBrandRole.brand_id == brand_id)
    )
    if f.role is not None:
        query = query.where(StaffBrandRole.role == f.role.value)
    if f.active is not None:
        query = query.where(StaffUser.is_active.is_(f.active))
    if f.search and f.search.strip():
        term = f.search.strip()
        query = query.where(
            or_(StaffUser.name.icontains(term, autoescape=True), StaffUser.email.icontains(term, autoescape=True))
        )
    rows, total = page_of(session, query, f.page, f.limit, StaffUser.name, StaffUser.id)
    return {"items": [staff_view(u, r) for u, r in rows], "page": f.page, "limit": f.limit, "total": total}


# ------------------------------------------------------------------------------------------- create
class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: Name
    phone: Phone | None = None
    role: Role
    password: Password
    reporting_to_id: Uuid | None = Field(default=None, alias="reportingToId")


@router.post("/user/create", status_code=201, response_model=StaffMember)
def create_user(request: Request, brand_id: str, body: UserIn, staff: Manager, session: Db) -> dict:
    """A new account working in this brand. An email that already has an account (in any brand) is refused:
    a brand admin cannot take over, or add to their brand, someone else's account — a platform admin gives an
    existing person a role in another brand (``PUT /api/v1/admin/users/{id}``)."""
    role = _grantable(body.role)
    check_password_policy(body.password)
    manager_id = _reporting_to(session, brand_id, body.reporting_to_id)
    user = session.scalars(select(StaffUser).where(StaffUser.email == body.email).with_for_update()).first()
    if user is not None:  # one answer whatever the account is (another brand's, a super admin, deactivated)
        raise Conflict(
            "an account with this email already exists; a platform admin can give it a role in this brand",
            field="email",
        )
    user = StaffUser(
        brand_id=brand_id,
        email=body.email,
        name=body.name,
        phone=body.phone,
        role=role,
        password_hash=hash_password(body.password),
        reporting_to_id=manager_id,
    )
    session.add(user)
    try:
        session.flush()
        session.add(StaffBrandRole(staff_id=user.id, brand_id=brand_id, role=role))
        session.flush()
    except IntegrityError as exc:  # the same email created concurrently
        raise Conflict("a user with this email already exists", field="email") from exc
    audit(session, request, staff, "user.create", "staff_user", user.id, after=_snapshot(user, role))
    session.commit()
    return staff_view(user, role)


# ------------------------------------------------------------------------------------------- update
class UserUpdateIn(BaseModel):
    """Only the fields sent change; ``reportingToId`` and ``phone`` may be null (cleared)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    phone: Phone | None = None
    role: Role | None = Field(default=None, description="the role in this brand")
    reporting_to_id: Uuid | None = Field(default=None, alias="reportingToId")
    is_active: bool | None = Field(default=None, alias="isActive")
    password: Password | None = Field(default=None, description="a password reset")

    @field_validator("name", "role", "is_active", "password")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


@router.put("/user/{user_id}/update", response_model=StaffMember)
def update_user(request: Request, brand_id: str, user_id: str, body: UserUpdateIn, staff: Manager, session: Db) -> dict:
    user, membership = _member(session, brand_id, user_id, lock=True)
    _manageable(user)
    sent = body.model_fields_set
    if not sent:
        raise ValidationError("nothing to change", field="body")
    role = _grantable(body.role) if body.role is not None else membership.role
    myself = user.id == staff.id
    if myself and role != membership.role:
        raise Conflict("you cannot change your own role", field="role")
    if myself and body.is_active is False:
        raise Conflict("you cannot deactivate yourself", field="isActive")
    if body.password is not None:
        check_password_policy(body.password)
    account_wide = [
        alias
        for name, alias in (
            ("name", "name"),
            ("phone", "phone"),
            ("reporting_to_id", "reportingToId"),
            ("password", "password"),
            ("is_active", "isActive"),
        )
        if name in sent
    ]
    if account_wide and _other_brands(session, user.id, brand_id):
        raise Conflict(
            "this user also works in other brands: only a platform admin can change their account (name, phone, "
            "reporting line, password, active); change their role here, or remove it with DELETE",
            field=account_wide[0],
        )
    manager_id = (
        _reporting_to(session, brand_id, body.reporting_to_id, user.id)
        if "reporting_to_id" in sent
        else user.reporting_to_id
    )
    before = _snapshot(user, membership.role)
    if body.name is not None:
        user.name = body.name
    if "phone" in sent:
        user.phone = body.phone
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    user.reporting_to_id = manager_id
    released = release_held_loans(session, user.id, brand_id, role) if role != membership.role else []
    membership.role = role
    if user.brand_id == brand_id:
        user.role = role  # the home role follows the role in the home brand
    if body.password is not None or body.is_active is False:
        end_sign_ins(session, user.id)  # a reset password or a deactivation ends every sign-in at once
    after = _snapshot(user, role) | ({"passwordReset": True} if body.password is not None else {})
    if released:
        after["releasedLoans"] = released
    audit(session, request, staff, "user.update", "staff_user", user.id, before=before, after=after)
    session.commit()
    return staff_view(user, role)


# ------------------------------------------------------------------------------------------- delete
@router.delete("/user/{user_id}", response_model=StaffMemberRemoved)
def remove_user(request: Request, brand_id: str, user_id: str, staff: Manager, session: Db) -> dict:
    """Removes the user's role in this brand and puts the loans they hold here back in the pool. A user left
    with no brand is deactivated (their tokens stop working); one who still works elsewhere keeps a home brand
    they belong to."""
    user, membership = _member(session, brand_id, user_id, lock=True)
    _manageable(user)
    if user.id == staff.id:
        raise Conflict("you cannot remove yourself from the brand", field="userId")
    before = _snapshot(user, membership.role)
    session.delete(membership)
    session.flush()
    remaining = session.scalars(
        select(StaffBrandRole)
        .where(StaffBrandRole.staff_id == user.id)
        .order_by(StaffBrandRole.created_at, StaffBrandRole.id)
    ).all()
    if not remaining:
        user.is_active = False
        end_sign_ins(session, user.id)
    elif user.brand_id == brand_id:
        user.brand_id, user.role = remaining[0].brand_id, remaining[0].role
    released = release_held_loans(session, user.id, brand_id)
    after = {"role": None, "isActive": user.is_active, "releasedLoans": list(released)}
    audit(session, request, staff, "user.remove", "staff_user", user.id, before=before, after=after)
    session.commit()
    return {"id": user.id, "removed": True, "isActive": user.is_active, "releasedLoans": list(released)}


# ------------------------------------------------------------------------------------------- allocation
class AllocateLoansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loan_ids: list[str] = Field(alias="loanIds", min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=500)


@router.post("/user/{user_id}/allocate-loans", response_model=LoansAllocated)
def allocate_loans(
    request: Request,
    brand_id: str,
    user_id: str,
    body: AllocateLoansIn,
    staff: Annotated[Principal, Allow(P.LOANS_ALLOCATE, api_key=False)],
    session: Db,
) -> dict:
    """Gives every listed loan to this user, with the rules of one loan's allocation (a loan under review goes
    only to someone holding its stage's role here). All or nothing: one refused loan and none moves."""
    holder, membership = _member(session, brand_id, user_id)
    if not holder.is_active:
        raise ValidationError("this user is deactivated", field="userId")
    ids = list(dict.fromkeys(body.loan_ids))
    loans = session.scalars(
        select(Loan)
        .where(Loan.id.in_([i for i in ids if is_uuid(i)]), Loan.brand_id == brand_id)
        .order_by(Loan.id)
        .with_for_update()
    ).all()
    missing = set(ids) - {loan.id for loan in loans}
    if missing:
        raise NotFound(f"loan not found: {', '.join(sorted(missing))}", field="loanIds")
    for loan in loans:
        check_allocatable(loan, membership.role, "loanIds")
    now = datetime.now(UTC)
    moved = []
    for loan in loans:
        before = {"assignedTo": loan.assigned_to}
        if loan.assigned_to != holder.id:
            moved.append(loan.id)
        loan.assigned_to, loan.assigned_at = holder.id, now
        after = {"assignedTo": holder.id, "reason": body.reason}
        audit(session, request, staff, "loan.allocate", "loan", loan.id, before=before, after=after)
    if moved:
        notify(
            session,
            holder.id,
            brand_id,
            "NEW_ASSIGNMENT",
            f"{len(moved)} loan{'s' if len(moved) > 1 else ''} assigned to you",
            body.reason or f"assigned by {staff.email}",
            {"loanIds": moved},
        )
    session.commit()
    return {"staffId": holder.id, "items": [staff_loan_summary(loan) for loan in loans]}
