"""Platform administration of staff accounts: /api/v1/admin/users (super admins only).

Unlike a brand's own user routes, these manage the account as a whole: its roles in any number of brands, its
home brand, super admin status (given at creation), password and whether it is active. Each change is audited
once for the platform (no brand) and, where a brand's role changed, once in that brand's log (action
``admin.user.role``), so a brand's admins see who was added to or removed from their brand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import AllowPlatformAdmin, audit
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.partner.allocation import release_held_loans
from api.partner.auth import end_sign_ins
from api.partner.staff_users import Email, Name, Password, Phone, check_password_policy, staff_view
from api.responses import ApiModel
from api.security import Principal, hash_password
from api.types import Whole
from db.models import Brand, StaffBrandRole, StaffUser
from domain.access import Role
from domain.errors import Conflict, NotFound, ValidationError

router = APIRouter(prefix="/api/v1/admin", tags=["admin users"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Admin = Annotated[Principal, AllowPlatformAdmin()]


class BrandRoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: str = Field(alias="brandId")
    role: Role


class BrandRole(ApiModel):
    """The role a staff account holds in one brand."""

    brand_id: str
    role: str = Field(description="domain.access.Role: ADMIN, LOAN_EXECUTIVE, CREDIT_EXECUTIVE, ...")


class AdminUser(ApiModel):
    """A staff account as the platform admin sees it (never the password hash): its roles in every brand."""

    id: str
    email: str
    name: str
    phone: str | None
    role: str = Field(description="the role in the home brand (SUPER_ADMIN for super admins)")
    is_active: bool
    reporting_to_id: str | None = Field(description="staff id of the manager")
    last_login_at: str | None = Field(description="ISO 8601 instant with offset of the last sign-in")
    created_at: str | None = Field(description="ISO 8601 instant with offset")
    home_brand_id: str = Field(description="the brand the account signs in to first")
    super_admin: bool
    brands: list[BrandRole] = Field(description="by brand id")


class AdminUserPage(ApiModel):
    """One page of staff accounts, by email."""

    items: list[AdminUser]
    page: Whole = Field(description="1-based")
    limit: Whole = Field(description="page size")
    total: int = Field(description="accounts matching the filters, on every page")


def _roles_of(session: Session, user_ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {uid: {} for uid in user_ids}
    for staff_id, brand_id, role in session.execute(
        select(StaffBrandRole.staff_id, StaffBrandRole.brand_id, StaffBrandRole.role).where(
            StaffBrandRole.staff_id.in_(user_ids)
        )
    ).all():
        found[staff_id][brand_id] = role
    return found


def admin_view(user: StaffUser, roles: dict[str, str]) -> dict[str, Any]:
    return {
        **staff_view(user, user.role),
        "homeBrandId": user.brand_id,
        "superAdmin": user.role == Role.SUPER_ADMIN,
        "brands": [{"brandId": b, "role": r} for b, r in sorted(roles.items())],
    }


def _brand_roles(session: Session, items: list[BrandRoleIn], super_admin: bool) -> dict[str, str]:
    """brand id -> role; every brand must exist, once; SUPER_ADMIN only for super admins."""
    roles: dict[str, str] = {}
    for n, item in enumerate(items):
        if not is_uuid(item.brand_id) or session.get(Brand, item.brand_id) is None:
            raise ValidationError("no brand has this id", field=f"brands.{n}.brandId")
        if item.brand_id in roles:
            raise ValidationError("this brand is listed twice", field=f"brands.{n}.brandId")
        if item.role == Role.SUPER_ADMIN and not super_admin:
            raise ValidationError("SUPER_ADMIN is given with superAdmin: true", field=f"brands.{n}.role")
        roles[item.brand_id] = item.role.value
    return roles


def _home_role(roles: dict[str, str], home: str, super_admin: bool) -> str:
    if home not in roles:
        raise ValidationError("the home brand must be one of the user's brands", field="homeBrandId")
    return Role.SUPER_ADMIN.value if super_admin else roles[home]


def _snapshot(user: StaffUser, roles: dict[str, str]) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "isActive": user.is_active,
        "superAdmin": user.role == Role.SUPER_ADMIN,
        "homeBrandId": user.brand_id,
        "brands": dict(roles),
    }


def _audit(
    session: Session,
    request: Request,
    staff: Principal,
    action: str,
    user: StaffUser,
    before: tuple[dict[str, Any], dict[str, str]] | None,
    after: tuple[dict[str, Any], dict[str, str]],
) -> None:
    """One platform row (no brand), and one row in each brand whose role for this user changed."""
    audit(
        session,
        request,
        staff,
        action,
        "staff_user",
        user.id,
        before=before[0] if before else None,
        after=after[0],
        platform=True,
    )
    old, new = (before[1] if before else {}), after[1]
    for brand_id in sorted(set(old) | set(new)):
        if old.get(brand_id) != new.get(brand_id):
            audit(
                session,
                request,
                staff,
                "admin.user.role",
                "staff_user",
                user.id,
                before={"role": old.get(brand_id)},
                after={"role": new.get(brand_id)},
                brand_id=brand_id,
            )


# ------------------------------------------------------------------------------------------- list
class AdminUserFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: str | None = Field(default=None, alias="brandId", description="users with a role in this brand")
    role: Role | None = Field(default=None, description="held in some brand (in brandId if given)")
    active: bool | None = None
    search: str | None = Field(default=None, max_length=100, description="part of the name or email")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


@router.get("/users", response_model=AdminUserPage)
def list_users(staff: Admin, session: Db, f: Annotated[AdminUserFilters, Query()]) -> dict:
    """Staff accounts of every brand, with their role in each."""
    query = select(StaffUser)
    if f.brand_id is not None and not is_uuid(f.brand_id):
        raise ValidationError("not a brand id", field="brandId")
    if f.role == Role.SUPER_ADMIN:
        query = query.where(StaffUser.role == Role.SUPER_ADMIN.value)
    if f.brand_id is not None or (f.role is not None and f.role != Role.SUPER_ADMIN):
        memberships = select(StaffBrandRole.staff_id)
        if f.brand_id is not None:
            memberships = memberships.where(StaffBrandRole.brand_id == f.brand_id)
        if f.role is not None and f.role != Role.SUPER_ADMIN:
            memberships = memberships.where(StaffBrandRole.role == f.role.value)
        query = query.where(StaffUser.id.in_(memberships))
    if f.active is not None:
        query = query.where(StaffUser.is_active.is_(f.active))
    if f.search and f.search.strip():
        term = f.search.strip()
        query = query.where(
            or_(StaffUser.name.icontains(term, autoescape=True), StaffUser.email.icontains(term, autoescape=True))
        )
    rows, total = page_of(session, query, f.page, f.limit, StaffUser.email, StaffUser.id)
    users = [u for (u,) in rows]
    roles = _roles_of(session, [u.id for u in users])
    return {"items": [admin_view(u, roles[u.id]) for u in users], "page": f.page, "limit": f.limit, "total": total}


# ------------------------------------------------------------------------------------------- create
class AdminUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: Name
    phone: Phone | None = None
    password: Password
    home_brand_id: str = Field(alias="homeBrandId")
    brands: list[BrandRoleIn] = Field(min_length=1, max_length=100)
    super_admin: bool = Field(default=False, alias="superAdmin")


@router.post("/users/create", status_code=201, response_model=AdminUser)
def create_user(request: Request, body: AdminUserIn, staff: Admin, session: Db) -> dict:
    check_password_policy(body.password)
    roles = _brand_roles(session, body.brands, body.super_admin)
    home_role = _home_role(roles, body.home_brand_id, body.super_admin)
    if session.scalars(select(StaffUser.id).where(StaffUser.email == body.email)).first() is not None:
        raise Conflict("a user with this email already exists", field="email")
    user = StaffUser(
        brand_id=body.home_brand_id,
        email=body.email,
        name=body.name,
        phone=body.phone,
        role=home_role,
        password_hash=hash_password(body.password),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # the same email created concurrently
        raise Conflict("a user with this email already exists", field="email") from exc
    session.add_all(StaffBrandRole(staff_id=user.id, brand_id=b, role=r) for b, r in roles.items())
    _audit(session, request, staff, "admin.user.create", user, None, (_snapshot(user, roles), roles))
    session.commit()
    return admin_view(user, roles)


# ------------------------------------------------------------------------------------------- update
class AdminUserUpdateIn(BaseModel):
    """Only the fields sent change. ``brands`` replaces every brand role; ``homeBrandId`` must be among them."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    phone: Phone | None = None
    is_active: bool | None = Field(default=None, alias="isActive")
    password: Password | None = None
    brands: list[BrandRoleIn] | None = Field(default=None, min_length=1, max_length=100)
    home_brand_id: str | None = Field(default=None, alias="homeBrandId")

    @field_validator("name", "is_active", "password", "brands", "home_brand_id")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


