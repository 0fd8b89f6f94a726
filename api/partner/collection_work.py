"""The collector's day on one loan, under /api/v1/partner/brand/{brandId}/collection/{loanId}/ (docs/collections.md):
follow-ups with their disposition (a promise to pay is tracked PENDING → KEPT by the payments that arrive, or BROKEN
at the day-end after its date), the loan's promises, and a payment link for the overdue amount sent to the customer
by the brand's channels; and the collectors' profiles (rating, pincodes, cap) that allocation weighs. Field visits:
``api/partner/field_visits.py``.

Who: recording needs ``collections.pre`` or ``collections.manage`` (no API key); reading ``collections.view`` or
``collections.pre``. Someone without ``collections.manage`` works only the loans allocated to them or to nobody
(403 otherwise). Another brand's loan is 404.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import is_uuid, page_of
from api.partner.collections import REPAYING, Manager, collection_role
from api.partner.common import Db, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, IsoDate, Paise, Uuid
from db import collections as sql
from db.models import (
    CollectionFollowUp,
    CollectorProfile,
    DialerCall,
    Loan,
    RepaymentInstallment,
)
from domain.access import Permission as P
from domain.collections import Disposition, PromiseStatus, check_follow_up
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from workflows.options import IST

router = staff_router()
Worker = Annotated[Principal, Allow(P.COLLECTIONS_PRE, P.COLLECTIONS_MANAGE, api_key=False)]
Reader = Annotated[Principal, Allow(P.COLLECTIONS_VIEW, P.COLLECTIONS_PRE)]
MAX_PINCODES = 500
_PINCODE = re.compile(r"[1-9][0-9]{5}")


# ------------------------------------------------------------------------------------------- models
class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: Disposition
    remarks: str | None = Field(default=None, max_length=2000)
    next_action_on: IsoDate | None = Field(
        default=None, alias="nextActionOn", description="IST date; CALLBACK needs it"
    )
    ptp_date: IsoDate | None = Field(default=None, alias="ptpDate", description="PROMISE_TO_PAY: today or later (IST)")
    ptp_amount: Paise | None = Field(default=None, alias="ptpAmount", description="PROMISE_TO_PAY: paise, above 0")
    call_id: Uuid | None = Field(default=None, alias="callId", description="the dialer call this follow-up is about")


class FollowUpView(ApiModel):
    id: str
    loan_id: str
    staff_id: str
    disposition: str
    remarks: str | None
    next_action_on: str | None
    ptp_date: str | None
    ptp_amount_paise: int | None
    ptp_status: str | None = Field(description="PENDING, KEPT or BROKEN; null when no promise")
    ptp_paid_paise: int = Field(description="received towards the promise so far")
    ptp_resolved_at: str | None
    call_id: str | None
    created_at: str


class FollowUpPage(ApiModel):
    items: list[FollowUpView]
    page: int
    limit: int
    total: int


class Promises(ApiModel):
    loan_id: str
    pending: int
    kept: int
    broken: int
    items: list[FollowUpView] = Field(description="every promise to pay, newest first")


def _rating(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('a rating goes as a decimal string, e.g. "4.5", or a whole number')
    try:
        rating = Decimal(str(value)) if isinstance(value, int | str) else None
    except InvalidOperation:
        rating = None
    if rating is None or not rating.is_finite() or rating.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("a rating between 0 and 5 with at most 2 decimals")
    if not Decimal(0) <= rating <= Decimal(5):
        raise ValueError("must be between 0 and 5")
    return rating


Rating = Annotated[Decimal, BeforeValidator(_rating)]


class ProfileIn(BaseModel):
    """A collector's profile (seed 000's partner_user_rating_matrix). ``rating`` left out: the average of
    ``ratingCriteria`` (rounded to 2 decimals), or the current rating."""

    model_config = ConfigDict(extra="forbid")
    rating: Rating | None = Field(default=None, description='0-5, e.g. "4.25"')
    rating_criteria: dict[Annotated[str, Field(min_length=1, max_length=60)], Rating] | None = Field(
        default=None, alias="ratingCriteria", max_length=20, description="criterion → score 0-5"
    )
    pincodes: list[str] | None = Field(default=None, max_length=MAX_PINCODES, description="6-digit pincodes covered")
    capacity: int | None = Field(default=None, ge=1, le=100_000, description="open cases at most; null: brand's cap")

    @field_validator("pincodes")
    @classmethod
    def _pincodes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for code in value:
            if not isinstance(code, str) or not _PINCODE.fullmatch(code):
                raise ValueError(f"{code!r} is not a 6-digit Indian pincode")
        return sorted(set(value))


class ProfileView(ApiModel):
    staff_id: str
    brand_id: str
    role: str
    rating: str = Field(description="0-5, two decimals")
    rating_criteria: dict[str, str]
    pincodes: list[str]
    capacity: int | None
    open_cases: int
    updated_at: str | None = Field(description="null: no profile saved yet (the defaults apply)")


# ------------------------------------------------------------------------------------------- helpers
def workable(session: Session, brand_id: str, loan_id: str, staff: Principal) -> Loan:
    """The brand's loan (404 otherwise), if ``staff`` may work it: anyone with ``collections.manage``, otherwise only
    its collector (or anyone while nobody holds it) — 403 naming ``loanId``."""
    loan = find_loan(session, brand_id, loan_id)
    if staff.kind == "staff" and P.COLLECTIONS_MANAGE not in staff.permissions:
        if loan.collector_id not in (None, staff.id):
            raise PermissionDenied("this loan is allocated to another collector", field="loanId")
    return loan


def follow_up_view(row: CollectionFollowUp) -> dict[str, Any]:
    return {
        "id": row.id,
        "loanId": row.loan_id,
        "staffId": row.staff_id,
        "disposition": row.disposition,
        "remarks": row.remarks,
        "nextActionOn": row.next_action_on.isoformat() if row.next_action_on else None,
        "ptpDate": row.ptp_date.isoformat() if row.ptp_date else None,
        "ptpAmountPaise": row.ptp_amount,
        "ptpStatus": row.ptp_status,
        "ptpPaidPaise": row.ptp_paid or 0,
        "ptpResolvedAt": iso(row.ptp_resolved_at),
        "callId": row.call_id,
        "createdAt": iso(row.created_at),
    }


def _today() -> Any:
    return datetime.now(IST).date()


def _owed(session: Session, loan_id: str) -> int:
    """Everything the loan's schedule still asks (paise): principal, interest, fees and penal charges not paid."""
    i = RepaymentInstallment
    asked = i.principal + i.interest + i.fees + i.penal
    unpaid = asked - i.principal_paid - i.interest_paid - i.fees_paid - i.penal_paid
    return int(session.scalar(select(func.coalesce(func.sum(unpaid), 0)).where(i.loan_id == loan_id)) or 0)


