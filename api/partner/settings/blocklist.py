"""PANs, Aadhaars, phones and devices the BRE refuses: /settings/blocklist, and its versions
(/settings/blocklist/versions): every change is the brand's next version, recorded with who made it and when by a
trigger on ``blocklist_entries`` (migration 0023); a credit decision records the version it ran with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import Field
from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.orm import Session

from api.access import audit
from api.deps import MAX_PAGE, is_uuid, page_of
from api.partner.settings.common import (
    Db,
    Instant,
    Manager,
    Strict,
    Viewer,
    flush_or_conflict,
    own_row,
    settings_router,
)
from api.responses import ApiModel, Deleted
from api.types import WHOLE
from db.credit_policy import blocklist_entries_at
from db.models import BlocklistEntry
from db.models.operations import BlocklistVersion
from domain import kyc, rules
from domain.bre import BlockKind
from domain.errors import NotFound, ValidationError

router = settings_router()


class BlocklistIn(Strict):
    kind: BlockKind
    value: str = Field(min_length=1, max_length=200, description="PAN, 12-digit Aadhaar, mobile or device id")
    reason: str | None = Field(default=None, max_length=1000)


class BlockedValue(ApiModel):
    """A value the BRE refuses."""

    id: str
    kind: BlockKind
    value: str = Field(
        description="as the BRE matches it: PAN upper-case, phone its 10 digits, Aadhaar only as its keyed hash"
    )
    reason: str | None
    created_at: Instant


class BlocklistPage(ApiModel):
    """One page of the brand's blocklist, newest first."""

    items: list[BlockedValue]
    page: int
    limit: int
    total: int = Field(description="entries matching the filters, on every page")


def _blocked_value(request: Request, kind: BlockKind, value: str) -> str:
    """The value as the BRE matches it: PAN upper-case, phone its 10 digits, Aadhaar only as its keyed hash
    (the hash the KYC step stores on the customer; the number itself is never kept)."""
    try:
        if kind is BlockKind.PAN:
            return rules.normalise_pan(value)
        if kind is BlockKind.PHONE:
            return rules.normalise_phone(value)
        if kind is BlockKind.AADHAAR:
            return kyc.aadhaar_hash(value, request.app.state.settings.field_key())
    except ValidationError as exc:
        raise ValidationError(exc.message, field="value") from exc
    return value.strip()


class BlocklistChange(ApiModel):
    """One change to the brand's blocklist: the version it makes, what changed, who and when."""

    version: int = Field(description="the blocklist after this change (1, 2, … per brand)")
    action: str = Field(description="ADD or REMOVE")
    kind: BlockKind
    value: str
    reason: str | None
    changed_by: str | None = Field(description="the staff member; null when not made through these routes")
    created_at: Instant


class BlocklistChanges(ApiModel):
    """The brand's blocklist versions, newest first."""

    items: list[BlocklistChange]
    page: int
    limit: int
    total: int
    latest: int = Field(description="the brand's current blocklist version (0: never changed)")


class BlocklistAtVersion(ApiModel):
    """The brand's blocklist as it stood at one version."""

    version: int
    entries: list[dict[str, str]] = Field(description="kind and value of each entry, as the BRE matched them")


def _as_actor(session: Session, staff_id: str) -> None:
    """Name the staff member on the blocklist version this transaction's change makes (the trigger reads it)."""
    session.execute(
        text("SELECT set_config('los.actor', :actor, true)"), {"actor": staff_id if is_uuid(staff_id) else ""}
    )


def _block_view(e: BlocklistEntry) -> dict:
    return {"id": e.id, "kind": e.kind, "value": e.value, "reason": e.reason, "createdAt": e.created_at}


