"""A brand's editable configuration (``Brand.config``, seed 001 BrandConfig), validated.

Shared by the brand's own settings (``/api/v1/partner/brand/{brandId}/settings/brand``) and the platform
admin (``/api/v1/admin/settings/brand/{brandId}``). The keys are stored snake_case, exactly as the code reads
them; the code reads them through one typed model holding every default, ``domain.brand_config.BrandConfig``
(``BrandConfig.of(brand.config)``). The API speaks camelCase. An update is partial: only the keys sent
change, ``null`` removes a key (the default applies again). ``providers`` is not edited here: it has its own
routes, with secrets masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy.orm import Session

from activities.providers.base import BusinessRefusal, ProviderConfig
from api.types import Paise
from db.evaluation_items import active_evaluation_items
from db.models import Brand
from domain import bre
from domain.access import Role
from domain.allocation import AllocationConfig, Component, CurrentRule, Processing
from domain.brand_config import DAY, BrandConfig
from domain.collection_policy import CollectionPolicy, ReloanPolicy
from domain.errors import ValidationError
from domain.evaluation import EngineVersion
from domain.evaluation_policy import brand_policy
from domain.kyc import KycStep, validate_kyc_steps
from domain.ops_jobs import OpsJobsPolicy
from domain.schedule import PrepaymentMode
from domain.sme.settings import sme_settings

# The steps the loan workflow carries out (activities/kyc/, and Aadhaar through workflow updates); SELFIE
# is not automated, a brand listing it would only see it skipped.
AUTOMATED_KYC_STEPS = frozenset(KycStep) - {KycStep.SELFIE}
STAFF_ROLES = tuple(r.value for r in Role if r is not Role.SUPER_ADMIN)


# What the code uses when a key is not set: the read model's defaults (``domain.brand_config.BrandConfig``).
DEFAULTS: dict[str, Any] = BrandConfig.defaults()

# A brand created by the platform admin: the demo seed's credit policy, the code's durations (all the code's
# defaults, written out so the brand's settings show them), no providers.
NEW_BRAND_CONFIG: dict[str, Any] = {
    **{
        key: DEFAULTS[key]
        for key in (
            "min_credit_score",
            "auto_sanction_score",
            "esign_expiry_seconds",
            "kyc_steps",
            "kyc_timeout_seconds",
            "name_match_threshold",
        )
    },
    "providers": {},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BreSettings(_Model):
    """The BRE's hard rules (``domain.bre.BreConfig``); when set, the BRE reads only these."""

    min_bureau_score: int | None = Field(default=None, alias="minBureauScore", ge=300, le=900)
    max_dpd: int | None = Field(default=None, alias="maxDpd", ge=0, le=999)
    dpd_lookback_months: int | None = Field(default=None, alias="dpdLookbackMonths", ge=1, le=120)
    max_active_loans: int | None = Field(default=None, alias="maxActiveLoans", ge=0, le=100)
    max_enquiries_30d: int | None = Field(default=None, alias="maxEnquiries30d", ge=0, le=100)
    min_age: int | None = Field(default=None, alias="minAge", ge=18, le=100)
    max_age: int | None = Field(default=None, alias="maxAge", ge=18, le=100)
    salary_threshold: Paise | None = Field(default=None, alias="salaryThreshold", description="paise a month")
    rejection_duration_days: int | None = Field(default=None, alias="rejectionDurationDays", ge=0, le=3650)
    enable_central_dedup: bool | None = Field(default=None, alias="enableCentralDedup")


class PaymentAllocation(_Model):
    """How a repayment is split over dues (``domain.allocation.AllocationConfig``)."""

    overdue_order: list[Component] | None = Field(default=None, alias="overdueOrder")
    current_order: list[Component] | None = Field(default=None, alias="currentOrder")
    processing: Processing | None = None
    current_rule: CurrentRule | None = Field(default=None, alias="currentRule")
    advance_to_principal: bool | None = Field(default=None, alias="advanceToPrincipal")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https://[^\s]+$")]


