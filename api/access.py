"""The one declarative access mechanism (seed 001's ``@RequireRoleOrPermission``) and the audit log.

Every brand-scoped staff route declares what it needs as its principal's type (and, like every route, what it
answers as its ``response_model``)::

    @router.get("/brand/{brand_id}/loans", response_model=LoanPage)
    def list_loans(brand_id: str, staff: Annotated[Principal, Allow(P.LOANS_VIEW)], ...) -> dict

``Allow`` authenticates (staff bearer token, or the brand's ``X-API-Key``), checks that the principal belongs
to the brand in the path (an unknown brand, an inactive one or another brand's id is 404: ids are not
confirmed to outsiders), that the staff account is still active, and that the role held *in that brand*
grants one of the permissions (else 403). The returned principal carries the path's brand and that role.
``guards_of(route)`` tells which guards (and permissions) a route declared, so a test can prove every route has a guard.

``audit(...)`` records a change in the same transaction as the change itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from api.deps import db_session, is_uuid
from api.security import Principal, _bearer, _decode
from db.models import AuditLog, Brand, BrandApiKey, RevokedAccessToken, StaffActivitySession, StaffBrandRole, StaffUser
from domain.access import API_KEY_PERMISSIONS, Permission, Role, permissions_of
from domain.errors import AuthenticationError, NotFound, PermissionDenied

API_KEY_TOUCH = timedelta(minutes=1)  # last_used_at is written at most this often per key


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class _Guard:
    """``Depends(_Guard(...))`` with the permissions readable afterwards (see ``guards_of``)."""

    def __init__(self, permissions: tuple[Permission, ...], *, brand_scoped: bool, api_key: bool):
        self.permissions = permissions
        self.brand_scoped = brand_scoped
        self.api_key = api_key


class _BrandGuard(_Guard):
    def __call__(
        self,
        request: Request,
        brand_id: str,
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
        x_api_key: str | None = Header(default=None, alias="X-API-Key"),
        session: Session = Depends(db_session, scope="function"),
    ) -> Principal:
        if creds is None and x_api_key and self.api_key:
            principal = _api_key_principal(session, x_api_key, brand_id)
        else:
            principal = _staff_in_brand(request, session, creds, brand_id)
        granted = principal.permissions
        if not any(p in granted for p in self.permissions):
            needed = " or ".join(self.permissions)
            raise PermissionDenied(f"this needs the permission {needed}, which role {principal.role} lacks")
        request.state.principal = principal
        return principal


class _PlatformGuard(_Guard):
    def __call__(
        self,
        request: Request,
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
        session: Session = Depends(db_session, scope="function"),
    ) -> Principal:
        principal, role, _ = _staff(request, session, creds)
        if role != Role.SUPER_ADMIN:
            raise PermissionDenied("super admin only")
        principal = _acting_as(principal, principal.brand_id, Role.SUPER_ADMIN)
        request.state.principal = principal
        return principal


class _SelfGuard(_Guard):
    """Any signed-in, active staff member, acting on their own things (profile, sessions)."""

    def __call__(
        self,
        request: Request,
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
        session: Session = Depends(db_session, scope="function"),
    ) -> Principal:
        principal, _, _ = _staff(request, session, creds)
        request.state.principal = principal
        return principal


def Allow(*permissions: Permission, api_key: bool = True) -> Any:  # noqa: N802 - reads as a declaration
    """Brand-scoped route guard: the principal must belong to ``{brand_id}`` and hold one of ``permissions``.
    ``api_key=False`` refuses brand API keys even if the permission would be in their scope."""
    if not permissions:
        raise ValueError("Allow() needs at least one permission")
    return Depends(_BrandGuard(permissions, brand_scoped=True, api_key=api_key))


def AllowPlatformAdmin() -> Any:  # noqa: N802
    """/api/v1/admin routes: super admins only, not scoped to one brand."""
    return Depends(_PlatformGuard((Permission.PLATFORM_ADMIN,), brand_scoped=False, api_key=False))


def AllowSelf() -> Any:  # noqa: N802
    """Routes about the signed-in staff member themself (no brand in the path)."""
    return Depends(_SelfGuard((), brand_scoped=False, api_key=False))


def guards_of(route: Any) -> list[_Guard]:
    """The guards a FastAPI route declared (walks its dependency tree)."""
    found: list[_Guard] = []

    def walk(dependant: Any) -> None:
        if isinstance(dependant.call, _Guard):
            found.append(dependant.call)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def _staff(
    request: Request, session: Session, creds: HTTPAuthorizationCredentials | None, brand_id: str | None = None
) -> tuple[Principal, str | None, bool]:
    """Decode and check a staff token in ONE round trip: not revoked, its sign-in session not logged out,
    account active, and (with ``brand_id``)
    the role the user holds in that brand *now* (the database, not the token, is the authority: a role
    removed or changed takes effect at once) and whether that brand is active."""
    if creds is None:
        raise AuthenticationError("missing bearer token")
    principal = _decode(request.app.state.settings, creds.credentials)
    if principal.kind != "staff":
        raise AuthenticationError("a staff token is required")
    brand_key = brand_id if brand_id is not None and is_uuid(brand_id) else None
    revoked = select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == (principal.jti or "")).exists()
    # A token of a sign-in that was logged out is dead even if it was issued by an earlier refresh.
    ended = (
        select(StaffActivitySession.id)
        .where(StaffActivitySession.id == principal.session_id, StaffActivitySession.logout_at.is_not(None))
        .exists()
        if principal.session_id and is_uuid(principal.session_id)
        else false()
    )
    row = session.execute(
        select(
            StaffUser.is_active,
            StaffUser.role,
            StaffBrandRole.role,
            Brand.is_active,
            revoked,
            ended,
        )
        .select_from(StaffUser)
        .outerjoin(StaffBrandRole, (StaffBrandRole.staff_id == StaffUser.id) & (StaffBrandRole.brand_id == brand_key))
        .outerjoin(Brand, Brand.id == brand_key)
        .where(StaffUser.id == principal.id)
    ).first()
    if row is None or not row[0]:
        raise AuthenticationError("this staff account is deactivated")
    if row[4]:
        raise AuthenticationError("token revoked (logged out)")
    if row[5]:
        raise AuthenticationError("this sign-in session has ended; log in again")
    super_admin = row[1] == Role.SUPER_ADMIN
    role = Role.SUPER_ADMIN.value if super_admin else row[2]
    return principal, role, bool(row[3])


def _staff_in_brand(
    request: Request, session: Session, creds: HTTPAuthorizationCredentials | None, brand_id: str
) -> Principal:
    principal, role, brand_active = _staff(request, session, creds, brand_id)
    if role is None or not brand_active:
        raise NotFound("brand not found")
    return _acting_as(principal, brand_id, role)


def _acting_as(principal: Principal, brand_id: str, role: str) -> Principal:
    """The token's principal, checked: acting in ``brand_id`` with the role held there now."""
    return replace(
        principal,
        brand_id=brand_id,
        role=role,
        super_admin=role == Role.SUPER_ADMIN,
        permissions=frozenset(permissions_of(role)),
    )


