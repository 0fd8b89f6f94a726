"""Collections and the way out of a loan: who works an overdue loan (allocations, the collector's profile), what
they did (follow-ups with promises to pay, field visits, dialer calls and their events), the servicing decisions
(settlements, penal waivers, restructures) and the closure documents (No Dues / No Objection certificates) and
reloan offers. Money is BIGINT paise; promise and deadline dates are IST calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


def updated() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


class CollectorProfile(Base):
    """A collection staff member's profile in one brand (seed 000's ``partner_user_rating_matrix``): the rating
    auto-allocation weighs (0–5; ``rating_criteria`` keeps the matrix's criteria and scores it came from), the
    pincodes they cover, and an optional cap on open cases (``None``: the brand's cap)."""

    __tablename__ = "collector_profiles"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    rating: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("3"))
    rating_criteria: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    pincodes: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (UniqueConstraint("brand_id", "staff_id"),)


class CollectionAllocation(Base):
    """One assignment of an overdue loan to a collector (auto on overdue and on each bucket change, or manual).
    The current one has ``ended_at`` null; ``staff_id`` null when nobody was eligible (``reason`` says why)."""

    __tablename__ = "collection_allocations"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    staff_id: Mapped[str | None] = fk("staff_users.id", index=True, nullable=True)
    role: Mapped[str] = mapped_column(String(40))
    bucket: Mapped[str | None] = mapped_column(String(30), nullable=True)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    allocated_by: Mapped[str | None] = fk("staff_users.id", nullable=True)  # None: auto-allocation
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = created()
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CollectionFollowUp(Base):
    """A collector's follow-up on a loan: disposition (``domain.collections.Disposition``), remarks, the next
    action date, and for a promise to pay its date and amount, tracked PENDING → KEPT or BROKEN from the payments
    that arrive (``ptp_paid``: what was received towards it)."""

    __tablename__ = "collection_followups"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    disposition: Mapped[str] = mapped_column(String(30))
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_action_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ptp_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    ptp_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ptp_status: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)  # PENDING/KEPT/BROKEN
    ptp_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    ptp_resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    call_id: Mapped[str | None] = fk("dialer_calls.id", nullable=True)
    created_at: Mapped[datetime] = created()


class FieldVisit(Base):
    """A collector's visit to the customer: where (GPS), when, what happened, and the photo taken (stored
    privately, by key and digest)."""

    __tablename__ = "field_visits"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    visited_at: Mapped[datetime] = mapped_column()
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(30), nullable=True)
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    photo_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    photo_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    photo_content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = created()


class DialerCall(Base):
    """One click-to-call through the brand's dialer (Acefone, or Stringee as secondary): the agent's extension
    bridged to the customer, the vendor's call id, its status and timings as the vendor's events report them, and
    the recording URL. The customer's number is kept masked."""

    __tablename__ = "dialer_calls"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_call_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    loan_id: Mapped[str | None] = fk("loans.id", index=True, nullable=True)
    staff_id: Mapped[str] = fk("staff_users.id", index=True)
    agent_number: Mapped[str | None] = mapped_column(String(30), nullable=True)
    customer_number_masked: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="INITIATED")
    direction: Mapped[str] = mapped_column(String(10), default="OUTBOUND")
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    recording_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    hangup_cause: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()
    __table_args__ = (UniqueConstraint("provider", "provider_call_id"),)


class DialerCallEvent(Base):
    """A dialer webhook as received (once per ``event_key``), linked to its call."""

    __tablename__ = "dialer_call_events"
    id: Mapped[str] = pk()
    call_id: Mapped[str | None] = fk("dialer_calls.id", index=True, nullable=True)
    provider: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    received_at: Mapped[datetime] = created()


class Settlement(Base):
    """A compromise settlement (RBI's Framework for Compromise Settlements and Technical Write-offs, 8 June 2023):
    proposed by one person with the amount to collect, the waiver by component and a deadline, approved by another
    within their limit; PROPOSED → APPROVED → PAID, or REJECTED, or LAPSED (unpaid by the deadline), or PAID_IN_FULL
    (everything owed was paid while it was approved: nothing waived)."""

    __tablename__ = "settlements"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    outstanding: Mapped[int] = mapped_column(BigInteger)
    waiver: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # penal, interest, fees, principal (paise)
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="PROPOSED")
    proposed_by: Mapped[str] = fk("staff_users.id")
    decided_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    collected: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class Waiver(Base):
    """Penal charges waived on a loan (never capitalised; RBI's penal charges circular, 18 Aug 2023), by whom and
    why, once per ``idempotency_key``. ``components``: installment number → paise."""

    __tablename__ = "waivers"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    components: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[str] = fk("staff_users.id")
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = created()


class Restructure(Base):
    """A restructure of a stressed loan: the new tenure or EMI for the outstanding principal, proposed by one
    person and approved by a second; PROPOSED → APPROVED (the new schedule in force) or REJECTED."""

    __tablename__ = "restructures"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger)
    installments: Mapped[int] = mapped_column(Integer)
    emi: Mapped[int] = mapped_column(BigInteger)
    first_due: Mapped[date] = mapped_column(Date)
    schedule: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="PROPOSED")
    proposed_by: Mapped[str] = fk("staff_users.id")
    decided_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()


class ClosureCertificate(Base):
    """A loan's No Dues / No Objection Certificate (NDC/NOC): numbered, rendered from the brand's template, stored
    privately; ``version`` grows with each regeneration, the highest is the current one. ``kind``: NO_DUES
    (repaid or foreclosed) or SETTLED."""

    __tablename__ = "closure_certificates"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    certificate_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    storage_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    generated_by: Mapped[str | None] = fk("staff_users.id", nullable=True)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("loan_id", "version"),)


class ReloanOffer(Base):
    """A reloan offer made when a loan closed in good standing: the amount (stepped up per the brand's rule), until
    when, and the loan it became. One per closed loan."""

    __tablename__ = "reloan_offers"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    customer_id: Mapped[str] = fk("customers.id", index=True)
    previous_loan_id: Mapped[str] = fk("loans.id", unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="OFFERED")  # OFFERED / ACCEPTED / EXPIRED
    new_loan_id: Mapped[str | None] = fk("loans.id", nullable=True)
    created_at: Mapped[datetime] = created()