class BureauReportingIn(BaseModel):
    """Reporting to the credit bureaus (CICs): whether the brand's files are built, and the member identity the CICs
    issued (docs/bureau-reporting.md)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = False
    member_code: str | None = Field(
        default=None, alias="memberCode", pattern=r"^[A-Z0-9]{1,10}$", description="the CIC member id, e.g. NB12345678"
    )
    member_short_name: str | None = Field(default=None, alias="memberShortName", min_length=1, max_length=16)
    account_type: str | None = Field(
        default=None, alias="accountType", pattern=r"^[0-9]{2}$", description="TUDF account type; 05 personal loan"
    )


class BrandConfigIn(_Model):
    """Every editable key; all optional (a partial update)."""

    min_credit_score: int | None = Field(default=None, alias="minCreditScore", ge=300, le=900)
    auto_sanction_score: int | None = Field(default=None, alias="autoSanctionScore", ge=300, le=900)
    esign_expiry_seconds: int | None = Field(default=None, alias="esignExpirySeconds", ge=60, le=30 * DAY)
    kyc_steps: list[str] | None = Field(default=None, alias="kycSteps", max_length=len(KycStep))
    kyc_timeout_seconds: int | None = Field(default=None, alias="kycTimeoutSeconds", ge=60, le=30 * DAY)
    name_match_threshold: int | None = Field(default=None, alias="nameMatchThreshold", ge=0, le=100)
    ckyc_match_threshold: int | None = Field(default=None, alias="ckycMatchThreshold", ge=0, le=100)
    mobile_pan_must_match: bool | None = Field(default=None, alias="mobilePanMustMatch")
    aa_enabled: bool | None = Field(default=None, alias="aaEnabled")
    statement_max_age_days: int | None = Field(default=None, alias="statementMaxAgeDays", ge=1, le=365)
    bre: BreSettings | None = None
    evaluation_version: EngineVersion | None = Field(default=None, alias="evaluationVersion")
    auto_sanction_threshold: int | None = Field(default=None, alias="autoSanctionThreshold", ge=0, le=100)
    manual_review_threshold: int | None = Field(default=None, alias="manualReviewThreshold", ge=0, le=100)
    allocation_role: str | None = Field(default=None, alias="allocationRole")
    allocation_cap: int | None = Field(default=None, alias="allocationCap", ge=1, le=10_000)
    customer_allocation_role: str | None = Field(default=None, alias="customerAllocationRole")
    customer_allocation_cap: int | None = Field(default=None, alias="customerAllocationCap", ge=1, le=100_000)
    cam_required: bool | None = Field(default=None, alias="camRequired")
    imps_limit: int | None = Field(default=None, alias="impsLimit", ge=1, le=500_000_00)
    pennydrop_max_age_hours: int | None = Field(default=None, alias="pennydropMaxAgeHours", ge=0, le=24 * 90)
    transfer_sla_seconds: int | None = Field(default=None, alias="transferSlaSeconds", ge=5, le=7 * DAY)
    lender_legal_name: Text | None = Field(default=None, alias="lenderLegalName")
    grievance_officer: LongText | None = Field(default=None, alias="grievanceOfficer")
    nodal_officer: LongText | None = Field(default=None, alias="nodalOfficer")
    recovery_policy_url: Url | None = Field(default=None, alias="recoveryPolicyUrl")
    partner_name: Text | None = Field(default=None, alias="partnerName")
    logo_url: Url | None = Field(default=None, alias="logoUrl")
    brand_colour: str | None = Field(
        default=None, alias="brandColour", pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb, the front ends' colour"
    )
    prepayment_mode: PrepaymentMode | None = Field(default=None, alias="prepaymentMode")
    npa_days: int | None = Field(default=None, alias="npaDays", ge=61, le=180)
    cooling_off_days: int | None = Field(default=None, alias="coolingOffDays", ge=1, le=30)
    reminder_days: int | None = Field(default=None, alias="reminderDays", ge=1, le=15)
    autopay_retries: int | None = Field(default=None, alias="autopayRetries", ge=0, le=5)
    autopay_retry_days: int | None = Field(default=None, alias="autopayRetryDays", ge=1, le=15)
    min_prepayment: int | None = Field(default=None, alias="minPrepayment", ge=1_00, le=10_00_000_00)
    allocation: PaymentAllocation | None = Field(default=None, alias="paymentAllocation")
    collections: dict[str, Any] | None = None
    reloan: dict[str, Any] | None = None
    ops_jobs: dict[str, Any] | None = Field(default=None, alias="opsJobs")
    bureau_reporting: BureauReportingIn | None = Field(default=None, alias="bureauReporting")
    sme: dict[str, Any] | None = None

    @field_validator("sme")
    @classmethod
    def _sme(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                sme_settings({"sme": value})  # rates and limits in range (invoice financing)
            except ValidationError as exc:
                raise ValueError(f"{exc.field}: {exc.message}") from None
        return value

    @field_validator("ops_jobs")
    @classmethod
    def _ops_jobs(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                OpsJobsPolicy.of(value)  # days and limits in range, risk category known
            except ValidationError as exc:
                raise ValueError(f"{exc.field}: {exc.message}") from None
        return value

    @field_validator("collections")
    @classmethod
    def _collections(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                CollectionPolicy.of(value)  # buckets contiguous, roles known, limits whole paise
            except ValidationError as exc:
                raise ValueError(f"{exc.field}: {exc.message}") from None
        return value

    @field_validator("reloan")
    @classmethod
    def _reloan(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                ReloanPolicy.of(value)
            except ValidationError as exc:
                raise ValueError(f"{exc.field}: {exc.message}") from None
        return value

    @field_validator("kyc_steps")
    @classmethod
    def _steps(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        try:
            steps = validate_kyc_steps(value)  # PAN first, known, no repeats
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        manual = [s.value for s in steps if s not in AUTOMATED_KYC_STEPS]
        if manual:
            raise ValueError(f"not an automated KYC step: {', '.join(manual)}")
        return [s.value for s in steps]

    @field_validator("allocation_role", "customer_allocation_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and value not in STAFF_ROLES:
            raise ValueError(f"unknown staff role {value!r}; allowed: {', '.join(STAFF_ROLES)}")
        return value


class BrandSettingsIn(BrandConfigIn):
    """The brand's name and its configuration (partial)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


