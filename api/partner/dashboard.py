"""Dashboards: the brand's figures and charts (stats, summary, collection and disbursement analysis, portfolio: AUM,
PAR, NPA), under /api/v1/partner/brand/{brandId}/dashboard (docs/dashboards.md).

Every figure is read from the database (``db/portfolio.py``, ``db/portfolio_analysis.py``,
``db/portfolio_vintage.py``; the ratios are ``domain/portfolio.py``), never from workflow state. Periods are IST
calendar dates ``fromDate``..``toDate``, both included, at most 366 days; left out, the month to date.
``summary?asOf=`` reads the snapshot the daily ``portfolio-snapshot`` schedule froze after that
day's day-end. Answers go out through orjson (``api.views.json_response``); each route declares its model.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.access import Allow
from api.partner.common import Db, iso, staff_router
from api.partner.dashboard_schemas import (
    CollectionAnalysis,
    DashboardStats,
    DisbursementAnalysis,
    PortfolioSummary,
    StaffLeads,
    UsersBySubdomain,
    Vintage,
)
from api.security import Principal
from api.types import IsoDate
from api.views import json_response
from db import portfolio as sql
from db import portfolio_analysis as analysis
from db import portfolio_vintage
from domain.access import Permission as P
from domain.errors import NotFound, ValidationError

router = staff_router()
Viewer = Annotated[Principal, Allow(P.DASHBOARD_VIEW)]
MAX_PERIOD_DAYS = 366
PREFIX = "/brand/{brand_id}/dashboard"


# ------------------------------------------------------------------------------------------- input
class PeriodQuery(BaseModel):
    """An IST period, both ends included (left out: the month to date)."""

    model_config = ConfigDict(extra="forbid")
    from_date: IsoDate | None = Field(default=None, alias="fromDate", description="IST date, YYYY-MM-DD")
    to_date: IsoDate | None = Field(default=None, alias="toDate", description="IST date, YYYY-MM-DD; default today")

    def resolve(self, today: date) -> tuple[date, date]:
        end = self.to_date or today
        start = self.from_date or end.replace(day=1)
        check_period(start, end)
        return start, end


def check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError("must not be before fromDate", field="toDate")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(f"a period is at most {MAX_PERIOD_DAYS} days", field="toDate")


class SummaryQuery(PeriodQuery):
    as_of: IsoDate | None = Field(
        default=None, alias="asOf", description="IST date: the snapshot taken after that day's day-end"
    )


class OpenPeriodQuery(PeriodQuery):
    """A period with either end open (left out: every customer)."""


Period = Annotated[PeriodQuery, Query()]


# ------------------------------------------------------------------------------------------- routes
@router.get(f"{PREFIX}/stats", response_model=DashboardStats)
def stats(brand_id: str, staff: Viewer, session: Db) -> Response:
    """Loans by status now; applications, sanctions, disbursals and payments received today and this month (IST)."""
    return json_response(sql.stats(session, brand_id, sql.today_ist()))


@router.get(f"{PREFIX}/summary", response_model=PortfolioSummary)
def summary(brand_id: str, staff: Viewer, session: Db, q: Annotated[SummaryQuery, Query()]) -> Response:
    """The board's portfolio: AUM, PAR 30/60/90 and GNPA % now; disbursals, payments, current collection
    efficiency, loans written off and settled in the period. With ``asOf``: the snapshot of that day (the month to
    that day), as it was written after its day-end; 404 naming ``asOf`` when there is none, saying why (before the
    first snapshot, history is not recomputed: ``no_snapshot``)."""
    if q.as_of is not None:
        if q.from_date is not None or q.to_date is not None:
            raise ValidationError(
                "asOf reads a day's snapshot (the month to that day): leave out fromDate and toDate", field="asOf"
            )
        snap = sql.snapshot_of(session, brand_id, q.as_of)
        if snap is None:
            raise NotFound(no_snapshot(q.as_of, sql.first_snapshot_day(session, brand_id)), field="asOf")
        return json_response(
            {
                "brandId": brand_id,
                "source": "snapshot",
                "asOf": snap.as_of.isoformat(),
                "takenAt": iso(snap.created_at),
                **snap.figures,
            }
        )
    today = sql.today_ist()
    start, end = q.resolve(today)
    figures = sql.summary(session, brand_id, start, end)
    return json_response({"brandId": brand_id, "source": "live", "asOf": today.isoformat(), "takenAt": None, **figures})


def no_snapshot(as_of: date, first: date | None) -> str:
    """Why there is no snapshot for ``as_of`` (IST), in words: none taken yet, a day before the first (history is not
    rebuilt: the book of a past day — AUM, PAR, GNPA — is not in the rows any more), or a day the schedule missed.
    The period's flows stay readable live, with ``fromDate``/``toDate``."""
    live = "the period figures (disbursals, collections, efficiency, write-offs) of any past dates are computed live "
    live += "with fromDate and toDate"
    day = as_of.isoformat()
    if first is None:
        return f"no portfolio snapshot for {day}: none has been taken for this brand yet; {live}"
    if as_of < first:
        return (
            f"no portfolio snapshot for {day}: snapshots start on {first.isoformat()}, the first day-end after the "
            f"daily schedule began; the book as it stood before (AUM, PAR, GNPA) is not kept and is not recomputed; "
            f"{live}"
        )
    return f"no portfolio snapshot for {day}: the daily schedule did not write one that day; {live}"


