"""Bureau (CIC) submission files: build, validate, download and resubmit (docs/bureau-reporting.md).

Under /api/v1/partner/brand/{brandId}:

- ``GET bureau-files``: the brand's files, newest reference date first;
- ``POST bureau-files``: build the file as on a reference date now (``kind`` INCREMENTAL for the 9th, 16th or 23rd,
  FULL for a month's last day; another date is a 422 naming ``referenceDate``); a file already built is answered as
  it is (200) unless ``rebuild`` (allowed until it is submitted: after fixing the errors at the source);
- ``GET bureau-files/{fileId}``: its summary, the header's and each record's validation errors, the CIC's
  rejections;
- ``GET bureau-files/{fileId}/download``: the TUDF text, refused (409) while the file has validation errors;
- ``POST bureau-files/{fileId}/submitted``: staff sent it to the CICs (a validated file only);
- ``POST bureau-files/{fileId}/rejections``: the records the CIC rejected, by account number (or loan id), with its
  reasons: marked for resubmission, they go with the next file built.

Permission: ``reports.view`` (the admin roles of the roles × features matrix: super admin, admin, the sanction and
collection managers and heads); building, marking and downloading need a person (no brand API key). Every change
and every download is in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from activities.storage import content_disposition
from api.access import Allow, audit
from api.deps import is_uuid
from api.partner.common import Db, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, IsoDate
from db import bureau_files as bf
from db.models import Brand, BureauFile, BureauFileRecord
from domain import cic
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError

router = staff_router()
Reader = Annotated[Principal, Allow(P.REPORTS_VIEW)]
Operator = Annotated[Principal, Allow(P.REPORTS_VIEW, api_key=False)]
FileId = Annotated[str, Path(description="a bureau file's id (GET bureau-files lists them)")]
TEXT = "text/plain"


# ------------------------------------------------------------------------------------------- models
class BuildIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["INCREMENTAL", "FULL"] = Field(description="INCREMENTAL (9th, 16th, 23rd) or FULL (month's last day)")
    reference_date: IsoDate = Field(alias="referenceDate", description="the IST date the file is as on, YYYY-MM-DD")
    rebuild: bool = Field(default=False, description="build again a file not yet submitted (after fixing errors)")


class RejectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_number: str | None = Field(default=None, alias="accountNumber", max_length=25,
                                       description="the account number as reported (TL 03)")  # fmt: skip
    loan_id: str | None = Field(default=None, alias="loanId", max_length=36, description="or the loan's id")
    reason: str = Field(min_length=1, max_length=500, description="the CIC's reason (error code and text)")


class RejectionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[RejectionIn] = Field(min_length=1, max_length=10_000)


class BureauFileOut(ApiModel):
    """A submission file. ``status``: VALIDATED (downloadable), VALIDATION_FAILED (records with errors), SUBMITTED,
    REJECTED_RECORDS (the CIC refused some: they go again with the next file). ``late``: past its due date and not
    submitted."""

    id: str
    kind: str
    reference_date: str
    due_date: str
    status: str
    format: str
    records: int = Field(description="accounts in the file")
    invalid_records: int = Field(description="accounts with validation errors")
    rejected_records: int = Field(description="accounts the CIC rejected")
    resubmitted_records: int = Field(description="accounts rejected earlier that this file carries again")
    late: bool
    created_at: str
    submitted_at: str | None


class BureauFilePage(ApiModel):
    items: list[BureauFileOut]
    total: int
    page: int
    limit: int


class FieldErrorOut(ApiModel):
    segment: str
    tag: str
    field: str
    message: str


class RecordErrorsOut(ApiModel):
    loan_id: str
    account_number: str
    errors: list[FieldErrorOut]


class RejectionOut(ApiModel):
    loan_id: str
    account_number: str
    reason: str
    rejected_at: str
    resubmit: bool = Field(description="waiting for the next file")
    resubmitted_in: str | None = Field(description="the file that carried it again")


class BureauFileDetail(BureauFileOut):
    header_errors: list[FieldErrorOut]
    record_errors: list[RecordErrorsOut]
    rejections: list[RejectionOut]


class BuildOut(BureauFileDetail):
    built: bool = Field(description="false: the file was built already and is answered as it is")


# ------------------------------------------------------------------------------------------- views
def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(row: BureauFile) -> dict[str, Any]:
    late = row.status in (bf.VALIDATED, bf.VALIDATION_FAILED) and bf.today_ist() > row.due_date
    return {
        "id": row.id,
        "kind": row.kind,
        "referenceDate": row.reference_date.isoformat(),
        "dueDate": row.due_date.isoformat(),
        "status": row.status,
        "format": row.format,
        "records": row.records,
        "invalidRecords": row.invalid_records,
        "rejectedRecords": row.rejected_records,
        "resubmittedRecords": row.resubmitted_records,
        "late": late,
        "createdAt": _iso(row.created_at),
        "submittedAt": _iso(row.submitted_at),
    }


def _detail(session: Db, row: BureauFile) -> dict[str, Any]:
    records: list[BureauFileRecord] = bf.file_records(session, row.id)
    return {
        **_summary(row),
        "headerErrors": row.header_errors or [],
        "recordErrors": [
            {"loanId": r.loan_id, "accountNumber": r.account_number, "errors": r.errors} for r in records if r.errors
        ],
        "rejections": [
            {
                "loanId": r.loan_id,
                "accountNumber": r.account_number,
                "reason": r.rejection_reason,
                "rejectedAt": _iso(r.rejected_at),
                "resubmit": r.resubmit,
                "resubmittedIn": r.resubmitted_in,
            }
            for r in records
            if r.rejection_reason
        ],
    }


def _file(session: Db, brand_id: str, file_id: str, *, lock: bool = False) -> BureauFile:
    if not is_uuid(file_id):
        raise NotFound("bureau file not found")
    return bf.find_file(session, brand_id, file_id, lock=lock)


# -------------------------------------------------------------------------------------------- routes
@router.get("/brand/{brand_id}/bureau-files", response_model=BureauFilePage)
def list_bureau_files(
    brand_id: str,
    staff: Reader,
    session: Db,
    page: Annotated[int, Query(ge=1, le=10_000), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict[str, Any]:
    """The brand's submission files, newest reference date first."""
    rows, total = bf.list_files(session, brand_id, limit, (page - 1) * limit)
    return {"items": [_summary(r) for r in rows], "total": total, "page": page, "limit": limit}


