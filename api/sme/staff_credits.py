"""Money the buyer paid outside the virtual account, recorded by staff against a financed invoice, under
/api/v1/partner/brand/{brandId}/sme/... (docs/invoice-financing.md, "Credits recorded by staff"). Included by
``api.partner.sme``.

The loans' offline-payment pattern (``api.partner.payments``): one staff member (the maker) records the credit as
PENDING: ``amount`` (rupees, decimal string), ``paidOn`` (IST date, not in the future, not before the funding),
``mode`` (NEFT, RTGS, IMPS, UPI), ``utr`` (shaped as that mode's reference: ``domain.sme.credits``), ``remarks``;
another (the checker) approves or rejects it; nobody decides a credit they recorded (403). A UTR counts once per
brand: one already recorded (any status) or already counted towards an invoice (a virtual account credit) is 409
naming ``utr``. Approval is the request's workflow update ``record_credit`` (refused 409 when the invoice is not
being collected or the workflow already counted that UTR): the workflow records the payment and settles the
invoice when it is paid in full; this route writes only the credit's own row. Every change is audited.

- record: ``collections.pre`` or ``loan_ops.disburse``; approve, reject and the checkers' queue
  (``GET sme/credits?status=PENDING``): ``collections.manage``; a request's credits: ``loans.view``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import UpdateBound, call_async, is_uuid
from api.partner.common import Db, Temporal, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, IsoDate, Rupees
from api.workflow_calls import customer_update
from db.models import SmeFinancingRequest, SmeOfflineCredit, SmePayment
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.money import to_paise
from domain.sme.credits import check_utr, credit_key
from workflows.invoice_contracts import StaffCredit
from workflows.invoice_financing import InvoiceFinancingWorkflow
from workflows.options import IST

router = staff_router()  # its routes join api.partner.sme's router (the one the app includes)
Maker = Annotated[Principal, Allow(P.COLLECTIONS_PRE, P.LOAN_OPS_DISBURSE, api_key=False)]
Checker = Annotated[Principal, Allow(P.COLLECTIONS_MANAGE, api_key=False)]
Viewer = Annotated[Principal, Allow(P.LOANS_VIEW)]
COLLECTING = frozenset({"FUNDED", "OVERDUE"})


class CreditIn(BaseModel):
    """A credit as the maker records it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    amount: Rupees = Field(description='rupees as a decimal string, e.g. "125000.50"')
    paid_on: IsoDate = Field(alias="paidOn", description="IST date the buyer paid; not in the future")
    mode: str = Field(min_length=3, max_length=4, description="NEFT, RTGS, IMPS or UPI")
    utr: str = Field(min_length=1, max_length=40, description="the UTR (NEFT/RTGS) or RRN (IMPS/UPI)")
    remarks: str | None = Field(default=None, max_length=1000)


class CreditRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    reason: str = Field(min_length=1, max_length=1000, description="why the credit is not counted")


class CreditView(ApiModel):
    """A staff-recorded credit: paise, IST date, its maker and checker."""

    id: str
    request_id: str
    amount_paise: int
    paid_on: str
    mode: str
    utr: str
    remarks: str | None
    status: str = Field(description="PENDING, APPROVED or REJECTED")
    recorded_by: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None


class CreditList(ApiModel):
    items: list[CreditView]


def credit_view(row: SmeOfflineCredit) -> dict[str, Any]:
    return CreditView(
        id=row.id, request_id=row.request_id, amount_paise=row.amount, paid_on=row.paid_on.isoformat(),
        mode=row.mode, utr=row.utr, remarks=row.remarks, status=row.status, recorded_by=row.recorded_by,
        decided_by=row.decided_by, decided_at=row.decided_at.isoformat() if row.decided_at else None,
        reason=row.reason,
    ).model_dump(by_alias=True)  # fmt: skip


