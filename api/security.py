"""Tokens and passwords. Customers get a JWT after OTP; staff after email + password."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.deps import db_session
from domain.errors import AuthenticationError
from los.settings import Settings

_hasher = PasswordHasher()
_bearer = HTTPBearer(auto_error=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except VerificationError:
        return False


def new_otp() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_otp(settings: Settings, subject: str, code: str) -> str:
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    kind: str  # customer | staff | api_key
    id: str
    brand_id: str  # the active brand (for staff: the brand in the path, once checked)
    role: str | None = None  # the role in the active brand
    email: str | None = None
    jti: str | None = None
    expires_at: datetime | None = None
    brands: dict[str, str] = field(default_factory=dict)  # staff: brand id -> role there
    super_admin: bool = False
    session_id: str | None = None  # staff: the activity session this token belongs to
    permissions: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.email}" if self.email else f"{self.kind}:{self.id}"


def issue_token(settings: Settings, principal: Principal) -> dict:
    now = datetime.now(UTC)
    exp = now + timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": principal.id,
        "typ": principal.kind,
        "brand": principal.brand_id,
        "iat": now,
        "exp": exp,
        "jti": secrets.token_hex(8),
    }
    if principal.role:
        claims["role"] = principal.role
    if principal.email:
        claims["email"] = principal.email
    if principal.kind == "staff":
        claims["brands"] = principal.brands
        claims["sa"] = principal.super_admin
        claims["perms"] = sorted(principal.permissions)
        if principal.session_id:
            claims["sid"] = principal.session_id
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return {"accessToken": token, "tokenType": "Bearer", "expiresAt": exp.isoformat()}


PRINCIPAL_KINDS = frozenset({"customer", "staff"})


def _decode(settings: Settings, token: str) -> Principal:
    """The principal of a signed access token. Raises ``AuthenticationError`` (401) for a bad signature, an
    expired token, or claims that are missing or malformed: ``typ`` (customer | staff), ``sub`` and ``brand``
    (canonical UUIDs), ``exp``; ``role``, ``email``, ``jti``, ``sid`` text, ``brands`` an object of ids to roles,
    ``perms`` a list of text."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "typ", "brand"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc
    try:
        return _principal_of(claims)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc


def _text(claims: dict, name: str) -> str | None:
    value = claims.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > 320 or "\x00" in value):
        raise ValueError(f"claim {name} is not text")
    return value


def _principal_of(claims: dict) -> Principal:
    from api.deps import is_uuid

    kind, sub, brand = claims["typ"], claims["sub"], claims["brand"]
    if kind not in PRINCIPAL_KINDS:
        raise ValueError("claim typ is not customer or staff")
    if not is_uuid(sub) or not is_uuid(brand):
        raise ValueError("claims sub and brand must be ids")
    brands = claims.get("brands") or {}
    perms = claims.get("perms") or []
    if not isinstance(brands, dict) or not all(is_uuid(k) and isinstance(v, str) for k, v in brands.items()):
        raise ValueError("claim brands is not a map of brand ids to roles")
    if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
        raise ValueError("claim perms is not a list of permissions")
    session_id = _text(claims, "sid")
    if session_id is not None and not is_uuid(session_id):
        raise ValueError("claim sid is not an id")
    return Principal(
        kind,
        sub,
        brand,
        _text(claims, "role"),
        _text(claims, "email"),
        _text(claims, "jti"),
        datetime.fromtimestamp(claims["exp"], UTC),
        brands=dict(brands),
        super_admin=claims.get("sa") is True,
        session_id=session_id,
        permissions=frozenset(perms),
    )


def _principal(
    request: Request, creds: HTTPAuthorizationCredentials | None, session: Session | None = None
) -> Principal:
    if creds is None:
        raise AuthenticationError("missing bearer token")
    principal = _decode(request.app.state.settings, creds.credentials)
    if principal.jti and _revoked(request, principal.jti, session):
        raise AuthenticationError("token revoked (logged out)")
    return principal


def _revoked(request: Request, jti: str, session: Session | None = None) -> bool:
    """Whether the token ``jti`` was revoked (logged out): in the request's own unit of work when given (one
    connection and one transaction per request, not two)."""
    from db.models import RevokedAccessToken

    if session is not None:
        return session.get(RevokedAccessToken, jti) is not None
    with request.app.state.db.sessions() as own:
        return own.get(RevokedAccessToken, jti) is not None


def current_customer(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    session: Session = Depends(db_session, scope="function"),
) -> Principal:
    p = _principal(request, creds, session)
    if p.kind != "customer":
        raise AuthenticationError("a customer token is required")
    return p


def current_customer_own_session(
    request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """:func:`current_customer`, its revocation check in a short session of its own (closed before the route runs):
    for a route that holds the request long (a long poll, api/loan_changes.py) and must not keep a database
    connection meanwhile."""
    p = _principal(request, creds)
    if p.kind != "customer":
        raise AuthenticationError("a customer token is required")
    return p


def current_staff(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    p = _principal(request, creds)
    if p.kind != "staff":
        raise AuthenticationError("a staff token is required")
    return p
