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


def _decode(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(token, settings.jwt_secret.get_secret_value(), algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc
    return Principal(
        claims["typ"],
        claims["sub"],
        claims["brand"],
        claims.get("role"),
        claims.get("email"),
        claims.get("jti"),
        datetime.fromtimestamp(claims["exp"], UTC),
        brands=dict(claims.get("brands") or {}),
        super_admin=bool(claims.get("sa")),
        session_id=claims.get("sid"),
        permissions=frozenset(claims.get("perms") or ()),
    )


def _principal(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    if creds is None:
        raise AuthenticationError("missing bearer token")
    principal = _decode(request.app.state.settings, creds.credentials)
    if principal.jti and _revoked(request, principal.jti):
        raise AuthenticationError("token revoked (logged out)")
    return principal


def _revoked(request: Request, jti: str) -> bool:
    from db.models import RevokedAccessToken

    with request.app.state.db.sessions() as session:
        return session.get(RevokedAccessToken, jti) is not None


def current_customer(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    p = _principal(request, creds)
    if p.kind != "customer":
        raise AuthenticationError("a customer token is required")
    return p


def current_staff(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    p = _principal(request, creds)
    if p.kind != "staff":
        raise AuthenticationError("a staff token is required")
    return p
