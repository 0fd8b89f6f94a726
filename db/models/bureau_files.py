"""Bureau (CIC) submission files: one per brand and reference date (RBI's weekly calendar, ``domain.cic``), with a
row per account it carries: the state reported (to tell a change next time), the format's validation errors, and
the CIC's rejection with the resubmission it calls for (docs/bureau-reporting.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class BureauFile(Base):
    """One submission file as on ``reference_date``: INCREMENTAL (9th, 16th, 23rd) or FULL (month's last day), due
    on ``due_date``. Status: VALIDATED (downloadable) or VALIDATION_FAILED (records with errors: fixed at the
    source, then the file is rebuilt), SUBMITTED (staff sent it to the CICs), REJECTED_RECORDS (the CIC refused
    some records: they go again with the next file). ``content``: the TUDF text."""

    __tablename__ = "bureau_files"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    kind: Mapped[str] = mapped_column(String(12))
    reference_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(12), default="TUDF")
    records: Mapped[int] = mapped_column(Integer, default=0)
    invalid_records: Mapped[int] = mapped_column(Integer, default=0)
    rejected_records: Mapped[int] = mapped_column(Integer, default=0)
    resubmitted_records: Mapped[int] = mapped_column(Integer, default=0)  # carried from earlier rejections
    header_errors: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    content: Mapped[str] = mapped_column(Text, default="")
    storage_key: Mapped[str | None] = mapped_column(String(300), nullable=True)  # for a stored copy, none yet
    created_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)  # None: the schedule
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), nullable=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "reference_date"),)


class BureauFileRecord(Base):
    """One account of a file: the state reported (``snapshot``, ``domain.cic.Snapshot``), the validation errors,
    and the CIC's rejection. ``resubmit`` is set by a rejection and cleared when a later file carries the account
    again (``resubmitted_in``)."""

    __tablename__ = "bureau_file_records"
    id: Mapped[str] = pk()
    file_id: Mapped[str] = fk("bureau_files.id", index=True)
    brand_id: Mapped[str] = fk("brands.id")
    loan_id: Mapped[str] = fk("loans.id", index=True)
    account_number: Mapped[str] = mapped_column(String(25))
    reference_date: Mapped[date] = mapped_column(Date)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resubmit: Mapped[bool] = mapped_column(Boolean, default=False)
    resubmitted_in: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("bureau_files.id", ondelete="RESTRICT"), nullable=True
    )
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("file_id", "loan_id"),
        Index("ix_bureau_file_records_brand_resubmit", "brand_id", "resubmit"),
        Index("ix_bureau_file_records_brand_loan_ref", "brand_id", "loan_id", "reference_date"),
    )
