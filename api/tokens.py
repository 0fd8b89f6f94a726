"""Access and refresh tokens for customers and staff.

Access tokens are short-lived JWTs carrying a ``jti``; logout puts the jti on a deny list until it expires.
Refresh tokens are random, stored hashed, and rotated on every use: the used token is revoked and points at
its successor. Presenting a revoked refresh token again means it was stolen or replayed, so the whole family
(every token descended from the same login) is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.security import Principal, issue_token
from db.models import RefreshToken, RevokedAccessToken
from domain.errors import AuthenticationError
from los.settings import Settings

REFRESH_TTL = timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: Session, principal: Principal, family_id: str) -> tuple[RefreshToken, str]:
    raw = secrets.token_urlsafe(32)
    row = RefreshToken(
        id=str(uuid.uuid4()),
        subject_kind=principal.kind,
        subject_id=principal.id,
        brand_id=principal.brand_id,
        family_id=family_id,
        token_hash=_hash(raw),
        expires_at=datetime.now(UTC) + REFRESH_TTL,
    )
    session.add(row)
    return row, raw


def login_tokens(session: Session, settings: Settings, principal: Principal, family_id: str | None = None) -> dict:
    """Access + refresh token pair for a fresh login: a new refresh family, or ``family_id`` to stay in the
    login's family (a staff member switching brand)."""
    _, raw = _new_refresh(session, principal, family_id or str(uuid.uuid4()))
    return {**issue_token(settings, principal), "refreshToken": raw}


def family_of(session: Session, raw: str) -> str | None:
    """The refresh family (one login) a raw refresh token belongs to, if it is known."""
    return session.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == _hash(raw)))


def rotate(
    session: Session, settings: Settings, raw: str, kind: str, principal_for: Callable[[str, str], Principal]
) -> dict:
    """Exchange a refresh token for a new pair. ``principal_for(subject_id, brand_id)`` rebuilds the
    principal (role may have changed since login) or raises AuthenticationError if the account is gone."""
    row = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _hash(raw)).with_for_update()).first()
    now = datetime.now(UTC)
    if row is None or row.subject_kind != kind:
        raise AuthenticationError("invalid refresh token")
    if row.revoked_at is not None:
        revoke_family(session, row.family_id)
        session.commit()  # the family stays revoked although we answer with an error
        raise AuthenticationError("refresh token already used; every session of this login is signed out")
    if row.expires_at < now:
        raise AuthenticationError("refresh token expired; log in again")
    principal = principal_for(row.subject_id, row.brand_id)
    new_row, new_raw = _new_refresh(session, principal, row.family_id)
    row.revoked_at, row.replaced_by = now, new_row.id
    return {**issue_token(settings, principal), "refreshToken": new_raw}


def revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def logout(
    session: Session, principal: Principal, jti: str | None, expires_at: datetime | None, refresh_token: str | None
) -> None:
    """Revoke the access token now, and the refresh token's whole family if one is given."""
    if jti and expires_at and session.get(RevokedAccessToken, jti) is None:
        session.add(RevokedAccessToken(jti=jti, expires_at=expires_at))
    if refresh_token:
        row = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))).first()
        if row is not None and row.subject_id == principal.id:
            revoke_family(session, row.family_id)
