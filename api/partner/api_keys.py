"""A brand's access administration, /api/v1/partner/brand/{brandId}/...: its API keys, and the reports of its
staff's sign-ins (login logs) and activity sessions.

An API key (``X-API-Key`` header, see ``api.access``) gives the brand's own systems read-only access to the
brand's routes that allow keys (``API_KEY_PERMISSIONS``). The raw key is shown once, when it is created or
rotated; only its SHA-256 and its last four characters are stored. Rotating revokes the old key and links it
to its successor in one transaction. Every change is audited, never with the key itself.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.access import Allow, api_key_hash, audit
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDateTime, Whole
from db.models import BrandApiKey, StaffActivitySession, StaffLoginLog, StaffUser, new_id
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}", tags=["partner access"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
KeyAdmin = Annotated[Principal, Allow(P.API_KEYS_MANAGE, api_key=False)]
Auditor = Annotated[Principal, Allow(P.AUDIT_VIEW, api_key=False)]
KEY_PREFIX = "los_"
INSTANT = "ISO 8601 instant with its offset"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# ----------------------------------------------------------------------------------------- API keys
class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. 'collections CRM'")


class ApiKey(ApiModel):
    """A brand API key as listed: never the key or its hash."""

    id: str
    name: str = Field(description="what the key is for")
    last4: str = Field(description="the key's last four characters")
    created_at: str | None = Field(description=INSTANT)
    created_by: str | None = Field(description="staff id of who created it")
    last_used_at: str | None = Field(description=f"{INSTANT}; null: never used")
    revoked_at: str | None = Field(description=f"{INSTANT}; null: the key works")
    replaced_by: str | None = Field(description="the key a rotation replaced it with")


class NewApiKey(ApiKey):
    """A key just created or rotated in: the only answer that shows the key itself."""

    key: str = Field(description="the raw key, sent as X-API-Key; shown this once")


class ApiKeyList(ApiModel):
    """The brand's keys, newest first, revoked ones included."""

    items: list[ApiKey]


def key_view(key: BrandApiKey) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "last4": key.last4,
        "createdAt": _iso(key.created_at),
        "createdBy": key.created_by,
        "lastUsedAt": _iso(key.last_used_at),
        "revokedAt": _iso(key.revoked_at),
        "replacedBy": key.replaced_by,
    }


def _new_key(session: Session, brand_id: str, name: str, staff: Principal) -> dict:
    """Stores a new key and answers its view with the raw key, the only time it is shown."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = BrandApiKey(
        id=new_id(), brand_id=brand_id, name=name, key_hash=api_key_hash(raw), last4=raw[-4:], created_by=staff.id
    )
    session.add(key)
    session.flush()
    return {**key_view(key), "key": raw}


def _key(session: Session, brand_id: str, key_id: str) -> BrandApiKey:
    key = session.get(BrandApiKey, key_id, with_for_update=True) if is_uuid(key_id) else None
    if key is None or key.brand_id != brand_id:
        raise NotFound("API key not found")
    return key


@router.post("/api-keys", status_code=201, response_model=NewApiKey)
def create_api_key(request: Request, brand_id: str, body: ApiKeyIn, staff: KeyAdmin, session: Db) -> dict:
    """A new key for the brand; the answer's ``key`` is the only time it is shown."""
    name = body.name.strip()
    if not name:
        raise ValidationError("name must not be blank", field="name")
    created = _new_key(session, brand_id, name, staff)
    audit(session, request, staff, "api_key.create", "brand_api_key", created["id"], after={"name": name})
    session.commit()
    return created


@router.get("/api-keys", response_model=ApiKeyList)
def list_api_keys(brand_id: str, staff: KeyAdmin, session: Db) -> dict:
    """The brand's keys, newest first, revoked ones included; never the key or its hash."""
    keys = session.scalars(
        select(BrandApiKey).where(BrandApiKey.brand_id == brand_id).order_by(BrandApiKey.created_at.desc())
    ).all()
    return {"items": [key_view(k) for k in keys]}


@router.delete("/api-keys/{key_id}", response_model=ApiKey)
def revoke_api_key(request: Request, brand_id: str, key_id: str, staff: KeyAdmin, session: Db) -> dict:
    """The key stops working at once (401)."""
    key = _key(session, brand_id, key_id)
    if key.revoked_at is not None:
        raise Conflict(f"this API key was already revoked at {key.revoked_at.isoformat()}")
    key.revoked_at = datetime.now(UTC)
    audit(
        session,
        request,
        staff,
        "api_key.revoke",
        "brand_api_key",
        key.id,
        before={"revokedAt": None},
        after={"revokedAt": key.revoked_at},
    )
    view = key_view(key)
    session.commit()
    return view


@router.post("/api-keys/{key_id}/rotate", status_code=201, response_model=NewApiKey)
def rotate_api_key(request: Request, brand_id: str, key_id: str, staff: KeyAdmin, session: Db) -> dict:
    """A new key with the same name; the old one is revoked and points at it (one transaction)."""
    old = _key(session, brand_id, key_id)
    if old.revoked_at is not None:
        raise Conflict("a revoked API key cannot be rotated; create a new one")
    created = _new_key(session, brand_id, old.name, staff)
    old.revoked_at, old.replaced_by = datetime.now(UTC), created["id"]
    audit(
        session,
        request,
        staff,
        "api_key.rotate",
        "brand_api_key",
        old.id,
        before={"revokedAt": None, "replacedBy": None},
        after={"revokedAt": old.revoked_at, "replacedBy": old.replaced_by, "newLast4": created["last4"]},
    )
    session.commit()
    return created


