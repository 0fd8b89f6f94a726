"""Customers of the brand for staff: the list with filters and search, one customer's profile, allocation and status,
and the unallocated queue. Under /api/v1/partner/brand/{brandId}/customers (docs/operations.md, "Customers").

Reads need ``customers.view``; allocation ``customers.allocate``; a status change ``settings.manage`` (admins): both
changes are audited in the same transaction. Answers never hold a full PAN, Aadhaar or account number: the PAN as
``ABXXXXX34F``, Aadhaar as stored (its last 4 only), accounts as ``XXXX`` and their last 4 digits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import is_uuid, page_of
from api.partner.common import Db, iso, staff_router
from api.partner.customers_schemas import (
    AllocateIn,
    CustomerDetail,
    CustomerFilters,
    CustomerPage,
    CustomerSummary,
    KycState,
    StatusIn,
)
from api.partner.loans import masked
from api.partner.reminders import reminders_of_customer
from api.partner.search import customer_filter
from api.security import Principal
from api.views import staff_loan_summary
from db.kfs import mask_pan
from db.models import (
    BankAccount,
    Customer,
    CustomerDocument,
    DialerCall,
    Employment,
    Loan,
    ProviderCall,
    StaffBrandRole,
    StaffUser,
)
from db.notifications import notify
from domain.access import Permission as P
from domain.errors import NotFound, ValidationError

router = staff_router()
CustomerViewer = Annotated[Principal, Allow(P.CUSTOMERS_VIEW)]


# ------------------------------------------------------------------------------------------- views
def kyc_state(c: Customer) -> str:
    both, one = c.pan_verified and c.aadhaar_verified, c.pan_verified or c.aadhaar_verified
    return KycState.VERIFIED if both else KycState.PARTIAL if one else KycState.PENDING


def customer_summary(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "phone": c.phone,
        "fullName": c.full_name,
        "email": c.email,
        "panMasked": mask_pan(c.pan) if c.pan else None,
        "panVerified": bool(c.pan_verified),
        "aadhaarVerified": bool(c.aadhaar_verified),
        "kycState": kyc_state(c),
        "onboardingStep": c.onboarding_step,
        "status": c.status,
        "assignedTo": c.assigned_to,
        "createdAt": iso(c.created_at),
    }


def _find(session: Session, brand_id: str, user_id: str, *, lock: bool = False) -> Customer:
    customer = session.get(Customer, user_id, with_for_update=lock) if is_uuid(user_id) else None
    if customer is None or customer.brand_id != brand_id:
        raise NotFound("customer not found")
    return customer


def _listed(session: Session, query: Select, staff: Principal, f: CustomerFilters) -> dict:
    if f.status is not None:
        query = query.where(Customer.status == f.status.value)
    if f.assigned_to == "me":
        query = query.where(Customer.assigned_to == staff.id)
    elif f.assigned_to == "none":
        query = query.where(Customer.assigned_to.is_(None))
    elif f.assigned_to:
        if not is_uuid(f.assigned_to):
            raise ValidationError("assignedTo is me, none or a staff id", field="assignedTo")
        query = query.where(Customer.assigned_to == f.assigned_to)
    if f.kyc_state == KycState.VERIFIED:
        query = query.where(Customer.pan_verified.is_(True), Customer.aadhaar_verified.is_(True))
    elif f.kyc_state == KycState.PARTIAL:
        query = query.where(Customer.pan_verified != Customer.aadhaar_verified)
    elif f.kyc_state == KycState.PENDING:
        query = query.where(Customer.pan_verified.is_(False), Customer.aadhaar_verified.is_(False))
    if f.created_from is not None:
        query = query.where(Customer.created_at >= datetime.combine(f.created_from, datetime.min.time(), UTC))
    if f.created_to is not None:
        query = query.where(Customer.created_at < datetime.combine(f.created_to, datetime.max.time(), UTC))
    if f.search and f.search.strip():
        query = query.where(customer_filter(f.search))
    rows, total = page_of(session, query, f.page, f.limit, Customer.created_at.desc(), Customer.id.desc())
    return {"items": [customer_summary(c) for (c,) in rows], "page": f.page, "limit": f.limit, "total": total}


Filters = Annotated[CustomerFilters, Query()]


# ------------------------------------------------------------------------------------------- routes
@router.get("/brand/{brand_id}/customers", response_model=CustomerPage)
def list_customers(brand_id: str, staff: CustomerViewer, session: Db, filters: Filters) -> dict:
    """The brand's customers, newest first: ``status``, ``assignedTo`` (me, none, a staff id), ``kycState``
    (VERIFIED, PARTIAL, PENDING), ``createdFrom``/``createdTo`` (dates), ``search``, ``page``, ``limit``."""
    return _listed(session, select(Customer).where(Customer.brand_id == brand_id), staff, filters)


@router.get("/brand/{brand_id}/customers/unallocated", response_model=CustomerPage)
def unallocated_customers(brand_id: str, staff: CustomerViewer, session: Db, filters: Filters) -> dict:
    """Customers nobody holds, with the list's filters (``assignedTo`` is ignored)."""
    query = select(Customer).where(Customer.brand_id == brand_id, Customer.assigned_to.is_(None))
    return _listed(session, query, staff, filters.model_copy(update={"assigned_to": None}))


