"""SME invoice financing, the business's side: /api/v1/sme/... (routes to come; docs/invoice-financing.md)."""

from __future__ import annotations

from fastapi import APIRouter

from api.guards import GUARDS

router = APIRouter(prefix="/api/v1/sme", tags=["sme (business)"], dependencies=GUARDS)