@router.get("/blocklist", response_model=BlocklistPage)
def list_blocklist(
    request: Request,
    brand_id: str,
    staff: Viewer,
    session: Db,
    kind: Annotated[BlockKind | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=200, description="part of a value, or a whole Aadhaar")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict:
    query = select(BlocklistEntry).where(BlocklistEntry.brand_id == brand_id)
    if kind is not None:
        query = query.where(BlocklistEntry.kind == kind.value)
    if search and search.strip():
        term = search.strip()
        matches: list[ColumnElement[bool]] = [BlocklistEntry.value.ilike(f"%{term}%")]
        digits = term.replace(" ", "")
        if len(digits) == 12 and digits.isdigit() and kyc.verhoeff_validate(digits):  # a whole Aadhaar
            matches.append(BlocklistEntry.value == _blocked_value(request, BlockKind.AADHAAR, term))
        query = query.where(or_(*matches))
    rows, total = page_of(session, query, page, limit, BlocklistEntry.created_at.desc(), BlocklistEntry.id)
    return {"items": [_block_view(e) for (e,) in rows], "page": page, "limit": limit, "total": total}


@router.post("/blocklist", status_code=201, response_model=BlockedValue)
def create_blocklist_entry(request: Request, brand_id: str, body: BlocklistIn, staff: Manager, session: Db) -> dict:
    _as_actor(session, staff.id)
    entry = BlocklistEntry(
        brand_id=brand_id,
        kind=body.kind.value,
        value=_blocked_value(request, body.kind, body.value),
        reason=body.reason,
    )
    session.add(entry)
    flush_or_conflict(session, f"this {body.kind.value} is already blocked", "value")
    audit(session, request, staff, "settings.blocklist.create", "blocklist_entry", entry.id, after=_block_view(entry))
    session.commit()
    return _block_view(entry)


@router.delete("/blocklist/{entry_id}", response_model=Deleted)
def delete_blocklist_entry(request: Request, brand_id: str, entry_id: str, staff: Manager, session: Db) -> dict:
    entry = own_row(session, BlocklistEntry, brand_id, entry_id, "blocklist entry")
    before = _block_view(entry)
    _as_actor(session, staff.id)
    session.delete(entry)
    audit(session, request, staff, "settings.blocklist.delete", "blocklist_entry", entry.id, before=before)
    session.commit()
    return {"id": entry.id, "deleted": True}


@router.get("/blocklist/versions", response_model=BlocklistChanges)
def list_blocklist_versions(
    brand_id: str,
    staff: Viewer,
    session: Db,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE), WHOLE] = 1,
    limit: Annotated[int, Query(ge=1, le=200), WHOLE] = 50,
) -> dict:
    """The brand's blocklist changes, newest first: each the version it makes, ADD or REMOVE, who and when."""
    query = select(BlocklistVersion).where(BlocklistVersion.brand_id == brand_id)
    rows, total = page_of(session, query, page, limit, BlocklistVersion.version.desc())
    latest = session.scalar(select(func.max(BlocklistVersion.version)).where(BlocklistVersion.brand_id == brand_id))
    items = [
        {
            "version": v.version,
            "action": v.action,
            "kind": v.kind,
            "value": v.value,
            "reason": v.reason,
            "changedBy": v.changed_by,
            "createdAt": v.created_at,
        }
        for (v,) in rows
    ]
    return {"items": items, "page": page, "limit": limit, "total": total, "latest": latest or 0}


@router.get("/blocklist/versions/{version}", response_model=BlocklistAtVersion)
def get_blocklist_version(brand_id: str, version: int, staff: Viewer, session: Db) -> dict:
    """The brand's blocklist at ``version`` (0: empty); 404 beyond its latest version."""
    latest = session.scalar(select(func.max(BlocklistVersion.version)).where(BlocklistVersion.brand_id == brand_id))
    if version < 0 or version > (latest or 0):
        raise NotFound("blocklist version not found")
    entries = blocklist_entries_at(session, brand_id, version)
    return {"version": version, "entries": [{"kind": k, "value": v} for k, v in entries]}
