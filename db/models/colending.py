"""Co-lending (docs/co-lending.md): each brand's agreement with a partner lender (share, the partner's rate, who
gets fees and penal charges), each co-lent loan (its split and the partner's side of its lifecycle), each lender's
ledger sub-account legs, and the partner's callbacks. Money is BIGINT paise, rates and shares basis points."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class CoLendingAgreement(Base):
    """A brand's co-lending agreement with one partner lender (``domain.colending.Agreement``): the partner's share
    of each loan's principal and its rate on that share (bps), the rule for fees and for penal charges (SHARE,
    ORIGINATOR, PARTNER) and the originator's minimum share it follows (bps)."""

    __tablename__ = "colending_agreements"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", unique=True)
    partner_share_bps: Mapped[int] = mapped_column(Integer)
    partner_rate_bps: Mapped[int] = mapped_column(Integer)
    fees_rule: Mapped[str] = mapped_column(String(12), default="ORIGINATOR")
    penal_rule: Mapped[str] = mapped_column(String(12), default="SHARE")
    min_originator_share_bps: Mapped[int] = mapped_column(Integer, default=1000)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CoLentLoan(Base):
    """One co-lent loan: the agreement's terms as they were when it was booked (share, rates, rules), the principal
    each lender funds, the partner's references (borrower, loan), its funding (UTR) and the state of each step of
    the partner's lifecycle (``steps``: step → {status, reference, at})."""

    __tablename__ = "colending_loans"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", unique=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    partner_code: Mapped[str] = mapped_column(String(40))
    partner_share_bps: Mapped[int] = mapped_column(Integer)
    partner_rate_bps: Mapped[int] = mapped_column(Integer)
    blended_rate_bps: Mapped[int] = mapped_column(Integer)
    fees_rule: Mapped[str] = mapped_column(String(12))
    penal_rule: Mapped[str] = mapped_column(String(12))
    principal: Mapped[int] = mapped_column(BigInteger)
    originator_principal: Mapped[int] = mapped_column(BigInteger)
    partner_principal: Mapped[int] = mapped_column(BigInteger)
    disbursed_on: Mapped[date] = mapped_column(Date)
    partner_borrower_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    partner_loan_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    partner_utr: Mapped[str | None] = mapped_column(String(60), nullable=True)
    partner_funded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    partner_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    steps: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CoLendingLeg(Base):
    """One leg of a lender's sub-ledger (``domain.colending.ledger``): ``lender`` ORIGINATOR or PARTNER, the
    account, the signed amount (debit > 0), the event ``kind`` and its IST ``value_date``; the legs of one lender's
    transaction share its ``txn_key`` (a transaction is written once per key and lender)."""

    __tablename__ = "colending_legs"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    lender: Mapped[str] = mapped_column(String(12))
    txn_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    account: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("txn_key", "lender", "account"),)


class CoLendingEvent(Base):
    """A partner's callback, kept once per its event id (a duplicate changes nothing): type, our loan, its
    payload and what it did (``result``)."""

    __tablename__ = "colending_events"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id")
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(60))
    loan_id: Mapped[str | None] = fk("loans.id", nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("partner_id", "event_id"),)


class CoLendingDlg(Base):
    """The default-loss guarantee of a brand's agreement with a partner (``domain.colending.dlg``; RBI DLG
    guidelines of 8 June 2023): cover bps of the partner's disbursed share (≤ 500), the paise set aside and their
    form (CASH, FIXED_DEPOSIT, BANK_GUARANTEE), the overdue day it is invoked on (≤ 120)."""

    __tablename__ = "colending_dlg"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", unique=True)
    cover_bps: Mapped[int] = mapped_column(Integer)
    set_aside: Mapped[int] = mapped_column(BigInteger)
    form: Mapped[str] = mapped_column(String(20))
    invoke_dpd: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CoLendingDlgInvocation(Base):
    """One invocation of the DLG on a co-lent loan (at most one per loan): why (WRITE_OFF, OVERDUE), the DPD then,
    the partner's loss on the loan and the paise the cover paid (never reinstated), on an IST date."""

    __tablename__ = "colending_dlg_invocations"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", unique=True)
    reason: Mapped[str] = mapped_column(String(12))
    dpd: Mapped[int] = mapped_column(Integer)
    loss: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    invoked_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created()


class CoLendingEscrowEntry(Base):
    """One collection's apportionment from the escrow account to one lender (``domain.colending.escrow``): the
    lender's part of the payment (paise), dated as the payment (IST); once per payment and lender."""

    __tablename__ = "colending_escrow_entries"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    loan_id: Mapped[str] = fk("loans.id", index=True)
    payment_id: Mapped[str] = mapped_column(String(100))
    lender: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("payment_id", "lender"),)


class CoLendingRemittance(Base):
    """A remittance from the escrow account to a lender, maker-checker: recorded PENDING by one staff member,
    APPROVED or REJECTED by another; the amount (paise), the bank reference and the IST date it was sent."""

    __tablename__ = "colending_remittances"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    partner_id: Mapped[str] = fk("partner_lenders.id", index=True)
    lender: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger)
    remitted_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="PENDING")
    recorded_by: Mapped[str] = mapped_column(String(60))
    decided_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created()
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


__all__ = ["CoLendingAgreement", "CoLendingDlg", "CoLendingDlgInvocation", "CoLendingEscrowEntry", "CoLendingEvent",
           "CoLendingLeg", "CoLendingRemittance", "CoLentLoan"]