def _request(session: Session, brand_id: str, request_id: str, *, lock: bool = False) -> SmeFinancingRequest:
    row = session.get(SmeFinancingRequest, request_id, with_for_update=lock) if is_uuid(request_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("request not found")
    return row


def _credit(session: Session, brand_id: str, credit_id: str) -> SmeOfflineCredit:
    """The brand's credit, row-locked (two checkers at once: one decision, one 409)."""
    row = session.get(SmeOfflineCredit, credit_id, with_for_update=True) if is_uuid(credit_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("credit not found")
    return row


def utr_free(session: Session, brand_id: str, utr: str, exclude: str | None = None) -> None:
    """409 naming ``utr`` when the brand already has it: a credit recorded by staff (any status) or a payment
    counted towards an invoice (a virtual account credit)."""
    query = select(SmeOfflineCredit.id, SmeOfflineCredit.status).where(
        SmeOfflineCredit.brand_id == brand_id, SmeOfflineCredit.utr == utr
    )
    if exclude is not None:
        query = query.where(SmeOfflineCredit.id != exclude)
    if (found := session.execute(query).first()) is not None:
        raise Conflict(f"UTR {utr} was already recorded as credit {found[0]} ({found[1]})", field="utr")
    paid = session.execute(
        select(SmePayment.request_id, SmePayment.source).where(SmePayment.brand_id == brand_id, SmePayment.utr == utr)
    ).first()
    if paid is not None:
        raise Conflict(f"UTR {utr} was already counted towards request {paid[0]} ({paid[1]})", field="utr")


def _decidable(row: SmeOfflineCredit, staff: Principal, what: str) -> None:
    """Maker-checker: 409 unless PENDING, 403 when the checker is the maker."""
    if row.status != "PENDING":
        raise Conflict(f"this credit was already {row.status.lower()}; it is decided once", field="status")
    if row.recorded_by == staff.id:
        raise PermissionDenied(f"maker-checker: you recorded this credit, so another staff member must {what} it",
                               field="recordedBy")  # fmt: skip


@router.post("/brand/{brand_id}/sme/requests/{request_id}/credits", status_code=201, response_model=CreditView)
def record_credit(
    request: Request, brand_id: str, request_id: str, body: CreditIn, staff: Maker, session: Db
) -> dict[str, Any]:
    """Record money the buyer paid outside the virtual account as PENDING (see the module's docstring). 409 when
    the request is not FUNDED or OVERDUE, or the UTR was used; 422 naming the field."""
    row = _request(session, brand_id, request_id, lock=True)
    if row.status not in COLLECTING:
        raise Conflict(f"the request is {row.status}; only a funded invoice takes a credit", field="status")
    utr = check_utr(body.mode.strip().upper(), body.utr)
    amount = to_paise(body.amount, "amount")
    if amount <= 0:
        raise ValidationError("must be more than zero", field="amount")
    today = datetime.now(IST).date()
    if body.paid_on > today:
        raise ValidationError("must not be in the future (IST)", field="paidOn")
    if row.funded_on is not None and body.paid_on < row.funded_on:
        raise ValidationError(f"must not be before the funding ({row.funded_on.isoformat()})", field="paidOn")
    utr_free(session, brand_id, utr)
    credit = SmeOfflineCredit(
        brand_id=brand_id, request_id=row.id, amount=amount, paid_on=body.paid_on, mode=body.mode.strip().upper(),
        utr=utr, remarks=(body.remarks or "").strip() or None, status="PENDING", recorded_by=staff.id,
    )  # fmt: skip
    session.add(credit)
    session.flush()
    after = {"requestId": row.id, "amountPaise": amount, "mode": credit.mode, "utr": utr}
    audit(session, request, staff, "sme.credit.recorded", "sme_credit", credit.id, after=after, brand_id=brand_id)
    try:
        session.commit()
    except IntegrityError as exc:  # the same UTR recorded at the same moment by someone else
        session.rollback()
        raise Conflict(f"UTR {utr} was already recorded by this brand", field="utr") from exc
    return credit_view(credit)


@router.get("/brand/{brand_id}/sme/requests/{request_id}/credits", response_model=CreditList)
def list_credits(brand_id: str, request_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """The credits staff recorded against the request, oldest first, with their status."""
    row = _request(session, brand_id, request_id)
    rows = session.scalars(
        select(SmeOfflineCredit)
        .where(SmeOfflineCredit.request_id == row.id)
        .order_by(SmeOfflineCredit.created_at, SmeOfflineCredit.id)
    )
    return {"items": [credit_view(r) for r in rows]}


@router.get("/brand/{brand_id}/sme/credits", response_model=CreditList)
def credit_queue(
    brand_id: str,
    staff: Checker,
    session: Db,
    status: Annotated[Literal["PENDING", "APPROVED", "REJECTED"], Query(description="the credits' status")] = "PENDING",
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """The checkers' queue: the brand's credits in ``status`` (PENDING by default), oldest first."""
    rows = session.scalars(
        select(SmeOfflineCredit)
        .where(SmeOfflineCredit.brand_id == brand_id, SmeOfflineCredit.status == status)
        .order_by(SmeOfflineCredit.created_at, SmeOfflineCredit.id)
        .limit(limit)
    )
    return {"items": [credit_view(r) for r in rows]}


@router.post("/brand/{brand_id}/sme/credits/{credit_id}/approve", response_model=CreditView)
def approve_credit(
    request: Request, brand_id: str, credit_id: str, staff: Checker, session: Db, client: Temporal,
    bound: UpdateBound,
) -> dict[str, Any]:  # fmt: skip
    """Approve a PENDING credit, as a staff member other than its maker (403): the request's workflow counts it
    (update ``record_credit``: 409 when the invoice is no longer collected or that UTR was counted meanwhile, and
    then the credit stays PENDING). Decided once (409 after)."""
    row = _credit(session, brand_id, credit_id)
    _decidable(row, staff, "approve")
    if _counted(session, row):  # approved before, its answer lost before this row was marked: record that
        return _approved(request, session, staff, row, None)
    utr_free(session, brand_id, row.utr, exclude=row.id)
    paid_at = datetime.combine(row.paid_on, datetime.min.time(), IST)
    credit = StaffCredit(row.id, brand_id, staff.id, credit_key(row.utr), row.amount, row.mode, row.paid_on, paid_at)
    values = (row.id, row.request_id, row.amount, row.mode, row.utr)
    session.rollback()  # no lock held while the workflow takes it
    answer = call_async(
        customer_update, client, f"invoice-{values[1]}", InvoiceFinancingWorkflow.record_credit, credit, timeout=bound
    )
    return _approved(request, session, staff, _credit(session, brand_id, values[0]), answer.get("status"))


def _counted(session: Session, row: SmeOfflineCredit) -> bool:
    """Whether the request's workflow already counted this credit (its UTR among the request's payments as a
    staff-recorded credit)."""
    found = session.scalars(
        select(SmePayment.source).where(SmePayment.request_id == row.request_id, SmePayment.utr == row.utr)
    ).first()
    return found is not None and found.startswith("OFFLINE:")


def _approved(
    request: Request, session: Session, staff: Principal, row: SmeOfflineCredit, request_status: str | None
) -> dict[str, Any]:
    """Mark ``row`` APPROVED by ``staff`` (a racing second checker was refused by the workflow), audit, commit."""
    if row.status == "PENDING":
        row.status, row.decided_by, row.decided_at = "APPROVED", staff.id, datetime.now(UTC)
    after = {"status": row.status, "requestId": row.request_id, "amountPaise": row.amount, "utr": row.utr,
             "requestStatus": request_status}  # fmt: skip
    audit(session, request, staff, "sme.credit.approved", "sme_credit", row.id, before={"status": "PENDING"},
          after=after, brand_id=row.brand_id)  # fmt: skip
    session.commit()
    return credit_view(row)


@router.post("/brand/{brand_id}/sme/credits/{credit_id}/reject", response_model=CreditView)
def reject_credit(
    request: Request, brand_id: str, credit_id: str, body: CreditRejectIn, staff: Checker, session: Db
) -> dict[str, Any]:
    """Reject a PENDING credit with the reason, as a staff member other than its maker (403). Nothing is counted;
    the UTR stays used. Decided once (409 after)."""
    row = _credit(session, brand_id, credit_id)
    _decidable(row, staff, "reject")
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required to reject a credit", field="reason")
    row.status, row.decided_by, row.decided_at, row.reason = "REJECTED", staff.id, datetime.now(UTC), reason
    audit(session, request, staff, "sme.credit.rejected", "sme_credit", row.id, before={"status": "PENDING"},
          after={"status": "REJECTED", "reason": reason}, brand_id=brand_id)  # fmt: skip
    session.commit()
    return credit_view(row)


__all__ = ["router", "utr_free"]
