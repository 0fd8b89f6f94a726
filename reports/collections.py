"""Collection reports: overdue loans with their collectors, per-loan collection views, dues, allocations, remarks,
recovery and field visits (docs/collections.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from db.models import (
    CollectionAllocation,
    CollectionFollowUp,
    Customer,
    FieldVisit,
    Loan,
    LoanStatusHistory,
    PaymentTransaction,
    RepaymentInstallment,
    StaffUser,
)
from reports.base import Range, Report, Spec, cols, in_range
from reports.loans import _loans, _unpaid

_LOAN: Spec = ("loan_id", "text", "the loan")
_NAME: Spec = ("customer_name", "text", "the customer's full name")
_PHONE: Spec = ("phone", "text", "the customer's mobile")
_STATUS: Spec = ("status", "text", "the loan's status now")
_COLLECTOR: Spec = ("collector_name", "text", "the collector working the loan now (empty: nobody)")


def _collector() -> Any:
    return aliased(StaffUser, name="collector")


def _master_collection(brand_id: str, span: Range) -> Select[Any]:
    i = RepaymentInstallment
    overdue = (
        select(
            i.loan_id.label("loan_id"),
            func.min(i.due_date).label("oldest_due"),
            func.sum(_unpaid(i)).label("overdue_amount"),
            func.count().label("overdue_installments"),
        )
        .where(i.status == "OVERDUE")
        .group_by(i.loan_id)
        .subquery("od")
    )
    c = _collector()
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Customer.pincode,
            overdue.c.oldest_due.label("oldest_due_date"),
            overdue.c.overdue_installments,
            overdue.c.overdue_amount,
            Loan.outstanding_principal,
            Loan.dpd,
            Loan.collection_bucket.label("bucket"),
            Loan.asset_class,
            c.name.label("collector_name"),
            Loan.status,
        )
        .join(overdue, overdue.c.loan_id == Loan.id)
        .outerjoin(c, c.id == Loan.collector_id)
        .where(overdue.c.oldest_due.between(span.from_date, span.to_date))
        .order_by(overdue.c.oldest_due, Loan.id)
    )


def _collection_view(brand_id: str, span: Range, by_sanction: bool) -> Select[Any]:
    i = RepaymentInstallment
    repayable = select(func.coalesce(func.sum(i.total + i.penal), 0)).where(i.loan_id == Loan.id).scalar_subquery()
    c = _collector()
    query = _loans(brand_id, Loan.id.label("loan_id"))
    order: Any
    if by_sanction:
        h = LoanStatusHistory
        query = query.join(h, and_(h.loan_id == Loan.id, h.to_status == "SANCTIONED")).add_columns(
            h.created_at.label("sanctioned_at")
        )
        when, order = in_range(h.created_at, span), h.created_at
    else:
        when, order = in_range(Loan.disbursed_at, span), Loan.disbursed_at
    return (
        query.add_columns(
            Customer.full_name.label("customer_name"),
            Customer.phone,
            Loan.disbursed_at,
            Loan.amount,
            repayable.label("total_repayable"),
            Loan.total_collected,
            Loan.outstanding_principal,
            Loan.dpd,
            c.name.label("collector_name"),
            Loan.status,
        )
        .outerjoin(c, c.id == Loan.collector_id)
        .where(when)
        .order_by(order, Loan.id)
    )


def _due(brand_id: str, span: Range) -> Select[Any]:
    i = RepaymentInstallment
    return (
        _loans(
            brand_id,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            Customer.phone,
            i.installment_no,
            i.due_date,
            i.total.label("installment_total"),
            i.penal,
            (i.principal_paid + i.interest_paid + i.fees_paid + i.penal_paid).label("paid"),
            _unpaid(i).label("due_now"),
            i.status.label("installment_status"),
            i.paid_at,
        )
        .join(i, i.loan_id == Loan.id)
        .where(i.due_date.between(span.from_date, span.to_date))
        .order_by(i.due_date, Loan.id, i.installment_no)
    )


def _allocations(brand_id: str, span: Range) -> Select[Any]:
    a = CollectionAllocation
    staff, by = aliased(StaffUser, name="staff"), aliased(StaffUser, name="allocator")
    return (
        select(
            a.created_at.label("allocated_at"),
            a.loan_id,
            a.staff_id,
            staff.name.label("staff_name"),
            a.role,
            a.bucket,
            a.dpd,
            a.reason,
            case((a.allocated_by.is_(None), "auto"), else_=by.name).label("allocated_by"),
            a.ended_at,
        )
        .outerjoin(staff, staff.id == a.staff_id)
        .outerjoin(by, by.id == a.allocated_by)
        .where(a.brand_id == brand_id, in_range(a.created_at, span))
        .order_by(a.created_at, a.id)
    )


def _remarks(brand_id: str, span: Range) -> Any:  # a Select of the columns
    f = CollectionFollowUp
    return (
        select(
            f.created_at,
            f.loan_id,
            Customer.full_name.label("customer_name"),
            StaffUser.name.label("staff_name"),
            f.disposition,
            f.remarks,
            f.next_action_on,
            f.ptp_date,
            f.ptp_amount,
            f.ptp_status,
            f.ptp_paid,
        )
        .join(Loan, Loan.id == f.loan_id)
        .join(Customer, Customer.id == Loan.customer_id)
        .join(StaffUser, StaffUser.id == f.staff_id)
        .where(f.brand_id == brand_id, in_range(f.created_at, span))
        .order_by(f.created_at, f.id)
    )


def _recovery(brand_id: str, span: Range) -> Select[Any]:
    p = PaymentTransaction
    c = _collector()
    return (
        _loans(
            brand_id,
            p.collected_at,
            Loan.id.label("loan_id"),
            Customer.full_name.label("customer_name"),
            p.gateway,
            p.mode,
            p.amount,
            p.principal_part,
            p.interest_part,
            p.fees_part,
            p.penal_part,
            p.receipt_no,
            Loan.max_dpd,
            c.name.label("collector_name"),
        )
        .join(p, p.loan_id == Loan.id)
        .outerjoin(c, c.id == Loan.collector_id)
        .where(p.status == "SUCCESS", in_range(p.collected_at, span))
        .order_by(p.collected_at, p.id)
    )


def _visits(brand_id: str, span: Range) -> Select[Any]:
    v = FieldVisit
    return (
        select(
            v.visited_at,
            v.loan_id,
            Customer.full_name.label("customer_name"),
            StaffUser.name.label("staff_name"),
            v.latitude,
            v.longitude,
            v.address,
            v.disposition,
            v.remarks,
            case((v.photo_key.is_(None), "NO"), else_="YES").label("photo"),
        )
        .join(Loan, Loan.id == v.loan_id)
        .join(Customer, Customer.id == Loan.customer_id)
        .join(StaffUser, StaffUser.id == v.staff_id)
        .where(v.brand_id == brand_id, in_range(v.visited_at, span))
        .order_by(v.visited_at, v.id)
    )


_VIEW: tuple[Spec, ...] = (
    ("customer_name", "text", "the customer's full name"),
    _PHONE,
    ("disbursed_at", "datetime", "when the money left"),
    ("amount", "paise", "principal"),
    ("total_repayable", "paise", "the schedule's totals and penal charges"),
    ("total_collected", "paise", "everything received"),
    ("outstanding_principal", "paise", "principal still owed"),
    ("dpd", "number", "days past due"),
    _COLLECTOR,
    _STATUS,
)

REPORTS = (
    Report(
        "master-collection-report",
        "Master collection report",
        "Loans with overdue installments whose oldest unpaid due date is in the range: amounts, DPD, bucket, "
        "collector.",
        "repayment_installments.due_date (the oldest overdue one)",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            ("pincode", "text", "the customer's pincode"),
            ("oldest_due_date", "date", "the oldest overdue installment's due date"),
            ("overdue_installments", "number", "how many installments are overdue"),
            ("overdue_amount", "paise", "unpaid total and penal of the overdue installments"),
            ("outstanding_principal", "paise", "principal still owed"),
            ("dpd", "number", "days past due"),
            ("bucket", "text", "the brand's DPD bucket as of the last day-end"),
            ("asset_class", "text", "STANDARD / SMA-0..2 / NPA"),
            _COLLECTOR,
            _STATUS,
        ),
        _master_collection,
    ),
    Report(
        "collection-loan-report",
        "Collection by loan",
        "Loans disbursed in the range: what they owe in all, what came in, what is left.",
        "loans.disbursed_at",
        cols(_LOAN, *_VIEW),
        lambda b, s: _collection_view(b, s, False),
    ),
    Report(
        "collection-due-report",
        "Dues",
        "Every installment falling due in the range, paid or not, with what was paid and what is left.",
        "repayment_installments.due_date",
        cols(
            _LOAN,
            _NAME,
            _PHONE,
            ("installment_no", "number", "installment number"),
            ("due_date", "date", "its due date"),
            ("installment_total", "paise", "principal, interest and fees"),
            ("penal", "paise", "penal charges levied on it"),
            ("paid", "paise", "paid towards it"),
            ("due_now", "paise", "still owed on it"),
            ("installment_status", "text", "PENDING / OVERDUE / PAID"),
            ("paid_at", "datetime", "when it was paid in full"),
        ),
        _due,
    ),
    Report(
        "collection-loan-report-by-approved-date",
        "Collection by sanction date",
        "The collection view of loans sanctioned in the range.",
        "loan_status_history.created_at (the move to SANCTIONED)",
        cols(_LOAN, ("sanctioned_at", "datetime", "when sanctioned"), *_VIEW),
        lambda b, s: _collection_view(b, s, True),
    ),
    Report(
        "collection-allocation-executive-report",
        "Collection allocations",
        "Every allocation of an overdue loan to a collector made in the range (auto or by hand), and when it ended.",
        "collection_allocations.created_at",
        cols(
            ("allocated_at", "datetime", "when allocated"),
            _LOAN,
            ("staff_id", "text", "the collector (empty: nobody was eligible)"),
            ("staff_name", "text", "their name"),
            ("role", "text", "the role it was allocated to"),
            ("bucket", "text", "the DPD bucket then"),
            ("dpd", "number", "DPD then"),
            ("reason", "text", "why this collector (or why nobody)"),
            ("allocated_by", "text", "auto, or the name of who moved it"),
            ("ended_at", "datetime", "when it ended (empty: current)"),
        ),
        _allocations,
    ),
    Report(
        "collection-remarks-report",
        "Collection remarks",
        "Collectors' follow-ups recorded in the range: disposition, remarks, promises to pay and how they went.",
        "collection_followups.created_at",
        cols(
            ("created_at", "datetime", "when recorded"),
            _LOAN,
            _NAME,
            ("staff_name", "text", "the collector"),
            ("disposition", "text", "the call's outcome"),
            ("remarks", "text", "remarks"),
            ("next_action_on", "date", "the next action date"),
            ("ptp_date", "date", "promised payment date"),
            ("ptp_amount", "paise", "promised amount"),
            ("ptp_status", "text", "PENDING / KEPT / BROKEN"),
            ("ptp_paid", "paise", "received towards the promise"),
        ),
        _remarks,
    ),
    Report(
        "total-recovery-report",
        "Recovery",
        "Every successful payment received in the range with its split (the sum is the recovery), the loan's worst "
        "DPD and its collector.",
        "payment_transactions.collected_at",
        cols(
            ("collected_at", "datetime", "when received"),
            _LOAN,
            _NAME,
            ("gateway", "text", "gateway, or offline"),
            ("mode", "text", "UPI, CARD, NEFT, CASH..."),
            ("amount", "paise", "received"),
            ("principal_part", "paise", "to principal"),
            ("interest_part", "paise", "to interest"),
            ("fees_part", "paise", "to fees"),
            ("penal_part", "paise", "to penal charges"),
            ("receipt_no", "text", "the receipt"),
            ("max_dpd", "number", "the worst DPD the loan reached"),
            _COLLECTOR,
        ),
        _recovery,
    ),
    Report(
        "field-visit-report",
        "Field visits",
        "Collectors' visits made in the range: where, what happened, whether a photo was taken.",
        "field_visits.visited_at",
        cols(
            ("visited_at", "datetime", "when"),
            _LOAN,
            _NAME,
            ("staff_name", "text", "the collector"),
            ("latitude", "number", "GPS latitude"),
            ("longitude", "number", "GPS longitude"),
            ("address", "text", "address visited"),
            ("disposition", "text", "outcome"),
            ("remarks", "text", "remarks"),
            ("photo", "text", "YES if a photo was taken"),
        ),
        _visits,
    ),
)