@router.put("/users/{user_id}", response_model=AdminUser)
def update_user(request: Request, user_id: str, body: AdminUserUpdateIn, staff: Admin, session: Db) -> dict:
    user = session.get(StaffUser, user_id, with_for_update=True) if is_uuid(user_id) else None
    if user is None:
        raise NotFound("user not found")
    sent = body.model_fields_set
    if not sent:
        raise ValidationError("nothing to change", field="body")
    if user.id == staff.id and body.is_active is False:
        raise Conflict("you cannot deactivate yourself", field="isActive")
    if body.password is not None:
        check_password_policy(body.password)
    super_admin = user.role == Role.SUPER_ADMIN
    old = _roles_of(session, [user.id])[user.id]
    roles = _brand_roles(session, body.brands, super_admin) if body.brands is not None else old
    home = body.home_brand_id or user.brand_id
    home_role = _home_role(roles, home, super_admin)
    before = _snapshot(user, old)
    if body.name is not None:
        user.name = body.name
    if "phone" in sent:
        user.phone = body.phone
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    user.brand_id, user.role = home, home_role
    if body.password is not None or body.is_active is False:
        end_sign_ins(session, user.id)  # a reset password or a deactivation ends every sign-in at once
    if roles != old:
        for row in session.scalars(select(StaffBrandRole).where(StaffBrandRole.staff_id == user.id)).all():
            if row.brand_id not in roles:
                release_held_loans(session, user.id, row.brand_id)
                session.delete(row)
            else:
                if row.role != roles[row.brand_id]:
                    release_held_loans(session, user.id, row.brand_id, roles[row.brand_id])
                row.role = roles[row.brand_id]
        session.add_all(StaffBrandRole(staff_id=user.id, brand_id=b, role=r) for b, r in roles.items() if b not in old)
    after = _snapshot(user, roles) | ({"passwordReset": True} if body.password is not None else {})
    _audit(session, request, staff, "admin.user.update", user, (before, old), (after, roles))
    session.commit()
    return admin_view(user, roles)
