"""The staff member's own notifications, under /api/v1/partner/brand/{brandId}/notifications (see
docs/workbench.md): written by the workflow activities and allocation (``db.notifications``); each staff member
sees, reads and dismisses only their own, brand by brand. Someone else's notification is 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.access import Allow, not_audited
from api.deps import MAX_PAGE, is_uuid, page_of
from api.loan_views import INSTANT
from api.partner.common import Db, iso, workbench_router
from api.responses import ApiModel
from api.security import Principal
from api.types import Whole
from db.models import StaffNotification
from domain.access import Permission as P
from domain.errors import NotFound

router = workbench_router()
AnyStaff = Annotated[Principal, Allow(P.LOANS_VIEW, P.COLLECTIONS_VIEW, api_key=False)]


class NotificationFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = Field(default=False, description="only the unread ones")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=20, ge=1, le=100)


class NotificationView(ApiModel):
    """One notification of the caller's."""

    id: str
    type: str = Field(description="NEW_ASSIGNMENT, STATUS_CHANGE or SYSTEM")
    title: str
    body: str
    metadata: dict[str, Any] = Field(description="what it is about, e.g. {loanId, reviewStage}")
    is_read: bool
    created_at: str = Field(description=INSTANT)


class NotificationPage(ApiModel):
    """One page of the caller's notifications, newest first, and how many are unread."""

    items: list[NotificationView]
    unread_count: int = Field(description="unread notifications over all pages")
    total: int = Field(description="notifications matching the filter, over all pages")
    page: int
    limit: int


class ReadAll(ApiModel):
    """How many notifications were marked read."""

    updated: int


def _mine(staff: Principal, brand_id: str) -> list[Any]:
    return [
        StaffNotification.staff_id == staff.id,
        StaffNotification.brand_id == brand_id,
        StaffNotification.dismissed_at.is_(None),
    ]


def _notification_view(n: StaffNotification) -> dict[str, Any]:
    return {
        "id": n.id,
        "type": n.type,
        "title": n.title,
        "body": n.body,
        "metadata": n.meta,
        "isRead": n.is_read,
        "createdAt": iso(n.created_at),
    }


def _notification(session: Session, staff: Principal, brand_id: str, notification_id: str) -> StaffNotification:
    n = session.get(StaffNotification, notification_id) if is_uuid(notification_id) else None
    if n is None or n.staff_id != staff.id or n.brand_id != brand_id or n.dismissed_at is not None:
        raise NotFound("notification not found")
    return n


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(brand_id: str, staff: AnyStaff, session: Db, f: Annotated[NotificationFilters, Query()]) -> dict:
    """The caller's notifications in this brand, newest first (dismissed ones excluded)."""
    mine = _mine(staff, brand_id)
    query = select(StaffNotification).where(*mine)
    if f.unread:
        query = query.where(StaffNotification.is_read.is_(False))
    rows, total = page_of(
        session, query.order_by(StaffNotification.created_at.desc(), StaffNotification.id), f.page, f.limit
    )
    unread = session.scalar(
        select(func.count()).select_from(StaffNotification).where(*mine, StaffNotification.is_read.is_(False))
    )
    return {
        "items": [_notification_view(n) for (n,) in rows],
        "unreadCount": unread,
        "total": total,
        "page": f.page,
        "limit": f.limit,
    }


@router.patch("/notifications/read-all", response_model=ReadAll)
def read_all_notifications(request: Request, brand_id: str, staff: AnyStaff, session: Db) -> dict:
    not_audited(request)
    result = session.execute(
        update(StaffNotification)
        .where(*_mine(staff, brand_id), StaffNotification.is_read.is_(False))
        .values(is_read=True)
    )
    session.commit()
    return {"updated": result.rowcount}  # type: ignore[attr-defined]


@router.patch("/notifications/{notification_id}/read", response_model=NotificationView)
def read_notification(request: Request, brand_id: str, notification_id: str, staff: AnyStaff, session: Db) -> dict:
    not_audited(request)
    n = _notification(session, staff, brand_id, notification_id)
    n.is_read = True
    session.commit()
    return _notification_view(n)


@router.delete("/notifications/{notification_id}", status_code=204)
def dismiss_notification(request: Request, brand_id: str, notification_id: str, staff: AnyStaff, session: Db) -> None:
    """Dismiss: the notification leaves the caller's list for good."""
    not_audited(request)
    _notification(session, staff, brand_id, notification_id).dismissed_at = datetime.now(UTC)
    session.commit()
