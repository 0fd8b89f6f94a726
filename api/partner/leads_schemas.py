"""Lead forms: the request and answer shapes of /api/v1/partner/brand/{brandId}/lead-forms (``api/partner/leads.py``),
with the limits they enforce (docs/operations.md, "Lead forms")."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.deps import MAX_PAGE
from api.responses import ApiModel
from api.types import IsoDate, Uuid, Whole
from domain.errors import ValidationError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_BULK = 500
MAX_ERRORS = 200  # invalid rows listed in an upload's answer (all are counted)
CSV_TYPES = {"", "text/csv", "text/plain", "text/tab-separated-values", "application/vnd.ms-excel"}
CSV_TYPES |= {"application/octet-stream", "application/csv"}
NO_CUSTOMER = "no customer with this phone or email"


class LeadStatus(StrEnum):
    """A lead's state: NEW until a sync matches it (PROCESSED) or not (FAILED); DUPLICATE when uploaded again."""

    NEW = "NEW"  # seed 000's PENDING: waiting for a sync
    DUPLICATE = "DUPLICATE"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


# ------------------------------------------------------------------------------------------- models
class LeadFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    search: str | None = Field(default=None, min_length=1, max_length=100, description="name, phone or e-mail")
    status: LeadStatus | None = None
    source: str | None = Field(default=None, pattern=r"^[A-Z_]{2,20}$", description="FACEBOOK, ORGANIC...")
    is_paid: bool | None = Field(default=None, alias="isPaid", description="false: organic leads")
    batch_id: Uuid | None = Field(default=None, alias="batchId", description="the upload's batch id")
    from_date: IsoDate | None = Field(default=None, alias="fromDate", description="imported on or after (IST)")
    to_date: IsoDate | None = Field(default=None, alias="toDate", description="imported on or before (IST)")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _range(self) -> LeadFilters:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise ValidationError("must not be before fromDate", field="toDate")
        return self


Filters = Annotated[LeadFilters, Query()]


class RowProblem(ApiModel):
    line: int
    column: str
    reason: str


class UploadOut(ApiModel):
    batch_id: str
    rows: int = Field(description="data rows read (blank lines not counted)")
    created: int = Field(description="stored as NEW")
    duplicates: int = Field(description="stored as DUPLICATE")
    invalid: int = Field(description="rows refused (not stored)")
    errors: list[RowProblem] = Field(description=f"the refused rows' problems (the first {MAX_ERRORS})")


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: Uuid | None = Field(default=None, alias="batchId", description="only this upload's NEW leads")


class SyncOut(ApiModel):
    processed: int
    failed: int


class Campaign(ApiModel):
    campaign_id: str | None
    campaign_name: str | None
    ad_set_id: str | None
    ad_set_name: str | None
    ad_id: str | None
    ad_name: str | None
    form_id: str | None
    form_name: str | None
    platform: str | None


class LeadRowOut(ApiModel):
    id: str
    source: str
    is_paid: bool
    status: str
    full_name: str | None
    phone: str | None
    email: str | None
    campaign_name: str | None
    ad_set_name: str | None
    form_name: str | None
    customer_id: str | None
    failure_reason: str | None
    batch_id: str | None
    lead_created_at: str | None
    created_at: str | None


class LeadDetail(LeadRowOut):
    external_id: str | None
    campaign: Campaign
    responses: dict[str, str] = Field(description="the form's other answers, by question")
    processed_at: str | None


class LeadStats(ApiModel):
    total: int
    new: int
    processed: int
    failed: int
    duplicate: int
    paid: int
    organic: int


class LeadPage(ApiModel):
    items: list[LeadRowOut]
    page: int
    limit: int
    total: int
    stats: LeadStats = Field(description="over the filters other than status")


class BulkDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[Uuid] = Field(min_length=1, max_length=MAX_BULK, description="all of the brand, or nothing")

    @field_validator("ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a lead is listed twice")
        return value


class BulkDeleteOut(ApiModel):
    deleted: int
    ids: list[str]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: LeadStatus = Field(description="NEW (sync it again), FAILED or DUPLICATE; PROCESSED is set by a sync")
    reason: str = Field(min_length=1, max_length=1000, description="why (kept on the lead and audited)")
