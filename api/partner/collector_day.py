"""A collector's day: the collector-profile screen's figures no other route has (``GET
collection/collectors/{staffId}/day``), on the collections workbench's router (``api.partner.collection_work``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field
from sqlalchemy import func, or_, select

from api.partner.collection_work import FollowUpView, Reader, _collector, _today, follow_up_view, router
from api.partner.common import Db
from api.responses import ApiModel
from api.types import IsoDate
from db.models import CollectionFollowUp, FieldVisit
from domain.access import Permission as P
from domain.errors import PermissionDenied
from workflows.options import IST


class CollectorDay(ApiModel):
    """What a collector did and has due on one IST day (the collector-profile screen's figures no other route has)."""

    staff_id: str
    date: str = Field(description="the IST day")
    follow_ups: int = Field(description="follow-ups the collector recorded that day")
    by_disposition: dict[str, int] = Field(description="those follow-ups by disposition")
    field_visits: int = Field(description="field visits the collector made that day")
    due: list[FollowUpView] = Field(description="their promises to pay dated that day and call-backs set for it")


@router.get("/brand/{brand_id}/collection/collectors/{staff_id}/day", response_model=CollectorDay)
def collector_day(
    brand_id: str,
    staff_id: str,
    staff: Reader,
    session: Db,
    day: Annotated[IsoDate | None, Query(alias="date", description="IST day; default today")] = None,
) -> dict[str, Any]:
    """A collector's day: follow-ups recorded (by disposition), field visits, and the promises and call-backs due
    that day. Without ``collections.manage`` only one's own (403 naming ``staffId``); 404 for no collector here."""
    if staff.kind == "staff" and P.COLLECTIONS_MANAGE not in staff.permissions and staff_id != staff.id:
        raise PermissionDenied("only your own day, unless you manage collections", field="staffId")
    _collector(session, brand_id, staff_id)
    on: date = day or _today()
    start = datetime.combine(on, time.min, IST)
    end = start + timedelta(days=1)
    mine = (CollectionFollowUp.brand_id == brand_id, CollectionFollowUp.staff_id == staff_id)
    counted = session.execute(
        select(CollectionFollowUp.disposition, func.count())
        .where(*mine, CollectionFollowUp.created_at >= start, CollectionFollowUp.created_at < end)
        .group_by(CollectionFollowUp.disposition)
    ).all()
    visits = session.scalar(
        select(func.count()).select_from(FieldVisit).where(
            FieldVisit.brand_id == brand_id, FieldVisit.staff_id == staff_id,
            FieldVisit.visited_at >= start, FieldVisit.visited_at < end,
        )
    )  # fmt: skip
    due = session.scalars(
        select(CollectionFollowUp)
        .where(*mine, or_(CollectionFollowUp.ptp_date == on, CollectionFollowUp.next_action_on == on))
        .order_by(CollectionFollowUp.created_at.desc())
        .limit(100)
    ).all()
    return {
        "staffId": staff_id,
        "date": on.isoformat(),
        "followUps": sum(n for _, n in counted),
        "byDisposition": {d: n for d, n in counted},
        "fieldVisits": int(visits or 0),
        "due": [follow_up_view(r) for r in due],
    }