@router.get("/brand/{brand_id}/customers/{user_id}", response_model=CustomerDetail)
def get_customer(brand_id: str, user_id: str, staff: CustomerViewer, session: Db) -> dict:
    """One customer's file: profile, KYC checks, documents, bank accounts (masked), employment, loans, calls and
    reminders (the latest scheduled first)."""
    c = _find(session, brand_id, user_id)
    checks = session.scalars(
        select(ProviderCall).where(ProviderCall.customer_id == c.id).order_by(ProviderCall.created_at)
    ).all()
    docs = session.scalars(
        select(CustomerDocument)
        .where(CustomerDocument.customer_id == c.id, CustomerDocument.brand_id == brand_id)
        .order_by(CustomerDocument.created_at)
    ).all()
    accounts = session.scalars(
        select(BankAccount).where(BankAccount.customer_id == c.id).order_by(BankAccount.created_at)
    ).all()
    jobs = session.scalars(select(Employment).where(Employment.customer_id == c.id).order_by(Employment.created_at))
    loans = session.scalars(
        select(Loan).where(Loan.customer_id == c.id, Loan.brand_id == brand_id).order_by(Loan.created_at.desc())
    ).all()
    calls = session.scalars(
        select(DialerCall)
        .where(DialerCall.customer_id == c.id, DialerCall.brand_id == brand_id)
        .order_by(DialerCall.created_at.desc())
        .limit(100)
    ).all()
    return {
        **customer_summary(c),
        "firstName": c.first_name,
        "lastName": c.last_name,
        "dob": c.dob.isoformat() if c.dob else None,
        "gender": c.gender,
        "address": c.address,
        "pincode": c.pincode,
        "city": c.city,
        "state": c.state,
        "phoneVerified": bool(c.phone_verified),
        "panName": c.pan_name,
        "aadhaarMasked": c.aadhaar_masked,
        "statusReason": c.status_reason,
        "utm": c.utm or {},
        "kyc": [
            {
                "kind": k.kind,
                "provider": k.provider,
                "outcome": k.outcome,
                "score": str(k.score) if k.score is not None else None,
                "loanId": k.loan_id,
                "at": iso(k.created_at),
            }
            for k in checks
        ],
        "documents": [
            {
                "id": d.id,
                "docType": d.doc_type,
                "fileName": d.file_name,
                "contentType": d.content_type,
                "sizeBytes": d.size_bytes,
                "status": d.status,
                "rejectReason": d.reject_reason,
                "verifiedAt": iso(d.verified_at),
                "createdAt": iso(d.created_at),
            }
            for d in docs
        ],
        "bankAccounts": [
            {
                "id": a.id,
                "accountMasked": masked(a.account_last4),
                "ifsc": a.ifsc,
                "bankName": a.bank_name,
                "beneficiaryName": a.beneficiary_name,
                "nameMatchScore": str(a.name_match_score) if a.name_match_score is not None else None,
                "pennyDropStatus": a.penny_drop_status,
                "isPrimary": a.is_primary,
                "verifiedAt": iso(a.verified_at),
            }
            for a in accounts
        ],
        "employment": [
            {
                "id": e.id,
                "employerName": e.employer_name,
                "employmentType": e.employment_type,
                "monthlySalaryPaise": e.monthly_salary,
                "joinedOn": e.joined_on.isoformat() if e.joined_on else None,
                "verified": e.verified,
                "provider": e.provider,
            }
            for e in jobs
        ],
        "loans": [staff_loan_summary(loan) for loan in loans],
        "calls": [
            {
                "id": call.id,
                "provider": call.provider,
                "status": call.status,
                "direction": call.direction,
                "loanId": call.loan_id,
                "staffId": call.staff_id,
                "customerNumberMasked": call.customer_number_masked,
                "startedAt": iso(call.started_at),
                "answeredAt": iso(call.answered_at),
                "endedAt": iso(call.ended_at),
                "durationSeconds": call.duration_seconds,
                "hangupCause": call.hangup_cause,
            }
            for call in calls
        ],
        "reminders": reminders_of_customer(session, brand_id, c.id),
    }