@router.post("/brand/{brand_id}/bureau-files", response_model=BuildOut)
def build_bureau_file(request: Request, brand_id: str, staff: Operator, session: Db, body: BuildIn) -> dict[str, Any]:
    """Build the file as on ``referenceDate`` now (the schedule builds it the night after that date anyway): the
    accounts RBI's calendar calls for, in TUDF, validated. A file already built is answered as it is (``built``
    false) unless ``rebuild``."""
    day = body.reference_date
    cic.calendar.check_reference_date(day, body.kind)
    if day < cic.calendar.WEEKLY_FROM:
        raise ValidationError("RBI's weekly calendar starts on 1 July 2026", field="referenceDate")
    if day >= bf.today_ist():
        raise ValidationError("the reference date's day-end has not run yet (it must be before today, IST)",
                              field="referenceDate")  # fmt: skip
    row, built = bf.build_file(session, brand_id, day, kind=body.kind, created_by=staff.id, rebuild=body.rebuild)
    if built:
        audit(session, request, staff, "bureau_file.build", "bureau_file", row.id,
              after={**_summary(row), "rebuild": body.rebuild})  # fmt: skip
    return {**_detail(session, row), "built": built}


@router.get("/brand/{brand_id}/bureau-files/{file_id}", response_model=BureauFileDetail)
def get_bureau_file(brand_id: str, file_id: FileId, staff: Reader, session: Db) -> dict[str, Any]:
    """The file's summary, the validation errors of its header and records, and the CIC's rejections."""
    return _detail(session, _file(session, brand_id, file_id))


@router.get(
    "/brand/{brand_id}/bureau-files/{file_id}/download",
    response_class=Response,
    responses={
        200: {"description": "The TUDF file, as an attachment.", "content": {TEXT: {"schema": {"type": "string"}}}},
        404: {"description": "No such file of this brand."},
        409: {"description": "The file has validation errors: fix them and build it again."},
    },
)
def download_bureau_file(request: Request, brand_id: str, file_id: FileId, staff: Operator, session: Db) -> Response:
    """The file's TUDF text to upload to the CICs. Refused (409) while it has validation errors."""
    row = _file(session, brand_id, file_id)
    if row.status == bf.VALIDATION_FAILED:
        raise Conflict(
            f"the file has validation errors ({row.invalid_records} records, {len(row.header_errors or [])} in the "
            "header): fix them at the source and build it again (POST bureau-files with rebuild)"
        )
    brand = session.get(Brand, brand_id)
    code = brand.code if brand else "brand"
    name = f"TUDF_{code}_{row.kind}_{row.reference_date.strftime('%d%m%Y')}.txt"
    audit(session, request, staff, "bureau_file.download", "bureau_file", row.id,
          after={"referenceDate": row.reference_date.isoformat(), "records": row.records})  # fmt: skip
    return Response(
        row.content,
        media_type=f"{TEXT}; charset=utf-8",
        headers={"Content-Disposition": content_disposition(name, "attachment")},
    )


@router.post("/brand/{brand_id}/bureau-files/{file_id}/submitted", response_model=BureauFileDetail)
def mark_bureau_file_submitted(
    request: Request, brand_id: str, file_id: FileId, staff: Operator, session: Db
) -> dict[str, Any]:
    """The file was uploaded to the CICs. A file with validation errors cannot be (409); one already marked stays as
    it is."""
    row = _file(session, brand_id, file_id, lock=True)
    before = row.status
    if bf.mark_submitted(session, row, staff.id if is_uuid(staff.id) else None):
        audit(session, request, staff, "bureau_file.submitted", "bureau_file", row.id,
              before={"status": before}, after={"status": row.status})  # fmt: skip
    return _detail(session, row)


@router.post("/brand/{brand_id}/bureau-files/{file_id}/rejections", response_model=BureauFileDetail)
def record_bureau_rejections(
    request: Request, brand_id: str, file_id: FileId, staff: Operator, session: Db, body: RejectionsIn
) -> dict[str, Any]:
    """The records the CIC rejected, by account number (or loan id) with its reason: marked for resubmission, they
    go with the next file built (RBI: rectified and resubmitted before or with the next reference date's
    submission). A record not of this file is a 422 naming it; the file must have been marked submitted (409)."""
    for i, r in enumerate(body.records):
        if not (r.account_number or r.loan_id):
            raise ValidationError("give the account number or the loan id", field=f"records[{i}].accountNumber")
    row = _file(session, brand_id, file_id, lock=True)
    before = row.status
    marked = bf.record_rejections(
        session, row, [bf.Rejection(r.account_number, r.loan_id, r.reason) for r in body.records]
    )
    audit(session, request, staff, "bureau_file.rejections", "bureau_file", row.id, before={"status": before},
          after={"status": row.status, "records": [{"loanId": m.loan_id, "reason": m.rejection_reason}
                                                   for m in marked]})  # fmt: skip
    return _detail(session, row)
