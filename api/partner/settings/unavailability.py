"""Staff days off, which auto-allocation skips: /settings/unavailability-dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field
from sqlalchemy import select

from api.access import audit
from api.deps import is_uuid
from api.partner.settings.common import (
    Db,
    Manager,
    Note,
    Strict,
    Viewer,
    check_period,
    flush_or_conflict,
    settings_router,
)
from api.responses import ApiModel, Deleted
from api.types import IsoDate, Uuid
from db.models import PartnerUnavailabilityDate, StaffBrandRole, StaffUser
from domain.errors import NotFound, ValidationError

router = settings_router()


class UnavailabilityIn(Strict):
    staff_id: Uuid = Field(alias="staffId")
    day: IsoDate
    reason: Note = None


class DayOff(ApiModel):
    """A staff member's day off."""

    id: str
    staff_id: str
    staff_name: str
    staff_email: str
    day: date = Field(description="IST calendar date, YYYY-MM-DD")
    reason: str | None


def _day_off_view(row: PartnerUnavailabilityDate, user: StaffUser) -> dict:
    return {
        "id": row.id,
        "staffId": row.staff_id,
        "staffName": user.name,
        "staffEmail": user.email,
        "day": row.day,
        "reason": row.reason,
    }


def _in_brand(brand_id: str) -> Any:
    return select(StaffBrandRole.staff_id).where(StaffBrandRole.brand_id == brand_id)


@router.get("/unavailability-dates", response_model=list[DayOff])
def list_unavailability(
    brand_id: str,
    staff: Viewer,
    session: Db,
    staff_id: Annotated[str | None, Query(alias="staffId")] = None,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> list[dict]:
    """Days off of the brand's staff (auto-allocation skips them on those days)."""
    check_period(day_from, day_to)
    query = (
        select(PartnerUnavailabilityDate, StaffUser)
        .join(StaffUser, StaffUser.id == PartnerUnavailabilityDate.staff_id)
        .where(PartnerUnavailabilityDate.staff_id.in_(_in_brand(brand_id)))
    )
    if staff_id is not None:
        if not is_uuid(staff_id):
            raise ValidationError("not a staff id", field="staffId")
        query = query.where(PartnerUnavailabilityDate.staff_id == staff_id)
    if day_from is not None:
        query = query.where(PartnerUnavailabilityDate.day >= day_from)
    if day_to is not None:
        query = query.where(PartnerUnavailabilityDate.day <= day_to)
    rows = session.execute(query.order_by(PartnerUnavailabilityDate.day, StaffUser.name)).all()
    return [_day_off_view(row, user) for row, user in rows]


@router.post("/unavailability-dates", status_code=201, response_model=DayOff)
def create_unavailability(request: Request, brand_id: str, body: UnavailabilityIn, staff: Manager, session: Db) -> dict:
    user = session.get(StaffUser, body.staff_id) if is_uuid(body.staff_id) else None
    works_here = (
        user is not None
        and session.scalars(
            select(StaffBrandRole.id).where(StaffBrandRole.staff_id == user.id, StaffBrandRole.brand_id == brand_id)
        ).first()
    )
    if user is None or not works_here or not user.is_active:
        raise ValidationError("no active staff member of this brand has that id", field="staffId")
    row = PartnerUnavailabilityDate(staff_id=user.id, day=body.day, reason=body.reason)
    session.add(row)
    flush_or_conflict(session, f"{user.email} is already off on {body.day}", "day")
    view = _day_off_view(row, user)
    audit(session, request, staff, "settings.unavailability.create", "unavailability_date", row.id, after=view)
    session.commit()
    return view


@router.delete("/unavailability-dates/{row_id}", response_model=Deleted)
def delete_unavailability(request: Request, brand_id: str, row_id: str, staff: Manager, session: Db) -> dict:
    row = session.get(PartnerUnavailabilityDate, row_id, with_for_update=True) if is_uuid(row_id) else None
    if (
        row is None
        or session.scalars(_in_brand(brand_id).where(StaffBrandRole.staff_id == row.staff_id)).first() is None
    ):
        raise NotFound("unavailability date not found")
    before = _day_off_view(row, session.get_one(StaffUser, row.staff_id))
    session.delete(row)
    audit(session, request, staff, "settings.unavailability.delete", "unavailability_date", row.id, before=before)
    session.commit()
    return {"id": row.id, "deleted": True}