@router.get(f"{PREFIX}/users-by-subdomain", response_model=UsersBySubdomain)
def users_by_subdomain(brand_id: str, staff: Viewer, session: Db, q: Annotated[OpenPeriodQuery, Query()]) -> Response:
    """Customers of the brand's web app (the brand is the subdomain a customer registers on), by ``utm_source``:
    registered, applied and disbursed. ``fromDate``/``toDate`` narrow to customers registered then."""
    if q.from_date is not None and q.to_date is not None:
        check_period(q.from_date, q.to_date)
    return json_response(analysis.customers_by_source(session, brand_id, q.from_date, q.to_date))


@router.get(f"{PREFIX}/collection-analysis", response_model=CollectionAnalysis)
def collection_analysis(brand_id: str, staff: Viewer, session: Db, period: Period) -> Response:
    """The book by the brand's collection buckets (loans, principal, overdue now); per collector: cases and overdue
    now, promises dated in the period (kept, broken, pending), recovered in the period; the recovery rate."""
    start, end = period.resolve(sql.today_ist())
    return json_response(analysis.collection_analysis(session, brand_id, start, end))


@router.get(f"{PREFIX}/disbursement-analysis", response_model=DisbursementAnalysis)
def disbursement_analysis(brand_id: str, staff: Viewer, session: Db, period: Period) -> Response:
    """Loans disbursed in the period by IST day, by product and by amount band: count, principal, net."""
    start, end = period.resolve(sql.today_ist())
    return json_response(analysis.disbursement_analysis(session, brand_id, start, end))


@router.get(f"{PREFIX}/partner-user-leads-stats", response_model=StaffLeads)
def partner_user_leads_stats(brand_id: str, staff: Viewer, session: Db, period: Period) -> Response:
    """Per staff member of the brand: customers and loans assigned to them now, loans they sanctioned and loans
    they worked that were disbursed in the period. Lead forms are not assigned to staff: a customer assigned to a
    staff member (``customers.assigned_to``) stands for a lead."""
    start, end = period.resolve(sql.today_ist())
    return json_response(analysis.staff_leads(session, brand_id, start, end))


@router.get(f"{PREFIX}/portfolio/vintage", response_model=Vintage)
def vintage(
    brand_id: str,
    staff: Viewer,
    session: Db,
    as_of: Annotated[
        IsoDate | None, Query(alias="asOf", description="IST date, today or earlier; default today")
    ] = None,
) -> Response:
    """Vintage curves: for each disbursal month, by month on book, the cumulative share of its principal and of
    its loans whose DPD went above 30 and above 90, as of ``asOf`` (today or earlier)."""
    today = sql.today_ist()
    if as_of is not None and as_of > today:
        raise ValidationError("must not be after today (IST)", field="asOf")
    day = as_of or today
    key = (brand_id, day)
    hit = _VINTAGE_CACHE.get(key)
    if hit is None or hit[0] < time.monotonic():
        # the curves read every installment and payment of the book (seconds with 10,000 loans: bench/console.py)
        # and move with day-end DPD: computed at most once per VINTAGE_TTL_SECONDS per brand and day, per process
        if len(_VINTAGE_CACHE) >= 256:
            _VINTAGE_CACHE.clear()
        hit = (time.monotonic() + VINTAGE_TTL_SECONDS, portfolio_vintage.vintage(session, brand_id, day))
        _VINTAGE_CACHE[key] = hit
    return json_response(hit[1])


VINTAGE_TTL_SECONDS = 300.0
_VINTAGE_CACHE: dict[tuple[str, date], tuple[float, dict[str, Any]]] = {}
