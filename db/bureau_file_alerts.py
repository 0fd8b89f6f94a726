"""Which bureau files a brand's admins are told about, and what they are told: a file the schedule built that
failed validation, and a file past its due date not marked submitted (docs/bureau-reporting.md)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.bureau_files import VALIDATED, VALIDATION_FAILED
from db.models import BureauFile

LATE = "LATE"
ALERT_REASONS = (VALIDATION_FAILED, LATE)


def files_to_alert(session: Session, brand_id: str, day: date) -> list[tuple[BureauFile, str]]:
    """The brand's files its admins are told about as on the IST date ``day`` (the day that ended), each with the
    reason: ``VALIDATION_FAILED``, a file the schedule built (``created_by`` None) that failed validation and is
    still so; ``LATE``, a file not submitted and due on or before ``day`` (past its due date the next morning:
    what ``late`` shows on the routes). A file can be both; oldest reference date first."""
    rows = session.scalars(
        select(BureauFile)
        .where(BureauFile.brand_id == brand_id, BureauFile.status.in_((VALIDATED, VALIDATION_FAILED)))
        .order_by(BureauFile.reference_date)
    ).all()
    out: list[tuple[BureauFile, str]] = []
    for row in rows:
        if row.status == VALIDATION_FAILED and row.created_by is None:
            out.append((row, VALIDATION_FAILED))
        if row.due_date <= day:
            out.append((row, LATE))
    return out


def alert_text(row: BureauFile, reason: str) -> tuple[str, str]:
    """The notification's title and body for a file and a reason (``files_to_alert``)."""
    name = f"{row.kind.lower()} bureau file as on {row.reference_date.isoformat()}"
    if reason == VALIDATION_FAILED:
        errors = f"{row.invalid_records} of {row.records} records" + (" and the header" if row.header_errors else "")
        return (
            f"Bureau file failed validation: {row.reference_date.isoformat()}",
            f"The {name} was built by the schedule with errors in {errors}; it cannot be downloaded. Correct the "
            f"data at the source and build it again (due {row.due_date.isoformat()}).",
        )
    return (
        f"Bureau file late: {row.reference_date.isoformat()}",
        f"The {name} was due to the CICs by {row.due_date.isoformat()} and is not marked submitted "
        f"(status {row.status}).",
    )
