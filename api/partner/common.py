"""What the staff loan routers share: a router under /api/v1/partner, the session and Temporal dependencies, the
viewer's permission, and finding a loan of the brand in the path."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.access import Allow
from api.deps import db_session, is_uuid, temporal
from api.guards import GUARDS
from api.security import Principal
from db.models import Loan
from domain.access import Permission as P
from domain.errors import NotFound

Db = Annotated[Session, Depends(db_session, scope="function")]
Temporal = Annotated[Client, Depends(temporal)]
Viewer = Annotated[Principal, Allow(P.LOANS_VIEW)]


def staff_router() -> APIRouter:
    """A router of staff loan routes: /api/v1/partner/..., tagged ``partner (staff)``, NUL-guarded."""
    return APIRouter(prefix="/api/v1/partner", tags=["partner (staff)"], dependencies=GUARDS)


def workbench_router() -> APIRouter:
    """A router of the brand's workbench (CAM, comments, notifications): /api/v1/partner/brand/{brandId}/..."""
    return APIRouter(prefix="/api/v1/partner/brand/{brand_id}", tags=["partner workbench"], dependencies=GUARDS)


def find_loan(session: Session, brand_id: str, loan_id: str, *, lock: bool = False) -> Loan:
    """The loan ``loan_id`` of brand ``brand_id`` (row-locked with ``lock``); 404 if it is not one, or not the
    brand's."""
    loan = session.get(Loan, loan_id, with_for_update=lock) if is_uuid(loan_id) else None
    if loan is None or loan.brand_id != brand_id:
        raise NotFound("loan not found")
    return loan


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 with its offset (None stays None)."""
    return value.isoformat() if value is not None else None
