"""Periodic updation of KYC (``workflows.kyc_expiry``): customers with an active loan whose KYC falls due.

RBI Master Direction - Know Your Customer (KYC) Direction, 2016 (as amended), para 38: KYC is updated at least every
2 years for high-risk customers, 8 for medium-risk and 10 for low-risk, from the last KYC. The brand holds its
customers in one risk category (``opsJobs.reKycRisk``, default LOW: no customer carries a category of their own).
When a KYC was done is read from the customer's passed KYC decisions (``loan_decisions``, stage KYC: each step's
``verifiedAt``; ``domain.ops_jobs.kyc_done_on``), else the customer's registration.

A customer within ``reKycNoticeDays`` of the due date is marked DUE, one past it OVERDUE, each once per due date:
an audit row (``customer.rekyc_due`` / ``customer.rekyc_overdue``, key ``rekyc:<customer>:<due>:<stage>``) is the
mark, an SMS through the messaging layer tells the customer (logged under the same key), and the staff member the
customer is allocated to (else the brand's admins) gets a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from activities.messaging.send import Sender
from activities.ops_jobs_common import ACTIVE_LOAN, BrandRun, audit_once, brand_admins, brand_policy, notify_once
from activities.providers import ProviderConfig
from db.models import AuditLog, Brand, Customer, Loan, LoanDecision
from domain import ops_jobs

REKYC_BATCH = 200  # customers marked per brand per run: a larger backlog goes over the next days
MESSAGE = "KYC_UPDATE_DUE"  # the customer message's event name in the delivery log


@dataclass(frozen=True)
class ReKycItem:
    """One customer to mark: the loan that makes them active, when their KYC was done and falls due (IST dates,
    YYYY-MM-DD), the stage (DUE / OVERDUE) and the brand's risk category."""

    brand_id: str
    customer_id: str
    loan_id: str
    kyc_on: str
    due_on: str
    stage: str
    risk: str

    @property
    def key(self) -> str:
        return f"rekyc:{self.customer_id}:{self.due_on}:{self.stage}"


def _verified(entries: Any) -> list[datetime]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            at = datetime.fromisoformat(str(entry.get("verifiedAt"))) if isinstance(entry, dict) else None
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None:
            out.append(at)
    return out


def rekyc_candidates(session: Session, run: BrandRun, limit: int = REKYC_BATCH) -> list[ReKycItem]:
    """The brand's customers with an active loan whose KYC is due within the notice window or past due, and not
    yet marked at that stage for that due date; up to ``limit``, the earliest due first."""
    brand = session.get_one(Brand, run.brand_id)
    policy = brand_policy(brand.config)
    today = date.fromisoformat(run.day)
    active = session.execute(
        select(Customer.id, Customer.created_at, Loan.id)
        .join(Loan, Loan.customer_id == Customer.id)
        .where(Loan.brand_id == run.brand_id, Loan.status.in_(ACTIVE_LOAN))
        .order_by(Customer.id, Loan.created_at)
    ).all()
    customers: dict[str, tuple[datetime, str]] = {}
    for customer_id, registered, loan_id in active:
        customers.setdefault(str(customer_id), (registered, str(loan_id)))
    if not customers:
        return []
    passed: dict[str, list[list[datetime]]] = {}
    for customer_id, details, created_at in session.execute(
        select(Loan.customer_id, LoanDecision.details, LoanDecision.created_at)
        .join(Loan, Loan.id == LoanDecision.loan_id)
        .where(Loan.customer_id.in_(customers), LoanDecision.stage == "KYC", LoanDecision.outcome == "PASS")
    ):
        passed.setdefault(str(customer_id), []).append(_verified(details) or [created_at])
    items = []
    for customer_id, (registered, loan_id) in customers.items():
        done = ops_jobs.kyc_done_on(passed.get(customer_id, []), registered)
        kyc_on = ops_jobs.ist_date(done)
        due = ops_jobs.rekyc_due_on(kyc_on, policy.rekyc_risk)
        stage = ops_jobs.rekyc_stage(today, due, policy.rekyc_notice_days)
        if stage is not None:
            items.append(
                ReKycItem(
                    run.brand_id, customer_id, loan_id, kyc_on.isoformat(), due.isoformat(), stage, policy.rekyc_risk
                )
            )
    marked = set(
        session.scalars(select(AuditLog.idempotency_key).where(AuditLog.idempotency_key.in_([i.key for i in items])))
    )
    return sorted((i for i in items if i.key not in marked), key=lambda i: (i.due_on, i.customer_id))[:limit]


def _text(item: ReKycItem, brand_name: str) -> str:
    """The SMS: the brand, the due date (``05 Jan 2026``) and what to do."""
    due = date.fromisoformat(item.due_on).strftime("%d %b %Y")
    if item.stage == ops_jobs.ReKycStage.OVERDUE:
        return f"{brand_name}: your KYC was due for its periodic update on {due}. Please contact us to update it."
    return f"{brand_name}: your KYC is due for its periodic update on {due}. Please contact us to update it by then."


class ReKycActivities(DbActivities):
    """The periodic re-KYC job's two activities."""

    db: Any
    sender: Sender

    @activity.defn
    async def rekyc_due_customers(self, run: BrandRun) -> list[ReKycItem]:
        """The brand's customers to mark this run (:func:`rekyc_candidates`)."""
        return await self._tx(lambda s: rekyc_candidates(s, run))

    @activity.defn
    async def mark_rekyc_due(self, item: ReKycItem) -> str:
        """Mark one customer (audit row), tell their staff (notification) and the customer (SMS), each once per
        customer, due date and stage → the SMS's logged status (SENT / FAILED / SKIPPED), or NO_SMS when the
        brand sends none."""

        def mark(session: Session) -> tuple[Brand, Customer]:
            brand, customer = session.get_one(Brand, item.brand_id), session.get_one(Customer, item.customer_id)
            facts = {"dueOn": item.due_on, "kycOn": item.kyc_on, "risk": item.risk, "loanId": item.loan_id}
            audit_once(
                session,
                item.key,
                brand_id=item.brand_id,
                action=f"customer.rekyc_{item.stage.lower()}",
                entity_type="customer",
                entity_id=item.customer_id,
                after={"stage": item.stage, **facts},
            )
            staff = [customer.assigned_to] if customer.assigned_to else brand_admins(session, item.brand_id)
            name = customer.full_name or "Customer"
            word = "was due" if item.stage == ops_jobs.ReKycStage.OVERDUE else "falls due"
            notify_once(
                session,
                [s for s in staff if s],
                item.brand_id,
                f"KYC update {item.stage.lower()}: {name}"[:200],
                f"Periodic KYC updation {word} on {item.due_on} ({item.risk} risk; last KYC {item.kyc_on}).",
                {"alert": "REKYC_" + item.stage, "customerId": item.customer_id, **facts},
                item.key,
            )
            session.expunge(brand)
            session.expunge(customer)
            return brand, customer

        brand, customer = await self._tx(mark)
        if not ProviderConfig.candidates(dict(brand.config or {}), "sms"):
            return "NO_SMS"
        return await self.sender.sms_text(
            brand, customer.phone, MESSAGE, _text(item, brand.name), key=item.key, loan_id=item.loan_id
        )
