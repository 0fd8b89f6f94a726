"""The collections SQL both the loan's activities and the staff API run (docs/collections.md): who can take an
overdue loan (candidates with their load, leave, area and rating), moving a loan's allocation, what a loan has
overdue, and promises to pay kept by payments or broken at a day-end. Plain values in, rows out; every function
works in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.models import (
    CollectionAllocation,
    CollectionFollowUp,
    CollectorProfile,
    Loan,
    PartnerUnavailabilityDate,
    RepaymentInstallment,
    StaffBrandRole,
    StaffUser,
)
from db.notifications import notify
from domain.collections import CollectorCandidate, Promise, PromiseStatus, apply_payment, broken
from domain.status import TERMINAL

COLLECTION_ROLES = ("COLLECTION_EXECUTIVE", "COLLECTION_MANAGER", "COLLECTION_HEAD")
OPEN_STATUSES_EXCLUDED = tuple(s.value for s in TERMINAL)


# ------------------------------------------------------------------------------------------- overdue
def overdue_paise(loan_id: Any) -> ColumnElement[int]:
    """A scalar expression: what ``loan_id`` (a value or a column, e.g. ``Loan.id``) has overdue now, in paise —
    the unpaid principal, interest, fees and penal charges of its installments marked OVERDUE by the day-end."""
    i = RepaymentInstallment
    unpaid = (
        (i.principal - i.principal_paid)
        + (i.interest - i.interest_paid)
        + (i.fees - i.fees_paid)
        + (i.penal - i.penal_paid)
    )
    return (
        select(func.coalesce(func.sum(unpaid), 0)).where(i.loan_id == loan_id, i.status == "OVERDUE").scalar_subquery()
    )


# ------------------------------------------------------------------------------------------- candidates
def open_cases(brand_id: str) -> Select:
    """(staff id, open cases): the brand's loans still open that each collector works now (``loans.collector_id``)."""
    return (
        select(Loan.collector_id, func.count())
        .where(Loan.brand_id == brand_id, Loan.collector_id.is_not(None), Loan.status.not_in(OPEN_STATUSES_EXCLUDED))
        .group_by(Loan.collector_id)
    )


def collector_candidates(session: Session, brand_id: str, role: str, on: date) -> list[CollectorCandidate]:
    """Every staff member holding ``role`` in ``brand_id`` (active or not: the choice says why one is skipped), with
    their open cases, whether they are on leave on ``on`` (``partner_unavailability_dates``), and their collector
    profile in the brand (pincodes, rating, capacity; defaults when they have none)."""
    rows = session.execute(
        select(StaffUser.id, StaffUser.is_active, StaffBrandRole.role, CollectorProfile)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .outerjoin(
            CollectorProfile,
            and_(CollectorProfile.staff_id == StaffUser.id, CollectorProfile.brand_id == brand_id),
        )
        .where(StaffBrandRole.brand_id == brand_id, func.upper(StaffBrandRole.role) == role.upper())
    ).all()
    ids = [r[0] for r in rows]
    if not ids:
        return []
    counted = session.execute(open_cases(brand_id).where(Loan.collector_id.in_(ids))).all()
    loads: dict[str, int] = {str(row[0]): int(row[1]) for row in counted}
    away = set(
        session.scalars(
            select(PartnerUnavailabilityDate.staff_id).where(
                PartnerUnavailabilityDate.staff_id.in_(ids), PartnerUnavailabilityDate.day == on
            )
        )
    )
    out = []
    for staff_id, active, held, profile in rows:
        out.append(
            CollectorCandidate(
                staff_id,
                brand_id,
                held,
                is_active=bool(active),
                open_workload=int(loads.get(staff_id, 0)),
                unavailable_on=frozenset({on}) if staff_id in away else frozenset(),
                capacity=profile.capacity if profile is not None else None,
                pincodes=frozenset(str(p) for p in (profile.pincodes or [])) if profile is not None else frozenset(),
                rating=profile.rating if profile is not None else CollectorCandidate.rating,
            )
        )
    return out


# ------------------------------------------------------------------------------------------- allocation
def end_allocation(session: Session, loan_id: str, now: datetime | None = None) -> None:
    """End the loan's current allocation (if any): ``ended_at`` now."""
    session.execute(
        update(CollectionAllocation)
        .where(CollectionAllocation.loan_id == loan_id, CollectionAllocation.ended_at.is_(None))
        .values(ended_at=now or datetime.now(UTC))
    )


