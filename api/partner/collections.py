"""Collections: the pre-collection, overdue and post-collection queues and manual and bulk allocation, under
/api/v1/partner/brand/{brandId}/collection (docs/collections.md). Follow-ups, promises, the collector's payment link
and the collectors' profiles are in ``api/partner/collection_work.py``, field visits in
``api/partner/field_visits.py``.

Which loans each queue holds follows the brand's collections rules (``domain.collection_policy``): ``pre`` an
installment due within ``preDueDays`` and nothing overdue, ``collection`` DPD 1 up to ``escalationDpd`` − 1, ``post``
DPD ``escalationDpd`` and above. Someone without ``collections.manage`` (a collection executive) sees only the loans
allocated to them (and, before the due date, those allocated to nobody).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import MAX_PAGE, is_uuid, page_of
from api.partner.common import Db, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import Count, IsoDate, Paise, Uuid, Whole
from db import collections as sql
from db.models import (
    Brand,
    CollectionFollowUp,
    Customer,
    Loan,
    StaffBrandRole,
    StaffUser,
)
from domain.access import Permission as P
from domain.brand_config import BrandConfig
from domain.collection_policy import CollectionPolicy
from domain.errors import Conflict, NotFound, ValidationError
from domain.status import TERMINAL, LoanStatus
from workflows.options import IST

router = staff_router()
Manager = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
REPAYING = (LoanStatus.DISBURSED.value, LoanStatus.OVERDUE.value, "OVERPAID")
MAX_BULK = 200


# ------------------------------------------------------------------------------------------- models
class CollectionFilters(BaseModel):
    """Query filters of the three collection queues."""

    model_config = ConfigDict(extra="forbid")
    bucket: str | None = Field(default=None, max_length=30, description="one of the brand's bucket names")
    dpd_min: Count | None = Field(default=None, alias="dpdMin", description="DPD at least")
    dpd_max: Count | None = Field(default=None, alias="dpdMax", description="DPD at most")
    agent_id: str | None = Field(default=None, alias="agentId", description="me, none or the collector's staff id")
    ptp_due: IsoDate | None = Field(default=None, alias="ptpDue", description="a pending promise dated on or before")
    amount_min: Paise | None = Field(default=None, alias="amountMin", description="overdue at least, paise")
    amount_max: Paise | None = Field(default=None, alias="amountMax", description="overdue at most, paise")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _ranges(self) -> CollectionFilters:
        if self.dpd_min is not None and self.dpd_max is not None and self.dpd_min > self.dpd_max:
            raise ValidationError("must not be below dpdMin", field="dpdMax")
        if self.amount_min is not None and self.amount_max is not None and self.amount_min > self.amount_max:
            raise ValidationError("must not be below amountMin", field="amountMax")
        if self.agent_id not in (None, "me", "none") and not is_uuid(self.agent_id or ""):
            raise ValidationError("me, none or a staff id", field="agentId")
        return self


Filters = Annotated[CollectionFilters, Query()]


class CollectionRow(ApiModel):
    """A loan in a collection queue."""

    loan_id: str
    customer_id: str
    customer_name: str | None
    pincode: str | None = Field(description="the customer's pincode (allocation by area)")
    status: str
    amount_paise: int
    outstanding_principal_paise: int
    overdue_paise: int = Field(description="unpaid principal, interest, fees and penal of overdue installments")
    dpd: int
    max_dpd: int = Field(description="the worst DPD the loan reached")
    asset_class: str
    bucket: str | None = Field(description="the collection bucket as of the last day-end")
    collector_id: str | None = Field(description="the staff member working the loan; null: nobody")
    next_due_at: str | None
    ptp_date: str | None = Field(description="the earliest pending promise to pay (IST date)")
    ptp_amount_paise: int | None


class CollectionPage(ApiModel):
    items: list[CollectionRow]
    page: int
    limit: int
    total: int


class AllocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loan_ids: list[Uuid] = Field(alias="loanIds", min_length=1, max_length=MAX_BULK, description="all or nothing")
    staff_id: Uuid = Field(alias="staffId", description="an active collection executive, manager or head here")
    reason: str | None = Field(default=None, max_length=500)

    @field_validator("loan_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a loan is listed twice")
        return value


class Moved(ApiModel):
    loan_id: str
    previous_staff_id: str | None
    staff_id: str
    bucket: str | None


class AllocateOut(ApiModel):
    staff_id: str
    role: str
    allocated: list[Moved]


# ------------------------------------------------------------------------------------------- queues
def policy_of(session: Session, brand_id: str) -> CollectionPolicy:
    brand = session.get_one(Brand, brand_id)
    return BrandConfig.of(brand.config).collection_policy()


def _queue(
    session: Session, staff: Principal, f: CollectionFilters, policy: CollectionPolicy, base: Select, *, pre: bool
) -> dict[str, Any]:
    overdue = sql.overdue_paise(Loan.id).label("overdue")
    query = base.add_columns(Customer.full_name, Customer.pincode, overdue).join(
        Customer, Customer.id == Loan.customer_id
    )
    if P.COLLECTIONS_MANAGE not in staff.permissions and staff.kind == "staff":
        mine = Loan.collector_id == staff.id
        query = query.where(or_(mine, Loan.collector_id.is_(None)) if pre else mine)
    if f.bucket is not None:
        if f.bucket not in {b.name for b in policy.buckets.buckets}:
            names = ", ".join(b.name for b in policy.buckets.buckets)
            raise ValidationError(f"not one of this brand's buckets ({names})", field="bucket")
        query = query.where(Loan.collection_bucket == f.bucket)
    if f.dpd_min is not None:
        query = query.where(Loan.dpd >= f.dpd_min)
    if f.dpd_max is not None:
        query = query.where(Loan.dpd <= f.dpd_max)
    if f.agent_id == "me":
        query = query.where(Loan.collector_id == staff.id)
    elif f.agent_id == "none":
        query = query.where(Loan.collector_id.is_(None))
    elif f.agent_id is not None:
        query = query.where(Loan.collector_id == f.agent_id.lower())
    if f.ptp_due is not None:
        query = query.where(
            exists().where(
                CollectionFollowUp.loan_id == Loan.id,
                CollectionFollowUp.ptp_status == "PENDING",
                CollectionFollowUp.ptp_date <= f.ptp_due,
            )
        )
    if f.amount_min is not None:
        query = query.where(sql.overdue_paise(Loan.id) >= f.amount_min)
    if f.amount_max is not None:
        query = query.where(sql.overdue_paise(Loan.id) <= f.amount_max)
    order = (Loan.next_due_at.asc(), Loan.id) if pre else (Loan.dpd.desc(), Loan.id)
    rows, total = page_of(session, query, f.page, f.limit, *order)
    promises = _next_promises(session, [r[0].id for r in rows])
    items = [_row(loan, name, pincode, int(amount or 0), promises.get(loan.id)) for loan, name, pincode, amount in rows]
    return {"items": items, "page": f.page, "limit": f.limit, "total": total}


def _next_promises(session: Session, loan_ids: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    if not loan_ids:
        return {}
    rows = session.execute(
        select(CollectionFollowUp.loan_id, CollectionFollowUp.ptp_date, CollectionFollowUp.ptp_amount)
        .where(CollectionFollowUp.loan_id.in_(loan_ids), CollectionFollowUp.ptp_status == "PENDING")
        .order_by(CollectionFollowUp.loan_id, CollectionFollowUp.ptp_date.desc(), CollectionFollowUp.created_at)
    ).all()
    return {loan_id: (on, amount) for loan_id, on, amount in rows}  # the last written per loan: the earliest date


def _row(loan: Loan, name: str | None, pincode: str | None, overdue: int, promise: tuple | None) -> dict[str, Any]:
    return {
        "loanId": loan.id,
        "customerId": loan.customer_id,
        "customerName": name,
        "pincode": pincode,
        "status": loan.status,
        "amountPaise": loan.amount,
        "outstandingPrincipalPaise": loan.outstanding_principal,
        "overduePaise": overdue,
        "dpd": loan.dpd,
        "maxDpd": loan.max_dpd,
        "assetClass": loan.asset_class,
        "bucket": loan.collection_bucket,
        "collectorId": loan.collector_id,
        "nextDueAt": iso(loan.next_due_at),
        "ptpDate": promise[0].isoformat() if promise else None,
        "ptpAmountPaise": promise[1] if promise else None,
    }


@router.get("/brand/{brand_id}/collection/pre", response_model=CollectionPage)
def pre_collection(
    brand_id: str, staff: Annotated[Principal, Allow(P.COLLECTIONS_PRE)], session: Db, filters: Filters
) -> dict[str, Any]:
    """Loans being repaid with nothing overdue whose next installment falls due within the brand's ``preDueDays``
    (IST days from today), soonest first: the reminder calls before the due date."""
    policy = policy_of(session, brand_id)
    horizon = datetime.combine(datetime.now(IST).date() + timedelta(days=policy.pre_due_days), time.max, IST)
    base = select(Loan).where(
        Loan.brand_id == brand_id,
        Loan.status.in_(REPAYING),
        Loan.dpd == 0,
        Loan.next_due_at.is_not(None),
        Loan.next_due_at <= horizon,
    )
    return _queue(session, staff, filters, policy, base, pre=True)


@router.get("/brand/{brand_id}/collection", response_model=CollectionPage)
def overdue_collection(
    brand_id: str, staff: Annotated[Principal, Allow(P.COLLECTIONS_VIEW)], session: Db, filters: Filters
) -> dict[str, Any]:
    """Overdue loans below the brand's ``escalationDpd`` (DPD 1 up to it), the most days past due first."""
    policy = policy_of(session, brand_id)
    base = select(Loan).where(
        Loan.brand_id == brand_id,
        Loan.status.not_in([s.value for s in TERMINAL]),
        Loan.dpd >= 1,
        Loan.dpd < policy.escalation_dpd,
    )
    return _queue(session, staff, filters, policy, base, pre=False)