_NESTED: dict[str, type[BaseModel]] = {"bre": BreSettings, "allocation": PaymentAllocation}


def _alias(model: type[BaseModel], name: str) -> str:
    field = model.model_fields.get(name)
    return (field.alias or name) if field else name


def _json(name: str, value: Any) -> Any:
    nested = _NESTED.get(name)
    if nested is not None and isinstance(value, Mapping):
        return {_alias(nested, k): v for k, v in value.items() if v is not None}
    return value


def config_view(config: Mapping[str, Any]) -> dict[str, Any]:
    """The editable keys the brand has set (camelCase)."""
    return {
        _alias(BrandConfigIn, name): _json(name, value)
        for name, value in config.items()
        if name in BrandConfigIn.model_fields and value is not None
    }


def effective_view(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every editable key with the value the code uses: the brand's, else the default (as the code reads it).
    A stored value the code cannot read (never saved through these routes) is shown as stored, to be fixed."""
    try:
        values = BrandConfig.of(config).as_dict()
    except ValidationError:
        values = {name: default if config.get(name) is None else config[name] for name, default in DEFAULTS.items()}
    return {_alias(BrandConfigIn, name): _json(name, value) for name, value in values.items()}


def brand_view(brand: Brand) -> dict[str, Any]:
    return {
        "id": brand.id,
        "code": brand.code,
        "name": brand.name,
        "isActive": brand.is_active,
        "config": config_view(brand.config or {}),
        "effective": effective_view(brand.config or {}),
    }


def merge(stored: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` (snake_case, JSON values) over ``stored``: ``None`` removes a key; a nested object (``bre``,
    ``allocation``) is merged key by key the same way."""
    merged = dict(stored)
    for key, value in patch.items():
        if isinstance(value, Mapping):
            value = {k: v for k, v in {**(stored.get(key) or {}), **value}.items() if v is not None} or None
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check_config(session: Session, brand_id: str, config: Mapping[str, Any], changed: Mapping[str, Any]) -> None:
    """Rules across keys, on the merged config; the error names the key the update sent."""

    def blame(*names: str) -> str:
        return _alias(BrandConfigIn, next((n for n in names if n in changed), names[0]))

    try:  # what is saved must read back through the model the code reads with
        read = BrandConfig.of(config)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=_alias(BrandConfigIn, exc.field or "")) from exc
    if read.auto_sanction_score < read.min_credit_score:
        raise ValidationError(
            f"must not be below the minimum credit score {read.min_credit_score}",
            field=blame("auto_sanction_score", "min_credit_score"),
        )
    if read.bre:
        try:
            bre.BreConfig.from_dict(read.bre, strict=True)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"bre.{_alias(BreSettings, exc.field or '')}") from exc
    if read.allocation:
        try:
            AllocationConfig(**read.allocation)
        except ValidationError as exc:
            field = _alias(PaymentAllocation, exc.field or "")
            raise ValidationError(exc.message, field=f"paymentAllocation.{field}") from exc
    check_evaluation(session, brand_id, config, field=blame("evaluation_version", "manual_review_threshold"))


