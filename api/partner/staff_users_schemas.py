"""Response models of the brand's staff routes (``api/partner/staff_users.py``): its users, the loans allocated
to one of them, and the brand's audit log. Instants are ISO 8601 strings with their offset, as the views write
them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.loan_views import StaffLoanSummary
from api.responses import ApiModel
from domain.access import Role

INSTANT = "ISO 8601 instant with its offset"


class StaffMember(ApiModel):
    """A staff account as the brand sees it (never the password hash)."""

    id: str
    email: str
    name: str
    phone: str | None = Field(description="10-digit mobile number")
    role: Role | None = Field(description="the role held in this brand")
    is_active: bool = Field(description="false: the account cannot sign in")
    reporting_to_id: str | None = Field(description="staff id of their manager")
    last_login_at: str | None = Field(description=f"the last successful sign-in; {INSTANT}")
    created_at: str | None = Field(description=INSTANT)


class StaffMemberPage(ApiModel):
    """One page of the brand's staff, by name."""

    items: list[StaffMember]
    page: int
    limit: int
    total: int = Field(description="users matching the filters, on every page")


class StaffMemberRemoved(ApiModel):
    """The user no longer works in this brand."""

    id: str
    removed: bool = Field(description="always true")
    is_active: bool = Field(description="false when they worked in no other brand (the account is deactivated)")
    released_loans: list[str] = Field(description="ids of the loans they held here, back in the pool")


class LoansAllocated(ApiModel):
    """Every listed loan, now held by the user."""

    staff_id: str
    items: list[StaffLoanSummary]


class AuditEntry(ApiModel):
    """One recorded change: who, what, and the changed fields before and after (camelCase, as the API shows)."""

    id: str
    brand_id: str | None
    actor_id: str | None = Field(description="staff id; null: no one was signed in")
    actor_email: str | None
    actor_role: str | None
    action: str = Field(description='e.g. "settings.loan_rule.update", "loan.allocate"')
    entity_type: str = Field(description='e.g. "loan", "staff_user", "request"')
    entity_id: str | None
    method: str | None = Field(description="the HTTP method of the request that made the change")
    path: str | None = Field(description="the request's path")
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: str = Field(description=INSTANT)


class AuditPage(ApiModel):
    """One page of the brand's audit log, newest first."""

    items: list[AuditEntry]
    page: int
    limit: int
    total: int = Field(description="entries matching the filters, on every page")
