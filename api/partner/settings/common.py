"""What the settings sub-resources share: the router every one of them is built on, the access and
session dependencies, the strict request base, the types the answers share, and the helpers that find, write and
audit a brand's row."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints, WithJsonSchema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Allow
from api.deps import db_session, is_uuid
from api.guards import GUARDS
from api.security import Principal
from db.models import BlocklistEntry, BrandNonRepaymentDate, BrandStatusReason, EvaluationItem, LoanProduct
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError

PREFIX = "/api/v1/partner/brand/{brand_id}/settings"


def settings_router() -> APIRouter:
    """One sub-resource's router: under the brand's settings, with the guards of every partner route."""
    return APIRouter(prefix=PREFIX, tags=["partner settings"], dependencies=GUARDS)


Db = Annotated[Session, Depends(db_session, scope="function")]
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200)]
Instant = Annotated[  # a row's timestamp as the routes have always written it: +00:00, not pydantic's Z
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(description="ISO 8601 instant with its offset"),
]
Row = TypeVar("Row", LoanProduct, EvaluationItem, BrandStatusReason, BlocklistEntry, BrandNonRepaymentDate)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def api_alias(model: type[BaseModel], name: str | None) -> str:
    """The API name of a model field (a domain error names the attribute); other names as they are."""
    field = model.model_fields.get(name or "")
    return (field and field.alias) or name or "body"


def own_row(session: Session, model: type[Row], brand_id: str, row_id: str, what: str) -> Row:
    """The brand's row, locked for the change; another brand's (or a malformed id) is 404."""
    row = session.get(model, row_id, with_for_update=True) if is_uuid(row_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound(f"{what} not found")
    return row


def flush_or_conflict(session: Session, message: str, field: str) -> None:
    """Write now, so a unique constraint a concurrent request won is a 409, not a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def check_period(day_from: date | None, day_to: date | None) -> None:
    if day_from and day_to and day_from > day_to:
        raise ValidationError("must not be before from", field="to")