# ------------------------------------------------------------------------------------------ reports
class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: uuid.UUID | None = Field(default=None, alias="staffId")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


class LoginLogFilters(Paging):
    email: str | None = Field(default=None, max_length=200)
    success: bool | None = None
    from_: IsoDateTime | None = Field(default=None, alias="from", description="ISO date-time; UTC when no offset")
    to: IsoDateTime | None = Field(default=None, description="ISO date-time; UTC when no offset")


class SessionFilters(Paging):
    active: bool | None = Field(default=None, description="true: not logged out; false: logged out")


class LoginAttempt(ApiModel):
    """One sign-in attempt (unknown emails and refusals included)."""

    id: str
    staff_id: str | None = Field(description="null: no account has this email")
    email: str = Field(description="the email tried, lower-cased")
    success: bool
    reason: str | None = Field(description='"ok", or why it was refused ("wrong password", "throttled"...)')
    ip: str | None
    user_agent: str | None
    device_fingerprint: str | None = Field(description="the X-Device-Fingerprint header")
    new_device: bool = Field(description="the account never signed in successfully from this fingerprint")
    created_at: str | None = Field(description=INSTANT)


class LoginLogPage(ApiModel):
    """One page of sign-in attempts, newest first."""

    items: list[LoginAttempt]
    page: int
    limit: int
    total: int = Field(description="attempts matching the filters, on every page")


class ActivitySession(ApiModel):
    """One sign-in session: from login to logout, moved on by activity."""

    id: str = Field(description="the session id, the access token's sid")
    staff_id: str
    email: str
    name: str
    brand_id: str = Field(description="the brand the session works in (switch-brand moves it)")
    device_fingerprint: str | None
    login_at: str | None = Field(description=INSTANT)
    last_active_at: str | None = Field(description=INSTANT)
    logout_at: str | None = Field(description=f"{INSTANT}; null: still open")
    active: bool = Field(description="not logged out")
    duration_seconds: int = Field(description="seconds to logout, or to the last activity while open")


class ActivitySessionPage(ApiModel):
    """One page of sign-in sessions, newest first."""

    items: list[ActivitySession]
    page: int
    limit: int
    total: int = Field(description="sessions matching the filters, on every page")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _members(brand_id: str) -> Select:
    """Staff whose home is this brand. A sign-in is the person's, not one brand's: someone who also works
    in other brands has their attempts (address, device) shown to their home brand only."""
    return select(StaffUser.id).where(StaffUser.brand_id == brand_id)


@router.get("/reports/login-logs", response_model=LoginLogPage)
def login_logs(brand_id: str, staff: Auditor, session: Db, f: Annotated[LoginLogFilters, Query()]) -> dict:
    """Sign-in attempts of the brand's staff, newest first."""
    start, end = _utc(f.from_), _utc(f.to)
    if start and end and start > end:
        raise ValidationError("from must not be after to", field="from")
    query = select(StaffLoginLog).where(StaffLoginLog.staff_id.in_(_members(brand_id)))
    if f.staff_id:
        query = query.where(StaffLoginLog.staff_id == str(f.staff_id))
    if f.email:
        query = query.where(StaffLoginLog.email == f.email.strip().lower())
    if f.success is not None:
        query = query.where(StaffLoginLog.success.is_(f.success))
    if start:
        query = query.where(StaffLoginLog.created_at >= start)
    if end:
        query = query.where(StaffLoginLog.created_at <= end)
    rows, total = page_of(session, query, f.page, f.limit, StaffLoginLog.created_at.desc(), StaffLoginLog.id)
    items = [
        {
            "id": log.id,
            "staffId": log.staff_id,
            "email": log.email,
            "success": log.success,
            "reason": log.reason,
            "ip": log.ip,
            "userAgent": log.user_agent,
            "deviceFingerprint": log.device_fingerprint,
            "newDevice": log.new_device,
            "createdAt": _iso(log.created_at),
        }
        for (log,) in rows
    ]
    return {"items": items, "page": f.page, "limit": f.limit, "total": total}


@router.get("/activity-sessions", response_model=ActivitySessionPage)
def activity_sessions(brand_id: str, staff: Auditor, session: Db, f: Annotated[SessionFilters, Query()]) -> dict:
    """Sign-in sessions held in this brand, newest first; the duration runs to logout, or to the last
    activity while the session is open."""
    query = (
        select(StaffActivitySession, StaffUser.email, StaffUser.name)
        .join(StaffUser, StaffUser.id == StaffActivitySession.staff_id)
        .where(StaffActivitySession.brand_id == brand_id)
    )
    if f.staff_id:
        query = query.where(StaffActivitySession.staff_id == str(f.staff_id))
    if f.active is not None:
        open_ = StaffActivitySession.logout_at.is_(None)
        query = query.where(open_ if f.active else ~open_)
    order = (StaffActivitySession.login_at.desc(), StaffActivitySession.id)
    rows, total = page_of(session, query, f.page, f.limit, *order)
    items = [
        {
            "id": s.id,
            "staffId": s.staff_id,
            "email": email,
            "name": name,
            "brandId": s.brand_id,
            "deviceFingerprint": s.device_fingerprint,
            "loginAt": _iso(s.login_at),
            "lastActiveAt": _iso(s.last_active_at),
            "logoutAt": _iso(s.logout_at),
            "active": s.logout_at is None,
            "durationSeconds": int(((s.logout_at or s.last_active_at) - s.login_at).total_seconds()),
        }
        for s, email, name in rows
    ]
    return {"items": items, "page": f.page, "limit": f.limit, "total": total}
