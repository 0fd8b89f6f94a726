"""(being written)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/partner/brand/{brand_id}/api-keys", tags=["partner API keys"])