@router.get("/brand/{brand_id}/collection/post", response_model=CollectionPage)
def post_collection(
    brand_id: str, staff: Annotated[Principal, Allow(P.COLLECTIONS_VIEW)], session: Db, filters: Filters
) -> dict[str, Any]:
    """Escalated loans: DPD at or past the brand's ``escalationDpd``, the most days past due first."""
    policy = policy_of(session, brand_id)
    base = select(Loan).where(
        Loan.brand_id == brand_id,
        Loan.status.not_in([s.value for s in TERMINAL]),
        Loan.dpd >= policy.escalation_dpd,
    )
    return _queue(session, staff, filters, policy, base, pre=False)


# ------------------------------------------------------------------------------------------- allocation
def collection_role(session: Session, brand_id: str, staff_id: str, field: str) -> str:
    """The collection role ``staff_id`` holds in the brand, if active; 422 naming ``field`` otherwise."""
    row = session.execute(
        select(StaffUser.is_active, StaffBrandRole.role)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(StaffUser.id == staff_id, StaffBrandRole.brand_id == brand_id)
    ).first()
    if row is None or not row[0] or row[1] not in sql.COLLECTION_ROLES:
        raise ValidationError("no active collection executive, manager or head of this brand has that id", field=field)
    return str(row[1])


