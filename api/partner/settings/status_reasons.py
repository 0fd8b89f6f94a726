"""The reasons staff pick from when they reject, send back, write off...: /settings/status-reasons."""

from __future__ import annotations

from fastapi import Request
from pydantic import Field
from sqlalchemy import select

from api.access import audit
from api.partner.settings.common import (
    Db,
    Manager,
    Name,
    Strict,
    Viewer,
    diff,
    flush_or_conflict,
    own_row,
    settings_router,
)
from api.responses import ApiModel
from db.models import BrandStatusReason
from domain.errors import ValidationError
from domain.status import LoanStatus

router = settings_router()

REASON_STATUSES = (
    "SEND_BACK",  # a review action, not a loan status
    LoanStatus.REJECTED.value,
    LoanStatus.WRITTEN_OFF.value,
    LoanStatus.SETTLED.value,
    LoanStatus.COMPLETED.value,
    "PAYMENT_REJECTED",  # an offline payment refused in the approval queue (api.partner.payments), not a loan status
)


class StatusReasonIn(Strict):
    code: str = Field(pattern=r"^[A-Z0-9_]{2,40}$", description="upper-case letters, digits and _")
    label: Name
    statuses: list[str] = Field(min_length=1, max_length=len(REASON_STATUSES), description="what it is a reason for")
    is_active: bool = Field(default=True, alias="isActive")


class StatusReason(ApiModel):
    """A reason staff pick from; a deactivated one is no longer offered."""

    id: str
    code: str
    label: str
    statuses: list[str] = Field(description=f"what it is a reason for: {', '.join(REASON_STATUSES)}")
    is_active: bool


def _statuses(values: list[str]) -> list[str]:
    for n, value in enumerate(values):
        if value not in REASON_STATUSES:
            raise ValidationError(
                f"unknown status {value!r}; allowed: {', '.join(REASON_STATUSES)}", field=f"statuses.{n}"
            )
        if values.index(value) != n:
            raise ValidationError(f"{value} is listed twice", field=f"statuses.{n}")
    return values


def _reason_view(r: BrandStatusReason) -> dict:
    return {"id": r.id, "code": r.code, "label": r.label, "statuses": r.statuses, "isActive": r.is_active}


@router.get("/status-reasons", response_model=list[StatusReason])
def list_status_reasons(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    rows = session.scalars(
        select(BrandStatusReason).where(BrandStatusReason.brand_id == brand_id).order_by(BrandStatusReason.code)
    )
    return [_reason_view(r) for r in rows]


@router.post("/status-reasons", status_code=201, response_model=StatusReason)
def create_status_reason(request: Request, brand_id: str, body: StatusReasonIn, staff: Manager, session: Db) -> dict:
    reason = BrandStatusReason(
        brand_id=brand_id,
        code=body.code,
        label=body.label,
        statuses=_statuses(body.statuses),
        is_active=body.is_active,
    )
    session.add(reason)
    flush_or_conflict(session, f"this brand already has a status reason {body.code}", "code")
    audit(
        session, request, staff, "settings.status_reason.create", "status_reason", reason.id, after=_reason_view(reason)
    )
    session.commit()
    return _reason_view(reason)


@router.put("/status-reasons/{reason_id}", response_model=StatusReason)
def replace_status_reason(
    request: Request, brand_id: str, reason_id: str, body: StatusReasonIn, staff: Manager, session: Db
) -> dict:
    reason = own_row(session, BrandStatusReason, brand_id, reason_id, "status reason")
    statuses = _statuses(body.statuses)
    old = _reason_view(reason)
    reason.code, reason.label, reason.statuses, reason.is_active = body.code, body.label, statuses, body.is_active
    flush_or_conflict(session, f"this brand already has a status reason {body.code}", "code")
    before, after = diff(old, _reason_view(reason))
    audit(
        session, request, staff, "settings.status_reason.update", "status_reason", reason.id, before=before, after=after
    )
    session.commit()
    return _reason_view(reason)


@router.delete("/status-reasons/{reason_id}", response_model=StatusReason)
def deactivate_status_reason(request: Request, brand_id: str, reason_id: str, staff: Manager, session: Db) -> dict:
    """Past decisions keep their reason code: a reason is deactivated (no longer offered), never deleted."""
    reason = own_row(session, BrandStatusReason, brand_id, reason_id, "status reason")
    before = {"isActive": reason.is_active}
    reason.is_active = False
    audit(
        session,
        request,
        staff,
        "settings.status_reason.deactivate",
        "status_reason",
        reason.id,
        before=before,
        after={"isActive": False},
    )
    session.commit()
    return _reason_view(reason)