def _api_key_principal(session: Session, raw: str, brand_id: str) -> Principal:
    key = session.query(BrandApiKey).filter(BrandApiKey.key_hash == api_key_hash(raw)).one_or_none()
    if key is None or key.revoked_at is not None:
        raise AuthenticationError("invalid or revoked API key")
    if key.brand_id != brand_id:
        raise NotFound("brand not found")
    brand = session.get(Brand, brand_id)
    if brand is None or not brand.is_active:
        raise NotFound("brand not found")
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > API_KEY_TOUCH:
        session.execute(update(BrandApiKey).where(BrandApiKey.id == key.id).values(last_used_at=now))
        session.commit()
    return Principal(
        "api_key", key.id, brand_id, "API_KEY", None, permissions=frozenset(p.value for p in API_KEY_PERMISSIONS)
    )


def audit(
    session: Session,
    request: Request | None,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    brand_id: str | None = None,
    platform: bool = False,
) -> None:
    """Record a change in the caller's unit of work, so it commits (or not) together with the change.
    The row belongs to ``brand_id`` (default: the caller's brand), or to no brand with ``platform=True``."""
    if platform:
        brand_id = None
    elif brand_id is None and is_uuid(principal.brand_id):
        brand_id = principal.brand_id
    session.add(
        AuditLog(
            brand_id=brand_id,
            actor_id=principal.id,
            actor_email=principal.email,
            actor_role=principal.role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            method=request.method if request else None,
            path=request.url.path if request else None,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )
    if request is not None:
        request.state.audited = True


def not_audited(request: Request) -> None:
    """Tell the audit safety net (``api.audit_middleware``) that this change is not one to record (e.g. a
    staff member marking their own notifications read)."""
    request.state.audited = True


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else json.loads(json.dumps(value, default=str))


__all__ = ["Allow", "AllowPlatformAdmin", "AllowSelf", "api_key_hash", "audit", "guards_of", "not_audited"]
