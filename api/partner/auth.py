"""Staff sign-in: /api/v1/partner/auth/... login, refresh-token, logout, ping, me, switch-brand.

A login checks email + password (argon2), throttled per account: ``staff_max_failed_logins`` wrong passwords
in a row lock it for ``staff_lockout_minutes`` (429, even with the right password, until the lock ends); a
success resets the count. Every attempt, unknown emails included, is written to ``staff_login_logs`` with the
IP, the user agent and the ``X-Device-Fingerprint`` header, flagged ``new_device`` when the user never signed
in successfully from that fingerprint. A success opens a ``staff_activity_sessions`` row (its id is the
token's ``sid``) tied to a new refresh-token family; refreshing rotates the refresh token within the family
(``api.tokens``), logout revokes the access token and the family and closes the session.
"""

from __future__ import annotations

import math
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import tokens
from api.access import AllowSelf
from api.deps import db_session, is_uuid
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal, check_password, hash_password
from db.models import (
    Brand,
    RefreshToken,
    StaffActivitySession,
    StaffBrandRole,
    StaffLoginLog,
    StaffUser,
    new_id,
)
from domain.access import Permission, Role, permissions_of
from domain.errors import AuthenticationError, LosError, NotFound, TooManyRequests
from los.settings import Settings

router = APIRouter(prefix="/api/v1/partner/auth", tags=["partner auth"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, AllowSelf()]
FINGERPRINT_HEADER = "X-Device-Fingerprint"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LoginIn(Strict):
    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class RefreshIn(Strict):
    refresh_token: str = Field(alias="refreshToken", min_length=20, max_length=200)


class SwitchBrandIn(Strict):
    brand_id: str = Field(alias="brandId", min_length=1, max_length=60)


class BrandRoleHeld(ApiModel):
    """A brand the staff member works in, and their role there."""

    brand_id: str
    role: Role


class StaffMe(ApiModel):
    """The signed-in staff member as their token presents them."""

    id: str
    email: str
    name: str
    role: Role = Field(description="the role in the active brand")
    brand_id: str = Field(description="the active brand")
    brands: list[BrandRoleHeld] = Field(description="every brand they work in")
    super_admin: bool
    permissions: list[Permission] = Field(description="what the role allows in the active brand, sorted")


class StaffTokens(ApiModel):
    """An access token and the refresh token that renews it (single use: each refresh rotates it)."""

    access_token: str = Field(description="JWT, sent as Authorization: Bearer")
    token_type: str = Field(description='"Bearer"')
    expires_at: str = Field(description="when the access token expires, ISO 8601 instant with its offset")
    refresh_token: str


class StaffSignIn(StaffTokens):
    """The staff member is signed in (or switched brand): their tokens and who they are there."""

    user: StaffMe


class StaffLogin(StaffSignIn):
    """A successful login."""

    new_device: bool = Field(description="first successful sign-in from this X-Device-Fingerprint")


class StaffLoggedOut(ApiModel):
    """The sign-in ended."""

    message: str = Field(description='"logged out"')


class StillActive(ApiModel):
    """The activity session moved on."""

    session_id: str
    last_active_at: str = Field(description="ISO 8601 instant with its offset")


def staff_principal(
    session: Session, user: StaffUser, active_brand: str | None = None, *, session_id: str | None = None
) -> Principal:
    """The principal a token is issued for: every brand the user works in (with the role there); the
    active brand is ``active_brand`` if the user works there (a super admin: any brand the caller checked),
    else their home brand. ``session_id`` is the activity session the token belongs to (its ``sid``)."""
    brands = {
        b: r
        for b, r in session.execute(
            select(StaffBrandRole.brand_id, StaffBrandRole.role).where(StaffBrandRole.staff_id == user.id)
        ).all()
    }
    super_admin = user.role == Role.SUPER_ADMIN
    brand = active_brand if active_brand and (active_brand in brands or super_admin) else user.brand_id
    role = Role.SUPER_ADMIN.value if super_admin else brands.get(brand, user.role)
    return Principal(
        "staff",
        user.id,
        brand,
        role,
        user.email,
        brands=brands,
        super_admin=super_admin,
        session_id=session_id,
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


@cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist, so that answer takes as long as a wrong password."""
    return hash_password(secrets.token_hex(16))


def _log_attempt(
    session: Session, request: Request, email: str, user: StaffUser | None, success: bool, reason: str
) -> StaffLoginLog:
    fingerprint = (request.headers.get(FINGERPRINT_HEADER) or "")[:200] or None
    known = (
        user is not None
        and fingerprint is not None
        and session.scalar(
            select(StaffLoginLog.id)
            .where(
                StaffLoginLog.staff_id == user.id,
                StaffLoginLog.success.is_(True),
                StaffLoginLog.device_fingerprint == fingerprint,
            )
            .limit(1)
        )
        is not None
    )
    row = StaffLoginLog(
        staff_id=user.id if user else None,
        email=email,
        success=success,
        reason=reason,
        ip=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:400] or None,
        device_fingerprint=fingerprint,
        new_device=user is not None and fingerprint is not None and not known,
    )
    session.add(row)
    return row


def _invalid() -> AuthenticationError:
    return AuthenticationError("invalid email or password")


def _locked(until: datetime, now: datetime) -> TooManyRequests:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return TooManyRequests(
        f"too many failed logins: this account is locked until {until.isoformat(timespec='seconds')} "
        f"(in {minutes} min)",
        field="email",
    )


def _throttled(
    session: Session, request: Request, email: str | None, now: datetime, settings: Settings
) -> datetime | None:
    """Until when sign-ins are refused without looking at the password: an email with as many recent failures
    as lock an account (so an unknown email behaves like a locked one and reveals nothing), or an address
    with too many recent failures (password spraying across accounts)."""
    since = now - timedelta(minutes=settings.staff_lockout_minutes)
    failed = (StaffLoginLog.success.is_(False), StaffLoginLog.created_at > since, StaffLoginLog.reason != "throttled")
    limits = [(StaffLoginLog.email == email, settings.staff_max_failed_logins)] if email else []
    ip = request.client.host if request.client else None
    if ip:
        limits.append((StaffLoginLog.ip == ip, settings.staff_max_failed_logins_per_ip))
    for who, limit in limits:
        recent = session.scalars(
            select(StaffLoginLog.created_at).where(who, *failed).order_by(StaffLoginLog.created_at.desc()).limit(limit)
        ).all()
        if len(recent) >= limit:
            return min(recent) + timedelta(minutes=settings.staff_lockout_minutes)
    return None


@router.post("/login", response_model=StaffLogin)
def staff_login(request: Request, body: LoginIn, session: Db) -> dict:
    settings = request.app.state.settings
    email = body.email.strip().lower()
    user = session.scalars(select(StaffUser).where(StaffUser.email == email).with_for_update()).first()
    now = datetime.now(UTC)

    def refuse(reason: str, error: LosError) -> NoReturn:
        _log_attempt(session, request, email, user, False, reason)
        session.commit()  # the attempt and the failure count are kept although we answer with an error
        raise error

    unknown = user is None or not user.is_active  # a known account has its own lock (failed_logins)
    throttled = _throttled(session, request, email if unknown else None, now, settings)
    if throttled is not None:
        refuse("throttled", _locked(throttled, now))
    if user is None or not user.is_active:
        check_password(user.password_hash if user else _dummy_hash(), body.password)
        refuse("unknown email" if user is None else "account deactivated", _invalid())
    if user.locked_until is not None and user.locked_until <= now:
        user.failed_logins, user.locked_until = 0, None  # the lock ran out: a fresh count
    if user.locked_until is not None:
        refuse("account locked", _locked(user.locked_until, now))
    if not check_password(user.password_hash, body.password):
        user.failed_logins += 1
        if user.failed_logins >= settings.staff_max_failed_logins:
            user.locked_until = now + timedelta(minutes=settings.staff_lockout_minutes)
            refuse("wrong password; account locked", _locked(user.locked_until, now))
        refuse("wrong password", _invalid())

    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    log = _log_attempt(session, request, email, user, True, "ok")
    principal = staff_principal(session, user, session_id=new_id())
    family = str(uuid.uuid4())
    session.add(
        StaffActivitySession(
            id=principal.session_id,
            staff_id=user.id,
            brand_id=principal.brand_id,
            refresh_family_id=family,
            device_fingerprint=log.device_fingerprint,
        )
    )
    answer = {
        **tokens.login_tokens(session, settings, principal, family_id=family),
        "user": user_view(user, principal),
        "newDevice": log.new_device,
    }
    session.commit()
    return answer


@router.post("/refresh-token", response_model=StaffTokens)
def refresh_token(request: Request, body: RefreshIn, session: Db) -> dict:
    """A new token pair for a refresh token (used once: presenting it again signs the whole login out).
    Roles are read again, so a changed role shows in the new token; a deactivated account gets 401."""
    family = tokens.family_of(session, body.refresh_token)
    activity = (
        session.scalars(select(StaffActivitySession).where(StaffActivitySession.refresh_family_id == family)).first()
        if family
        else None
    )

    def principal_for(subject_id: str, brand_id: str) -> Principal:
        user = session.get(StaffUser, subject_id)
        if user is None or not user.is_active:
            raise AuthenticationError("this staff account is deactivated")
        return staff_principal(session, user, brand_id, session_id=activity.id if activity else None)

    pair = tokens.rotate(session, request.app.state.settings, body.refresh_token, "staff", principal_for)
    if activity is not None:
        activity.last_active_at = datetime.now(UTC)
    session.commit()
    return pair


def _open_session(session: Session, me: Principal) -> StaffActivitySession:
    activity = session.get(StaffActivitySession, me.session_id) if me.session_id else None
    if activity is None or activity.staff_id != me.id or activity.logout_at is not None:
        raise AuthenticationError("this sign-in session has ended; log in again")
    return activity


@router.post("/logout", response_model=StaffLoggedOut)
def logout(me: Me, session: Db) -> dict:
    """Revokes this access token and every refresh token of the login, and closes the activity session."""
    tokens.logout(session, me, me.jti, me.expires_at, None)
    activity = session.get(StaffActivitySession, me.session_id) if me.session_id else None
    if activity is not None and activity.staff_id == me.id:
        if activity.refresh_family_id:
            tokens.revoke_family(session, activity.refresh_family_id)
        activity.logout_at = activity.logout_at or datetime.now(UTC)
    session.commit()
    return {"message": "logged out"}


def end_sign_ins(session: Session, staff_id: str) -> None:
    """Every sign-in of this staff member ends now (a password reset, a deactivation): their refresh tokens are
    revoked and their open activity sessions closed, which the guard reads, so their access tokens die too."""
    now = datetime.now(UTC)
    session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.subject_kind == "staff", RefreshToken.subject_id == staff_id, RefreshToken.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    session.execute(
        update(StaffActivitySession)
        .where(StaffActivitySession.staff_id == staff_id, StaffActivitySession.logout_at.is_(None))
        .values(logout_at=now)
    )


@router.post("/ping", response_model=StillActive)
def ping(me: Me, session: Db) -> dict:
    """The staff member is still at work: moves the activity session's last_active_at."""
    activity = _open_session(session, me)
    activity.last_active_at = datetime.now(UTC)
    session.commit()
    return {"sessionId": activity.id, "lastActiveAt": activity.last_active_at.isoformat()}


@router.get("/me", response_model=StaffMe)
def current_user(me: Me, session: Db) -> dict:
    """The signed-in staff member as the token presents them (active brand, role, permissions)."""
    user = session.get(StaffUser, me.id)
    assert user is not None  # AllowSelf checked the account
    return user_view(user, me)


@router.post("/switch-brand", response_model=StaffSignIn)
def switch_brand(request: Request, body: SwitchBrandIn, me: Me, session: Db) -> dict:
    """A new token pair whose active brand (and role, permissions) is ``brandId``: a brand the user works
    in, or any active brand for a super admin. The login's other refresh tokens stop working."""
    user = session.get(StaffUser, me.id)
    assert user is not None  # AllowSelf checked the account
    brand = session.get(Brand, body.brand_id) if is_uuid(body.brand_id) else None
    activity = _open_session(session, me)
    principal = staff_principal(session, user, brand.id if brand else None, session_id=activity.id)
    if brand is None or not brand.is_active or principal.brand_id != brand.id:
        raise NotFound("brand not found among the brands you work in", field="brandId")
    if activity.refresh_family_id:
        tokens.revoke_family(session, activity.refresh_family_id)
    activity.brand_id, activity.last_active_at = brand.id, datetime.now(UTC)
    answer = {
        **tokens.login_tokens(session, request.app.state.settings, principal, family_id=activity.refresh_family_id),
        "user": user_view(user, principal),
    }
    session.commit()
    return answer