def check_evaluation(session: Session, brand_id: str, config: Mapping[str, Any], *, field: str) -> None:
    """The evaluation policy the credit decision will build (``domain.evaluation_policy.brand_policy`` over the
    brand's active items, or without any the two score bands) must be valid, else every decision would fail."""
    items = active_evaluation_items(session, brand_id)
    read = BrandConfig.of(config)
    version = read.evaluation_version
    try:
        brand_policy(read, items)
    except ValidationError as exc:
        if exc.field in ("auto_sanction_threshold", "manual_review_threshold"):
            raise ValidationError(exc.message, field=_alias(BrandConfigIn, exc.field)) from exc
        if exc.field == "items" and not any(i["version"] == version for i in items):
            raise ValidationError(
                f"the brand evaluates with {version} and has no active {version} item", field=field
            ) from exc
        raise ValidationError(exc.message, field=field) from exc


def update_brand(session: Session, brand: Brand, body: BrandSettingsIn) -> tuple[dict, dict]:
    """Apply a validated partial update to ``brand`` (name and config); returns (before, after) of what
    changed, camelCase, for the audit log. Nothing is changed when a rule across keys fails."""
    patch = body.model_dump(mode="json", exclude_unset=True, exclude={"name"})
    stored = dict(brand.config or {})
    merged = merge(stored, patch)
    check_config(session, brand.id, merged, patch)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if body.name is not None and body.name != brand.name:
        before["name"], after["name"], brand.name = brand.name, body.name, body.name
    old, new = config_view(stored), config_view(merged)
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            before[key], after[key] = old.get(key), new.get(key)
    brand.config = merged
    return before, after


# ------------------------------------------------------------------------------------------ providers
def mask(secret: str) -> str:
    """A secret as staff see it: its last four characters at most."""
    if not secret:
        return ""
    return "****" + (secret[-4:] if len(secret) >= 12 else "")


# Vendor options that are credentials (ICICI's client_private_key, a vendor's auth_token...): shown masked like the
# API key, and kept when sent back as shown. Identifiers (key_id, merchant_id, sender_id) are not secrets.
_SECRET_OPTION_WORDS = ("secret", "private", "password", "passphrase", "token")


def is_secret_option(name: str) -> bool:
    """Whether the vendor option ``name`` holds a credential (masked in every answer)."""
    low = name.lower()
    return any(word in low for word in _SECRET_OPTION_WORDS) or low in ("key", "apikey") or low.endswith("_key")


def masked_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` as staff see them: each credential (``is_secret_option``) masked like an API key."""
    return {k: mask(v) if isinstance(v, str) and is_secret_option(k) else v for k, v in options.items()}


def configured(config: Mapping[str, Any], kind: str) -> list[ProviderConfig]:
    """The vendors configured for ``kind``, in order; a malformed entry counts as nothing (to be set again)."""
    try:
        return ProviderConfig.configured(config, kind)
    except BusinessRefusal:
        return []


def providers_view(config: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The vendors configured for ``kind`` in order, secrets masked."""
    return [
        {
            "vendor": c.vendor,
            "baseUrl": c.base_url,
            "apiKey": mask(c.api_key),
            "webhookSecret": mask(c.webhook_secret),
            "previousSecret": mask(c.previous_secret),
            "previousSecretUntil": c.previous_secret_until or None,
            "primary": c.primary,
            "active": c.active,
            "options": masked_options(c.options),
        }
        for c in configured(config, kind)
    ]


def providers_summary(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per configured kind: its vendors, and the one a call tries first (no URLs, no secrets)."""
    out = {}
    for kind in sorted(config.get("providers") or {}):
        try:
            first: str | None = ProviderConfig.from_brand(config, kind).vendor
        except BusinessRefusal:
            first = None
        out[kind] = {"vendors": [v["vendor"] for v in providers_view(config, kind)], "primary": first}
    return out
