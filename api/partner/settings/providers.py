"""The vendors of each provider kind, their order, URLs and secrets: /settings/providers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from pydantic import Field, create_model

from activities.providers import VENDORS
from api.access import audit
from api.brand_config import configured, is_secret_option, mask, providers_view
from api.partner.settings.common import Db, Manager, Strict, Viewer, settings_router
from api.responses import ApiModel
from db.models import Brand
from domain.errors import ValidationError

router = settings_router()

RESERVED_OPTIONS = frozenset(
    {"vendor", "base_url", "api_key", "webhook_secret", "primary", "active", "previous_secret", "previous_secret_until"}
)
# How long a rotated webhook secret is still accepted when the request does not say (vendors retry for up to a day)
DEFAULT_OVERLAP_HOURS = 24


class VendorIn(Strict):
    vendor: str = Field(max_length=40)
    base_url: str | None = Field(
        default=None, alias="baseUrl", pattern=r"^https?://\S+$", max_length=500, description="kept if not sent"
    )
    api_key: str | None = Field(default=None, alias="apiKey", max_length=500, description="kept if not sent")
    webhook_secret: str | None = Field(
        default=None, alias="webhookSecret", max_length=500, description="kept if not sent"
    )
    active: bool = True
    # shown by GET and accepted back unchanged (a view sent back as it was); never set this way
    previous_secret: str | None = Field(default=None, alias="previousSecret", max_length=500, description="ignored")
    previous_secret_until: str | None = Field(
        default=None, alias="previousSecretUntil", max_length=60, description="ignored"
    )
    secret_overlap_hours: int = Field(
        default=DEFAULT_OVERLAP_HOURS,
        alias="secretOverlapHours",
        ge=0,
        le=168,
        description="when webhookSecret changes: hours the previous secret is still accepted (0: at once refused)",
    )
    options: dict[str, str | int | float | bool] | None = Field(
        default=None, description="vendor options, e.g. timeout_seconds; kept if not sent"
    )


class ProvidersIn(Strict):
    vendors: list[VendorIn] = Field(max_length=10, description="in the order failover tries them; [] removes")
    primary: str | None = Field(default=None, description="the vendor tried first (default: the first active)")


class ConfiguredVendor(ApiModel):
    """One vendor the brand configured for a kind, in failover order; secrets masked."""

    vendor: str
    base_url: str
    api_key: str = Field(description="masked: **** and at most the last four characters; empty when none")
    webhook_secret: str = Field(description="masked like apiKey")
    previous_secret: str = Field(default="", description="the webhook secret before its last rotation, masked")
    previous_secret_until: str | None = Field(
        default=None, description="until when (ISO 8601) a webhook signed with the previous secret is accepted"
    )
    primary: bool = Field(description="the vendor tried first")
    active: bool
    options: dict[str, Any] = Field(description="vendor options, e.g. timeout_seconds")


class KindProviders(ApiModel):
    """A provider kind: the vendors the platform has adapters for, and the brand's."""

    available: list[str] = Field(description="vendor names with an adapter, alphabetical")
    vendors: list[ConfiguredVendor]


# One key per provider kind (kyc, bureau, esign...), named as the kind.
_EVERY_KIND: dict[str, Any] = {kind: (KindProviders, Field(alias=kind)) for kind in VENDORS}
_ONE_KIND: dict[str, Any] = {kind: (KindProviders | None, Field(default=None, alias=kind)) for kind in VENDORS}
Providers = create_model(
    "Providers",
    __base__=ApiModel,
    __doc__="Every provider kind of the platform, with the brand's vendors for it.",
    __module__=__name__,
    **_EVERY_KIND,
)
ProvidersChanged = create_model(
    "ProvidersChanged",
    __base__=ApiModel,
    __doc__="The one provider kind just set (the key is the kind).",
    __module__=__name__,
    **_ONE_KIND,
)


def _secret(sent: str | None, old: str) -> str:
    """A secret not sent, or sent back as shown (masked), stays as it was."""
    return old if sent is None or (old and sent == mask(old)) else sent


def _providers_of(config: dict[str, Any]) -> dict[str, Any]:
    return {kind: {"available": sorted(VENDORS[kind]), "vendors": providers_view(config, kind)} for kind in VENDORS}


@router.get("/providers", response_model=Providers)
def get_providers(brand_id: str, staff: Viewer, session: Db) -> dict:
    """Per provider kind: the vendors the platform has adapters for, and the brand's, in order (secrets masked)."""
    return _providers_of(session.get_one(Brand, brand_id).config or {})


