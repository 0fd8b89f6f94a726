"""The bureau files: a Temporal Schedule (``bureau-files``, created when the worker starts, in the UI's Schedules
page) runs this workflow every day at 01:00 IST, after the loans' day-end has run at 00:00.

The day that just ended in India decides: on the 9th, 16th and 23rd it is an INCREMENTAL file's reference date, on
the month's last day the FULL file's (RBI's weekly calendar since 1 July 2026, ``domain.cic.calendar``); any other
day the run does nothing. On a reference date each brand with bureau reporting on gets its file as on that date,
one activity per brand; a file already built (a retry, a schedule caught up, a manual run, staff who built it
through the API) is left as it was. Started by hand with a date (``YYYY-MM-DD``) it builds the files as on that
date if it is a reference date.

Since ``bureau-file-alerts-v1``, every run (any day) then tells each reporting brand's admins about its files the
schedule built that failed validation and those past their due date and not submitted, one activity per brand, once
per file and reason; the answer carries ``alerts`` (notifications sent). Runs recorded before take the old path.
docs/bureau-reporting.md.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.bureau_files import BureauAlertRequest, BureauFileActivities, BureauFileRequest
    from domain.cic.calendar import kind_of
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST

SCHEDULE_ID = "bureau-files"
# 01:00 IST (IST has no daylight saving): after the loans' day-end at 00:00 IST and the portfolio snapshot at 00:30.
RUN_AT_UTC = (19, 30)
BUILD_TIMEOUT = timedelta(minutes=10)  # one brand's file: every disbursed loan read, rendered and validated
# Alerts to the brand's admins on failed and late files (a patch: runs recorded before replay the old path).
ALERTS_PATCH = "bureau-file-alerts-v1"


def day_ended(now: datetime) -> date:
    """The IST date whose day-end has run last at ``now``: yesterday in India."""
    return now.astimezone(IST).date() - timedelta(days=1)


@workflow.defn
class BureauFilesWorkflow:
    """One run; answers the day, its kind (None: not a reference date), the brands reporting and the files built."""

    @workflow.run
    async def run(self, as_of: str | None = None) -> dict:
        day = date.fromisoformat(as_of) if as_of else day_ended(workflow.now())
        kind = kind_of(day)
        if workflow.patched(ALERTS_PATCH):
            return await self._build_and_alert(day, kind)
        if kind is None:
            return {"asOf": day.isoformat(), "kind": None, "brands": 0, "built": 0, "files": []}
        brands: list[str] = await workflow.execute_activity_method(
            BureauFileActivities.bureau_reporting_brands,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Brands reporting to the CICs",
        )
        built = 0
        files: list[dict] = []
        for brand_id in brands:
            result = await workflow.execute_activity_method(
                BureauFileActivities.build_bureau_file,
                BureauFileRequest(brand_id, day.isoformat()),
                start_to_close_timeout=BUILD_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"{kind} bureau file of brand {brand_id} as on {day.isoformat()}",
            )
            built += 1 if result["built"] else 0
            files.append({"brandId": brand_id, **result})
        return {"asOf": day.isoformat(), "kind": kind, "brands": len(brands), "built": built, "files": files}

    async def _brands(self) -> list[str]:
        return await workflow.execute_activity_method(
            BureauFileActivities.bureau_reporting_brands,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Brands reporting to the CICs",
        )

    async def _build_and_alert(self, day: date, kind: str | None) -> dict:
        """The files as on ``day`` if it is a reference date, then the alerts of each reporting brand (any day)."""
        brands = await self._brands()
        built = alerts = 0
        files: list[dict] = []
        for brand_id in brands if kind is not None else []:
            result = await workflow.execute_activity_method(
                BureauFileActivities.build_bureau_file,
                BureauFileRequest(brand_id, day.isoformat()),
                start_to_close_timeout=BUILD_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"{kind} bureau file of brand {brand_id} as on {day.isoformat()}",
            )
            built += 1 if result["built"] else 0
            files.append({"brandId": brand_id, **result})
        for brand_id in brands:
            alerts += await workflow.execute_activity_method(
                BureauFileActivities.alert_bureau_files,
                BureauAlertRequest(brand_id, day.isoformat()),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Failed or late bureau files of brand {brand_id}: alerts",
            )
        return {
            "asOf": day.isoformat(), "kind": kind, "brands": len(brands), "built": built, "files": files,
            "alerts": alerts,
        }  # fmt: skip
