"""The bureau files' activities (``workflows.bureau_files``): which brands report to the CICs, and one brand's file
as on one reference date, built once (``db.bureau_files.build_file``: a retry or a second run finds it built and
writes nothing). docs/bureau-reporting.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from temporalio import activity

from activities.base import DbActivities
from db import bureau_files
from db.session import Database


@dataclass(frozen=True)
class BureauFileRequest:
    brand_id: str
    reference_date: str  # IST date, YYYY-MM-DD: a reference date (9th, 16th, 23rd or the month's last day)


class BureauFileActivities(DbActivities):
    """The two activities; ``all()`` lists them for the worker."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> list[Callable[..., Any]]:
        return [self.bureau_reporting_brands, self.build_bureau_file]

    @activity.defn
    async def bureau_reporting_brands(self) -> list[str]:
        """Every active brand with bureau reporting on."""
        return await self._tx(bureau_files.reporting_brands)

    @activity.defn
    async def build_bureau_file(self, req: BureauFileRequest) -> dict:
        """The brand's file as on the reference date, unless built already: its id, kind, status, records, and
        whether this call built it."""
        day = date.fromisoformat(req.reference_date)

        def build(session: Any) -> dict:
            row, built = bureau_files.build_file(session, req.brand_id, day)
            return {"id": row.id, "kind": row.kind, "status": row.status, "records": row.records, "built": built}

        return await self._tx(build)
