"""Reports: each report type as paginated JSON, streamed CSV and a download, and the master report built in the
background and emailed. Under /api/v1/partner/brand/{brandId} (docs/reports.md):

- ``GET reports``: the catalogue (name, title, date column, columns) for the console;
- ``GET report/{type}?fromDate&toDate&page&limit``: one page of rows, ``{type, title, columns, items, page, limit,
  total, note}``; items are objects keyed by the column names (paise as integers, dates ISO);
- ``GET report/{type}/csv``: every row as CSV, streamed from a server-side cursor (memory flat however many rows;
  paise as rupees with 2 decimals, text that a spreadsheet would run as a formula prefixed with ``'``);
- ``GET report/{type}/download``: the same CSV with a UTF-8 byte-order mark, for spreadsheets;
- ``POST master-report/email``: 202 with a job id; the master report is built in the background by the workflow
  ``report-email-<jobId>`` (``workflows/report_email.py``), stored and emailed as a link to a staff address of the
  brand; ``GET master-report/email/{job}``: the job's state (``reports.jobs``).

``fromDate`` and ``toDate`` are IST calendar dates, both included, at most 366 days apart. Permission:
``reports.view`` — the admin roles of the roles × features matrix (super admin, admin, and the sanction and
collection managers and heads; docs/staff.md). Brand API keys (read-only, ``reports.view`` in their scope) may read
reports; emailing one needs a person.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session
from temporalio.common import WorkflowIDConflictPolicy

from activities.storage import content_disposition
from api.access import Allow, audit
from api.deps import MAX_PAGE, call_async, is_uuid
from api.partner.common import Db, Temporal, staff_router
from api.partner.staff_users import Email
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate, Whole
from api.views import json_response
from db.models import StaffBrandRole, StaffUser
from domain.access import Permission as P
from domain.errors import NotFound, ServiceUnavailable, ValidationError
from reports import CATALOGUE, MAX_DAYS, Range, Report, jobs
from reports.output import json_rows
from workflows.report_email import ReportEmailInput, ReportEmailWorkflow, workflow_id

router = staff_router()
Reader = Annotated[Principal, Allow(P.REPORTS_VIEW)]
Mailer = Annotated[Principal, Allow(P.REPORTS_VIEW, api_key=False)]
MAX_LIMIT = 500
CSV = "text/csv"
ReportType = Annotated[str, Path(description="a report type (GET reports lists them)", examples=["master-report"])]
CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Every row of the report as CSV (header first), streamed as an attachment.",
        "content": {CSV: {"schema": {"type": "string"}}},
    },
    404: {"description": "No such brand, or no such report type."},
}


# ------------------------------------------------------------------------------------------- models
def _check_span(from_date: date, to_date: date) -> None:
    if to_date < from_date:
        raise ValidationError("must not be before fromDate", field="toDate")
    if (to_date - from_date).days > MAX_DAYS:
        raise ValidationError(f"must be at most {MAX_DAYS} days after fromDate", field="toDate")


class RangeQuery(BaseModel):
    """The IST date range of a report (both days included)."""

    model_config = ConfigDict(extra="forbid")
    from_date: IsoDate = Field(alias="fromDate", description="first IST day, YYYY-MM-DD")
    to_date: IsoDate = Field(alias="toDate", description=f"last IST day, at most {MAX_DAYS} days after fromDate")

    @model_validator(mode="after")
    def _span(self) -> RangeQuery:
        _check_span(self.from_date, self.to_date)
        return self

    def span(self) -> Range:
        return Range(self.from_date, self.to_date)


class PageQuery(RangeQuery):
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=100, ge=1, le=MAX_LIMIT)


class ColumnOut(ApiModel):
    name: str
    type: str = Field(description="text / paise / date / datetime / number")
    description: str


class ReportInfo(ApiModel):
    """One report type of the catalogue."""

    name: str
    title: str
    description: str
    family: str = Field(description="loans / collections / marketing / bureau / staff")
    date_column: str = Field(description="what the date range filters on")
    note: str | None = Field(description="what the report leaves out because the data does not exist yet")
    columns: list[ColumnOut]


class Catalogue(ApiModel):
    items: list[ReportInfo]


class ReportPage(ApiModel):
    """One page of a report. ``items``: objects keyed by the column names, paise as integers, dates ISO."""

    type: str
    title: str
    columns: list[ColumnOut]
    items: list[dict[str, Any]]
    page: int
    limit: int
    total: int
    note: str | None


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_date: IsoDate = Field(alias="fromDate", description="first IST day, YYYY-MM-DD")
    to_date: IsoDate = Field(alias="toDate", description=f"last IST day, at most {MAX_DAYS} days after fromDate")
    email: Email | None = Field(default=None, description="default: the requester's email")

    @model_validator(mode="after")
    def _span(self) -> EmailIn:
        _check_span(self.from_date, self.to_date)
        return self


class ReportJob(ApiModel):
    """A master report being built and emailed: QUEUED → RUNNING → SENT, or FAILED with the error."""

    job_id: str
    report: str
    from_date: str
    to_date: str
    email: str
    state: str
    rows: int | None = Field(description="rows in the file, once built")
    url: str | None = Field(description="the link that was emailed (valid 7 days)")
    error: str | None
    created_at: str
    finished_at: str | None


# ------------------------------------------------------------------------------------------- helpers
def report_of(report_type: str) -> Report:
    report = CATALOGUE.get(report_type)
    if report is None:
        raise NotFound(f"no report type {report_type[:60]!r}")
    return report


def _info(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": report.title,
        "description": report.description,
        "family": report.family,
        "dateColumn": report.date_column,
        "note": report.note,
        "columns": _columns(report),
    }


def _columns(report: Report) -> list[dict[str, str]]:
    return [{"name": c.name, "type": c.type, "description": c.description} for c in report.columns]


def _csv(request: Request, report: Report, brand_id: str, span: Range, *, bom: bool) -> StreamingResponse:
    headers = {"Content-Disposition": content_disposition(jobs.file_name(report, span), "attachment")}
    body = jobs.stream_csv(request.app.state.db, report, brand_id, span, bom=bom)
    return StreamingResponse(body, media_type=f"{CSV}; charset=utf-8", headers=headers)


# -------------------------------------------------------------------------------------------- routes
@router.get("/brand/{brand_id}/reports", response_model=Catalogue)
def list_reports(brand_id: str, staff: Reader) -> dict[str, Any]:
    """Every report type: name, title, description, family, date column, note and columns."""
    return {"items": [_info(r) for r in CATALOGUE.values()]}


@router.get("/brand/{brand_id}/report/{report_type}", response_model=ReportPage)
def report_page(
    brand_id: str, report_type: ReportType, staff: Reader, session: Db, q: Annotated[PageQuery, Query()]
) -> Response:
    """One page of the report for the range (``limit`` at most 500), with the total number of rows."""
    report = report_of(report_type)
    query = report.query(brand_id, q.span())
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.offset((q.page - 1) * q.limit).limit(q.limit)).all()
    return json_response(
        {
            "type": report.name,
            "title": report.title,
            "columns": _columns(report),
            "items": json_rows(report.columns, rows),
            "page": q.page,
            "limit": q.limit,
            "total": total,
            "note": report.note,
        }
    )


@router.get(
    "/brand/{brand_id}/report/{report_type}/csv",
    response_class=StreamingResponse,
    responses=CSV_FILE,
)
def report_csv(
    request: Request, brand_id: str, report_type: ReportType, staff: Reader, q: Annotated[RangeQuery, Query()]
) -> StreamingResponse:
    """Every row of the report for the range as CSV, streamed (``Content-Disposition: attachment``)."""
    return _csv(request, report_of(report_type), brand_id, q.span(), bom=False)


@router.get(
    "/brand/{brand_id}/report/{report_type}/download",
    response_class=StreamingResponse,
    responses=CSV_FILE,
)
def report_download(
    request: Request, brand_id: str, report_type: ReportType, staff: Reader, q: Annotated[RangeQuery, Query()]
) -> StreamingResponse:
    """The same CSV as a file download, starting with a UTF-8 byte-order mark so spreadsheets read it right."""
    return _csv(request, report_of(report_type), brand_id, q.span(), bom=True)


@router.post("/brand/{brand_id}/master-report/email", response_model=ReportJob, status_code=202)
def email_master_report(
    request: Request, brand_id: str, staff: Mailer, session: Db, client: Temporal, body: EmailIn
) -> dict[str, Any]:
    """Build the master report for the range in the background, store it and email a link (valid 7 days) to
    ``email`` (default: the requester), which must be the address of an active staff user of this brand (the
    report carries customers' personal data): 422 naming ``email`` otherwise, nothing started. Answers at once
    with the job (QUEUED); ``GET master-report/email/{job}`` follows it. The job is the workflow
    ``report-email-<jobId>`` run by the worker; 503 when the workflow engine does not take it (the job is recorded
    FAILED)."""
    to = body.email or staff.email
    if not to:
        raise ValidationError("an email address is needed", field="email")
    if not _brand_staff_email(session, brand_id, to):
        raise ValidationError(
            "the master report carries customers' personal data: it can only be emailed to a staff user of this brand",
            field="email",
        )
    report, span, job_id = CATALOGUE["master-report"], Range(body.from_date, body.to_date), str(uuid.uuid4())
    storage = request.app.state.storage
    state = jobs.new_state(report, span, job_id, to)
    jobs.write_state(storage, brand_id, state)  # before the start: the workflow's first activity writes RUNNING
    job = ReportEmailInput(job_id, brand_id, report.name, state["fromDate"], state["toDate"], to)
    try:
        call_async(
            client.start_workflow,
            ReportEmailWorkflow.run,
            job,
            id=workflow_id(job_id),
            task_queue=request.app.state.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,  # a repeated start is the same job
            static_summary=f"{report.name} {job.from_date} to {job.to_date} emailed",
        )
    except Exception as exc:  # noqa: BLE001 - recorded, then 503: asking again starts a new job
        jobs.write_state(
            storage, brand_id, {**state, "state": jobs.FAILED, "error": "not started", "finishedAt": jobs.now()}
        )
        raise ServiceUnavailable(f"the report job could not be started ({exc}); ask again") from exc
    audit(session, request, staff, "report.email", "report_job", job_id, after={k: state[k] for k in _AUDITED})
    return jobs.public(state)


_AUDITED = ("report", "fromDate", "toDate", "email")


def _brand_staff_email(session: Session, brand_id: str, email: str) -> bool:
    """Whether ``email`` (any case) is the address of an active staff user who works in the brand (its home brand,
    or a role there)."""
    works_here = or_(
        StaffUser.brand_id == brand_id,
        exists().where(StaffBrandRole.staff_id == StaffUser.id, StaffBrandRole.brand_id == brand_id),
    )
    found = session.scalar(
        select(StaffUser.id).where(
            func.lower(StaffUser.email) == email.strip().lower(), StaffUser.is_active.is_(True), works_here
        )
    )
    return found is not None


@router.get("/brand/{brand_id}/master-report/email/{job}", response_model=ReportJob)
def email_job(request: Request, brand_id: str, job: str, staff: Mailer) -> dict[str, Any]:
    """The state of a master-report email job of this brand (read from the job's stored state, whether or not a
    worker is up); 404 when the brand has no such job."""
    state = jobs.read_state(request.app.state.storage, brand_id, job) if is_uuid(job) else None
    if state is None:
        raise NotFound("report job not found")
    return state
