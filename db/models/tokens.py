"""Sign-in tokens shared by customers and staff: refresh tokens and access tokens revoked before expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class RefreshToken(Base):
    """Refresh tokens, stored hashed. Each use rotates it (the old one is revoked and points at its
    successor); reusing a revoked token revokes its whole family."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = pk()
    subject_kind: Mapped[str] = mapped_column(String(10))  # customer / staff
    subject_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    brand_id: Mapped[str] = fk("brands.id")
    family_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    created_at: Mapped[datetime] = created()


class RevokedAccessToken(Base):
    """Access tokens revoked by logout before they expire (by JWT id)."""

    __tablename__ = "revoked_access_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