@router.put("/providers/{kind}", response_model=ProvidersChanged, response_model_exclude_unset=True)
def put_providers(request: Request, brand_id: str, kind: str, body: ProvidersIn, staff: Manager, session: Db) -> dict:
    """Set the vendors of one kind: their order, the primary, which are active, URLs, secrets and options."""
    if kind not in VENDORS:
        raise ValidationError(f"unknown provider kind {kind!r}; known: {', '.join(VENDORS)}", field="kind")
    brand = session.get_one(Brand, brand_id, with_for_update=True)
    config = dict(brand.config or {})
    old = {c.vendor: c for c in configured(config, kind)}
    names = [v.vendor for v in body.vendors]
    primary = body.primary or next((v.vendor for v in body.vendors if v.active), None)
    entries, rotated = [], []
    for n, v in enumerate(body.vendors):
        if v.vendor not in VENDORS[kind]:
            allowed = ", ".join(sorted(VENDORS[kind]))
            raise ValidationError(f"no {kind} adapter {v.vendor!r}; available: {allowed}", field=f"vendors.{n}.vendor")
        if names.index(v.vendor) != n:
            raise ValidationError(f"{v.vendor} is listed twice", field=f"vendors.{n}.vendor")
        prior = old.get(v.vendor)
        base_url = v.base_url or (prior.base_url if prior else None)
        if not base_url:
            raise ValidationError("a vendor configured for the first time needs its URL", field=f"vendors.{n}.baseUrl")
        options = v.options if v.options is not None else (prior.options if prior else {})
        if v.options is not None and prior is not None:  # a credential sent back as shown (masked) stays as it was
            options = {k: _secret(value, prior.options.get(k, "")) if is_secret_option(k) and isinstance(value, str)
                       else value for k, value in options.items()}  # fmt: skip
        clash = sorted(RESERVED_OPTIONS & set(options))
        if clash:
            raise ValidationError(f"{clash[0]} is not an option", field=f"vendors.{n}.options.{clash[0]}")
        moved = prior is not None and base_url.rstrip("/") != prior.base_url.rstrip("/")
        resent = v.api_key is not None and not (prior and prior.api_key and v.api_key == mask(prior.api_key))
        if moved and not resent:  # a kept key must never be sent to a host it was not issued for
            raise ValidationError(
                "a new URL needs the vendor's API key sent again (secrets are kept only for the same URL)",
                field=f"vendors.{n}.apiKey",
            )
        api_key = _secret(v.api_key, prior.api_key if prior and not moved else "")
        webhook_secret = _secret(v.webhook_secret, prior.webhook_secret if prior else "")
        if prior is None or (api_key, webhook_secret) != (prior.api_key, prior.webhook_secret):
            rotated.append(v.vendor)
        # a new webhook secret: the one it replaces is still accepted for the overlap (vendors retry old events)
        previous = {k: getattr(prior, k) for k in ("previous_secret", "previous_secret_until")} if prior else {}
        if prior is not None and prior.webhook_secret and webhook_secret != prior.webhook_secret:
            until = datetime.now(UTC) + timedelta(hours=v.secret_overlap_hours)
            previous = {"previous_secret": prior.webhook_secret, "previous_secret_until": until.isoformat()}
        entries.append(
            {
                "vendor": v.vendor,
                "base_url": base_url.rstrip("/"),
                "api_key": api_key,
                "webhook_secret": webhook_secret,
                **{k: value for k, value in previous.items() if value},
                "primary": v.vendor == primary,
                "active": v.active,
                **options,
            }
        )
    if body.vendors and primary not in names:
        raise ValidationError(f"{primary!r} is not one of the vendors listed", field="primary")
    if body.vendors and not next(v for v in body.vendors if v.vendor == primary).active:
        raise ValidationError(f"the primary vendor {primary} must be active", field="primary")
    providers = {k: v for k, v in (config.get("providers") or {}).items() if k != kind}
    if entries:
        providers[kind] = entries
    before = providers_view(config, kind)
    brand.config = {**config, "providers": providers}
    after = providers_view(brand.config, kind)
    audit(
        session,
        request,
        staff,
        "settings.providers.update",
        "brand_providers",
        kind,
        before={"vendors": before},
        after={"vendors": after, "secretsChanged": rotated},
    )
    session.commit()
    return {kind: {"available": sorted(VENDORS[kind]), "vendors": after}}
