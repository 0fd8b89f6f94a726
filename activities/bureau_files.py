"""The bureau files' activities (``workflows.bureau_files``): which brands report to the CICs, and one brand's file
as on one reference date, built once (``db.bureau_files.build_file``: a retry or a second run finds it built and
writes nothing); and the alerts to the brand's admins about its files that failed validation or are late, once per
file and reason. docs/bureau-reporting.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from temporalio import activity

from activities.base import DbActivities
from activities.ops_jobs_common import brand_admins, notify_once
from db import bureau_file_alerts, bureau_files
from db.session import Database


@dataclass(frozen=True)
class BureauFileRequest:
    brand_id: str
    reference_date: str  # IST date, YYYY-MM-DD: a reference date (9th, 16th, 23rd or the month's last day)


@dataclass(frozen=True)
class BureauAlertRequest:
    brand_id: str
    day: str  # IST date, YYYY-MM-DD: the day that ended (a file due on it or before and not submitted is late)


class BureauFileActivities(DbActivities):
    """The two activities; ``all()`` lists them for the worker."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> list[Callable[..., Any]]:
        return [self.bureau_reporting_brands, self.build_bureau_file, self.alert_bureau_files]

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

    @activity.defn
    async def alert_bureau_files(self, req: BureauAlertRequest) -> int:
        """Tell the brand's admins (a SYSTEM staff notification, ``meta.alert`` ``bureau_file``) about each of its
        files that the schedule built and failed validation, or that is past its due date and not submitted
        (``db.bureau_file_alerts.files_to_alert``): once per file and reason (idempotency key
        ``bureau-file:<file id>:<reason>:<staff id>``, so a retry or the next day's run tells no one again). Answers
        how many notifications were new."""
        day = date.fromisoformat(req.day)

        def alert(session: Any) -> int:
            found = bureau_file_alerts.files_to_alert(session, req.brand_id, day)
            if not found:
                return 0
            admins = brand_admins(session, req.brand_id)
            new = 0
            for row, reason in found:
                title, body = bureau_file_alerts.alert_text(row, reason)
                meta = {
                    "alert": "bureau_file",
                    "reason": reason,
                    "fileId": row.id,
                    "kind": row.kind,
                    "referenceDate": row.reference_date.isoformat(),
                    "dueDate": row.due_date.isoformat(),
                    "status": row.status,
                }
                new += notify_once(session, admins, req.brand_id, title, body, meta, f"bureau-file:{row.id}:{reason}")
            return new

        return await self._tx(alert)
