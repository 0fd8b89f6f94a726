"""The brand's name and general configuration: /settings/brand."""

from __future__ import annotations

from fastapi import Request

from api.access import audit
from api.brand_config import BrandSettingsIn, brand_view, update_brand
from api.partner.settings.common import Db, Manager, Viewer, settings_router
from db.models import Brand

router = settings_router()


@router.get("/brand")
def get_brand(brand_id: str, staff: Viewer, session: Db) -> dict:
    """The brand's name and configuration: ``config`` what it set, ``effective`` what the code uses."""
    return brand_view(session.get_one(Brand, brand_id))


@router.put("/brand")
def put_brand(request: Request, brand_id: str, body: BrandSettingsIn, staff: Manager, session: Db) -> dict:
    """Partial update of the name and configuration: only the keys sent change, ``null`` resets a key."""
    brand = session.get_one(Brand, brand_id, with_for_update=True)
    before, after = update_brand(session, brand, body)
    audit(session, request, staff, "settings.brand.update", "brand", brand.id, before=before, after=after)
    session.commit()
    return brand_view(brand)
