"""Evaluation items, one at a time or a whole version at once: /settings/evaluation-items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field, StringConstraints
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.access import audit
from api.brand_config import check_evaluation
from api.partner.settings.common import (
    Db,
    Manager,
    Strict,
    Viewer,
    api_alias,
    diff,
    flush_or_conflict,
    own_row,
    settings_router,
)
from api.responses import ApiModel, Deleted
from db.models import Brand, EvaluationItem
from domain.errors import Conflict, ValidationError
from domain.evaluation import EVALUATION_METRICS, Comparator, Criterion, EngineVersion

router = settings_router()


class ItemIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    metric: str = Field(max_length=60, description="one of the facts of the credit decision, e.g. bureau.score")
    comparator: Comparator
    threshold: bool | int | str = Field(description="a number, true/false or text")
    weight: int = Field(default=1, ge=0, le=1000)
    hard_reject: bool = Field(default=False, alias="hardReject")
    is_active: bool = Field(default=True, alias="isActive")


class EvaluationItemIn(ItemIn):
    version: EngineVersion = EngineVersion.V1


class EvaluationSetIn(Strict):
    version: EngineVersion
    items: list[ItemIn] = Field(max_length=50)


class EvaluationItemView(ApiModel):
    """One criterion of the brand's evaluation engine."""

    id: str
    version: EngineVersion
    name: str
    metric: str = Field(description="one of the facts of the credit decision, e.g. bureau.score")
    comparator: Comparator
    threshold: str = Field(description='as stored: a number, "true"/"false" or text')
    weight: int
    hard_reject: bool = Field(description="failing it rejects the loan whatever the score")
    is_active: bool


def _item_columns(item: ItemIn, version: EngineVersion, prefix: str = "") -> dict[str, Any]:
    if item.metric not in EVALUATION_METRICS:
        raise ValidationError(
            f"unknown metric {item.metric!r}; known: {', '.join(sorted(EVALUATION_METRICS))}", field=f"{prefix}metric"
        )
    threshold = str(item.threshold).lower() if isinstance(item.threshold, bool) else str(item.threshold).strip()
    if len(threshold) > 60:
        raise ValidationError("at most 60 characters", field=f"{prefix}threshold")
    columns = {
        "version": version.value,
        "name": item.name,
        "metric": item.metric,
        "comparator": item.comparator.value,
        "threshold": threshold,
        "weight": item.weight,
        "hard_reject": item.hard_reject,
        "is_active": item.is_active,
    }
    try:
        Criterion.from_dict(columns)  # the engine's own rules (an ordering comparator needs a number...)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=prefix + api_alias(ItemIn, exc.field)) from exc
    return columns


def _item_view(i: EvaluationItem) -> dict:
    return {
        "id": i.id,
        "version": i.version,
        "name": i.name,
        "metric": i.metric,
        "comparator": i.comparator,
        "threshold": i.threshold,
        "weight": i.weight,
        "hardReject": i.hard_reject,
        "isActive": i.is_active,
    }


def _unique_item_name(session: Session, brand_id: str, version: str, name: str, own_id: str | None = None) -> None:
    """Names are unique per brand and version, whatever the case (the engine compares them so)."""
    query = select(EvaluationItem.id).where(
        EvaluationItem.brand_id == brand_id,
        EvaluationItem.version == version,
        func.lower(EvaluationItem.name) == name.lower(),
    )
    if own_id is not None:
        query = query.where(EvaluationItem.id != own_id)
    if session.scalars(query).first() is not None:
        raise Conflict(f"this brand already has a {version} evaluation item named {name!r}", field="name")


def _check_items(session: Session, brand_id: str, field: str) -> None:
    session.flush()
    check_evaluation(session, brand_id, session.get_one(Brand, brand_id).config or {}, field=field)


