"""The SQL of the KYC and decision activities, one small named function per aggregate and question.

Each takes the open ``Session`` of the activity's unit of work (``DbActivities._tx``); none commits. Inserts that
carry an idempotency key do nothing when the key is already stored, so a retried activity writes once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db import evaluation_items
from db.models import (
    AaConsent,
    BankAccount,
    BureauReport,
    CustomerDocument,
    Employment,
    Loan,
    LoanDecision,
    PartnerUnavailabilityDate,
    ProviderCall,
    StaffBrandRole,
    StaffUser,
)

# Loans counted against a customer on another brand (central dedup), and against a reviewer's workload.
LIVE_LOAN = ("DISBURSED", "OVERDUE", "DISBURSAL_PENDING", "AGREEMENT_SIGNED")
OPEN_REVIEW = ("UNDER_REVIEW",)


# ---------------------------------------------------------------------------------------------- provider calls
def record_provider_call(session: Session, idempotency_key: str, **values: Any) -> None:
    """One provider call (vendor, outcome, response, every attempt), stored once per key."""
    session.execute(
        insert(ProviderCall)
        .values(idempotency_key=idempotency_key, **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


def verified_call(session: Session, idempotency_key: str) -> ProviderCall | None:
    """The provider call stored under ``idempotency_key`` with outcome VERIFIED, if one is."""
    return session.scalars(
        select(ProviderCall).where(ProviderCall.idempotency_key == idempotency_key, ProviderCall.outcome == "VERIFIED")
    ).first()


# ---------------------------------------------------------------------------------------------- bank accounts
def bank_account_for(session: Session, customer_id: str, account_id: str | None) -> BankAccount | None:
    """The account the customer named (``account_id``), else their primary account."""
    q = select(BankAccount).where(BankAccount.customer_id == customer_id)
    q = q.where(BankAccount.id == account_id) if account_id else q.where(BankAccount.is_primary)
    return session.scalars(q).first()


def save_penny_drop(session: Session, account_id: str, **values: Any) -> None:
    session.execute(update(BankAccount).where(BankAccount.id == account_id).values(**values))


# ---------------------------------------------------------------------------------------------- employment
def employment_for(session: Session, customer_id: str, employment_id: str | None) -> Employment | None:
    """The employment the customer named, else the one they added last."""
    q = select(Employment).where(Employment.customer_id == customer_id)
    q = q.where(Employment.id == employment_id) if employment_id else q.order_by(Employment.created_at.desc())
    return session.scalars(q).first()


def declared_salary(session: Session, customer_id: str) -> int | None:
    """The monthly salary the customer declared last (paise)."""
    return session.scalar(
        select(Employment.monthly_salary)
        .where(Employment.customer_id == customer_id)
        .order_by(Employment.created_at.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------- documents
def bank_statement_for(
    session: Session, customer_id: str, document_id: str | None, max_age_days: int | None = None
) -> CustomerDocument | None:
    """The statement the customer named, else the one they uploaded last; with ``max_age_days``, only one uploaded
    within that many days of now (the database's clock; the brand's ``statementMaxAgeDays``)."""
    q = select(CustomerDocument).where(
        CustomerDocument.customer_id == customer_id, CustomerDocument.doc_type == "BANK_STATEMENT"
    )
    if max_age_days is not None:
        q = q.where(CustomerDocument.created_at >= func.now() - timedelta(days=max_age_days))
    q = q.where(CustomerDocument.id == document_id) if document_id else q.order_by(CustomerDocument.created_at.desc())
    return session.scalars(q).first()


# ---------------------------------------------------------------------------------------------- AA consents
def latest_consent(session: Session, loan_id: str) -> AaConsent | None:
    return session.scalars(
        select(AaConsent).where(AaConsent.loan_id == loan_id).order_by(AaConsent.created_at.desc())
    ).first()


def insert_consent(session: Session, **values: Any) -> None:
    session.execute(insert(AaConsent).values(**values).on_conflict_do_nothing(index_elements=["consent_handle"]))


def set_consent_status(session: Session, consent_id: str, status: str) -> None:
    session.execute(update(AaConsent).where(AaConsent.id == consent_id).values(status=status))


# ---------------------------------------------------------------------------------------------- bureau reports
def recent_bureau_report(session: Session, customer_id: str, since: datetime) -> BureauReport | None:
    """The customer's latest report pulled from a bureau (not itself reused) after ``since``."""
    return session.scalars(
        select(BureauReport)
        .where(
            BureauReport.customer_id == customer_id,
            BureauReport.reused_from.is_(None),
            BureauReport.created_at > since,
        )
        .order_by(BureauReport.created_at.desc())
    ).first()


def bureau_report_of(session: Session, loan_id: str) -> BureauReport | None:
    return session.scalars(select(BureauReport).where(BureauReport.loan_id == loan_id)).first()


def insert_bureau_report(session: Session, **values: Any) -> None:
    """The loan's report (one per loan: a second insert for the same loan does nothing)."""
    session.execute(insert(BureauReport).values(**values).on_conflict_do_nothing(index_elements=["loan_id"]))


# ---------------------------------------------------------------------------------------------- loans
def update_loan(session: Session, loan_id: str, **values: Any) -> None:
    session.execute(update(Loan).where(Loan.id == loan_id).values(**values))


def review_workload(session: Session, brand_id: str) -> dict[str, int]:
    """Loans under review per assigned staff member of the brand."""
    rows = session.execute(
        select(Loan.assigned_to, func.count())
        .where(Loan.brand_id == brand_id, Loan.status.in_(OPEN_REVIEW), Loan.assigned_to.is_not(None))
        .group_by(Loan.assigned_to)
    ).all()
    return {staff_id: count for staff_id, count in rows if staff_id is not None}


def last_assignee(session: Session, brand_id: str) -> str | None:
    return session.scalar(
        select(Loan.assigned_to)
        .where(Loan.brand_id == brand_id, Loan.assigned_to.is_not(None))
        .order_by(Loan.assigned_at.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------- loan decisions
def store_decision(
    session: Session, loan_id: str, stage: str, outcome: str, score: Any, details: Any, idempotency_key: str
) -> None:
    """One stage's outcome (BRE, EVALUATION, ALLOCATION) with its details, stored once per key."""
    session.execute(
        insert(LoanDecision)
        .values(
            loan_id=loan_id,
            stage=stage,
            outcome=str(outcome),
            score=score,
            details=details,
            idempotency_key=idempotency_key,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


# ---------------------------------------------------------------------------------------------- brand settings
# the brand's active evaluation items: SQL shared with the brand-settings check (api/brand_config.py)
active_evaluation_items = evaluation_items.active_evaluation_items


# ---------------------------------------------------------------------------------------------- staff
def brand_staff(session: Session, brand_id: str) -> list[Any]:
    """Every (staff id, brand id, role, active) the brand's staff hold."""
    return list(
        session.execute(
            select(StaffUser.id, StaffBrandRole.brand_id, StaffBrandRole.role, StaffUser.is_active)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(StaffBrandRole.brand_id == brand_id)
        ).all()
    )


def on_leave(session: Session, day: date) -> set[tuple[str, date]]:
    """(staff id, day) for everyone off on ``day``."""
    rows = session.execute(
        select(PartnerUnavailabilityDate.staff_id, PartnerUnavailabilityDate.day).where(
            PartnerUnavailabilityDate.day == day
        )
    ).all()
    return {(staff_id, d) for staff_id, d in rows}
