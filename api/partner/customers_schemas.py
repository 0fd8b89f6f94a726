"""Request and response models of the staff customer routes (``api/partner/customers.py``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.deps import MAX_PAGE
from api.loan_views import StaffLoanSummary
from api.responses import ApiModel
from api.types import IsoDate, Uuid, Whole


class CustomerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"  # no new business (fraud, the customer's request...)
    SUSPENDED = "SUSPENDED"  # on hold for a while (a dispute, a check pending)


class KycState(StrEnum):
    VERIFIED = "VERIFIED"  # PAN and Aadhaar verified
    PARTIAL = "PARTIAL"  # one of them
    PENDING = "PENDING"  # neither


class CustomerSummary(ApiModel):
    """A customer in the list."""

    id: str
    phone: str
    full_name: str | None
    email: str | None
    pan_masked: str | None = Field(description="ABXXXXX34F; never the full PAN")
    pan_verified: bool
    aadhaar_verified: bool
    kyc_state: KycState
    onboarding_step: str
    status: CustomerStatus
    assigned_to: str | None = Field(description="the staff id holding the customer; null: unallocated")
    created_at: str


class CustomerPage(ApiModel):
    items: list[CustomerSummary]
    page: int
    limit: int
    total: int


class KycCheck(ApiModel):
    """One KYC provider call about the customer (the vendor's answer itself is not shown)."""

    kind: str
    provider: str
    outcome: str
    score: str | None = Field(description="e.g. a name-match score, a decimal string")
    loan_id: str | None
    at: str


class DocumentView(ApiModel):
    id: str
    doc_type: str
    file_name: str
    content_type: str
    size_bytes: int
    status: str = Field(description="PENDING, VERIFIED or REJECTED")
    reject_reason: str | None
    verified_at: str | None
    created_at: str


class BankAccountView(ApiModel):
    id: str
    account_masked: str = Field(description="XXXX and the last 4 digits")
    ifsc: str
    bank_name: str | None
    beneficiary_name: str | None
    name_match_score: str | None
    penny_drop_status: str
    is_primary: bool
    verified_at: str | None


class EmploymentView(ApiModel):
    id: str
    employer_name: str
    employment_type: str
    monthly_salary_paise: int | None
    joined_on: str | None = Field(description="YYYY-MM-DD")
    verified: bool
    provider: str | None


class CallView(ApiModel):
    """A click-to-call with the customer (the dialer's call log)."""

    id: str
    provider: str
    status: str
    direction: str
    loan_id: str | None
    staff_id: str
    customer_number_masked: str | None
    started_at: str | None
    answered_at: str | None
    ended_at: str | None
    duration_seconds: int
    hangup_cause: str | None


class CustomerDetail(CustomerSummary):
    """One customer's file."""

    first_name: str | None
    last_name: str | None
    dob: str | None = Field(description="YYYY-MM-DD")
    gender: str | None
    address: str | None
    pincode: str | None
    city: str | None
    state: str | None
    phone_verified: bool
    pan_name: str | None
    aadhaar_masked: str | None = Field(description="the last 4 digits only")
    status_reason: str | None
    utm: dict[str, Any]
    kyc: list[KycCheck]
    documents: list[DocumentView]
    bank_accounts: list[BankAccountView]
    employment: list[EmploymentView]
    loans: list[StaffLoanSummary]
    calls: list[CallView]
    reminders: list[dict[str, Any]] = Field(description="the staff reminders, the latest scheduled first")


class CustomerFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CustomerStatus | None = None
    assigned_to: str | None = Field(default=None, alias="assignedTo", description="me, none or a staff id")
    kyc_state: KycState | None = Field(default=None, alias="kycState")
    created_from: IsoDate | None = Field(default=None, alias="createdFrom")
    created_to: IsoDate | None = Field(default=None, alias="createdTo")
    search: str | None = Field(default=None, max_length=100, description="phone, PAN, e-mail, name or customer id")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)


class AllocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: Uuid | None = Field(alias="staffId", description="the new holder; null puts the customer back")
    reason: str | None = Field(default=None, max_length=500)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CustomerStatus
    reason: str = Field(min_length=1, max_length=1000, description="why (kept on the customer and audited)")