# ------------------------------------------------------------------------------------------- follow-ups
@router.post("/brand/{brand_id}/collection/{loan_id}/follow-ups", status_code=201, response_model=FollowUpView)
def add_follow_up(
    request: Request, brand_id: str, loan_id: str, body: FollowUpIn, staff: Worker, session: Db
) -> dict[str, Any]:
    """Record a follow-up: ``disposition`` and what it needs (PROMISE_TO_PAY: ``ptpDate`` today or later and
    ``ptpAmount`` > 0 paise; CALLBACK: ``nextActionOn``; the others carry no promise), ``remarks``, ``nextActionOn``
    and the dialer ``callId``. A promise starts PENDING. Only a loan being repaid takes one (409). Audited."""
    loan = workable(session, brand_id, loan_id, staff)
    if loan.status not in REPAYING:
        raise Conflict(f"loan is {loan.status}; follow-ups are for a loan being repaid", field="status")
    kind = check_follow_up(
        body.disposition,
        today=_today(),
        next_action_on=body.next_action_on,
        ptp_date=body.ptp_date,
        ptp_amount=body.ptp_amount,
        owed=_owed(session, loan.id) if body.ptp_amount is not None else None,
    )
    if body.call_id is not None:
        call = session.get(DialerCall, body.call_id)
        if call is None or call.brand_id != brand_id or call.loan_id not in (None, loan.id):
            raise ValidationError("no dialer call of this loan has that id", field="callId")
    promise = kind is Disposition.PROMISE_TO_PAY
    row = CollectionFollowUp(
        id=str(uuid.uuid4()),
        brand_id=brand_id,
        loan_id=loan.id,
        staff_id=staff.id,
        disposition=kind.value,
        remarks=(body.remarks or "").strip() or None,
        next_action_on=body.next_action_on,
        ptp_date=body.ptp_date,
        ptp_amount=body.ptp_amount,
        ptp_status=PromiseStatus.PENDING.value if promise else None,
        ptp_paid=0,
        call_id=body.call_id,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    view = follow_up_view(row)
    audit(session, request, staff, "loan.collection_follow_up", "loan", loan.id, after=view)
    session.commit()
    return view


@router.get("/brand/{brand_id}/collection/{loan_id}/follow-ups", response_model=FollowUpPage)
def list_follow_ups(
    brand_id: str,
    loan_id: str,
    staff: Reader,
    session: Db,
    page: Annotated[int, Query(ge=1, le=10_000), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """The loan's follow-ups, newest first, paged."""
    loan = workable(session, brand_id, loan_id, staff)
    query = select(CollectionFollowUp).where(CollectionFollowUp.loan_id == loan.id)
    rows, total = page_of(session, query, page, limit, CollectionFollowUp.created_at.desc(), CollectionFollowUp.id)
    return {"items": [follow_up_view(r[0]) for r in rows], "page": page, "limit": limit, "total": total}


@router.get("/brand/{brand_id}/collection/{loan_id}/promises", response_model=Promises)
def promises(brand_id: str, loan_id: str, staff: Reader, session: Db) -> dict[str, Any]:
    """The loan's promises to pay, newest first, each PENDING, KEPT (the payments received on or before its date
    reached the amount) or BROKEN (its date passed first), with the counts of each."""
    loan = workable(session, brand_id, loan_id, staff)
    rows = session.scalars(
        select(CollectionFollowUp)
        .where(CollectionFollowUp.loan_id == loan.id, CollectionFollowUp.ptp_status.is_not(None))
        .order_by(CollectionFollowUp.created_at.desc(), CollectionFollowUp.id)
    ).all()
    counts = {s: sum(1 for r in rows if r.ptp_status == s.value) for s in PromiseStatus}
    return {
        "loanId": loan.id,
        "pending": counts[PromiseStatus.PENDING],
        "kept": counts[PromiseStatus.KEPT],
        "broken": counts[PromiseStatus.BROKEN],
        "items": [follow_up_view(r) for r in rows],
    }


# ------------------------------------------------------------------------------------------- profiles
def _profile_view(session: Session, brand_id: str, staff_id: str, role: str, row: CollectorProfile | None) -> dict:
    load = session.execute(sql.open_cases(brand_id).where(Loan.collector_id == staff_id)).first()
    return {
        "staffId": staff_id,
        "brandId": brand_id,
        "role": role,
        "rating": str(Decimal(row.rating if row is not None else 3).quantize(Decimal("0.01"))),
        "ratingCriteria": {k: str(v) for k, v in (row.rating_criteria if row is not None else {}).items()},
        "pincodes": list(row.pincodes) if row is not None else [],
        "capacity": row.capacity if row is not None else None,
        "openCases": int(load[1]) if load else 0,
        "updatedAt": iso(row.updated_at) if row is not None else None,
    }


def _collector(session: Session, brand_id: str, staff_id: str) -> str:
    if not is_uuid(staff_id):
        raise NotFound("collector not found")
    try:
        return collection_role(session, brand_id, staff_id, "staffId")
    except ValidationError:
        raise NotFound("collector not found") from None


def _profile_row(session: Session, brand_id: str, staff_id: str) -> CollectorProfile | None:
    return session.scalars(
        select(CollectorProfile).where(CollectorProfile.brand_id == brand_id, CollectorProfile.staff_id == staff_id)
    ).first()


@router.get("/brand/{brand_id}/collection/collectors/{staff_id}/profile", response_model=ProfileView)
def get_profile(brand_id: str, staff_id: str, staff: Manager, session: Db) -> dict:
    """A collector's profile here: rating, its criteria, pincodes covered, their cap, and their open cases now.
    404 for anyone who holds no collection role in this brand."""
    role = _collector(session, brand_id, staff_id)
    return _profile_view(session, brand_id, staff_id, role, _profile_row(session, brand_id, staff_id))


@router.put("/brand/{brand_id}/collection/collectors/{staff_id}/profile", response_model=ProfileView)
def put_profile(request: Request, brand_id: str, staff_id: str, body: ProfileIn, staff: Manager, session: Db) -> dict:
    """Set a collector's rating (0-5; or the average of ``ratingCriteria``), its criteria, the pincodes they cover
    and their cap on open cases (null: the brand's ``allocationCap``). Fields left out keep their value. Audited
    (``collector.profile``)."""
    role = _collector(session, brand_id, staff_id)
    row = _profile_row(session, brand_id, staff_id)
    before = _profile_view(session, brand_id, staff_id, role, row) if row is not None else None
    if row is None:
        row = CollectorProfile(brand_id=brand_id, staff_id=staff_id, rating=Decimal(3), rating_criteria={}, pincodes=[])
        session.add(row)
    sent = body.model_fields_set
    if body.rating_criteria is not None:
        row.rating_criteria = {k: str(v) for k, v in body.rating_criteria.items()}
    if body.rating is not None:
        row.rating = body.rating
    elif body.rating_criteria:
        scores = list(body.rating_criteria.values())
        row.rating = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))
    if body.pincodes is not None:
        row.pincodes = body.pincodes
    if "capacity" in sent:
        row.capacity = body.capacity
    row.updated_at = datetime.now(UTC)
    session.flush()
    after = _profile_view(session, brand_id, staff_id, role, row)
    audit(session, request, staff, "collector.profile", "staff", staff_id, before=before, after=after)
    session.commit()
    return after


# the collector's day (its own module, on this router)
from api.partner import collection_links as _collection_links  # noqa: E402,F401  (the payment link, on this router)
from api.partner import collector_day as _collector_day  # noqa: E402,F401
