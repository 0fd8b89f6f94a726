"""The request and answer models of the partner-lender routes (``api/partner/partner_lenders.py``): settings in
(camelCase, unknown keys refused), partners, rules, routing, a loan's offers, attempts and disbursal case, the SLA
report's rows and a disbursal callback's answer. Money is paise, rates basis points, times as named."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from activities.providers.partners import ADAPTERS
from api.responses import ApiModel


class In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PricingIn(In):
    annual_rate_bps: int = Field(ge=0, le=5000, description="nominal rate, basis points a year (1850 = 18.50 %)")
    processing_fee_bps: int = Field(default=0, ge=0, le=1000, description="basis points of the principal")
    processing_fee_min: int = Field(default=0, ge=0, description="paise")
    processing_fee_max: int | None = Field(default=None, ge=0, description="paise; null: no cap")
    gst_percent: str = Field(default="18", pattern=r"^\d{1,2}(\.\d{1,2})?$")


class SettingsIn(In):
    base_url: str = Field(min_length=8, max_length=300, pattern=r"^https?://")
    api_key: str = Field(default="", max_length=300)
    webhook_secret: str = Field(default="", max_length=300, description="HMAC secret where the lender signs")
    partner_id: str | None = Field(default=None, max_length=100, description="the lender's id for us (Lendbox)")
    disbursal_recheck_seconds: int | None = Field(
        default=None, ge=60, le=86_400, description="a late disbursal is asked about again after this (default 900)"
    )
    disbursal_max_checks: int | None = Field(
        default=None, ge=1, le=50, description="checks with no UTR before it is escalated to admins (default 4)"
    )


class PartnerIn(In):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    adapter: str = Field(description="the adapter module: " + ", ".join(sorted(ADAPTERS)))
    active: bool = True
    priority: int = Field(default=100, ge=0, le=10_000)
    min_amount: int = Field(gt=0, description="paise")
    max_amount: int = Field(gt=0, description="paise")
    min_tenure: int = Field(gt=0, le=1200, description="installments")
    max_tenure: int = Field(gt=0, le=1200, description="installments")
    pricing: PricingIn
    sla: dict[str, int] = Field(default_factory=dict, description="seconds per step: DECISION, DISBURSAL")
    settings: SettingsIn


class RulesIn(In):
    rules: list[dict[str, Any]] = Field(max_length=50, description='rows {"fact", "op", "value", "reason"}')
    note: str | None = Field(default=None, max_length=200)


class RoutingIn(In):
    borrower_pick: bool
    pick_window_seconds: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)


class PartnerView(ApiModel):
    id: str
    code: str
    name: str
    adapter: str
    active: bool
    priority: int
    min_amount: int
    max_amount: int
    min_tenure: int
    max_tenure: int
    pricing: dict[str, Any]
    sla: dict[str, int]
    settings: dict[str, Any] = Field(description="credentials masked")
    rules_version: int


class RulesView(ApiModel):
    version: int
    in_force: bool
    rules: list[dict[str, Any]]
    note: str | None
    created_by: str | None
    created_at: str | None


class RoutingView(ApiModel):
    borrower_pick: bool
    pick_window_seconds: int


class OfferView(ApiModel):
    id: str
    round: int
    partner_code: str
    partner_name: str
    status: str
    reasons: list[str]
    rules_version: int
    amount: int
    tenure: int
    annual_rate_bps: int
    emi: int
    total_interest: int
    fees: int
    gst: int
    third_party: int
    net_disbursed: int
    total_payable: int
    apr: str
    picked: bool


class AttemptView(ApiModel):
    partner_code: str
    offer_id: str
    outcome: str
    reason: str | None
    partner_reference: str | None
    elapsed_ms: int
    sla_seconds: int
    sla_breached: bool
    started_at: str | None


class DisbursalView(ApiModel):
    """The partner's disbursal of the booked loan against its DISBURSAL SLA (docs/partner-lenders.md)."""

    state: str = Field(description="PENDING, BREACHED, ESCALATED or CONFIRMED")
    partner_code: str
    partner_reference: str | None
    amount: int = Field(description="paise: the offer's net disbursal")
    disbursed_at: str | None
    sla_seconds: int
    due_at: str | None
    utr: str | None
    confirmed_at: str | None
    confirmed_via: str | None = Field(description="CALLBACK or STATUS_API")
    breached: bool
    breached_at: str | None
    escalated_at: str | None
    checks: int
    next_check_at: str | None
    check_log: list[dict[str, Any]] = Field(
        description='the status checks, oldest first: {"at", "status", "utr", "detail"}'
    )
    resend: ResendView | None = Field(default=None, description="the re-send of its disbursal request, if any")


class ResendView(ApiModel):
    """The one re-send of the partner's disbursal request on a case (docs/partner-lenders.md)."""

    reference: str = Field(description="the partner's idempotency reference sent, the same on every retry")
    reason: str = Field(description="FAILED or NOT_FOUND: what the partner's status API said")
    status: str = Field(description="SENT, ACCEPTED, REFUSED or ERROR")
    partner_status: str | None
    detail: str | None
    attempts: int
    sent_at: str
    answered_at: str | None


class DisbursalCaseRow(ApiModel):
    """An open partner disbursal case, as loan ops watch it (``GET .../partner-lenders/disbursals``)."""

    case_id: str
    loan_id: str
    loan_status: str
    amount: int = Field(description="paise: the offer's net disbursal")
    partner_code: str
    partner_name: str
    partner_reference: str | None
    state: str = Field(description="PENDING, BREACHED or ESCALATED")
    disbursed_at: str | None
    sla_seconds: int
    due_at: str | None
    overdue_seconds: int = Field(description="seconds past the due time now; 0 within the SLA")
    checks: int
    last_answer: str | None = Field(description="the latest status answer or log entry (PENDING, FAILED, RESENT...)")
    check_log: list[dict[str, Any]]
    breached: bool
    breached_at: str | None
    escalated_at: str | None
    next_check_at: str | None
    resend: ResendView | None


class LoanRoutingView(ApiModel):
    loan_id: str
    offers: list[OfferView]
    attempts: list[AttemptView]
    disbursal: DisbursalView | None = Field(default=None, description="null until a booked loan is disbursed")


class SlaRow(ApiModel):
    partner_code: str
    attempts: int
    accepted: int
    rejected: int
    errors: int
    breaches: int
    breach_rate: str
    median_ms: int
    max_ms: int
    disbursals: int = Field(description="booked loans disbursed in the period whose partner disbursal is tracked")
    disbursals_confirmed: int
    disbursals_open: int
    disbursal_breaches: int = Field(description="UTR not confirmed within the partner's DISBURSAL SLA")
    disbursals_escalated: int
    disbursal_median_seconds: int = Field(description="from the loan's disbursal to the partner's UTR")
    disbursal_max_seconds: int


class CallbackAnswer(ApiModel):
    """What was done with a verified disbursal callback: ``applied`` (its UTR taken), ``recorded`` (a status with
    no UTR, logged), ``duplicate`` (a UTR was taken before: nothing changed) or ``ignored`` (with the reason)."""

    status: str = Field(description="applied, recorded, duplicate or ignored")
    event_id: str
    reason: str | None = None
