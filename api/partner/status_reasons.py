"""The brand's status reasons staff pick from when they decide (GET /api/v1/partner/brand/{brandId}/status-reasons);
the settings routes that change them are ``api/partner/settings/status_reasons.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field
from sqlalchemy import select

from api.partner.common import Db, Viewer, staff_router
from api.partner.settings.status_reasons import REASON_STATUSES
from api.responses import ApiModel
from db.models import BrandStatusReason
from domain.errors import ValidationError

router = staff_router()


class StatusReasonChoice(ApiModel):
    """One active reason of the brand."""

    code: str = Field(description="what a decision sends as reasonCode")
    label: str
    applies_to: list[str] = Field(description="the decisions it is a reason for (REJECTED, SEND_BACK...)")


@router.get("/brand/{brand_id}/status-reasons", response_model=list[StatusReasonChoice])
def status_reasons(
    brand_id: str,
    staff: Viewer,
    session: Db,
    applies_to: Annotated[str | None, Query(alias="appliesTo", max_length=30)] = None,
) -> list[dict]:
    """The reasons staff pick from (reject, send back...), for the decision dropdowns; ``appliesTo`` keeps those for
    one decision (one of REJECTED, SEND_BACK, WRITTEN_OFF, SETTLED, COMPLETED, PAYMENT_REJECTED; any other is refused,
    422 naming ``appliesTo``)."""
    if applies_to is not None and applies_to.upper() not in REASON_STATUSES:
        raise ValidationError(f"must be one of {', '.join(REASON_STATUSES)}", field="appliesTo")
    rows = session.scalars(
        select(BrandStatusReason)
        .where(BrandStatusReason.brand_id == brand_id, BrandStatusReason.is_active.is_(True))
        .order_by(BrandStatusReason.code)
    ).all()
    return [
        {"code": r.code, "label": r.label, "appliesTo": r.statuses}
        for r in rows
        if applies_to is None or applies_to.upper() in (r.statuses or [])
    ]
