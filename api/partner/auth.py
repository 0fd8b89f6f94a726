"""Staff sign-in: /api/v1/partner/auth/... (login; the token names every brand the user works in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import db_session
from api.security import Principal, check_password, issue_token
from db.models import StaffBrandRole, StaffUser
from domain.access import Role, permissions_of
from domain.errors import AuthenticationError

router = APIRouter(prefix="/api/v1/partner/auth", tags=["partner auth"])
Db = Annotated[Session, Depends(db_session, scope="function")]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=1, max_length=200)


def staff_principal(session: Session, user: StaffUser, active_brand: str | None = None) -> Principal:
    """The principal a token is issued for: every brand the user works in (with the role there); the
    active brand is ``active_brand`` if the user has it, else their home brand."""
    brands = {
        b: r
        for b, r in session.execute(
            select(StaffBrandRole.brand_id, StaffBrandRole.role).where(StaffBrandRole.staff_id == user.id)
        ).all()
    }
    super_admin = user.role == Role.SUPER_ADMIN
    brand = active_brand if active_brand in brands else user.brand_id
    role = Role.SUPER_ADMIN.value if super_admin else brands.get(brand, user.role)
    return Principal(
        "staff",
        user.id,
        brand,
        role,
        user.email,
        brands=brands,
        super_admin=super_admin,
        permissions=frozenset(permissions_of(role)),
    )


def user_view(user: StaffUser, principal: Principal) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": principal.role,
        "brandId": principal.brand_id,
        "brands": [{"brandId": b, "role": r} for b, r in principal.brands.items()],
        "superAdmin": principal.super_admin,
        "permissions": sorted(principal.permissions),
    }


@router.post("/login")
def staff_login(request: Request, body: LoginIn, session: Db) -> dict:
    user = session.scalars(select(StaffUser).where(StaffUser.email == body.email.strip().lower())).first()
    if user is None or not user.is_active or not check_password(user.password_hash, body.password):
        raise AuthenticationError("invalid email or password")
    principal = staff_principal(session, user)
    return {**issue_token(request.app.state.settings, principal), "user": user_view(user, principal)}
