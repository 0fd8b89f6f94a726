"""Platform administration of brands and their settings: /api/v1/admin (super admins only).

A new brand starts with a sane configuration (the demo seed's credit policy, no providers: nothing points
anywhere until its admins set them) and the default status reasons; it is then configured under
``/api/v1/partner/brand/{brandId}/settings``. Only here is a brand deactivated. Every change is audited in
the log of the brand it changed. Staff accounts are administered in ``api/admin/users.py``.

A brand's configuration is answered as a brand's own settings routes answer it (``api.partner.settings.brand``:
``config`` holds only the keys the brand set, and a stored value the models do not describe is shown as stored).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as ModelError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import AllowPlatformAdmin, audit
from api.brand_config import NEW_BRAND_CONFIG, BrandSettingsIn, brand_view, config_view, providers_summary, update_brand
from api.deps import db_session, is_uuid
from api.guards import GUARDS
from api.partner.settings.brand import BrandSettings, ConfigSet
from api.partner.settings.brand import _answer as brand_answer
from api.responses import ApiModel
from api.security import Principal
from db.models import Brand, BrandStatusReason
from domain.errors import Conflict, NotFound, ValidationError
from los.seed import STATUS_REASONS

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Admin = Annotated[Principal, AllowPlatformAdmin()]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BrandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,39}$", description="lower-case; customers pick the brand by it")
    name: Name


class BrandChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    is_active: bool | None = Field(default=None, alias="isActive")


class AdminBrand(ApiModel):
    """A brand: its id, the code customers pick it by, its name and whether it is active."""

    id: str
    code: str
    name: str
    is_active: bool


class AdminBrandListed(AdminBrand):
    """A brand in the platform's list."""

    created_at: str = Field(description="ISO 8601 instant with offset when the brand was created")


class ProviderKindSummary(ApiModel):
    """The vendors configured for one kind of provider (no URLs, no secrets)."""

    vendors: list[str] = Field(description="in the order they are tried")
    primary: str | None = Field(description="the vendor a call tries first; null when none is usable")


class AdminBrandSettings(AdminBrand):
    """A brand with the configuration it set and its providers."""

    config: ConfigSet  # type: ignore[valid-type]  # built from the input models in api.partner.settings.brand
    providers: dict[str, ProviderKindSummary] = Field(description="per configured kind (kyc, bureau, esign, ...)")


def _summary(brand: Brand) -> dict:
    return {"id": brand.id, "code": brand.code, "name": brand.name, "isActive": brand.is_active}


def _brand(session: Session, brand_id: str) -> Brand:
    brand = session.get(Brand, brand_id, with_for_update=True) if is_uuid(brand_id) else None
    if brand is None:
        raise NotFound("brand not found")
    return brand


@router.get("/brands", response_model=list[AdminBrandListed])
def list_brands(admin: Admin, session: Db) -> list[dict]:
    """Every brand, active or not."""
    return [
        _summary(b) | {"createdAt": b.created_at.isoformat()}
        for b in session.scalars(select(Brand).order_by(Brand.code))
    ]


@router.post("/brands", status_code=201, response_model=BrandSettings, response_model_exclude_unset=True)
def create_brand(request: Request, body: BrandIn, admin: Admin, session: Db) -> dict[str, Any] | JSONResponse:
    """A new, active brand with the default configuration (no providers, no loan rules) and status reasons."""
    if is_uuid(body.code):
        raise ValidationError("a brand code cannot look like an id", field="code")
    brand = Brand(code=body.code, name=body.name, config=dict(NEW_BRAND_CONFIG), is_active=True)
    session.add(brand)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a brand with code {body.code} exists", field="code") from exc
    for code, label, statuses in STATUS_REASONS:
        session.add(BrandStatusReason(brand_id=brand.id, code=code, label=label, statuses=list(statuses)))
    view = brand_view(brand)
    audit(
        session,
        request,
        admin,
        "admin.brand.create",
        "brand",
        brand.id,
        after={**_summary(brand), "config": view["config"], "statusReasons": [r[0] for r in STATUS_REASONS]},
        brand_id=brand.id,
    )
    session.commit()
    return brand_answer(brand)


@router.put("/brands/{brand_id}", response_model=AdminBrand)
def change_brand(request: Request, brand_id: str, body: BrandChangeIn, admin: Admin, session: Db) -> dict:
    """Rename, deactivate (its staff and customers then find no such brand) or reactivate a brand."""
    brand = _brand(session, brand_id)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if body.name is not None and body.name != brand.name:
        before["name"], after["name"], brand.name = brand.name, body.name, body.name
    if body.is_active is not None and body.is_active != brand.is_active:
        before["isActive"], after["isActive"], brand.is_active = brand.is_active, body.is_active, body.is_active
    audit(
        session, request, admin, "admin.brand.update", "brand", brand.id, before=before, after=after, brand_id=brand.id
    )
    session.commit()
    return _summary(brand)


@router.get("/settings", response_model=list[AdminBrandSettings], response_model_exclude_unset=True)
def platform_settings(admin: Admin, session: Db) -> list[dict] | JSONResponse:
    """Every brand with the configuration it set and its providers (vendor names only, never secrets)."""
    rows = [
        _summary(b) | {"config": config_view(b.config or {}), "providers": providers_summary(b.config or {})}
        for b in session.scalars(select(Brand).order_by(Brand.code))
    ]
    try:  # a stored value the model does not describe (never saved through the API) is shown as stored
        for row in rows:
            ConfigSet.model_validate_json(json.dumps(jsonable_encoder(row["config"])), strict=True)
    except ModelError:
        return JSONResponse(jsonable_encoder(rows))
    return rows


@router.put("/settings/brand/{brand_id}", response_model=BrandSettings, response_model_exclude_unset=True)
def put_brand_settings(
    request: Request, brand_id: str, body: BrandSettingsIn, admin: Admin, session: Db
) -> dict[str, Any] | JSONResponse:
    """The same validated partial update as a brand's own ``PUT .../settings/brand``, for any brand."""
    brand = _brand(session, brand_id)
    before, after = update_brand(session, brand, body)
    audit(
        session,
        request,
        admin,
        "admin.settings.brand.update",
        "brand",
        brand.id,
        before=before,
        after=after,
        brand_id=brand.id,
    )
    session.commit()
    return brand_answer(brand)
