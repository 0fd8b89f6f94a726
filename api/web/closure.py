"""The borrower's closed loan: the closure certificate (NDC/NOC) download and the reloan offer."""

from __future__ import annotations

from fastapi import APIRouter

from api.guards import GUARDS

router = APIRouter(prefix="/api/v1/web", tags=["web (customer)"], dependencies=GUARDS)
