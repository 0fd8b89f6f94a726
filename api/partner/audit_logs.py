"""The brand's audit log (seed 001): ``GET /api/v1/partner/brand/{brandId}/audit-logs`` (also under ``/user/``),
newest first, filtered by actor, action prefix, entity and period. Rows are written by ``api.access.audit`` and the
workflow's status activity; nothing here changes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Allow
from api.deps import MAX_PAGE, db_session, is_uuid, page_of
from api.guards import GUARDS
from api.partner.staff_users_schemas import AuditPage
from api.security import Principal
from api.types import IsoDateTime, Whole
from db.models import AuditLog
from domain.access import Permission as P
from domain.errors import ValidationError

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}", tags=["partner users"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]


class AuditFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor_id: str | None = Field(default=None, alias="actorId")
    action: str | None = Field(default=None, max_length=80, description='prefix, e.g. "settings." or "loan.forward"')
    entity_type: str | None = Field(default=None, alias="entityType", max_length=40)
    entity_id: str | None = Field(default=None, alias="entityId", max_length=80)
    from_: IsoDateTime | None = Field(default=None, alias="from", description="inclusive; without a zone, UTC")
    to: IsoDateTime | None = Field(default=None, description="exclusive; without a zone, UTC")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def audit_view(row: AuditLog) -> dict[str, Any]:
    return {
        "id": row.id,
        "brandId": row.brand_id,
        "actorId": row.actor_id,
        "actorEmail": row.actor_email,
        "actorRole": row.actor_role,
        "action": row.action,
        "entityType": row.entity_type,
        "entityId": row.entity_id,
        "method": row.method,
        "path": row.path,
        "before": row.before,
        "after": row.after,
        "createdAt": row.created_at.isoformat(),
    }


@router.get("/audit-logs", response_model=AuditPage)
@router.get("/user/audit-logs", response_model=AuditPage)
def audit_logs(
    brand_id: str, staff: Annotated[Principal, Allow(P.AUDIT_VIEW)], session: Db, f: Annotated[AuditFilters, Query()]
) -> dict:
    """This brand's audit log, newest first."""
    query = select(AuditLog).where(AuditLog.brand_id == brand_id)
    if f.actor_id is not None:
        if not is_uuid(f.actor_id):
            raise ValidationError("not a staff id", field="actorId")
        query = query.where(AuditLog.actor_id == f.actor_id)
    if f.action:
        query = query.where(AuditLog.action.startswith(f.action, autoescape=True))
    if f.entity_type:
        query = query.where(AuditLog.entity_type == f.entity_type)
    if f.entity_id:
        query = query.where(AuditLog.entity_id == f.entity_id)
    if f.from_ is not None and f.to is not None and _utc(f.from_) >= _utc(f.to):
        raise ValidationError("from must be before to", field="from")
    if f.from_ is not None:
        query = query.where(AuditLog.created_at >= _utc(f.from_))
    if f.to is not None:
        query = query.where(AuditLog.created_at < _utc(f.to))
    rows, total = page_of(session, query, f.page, f.limit, AuditLog.created_at.desc(), AuditLog.id.desc())
    return {"items": [audit_view(r) for (r,) in rows], "page": f.page, "limit": f.limit, "total": total}