@router.post("/brand/{brand_id}/customers/{user_id}/allocate", response_model=CustomerSummary)
def allocate_customer(
    request: Request,
    brand_id: str,
    user_id: str,
    body: AllocateIn,
    staff: Annotated[Principal, Allow(P.CUSTOMERS_ALLOCATE, api_key=False)],
    session: Db,
) -> dict:
    """Give the customer to an active staff member of this brand (``staffId``), or back to the pool (``null``).
    Audited (``customer.allocate``); the new holder is notified."""
    c = _find(session, brand_id, user_id, lock=True)
    if body.staff_id is not None:
        holder = session.execute(
            select(StaffUser.id)
            .join(
                StaffBrandRole,
                and_(StaffBrandRole.staff_id == StaffUser.id, StaffBrandRole.brand_id == brand_id),
            )
            .where(StaffUser.id == body.staff_id, StaffUser.is_active.is_(True))
        ).first()
        if holder is None:
            raise ValidationError("no active staff member of this brand has that id", field="staffId")
    before = {"assignedTo": c.assigned_to}
    c.assigned_to = body.staff_id
    audit(
        session,
        request,
        staff,
        "customer.allocate",
        "customer",
        c.id,
        before=before,
        after={"assignedTo": body.staff_id, "reason": body.reason},
    )
    if body.staff_id and body.staff_id != before["assignedTo"]:
        notify(
            session,
            body.staff_id,
            brand_id,
            "NEW_ASSIGNMENT",
            "Customer assigned to you",
            body.reason or f"assigned by {staff.email}",
            {"customerId": c.id},
        )
    session.commit()
    return customer_summary(c)


@router.post("/brand/{brand_id}/customers/{user_id}/status", response_model=CustomerSummary)
def set_customer_status(
    request: Request,
    brand_id: str,
    user_id: str,
    body: StatusIn,
    staff: Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)],
    session: Db,
) -> dict:
    """Set the customer's status (ACTIVE, BLOCKED, SUSPENDED) with a reason. Audited (``customer.status``). A
    customer who is not ACTIVE is refused sign-in (OTP sent or verified, token refresh) and new loans (their own
    application and a staff-started reloan) with 403 naming the status (``api.web.auth.refuse_inactive``); their
    loans keep being serviced and repayments accepted (docs/operations.md, "Customers")."""
    reason = body.reason.strip()
    if not reason:
        raise ValidationError("a reason is required", field="reason")
    c = _find(session, brand_id, user_id, lock=True)
    before = {"status": c.status, "statusReason": c.status_reason}
    c.status, c.status_reason = body.status.value, reason
    audit(
        session,
        request,
        staff,
        "customer.status",
        "customer",
        c.id,
        before=before,
        after={"status": c.status, "statusReason": reason},
    )
    session.commit()
    return customer_summary(c)
