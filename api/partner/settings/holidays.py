"""Non-repayment dates (brand holidays): /settings/holidays."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request
from pydantic import Field
from sqlalchemy import select

from api.access import audit
from api.partner.settings.common import (
    Db,
    Manager,
    Note,
    Strict,
    Viewer,
    check_period,
    flush_or_conflict,
    own_row,
    settings_router,
)
from api.responses import ApiModel, Deleted
from api.types import IsoDate
from db.models import BrandNonRepaymentDate

router = settings_router()


class HolidayIn(Strict):
    day: IsoDate
    reason: Note = None


class Holiday(ApiModel):
    """A non-repayment date of the brand."""

    id: str
    day: date = Field(description="IST calendar date, YYYY-MM-DD")
    reason: str | None


def _holiday_view(h: BrandNonRepaymentDate) -> dict:
    return {"id": h.id, "day": h.day, "reason": h.reason}


@router.get("/holidays", response_model=list[Holiday])
def list_holidays(
    brand_id: str,
    staff: Viewer,
    session: Db,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> list[dict]:
    """Non-repayment dates: an installment falling due on one moves to the next working day."""
    check_period(day_from, day_to)
    query = select(BrandNonRepaymentDate).where(BrandNonRepaymentDate.brand_id == brand_id)
    if day_from is not None:
        query = query.where(BrandNonRepaymentDate.day >= day_from)
    if day_to is not None:
        query = query.where(BrandNonRepaymentDate.day <= day_to)
    return [_holiday_view(h) for h in session.scalars(query.order_by(BrandNonRepaymentDate.day))]


@router.post("/holidays", status_code=201, response_model=Holiday)
def create_holiday(request: Request, brand_id: str, body: HolidayIn, staff: Manager, session: Db) -> dict:
    holiday = BrandNonRepaymentDate(brand_id=brand_id, day=body.day, reason=body.reason)
    session.add(holiday)
    flush_or_conflict(session, f"{body.day} is already a non-repayment date", "day")
    audit(session, request, staff, "settings.holiday.create", "holiday", holiday.id, after=_holiday_view(holiday))
    session.commit()
    return _holiday_view(holiday)


@router.delete("/holidays/{holiday_id}", response_model=Deleted)
def delete_holiday(request: Request, brand_id: str, holiday_id: str, staff: Manager, session: Db) -> dict:
    holiday = own_row(session, BrandNonRepaymentDate, brand_id, holiday_id, "holiday")
    before = _holiday_view(holiday)
    session.delete(holiday)
    audit(session, request, staff, "settings.holiday.delete", "holiday", holiday.id, before=before)
    session.commit()
    return {"id": holiday.id, "deleted": True}