@router.get("/evaluation-items", response_model=list[EvaluationItemView])
def list_evaluation_items(
    brand_id: str, staff: Viewer, session: Db, version: Annotated[EngineVersion | None, Query()] = None
) -> list[dict]:
    query = select(EvaluationItem).where(EvaluationItem.brand_id == brand_id)
    if version is not None:
        query = query.where(EvaluationItem.version == version.value)
    return [_item_view(i) for i in session.scalars(query.order_by(EvaluationItem.version, EvaluationItem.name))]


@router.put("/evaluation-items", response_model=list[EvaluationItemView])
def replace_evaluation_items(
    request: Request, brand_id: str, body: EvaluationSetIn, staff: Manager, session: Db
) -> list[dict]:
    """Replace every item of one version at once (one transaction: all or nothing)."""
    seen: set[str] = set()
    columns = []
    for n, item in enumerate(body.items):
        if item.name.lower() in seen:
            raise ValidationError(f"the name {item.name!r} is used twice", field=f"items.{n}.name")
        seen.add(item.name.lower())
        columns.append(_item_columns(item, body.version, f"items.{n}."))
    old = select(EvaluationItem).where(EvaluationItem.brand_id == brand_id, EvaluationItem.version == body.version)
    before = [_item_view(i) for i in session.scalars(old.order_by(EvaluationItem.name))]
    session.execute(
        delete(EvaluationItem).where(EvaluationItem.brand_id == brand_id, EvaluationItem.version == body.version)
    )
    rows = [EvaluationItem(brand_id=brand_id, **c) for c in columns]
    session.add_all(rows)
    _check_items(session, brand_id, "items")
    after = [_item_view(i) for i in rows]
    audit(
        session,
        request,
        staff,
        "settings.evaluation_items.replace",
        "evaluation_items",
        body.version.value,
        before={"items": before},
        after={"items": after},
    )
    session.commit()
    return after


@router.post("/evaluation-items", status_code=201, response_model=EvaluationItemView)
def create_evaluation_item(
    request: Request, brand_id: str, body: EvaluationItemIn, staff: Manager, session: Db
) -> dict:
    columns = _item_columns(body, body.version)
    _unique_item_name(session, brand_id, body.version.value, body.name)
    item = EvaluationItem(brand_id=brand_id, **columns)
    session.add(item)
    flush_or_conflict(session, f"this brand already has a {body.version} evaluation item named {body.name!r}", "name")
    _check_items(session, brand_id, "version")
    audit(
        session, request, staff, "settings.evaluation_item.create", "evaluation_item", item.id, after=_item_view(item)
    )
    session.commit()
    return _item_view(item)


@router.put("/evaluation-items/{item_id}", response_model=EvaluationItemView)
def replace_evaluation_item(
    request: Request, brand_id: str, item_id: str, body: EvaluationItemIn, staff: Manager, session: Db
) -> dict:
    item = own_row(session, EvaluationItem, brand_id, item_id, "evaluation item")
    columns = _item_columns(body, body.version)
    _unique_item_name(session, brand_id, body.version.value, body.name, own_id=item.id)
    old = _item_view(item)
    for name, value in columns.items():
        setattr(item, name, value)
    flush_or_conflict(session, f"this brand already has a {body.version} evaluation item named {body.name!r}", "name")
    _check_items(session, brand_id, "version")
    before, after = diff(old, _item_view(item))
    audit(
        session,
        request,
        staff,
        "settings.evaluation_item.update",
        "evaluation_item",
        item.id,
        before=before,
        after=after,
    )
    session.commit()
    return _item_view(item)


@router.delete("/evaluation-items/{item_id}", response_model=Deleted)
def delete_evaluation_item(request: Request, brand_id: str, item_id: str, staff: Manager, session: Db) -> dict:
    item = own_row(session, EvaluationItem, brand_id, item_id, "evaluation item")
    before = _item_view(item)
    session.delete(item)
    _check_items(session, brand_id, "id")
    audit(session, request, staff, "settings.evaluation_item.delete", "evaluation_item", item.id, before=before)
    session.commit()
    return {"id": item.id, "deleted": True}
