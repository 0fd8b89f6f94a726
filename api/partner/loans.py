"""Staff loan reads: /api/v1/partner/brand/{brandId}/loans — the filtered list, the detail, the ledger and the
schedule preview with its Key Fact Statement.

The list (and every queue, ``api/partner/queues.py``), the detail and the ledger are the hot read routes: they
answer through ``api.views.json_response`` (orjson), so FastAPI documents their ``response_model`` without
re-validating the answer; ``tests/integration/test_loan_read_models.py`` checks real answers against it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from api.access import Allow
from api.deps import MAX_PAGE, is_uuid, page_of
from api.loan_views import BrandTrialBalance, LoanLedger, LoanPage, StaffLoanDetail
from api.partner.common import Db, Viewer, find_loan, iso, staff_router
from api.preview_views import StaffSchedulePreview
from api.products import preview_for
from api.security import Principal
from api.types import IsoDate, Paise, Whole
from api.views import json_response, loan_detail, loan_ledger, staff_loan_summary, trial_balance
from db.models import Customer, Disbursal, LedgerEntry, LedgerTransaction, Loan, LoanProduct
from domain.access import Permission as P
from domain.access import ReviewStage
from domain.errors import ValidationError
from domain.status import LoanStatus

router = staff_router()


# ------------------------------------------------------------------------------------------- filters
class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    AMOUNT_DESC = "amount_desc"
    AMOUNT_ASC = "amount_asc"


class ListFilters(BaseModel):
    """Query filters of the loan list and the queues."""

    model_config = ConfigDict(extra="forbid")
    assigned_to: str | None = Field(default=None, alias="assignedTo", description="me, none or a staff id")
    search: str | None = Field(default=None, max_length=100, description="phone, PAN, name or loan id")
    min_amount: Paise | None = Field(default=None, alias="minAmount")
    max_amount: Paise | None = Field(default=None, alias="maxAmount")
    created_from: IsoDate | None = Field(default=None, alias="createdFrom")
    created_to: IsoDate | None = Field(default=None, alias="createdTo")
    sort: Sort = Sort.NEWEST
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


Filters = Annotated[ListFilters, Query()]
# What an endpoint adds to each row of its page: the page's loans → one dict of extra keys per loan, in order
# (batched: one query for the page, not one per row).
Extend = Callable[[Session, Sequence[Loan]], list[dict[str, Any]]]


def _page(
    session: Session,
    query: Select,
    staff: Principal,
    *,
    assigned_to: str | None,
    search: str | None,
    min_amount: int | None,
    max_amount: int | None,
    created_from: date | None,
    created_to: date | None,
    sort: Sort,
    page: int,
    limit: int,
    extend: Extend | None,
) -> Response:
    """Filters shared by the loan list and every queue, then one page and the total."""
    if assigned_to == "me":
        query = query.where(Loan.assigned_to == staff.id)
    elif assigned_to == "none":
        query = query.where(Loan.assigned_to.is_(None))
    elif assigned_to:
        if not is_uuid(assigned_to):
            raise ValidationError("assignedTo is me, none or a staff id", field="assignedTo")
        query = query.where(Loan.assigned_to == assigned_to)
    if min_amount is not None:
        query = query.where(Loan.amount >= min_amount)
    if max_amount is not None:
        query = query.where(Loan.amount <= max_amount)
    if created_from is not None:
        query = query.where(Loan.created_at >= datetime.combine(created_from, datetime.min.time(), UTC))
    if created_to is not None:
        query = query.where(Loan.created_at < datetime.combine(created_to, datetime.max.time(), UTC))
    if search:
        term = search.strip()
        customers = select(Customer.id).where(
            Customer.brand_id == staff.brand_id,
            or_(Customer.phone == term, Customer.pan == term.upper(), Customer.full_name.ilike(f"%{term}%")),
        )
        query = query.where(or_(Loan.customer_id.in_(customers), Loan.id == term if is_uuid(term) else false()))
    order = {
        Sort.NEWEST: (Loan.created_at.desc(), Loan.id.desc()),  # both ways along ix_loans_brand_created
        Sort.OLDEST: (Loan.created_at.asc(), Loan.id.asc()),
        Sort.AMOUNT_DESC: (Loan.amount.desc(), Loan.id),
        Sort.AMOUNT_ASC: (Loan.amount.asc(), Loan.id),
    }[sort]
    rows, total = page_of(session, query, page, limit, *order)
    loans = [loan for (loan,) in rows]
    items = [staff_loan_summary(loan) for loan in loans]
    if extend is not None and loans:
        items = [{**item, **more} for item, more in zip(items, extend(session, loans), strict=True)]
    return json_response({"items": items, "page": page, "limit": limit, "total": total})


def filtered(
    session: Session, query: Select, staff: Principal, f: ListFilters, *, extend: Extend | None = None
) -> Response:
    """One page of ``query`` narrowed by the list filters ``f``: a :class:`~api.loan_views.LoanPage`, each row
    with what ``extend`` adds to it (an endpoint's own row model, e.g. the loan-ops queue's)."""
    return _page(
        session,
        query,
        staff,
        assigned_to=f.assigned_to,
        search=f.search,
        min_amount=f.min_amount,
        max_amount=f.max_amount,
        created_from=f.created_from,
        created_to=f.created_to,
        sort=f.sort,
        page=f.page,
        limit=f.limit,
        extend=extend,
    )


class LoanListFilters(ListFilters):
    status: LoanStatus | None = None
    review_stage: ReviewStage | None = Field(default=None, alias="reviewStage")


# ------------------------------------------------------------------------------------------- routes
@router.get("/brand/{brand_id}/loans", response_model=LoanPage)
def list_loans(brand_id: str, staff: Viewer, session: Db, filters: Annotated[LoanListFilters, Query()]) -> Response:
    query = select(Loan).where(Loan.brand_id == brand_id)
    if filters.status is not None:
        query = query.where(Loan.status == filters.status.value)
    if filters.review_stage is not None:
        query = query.where(Loan.review_stage == filters.review_stage.value)
    return filtered(session, query, staff, filters)


@router.get("/brand/{brand_id}/loans/{loan_id}", response_model=StaffLoanDetail)
def get_loan(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> Response:
    loan = find_loan(session, brand_id, loan_id)
    return json_response({**loan_detail(session, loan, staff=True), "transfers": transfers_of(session, loan.id)})


@router.get("/brand/{brand_id}/loans/{loan_id}/ledger", response_model=LoanLedger)
def ledger(
    brand_id: str,
    loan_id: str,
    staff: Viewer,
    session: Db,
    as_of: Annotated[IsoDate | None, Query(alias="asOf", description="IST date, YYYY-MM-DD")] = None,
) -> Response:
    """The loan's double-entry postings (disbursal, fees, GST, collections, penal charges, accruals, refunds), in
    order, and its trial balance; with ``asOf`` only what is dated on or before that day (value date, IST)."""
    entries = loan_ledger(session, find_loan(session, brand_id, loan_id).id, as_of)
    lines = trial_balance((e["account"], e["amountPaise"]) for e in entries)
    return json_response(
        {
            "loanId": loan_id,
            "asOf": as_of.isoformat() if as_of else None,
            "entries": entries,
            "trialBalance": lines,
            "balanced": sum(line["balancePaise"] for line in lines) == 0,
        }
    )


@router.get("/brand/{brand_id}/loans/{loan_id}/schedule-preview", response_model=StaffSchedulePreview)
def schedule_preview(
    brand_id: str,
    loan_id: str,
    staff: Viewer,
    session: Db,
    disbursed_on: Annotated[IsoDate | None, Query(alias="disbursedOn")] = None,
) -> dict:
    """The loan's schedule, charges, APR and Key Fact Statement, as if disbursed on ``disbursedOn``
    (default: its disbursal date, or today if not yet disbursed)."""
    loan = find_loan(session, brand_id, loan_id)
    product = session.get_one(LoanProduct, loan.product_id)
    on = disbursed_on or (loan.disbursed_at.date() if loan.disbursed_at else date.today())
    return {
        "loanId": loan.id,
        "disbursedOn": on.isoformat(),
        **preview_for(session, product, loan.amount, loan.tenure, on, with_kfs=True, loan_account_no=loan.id),
    }


# ------------------------------------------------------------------------------------------- transfers
def masked(last4: str | None) -> str | None:
    """An account number as staff see it: XXXX and its last 4 digits."""
    return f"XXXX{last4}" if last4 else None


def transfers_of(session: Session, loan_id: str) -> list[dict[str, Any]]:
    """Every transfer attempt of the loan, oldest first (:class:`~api.loan_views.TransferView`)."""
    rows = session.scalars(
        select(Disbursal).where(Disbursal.loan_id == loan_id).order_by(Disbursal.created_at, Disbursal.id)
    ).all()
    return [
        {
            "id": d.id,
            "idempotencyKey": d.idempotency_key,
            "amountPaise": d.amount,
            "mode": d.mode,
            "accountMasked": masked(d.account_last4),
            "ifsc": d.ifsc,
            "provider": d.provider,
            "transferId": d.transfer_id,
            "utr": d.utr,
            "status": d.status,
            "failureReason": d.failure_reason,
            "outcomeSource": d.outcome_source,
            "approvedBy": d.approved_by,
            "createdAt": iso(d.created_at),
            "sentAt": iso(d.sent_at),
            "settledAt": iso(d.settled_at),
        }
        for d in rows
    ]


@router.get("/brand/{brand_id}/ledger/trial-balance", response_model=BrandTrialBalance)
def brand_trial_balance(
    brand_id: str,
    staff: Annotated[Principal, Allow(P.REPORTS_VIEW)],
    session: Db,
    as_of: Annotated[IsoDate | None, Query(alias="asOf", description="IST date, YYYY-MM-DD")] = None,
) -> dict:
    """The brand's trial balance: every loan's postings summed by account, as of ``asOf`` (value date, IST). It
    always balances (each transaction does; PostgreSQL refuses one that does not). The brand's books as a whole are
    a report (``reports.view``: managers, heads, admins, the brand's API keys), not part of viewing a loan: a loan's
    own ledger is (``loans.view``)."""
    query = (
        select(
            LedgerEntry.account,
            func.sum(LedgerEntry.amount).filter(LedgerEntry.amount > 0),
            func.sum(LedgerEntry.amount).filter(LedgerEntry.amount < 0),
        )  # fmt: skip
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Loan, Loan.id == LedgerTransaction.loan_id)
        .where(Loan.brand_id == brand_id)
        .group_by(LedgerEntry.account)
        .order_by(LedgerEntry.account)
    )
    if as_of is not None:
        query = query.where(LedgerTransaction.value_date <= as_of)
    sums = [(a, int(d or 0), int(c or 0)) for a, d, c in session.execute(query).all()]
    lines = [{"account": a, "debitPaise": d, "creditPaise": -c, "balancePaise": d + c} for a, d, c in sums]
    debit, credit = sum(x["debitPaise"] for x in lines), sum(x["creditPaise"] for x in lines)
    return {
        "brandId": brand_id,
        "asOf": as_of.isoformat() if as_of else None,
        "accounts": lines,
        "totalDebitPaise": debit,
        "totalCreditPaise": credit,
        "balanced": debit == credit,
    }