@router.post("/brand/{brand_id}/collection/allocate", response_model=AllocateOut)
def allocate(request: Request, brand_id: str, body: AllocateIn, staff: Manager, session: Db) -> dict[str, Any]:
    """Move loans (one, or up to 200 at once) to a collector by hand, all or nothing: ``staffId`` must hold a
    collection role in this brand and be active (422 naming ``staffId``); every loan must be the brand's (404) and
    being repaid (409 naming ``loanIds``). Each move ends the loan's allocation and writes a new one
    (``allocated_by`` the caller), is audited (``loan.collection_allocate``) and tells the collector. The day-end
    keeps the move while the loan stays in its bucket; a bucket change allocates it afresh."""
    role = collection_role(session, brand_id, body.staff_id, "staffId")
    loans = session.scalars(
        select(Loan).where(Loan.id.in_(body.loan_ids), Loan.brand_id == brand_id).order_by(Loan.id).with_for_update()
    ).all()
    if len(loans) != len(body.loan_ids):
        missing = sorted(set(body.loan_ids) - {loan.id for loan in loans})
        raise NotFound(f"loan not found: {', '.join(missing[:5])}", field="loanIds")
    for loan in loans:
        if loan.status not in REPAYING:
            raise Conflict(f"loan {loan.id} is {loan.status}; only a loan being repaid is collected", field="loanIds")
    moved = []
    for loan in loans:
        before = loan.collector_id
        reason = (body.reason or "").strip() or f"allocated by {staff.email}"
        sql.allocate(
            session,
            loan,
            staff_id=body.staff_id,
            role=role,
            bucket=loan.collection_bucket,
            dpd=loan.dpd,
            reason=reason,
            key=f"manual:{uuid.uuid4()}",
            allocated_by=staff.id,
        )
        after = {"collectorId": body.staff_id, "role": role, "reason": reason}
        before_view = {"collectorId": before}
        audit(session, request, staff, "loan.collection_allocate", "loan", loan.id, before=before_view, after=after)
        moved.append(
            {"loanId": loan.id, "previousStaffId": before, "staffId": body.staff_id, "bucket": loan.collection_bucket}
        )
    session.commit()
    return {"staffId": body.staff_id, "role": role, "allocated": moved}