def allocate(
    session: Session,
    loan: Loan,
    *,
    staff_id: str | None,
    role: str,
    bucket: str | None,
    dpd: int,
    reason: str,
    key: str,
    allocated_by: str | None = None,
) -> bool:
    """Give ``loan`` (row-locked by the caller) to ``staff_id`` (None: nobody was eligible): the current allocation
    ends, a ``collection_allocations`` row is written once per ``key``, the loan's ``collector_id`` and
    ``collection_bucket`` follow, and the new holder is notified (NEW_ASSIGNMENT, once per key). Returns False,
    changing nothing, when ``key`` was already written (a retry)."""
    if session.scalar(select(CollectionAllocation.id).where(CollectionAllocation.idempotency_key == key)):
        return False
    end_allocation(session, loan.id)
    inserted = session.execute(
        pg_insert(CollectionAllocation)
        .values(
            brand_id=loan.brand_id,
            loan_id=loan.id,
            staff_id=staff_id,
            role=role,
            bucket=bucket,
            dpd=dpd,
            reason=reason[:2000],
            allocated_by=allocated_by,
            idempotency_key=key,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(CollectionAllocation.id)
    ).scalar()
    if inserted is None:
        return False
    loan.collector_id, loan.collection_bucket = staff_id, bucket
    if staff_id is not None:
        notify(
            session,
            staff_id,
            loan.brand_id,
            "NEW_ASSIGNMENT",
            "Overdue loan assigned to you",
            f"bucket {bucket or '-'}, {dpd} days past due: {reason}"[:1000],
            {"loanId": loan.id, "bucket": bucket, "dpd": dpd, "role": role, "kind": "COLLECTION"},
            idempotency_key=f"collection:{key}"[:160],
        )
    return True


def release(session: Session, loan: Loan) -> None:
    """The loan is current again: its allocation ends and it has no bucket and no collector."""
    end_allocation(session, loan.id)
    loan.collector_id, loan.collection_bucket = None, None


# ------------------------------------------------------------------------------------------- promises
_PENDING_PROMISES = (  # built once: every payment asks (most loans have no promise)
    select(CollectionFollowUp)
    .where(
        CollectionFollowUp.loan_id == bindparam("loan"),
        CollectionFollowUp.ptp_status == PromiseStatus.PENDING.value,
        CollectionFollowUp.ptp_date.is_not(None),
    )
    .order_by(CollectionFollowUp.created_at, CollectionFollowUp.id)
    .with_for_update()
)


def _pending(session: Session, loan_id: str) -> list[CollectionFollowUp]:
    return list(session.scalars(_PENDING_PROMISES, {"loan": loan_id}))


def _promise(row: CollectionFollowUp) -> Promise:
    assert row.ptp_date is not None and row.ptp_amount is not None
    return Promise(row.id, row.ptp_date, row.ptp_amount, row.ptp_paid or 0, PromiseStatus(row.ptp_status or "PENDING"))


def apply_payment_to_promises(session: Session, loan_id: str, amount: int, paid_on: date) -> list[str]:
    """Count a payment of ``amount`` paise received on ``paid_on`` (IST) towards the loan's PENDING promises to pay
    (``domain.collections.apply_payment``: oldest first, only those dated ``paid_on`` or later): each one's
    ``ptp_paid`` grows, and those reaching their amount become KEPT. Returns the ids of the promises kept. Call it
    once per payment, in the transaction that records the payment."""
    rows = {row.id: row for row in _pending(session, loan_id)}
    if not rows or amount <= 0:
        return []
    kept = []
    now = datetime.now(UTC)
    for change in apply_payment([_promise(r) for r in rows.values()], amount, paid_on):
        row = rows[change.id]
        row.ptp_paid = change.paid
        if change.status is PromiseStatus.KEPT:
            row.ptp_status, row.ptp_resolved_at = PromiseStatus.KEPT.value, now
            kept.append(row.id)
    return kept


def break_promises(session: Session, loan_id: str, as_of: date) -> list[str]:
    """The loan's PENDING promises dated before ``as_of`` (the day-end that ran) become BROKEN
    (``domain.collections.broken``). Returns their ids; a second call finds none."""
    rows = {row.id: row for row in _pending(session, loan_id)}
    now = datetime.now(UTC)
    out = []
    for promise in broken([_promise(r) for r in rows.values()], as_of):
        rows[promise.id].ptp_status, rows[promise.id].ptp_resolved_at = PromiseStatus.BROKEN.value, now
        out.append(promise.id)
    return out
