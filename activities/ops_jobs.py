"""The activities of three daily jobs (docs/operations.md, "Scheduled jobs"): staff inactivity alerts
(``workflows.inactivity_alerts``), here; periodic re-KYC (``workflows.kyc_expiry``, :mod:`activities.ops_jobs_kyc`);
bureau refresh of active loans (``workflows.bureau_refresh``, :mod:`activities.ops_jobs_bureau`). Each workflow
lists the active brands, asks for one brand's items, then runs one activity per item, each idempotent by key.

Staff inactivity (seed 001: activity session tracking, login logs, "system alerts (partner user inactivity)"): a
staff member working in the brand (``staff_brand_roles``, active account) is last seen at the latest of their
sign-in (``staff_users.last_login_at``) and their sessions' pings (``staff_activity_sessions.last_active_at``), or
at the account's creation when they never signed in. Seen more than the brand's ``opsJobs.inactivityDays`` ago (and
not on a day off today) they are flagged to each of the brand's other admins by a notification (``meta.alert``
STAFF_INACTIVE) keyed by the staff member and the day they were last seen: one alert per spell of inactivity, however
many runs see it. With ``opsJobs.inactivityNoteAllocations`` the alert counts the open loans (assigned, or as
collector) and the customers allocated to them, so an admin can reallocate them; the job reallocates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from activities.messaging.send import Sender
from activities.ops_jobs_bureau import BureauRefreshActivities, BureauRefreshRequest, BureauRefreshResult
from activities.ops_jobs_common import BrandRun, brand_admins, brand_policy, notify_once
from activities.ops_jobs_kyc import ReKycActivities, ReKycItem
from db import portfolio
from db.models import (
    Brand,
    Customer,
    Loan,
    PartnerUnavailabilityDate,
    StaffActivitySession,
    StaffBrandRole,
    StaffUser,
)
from db.session import Database
from domain import ops_jobs
from domain.access import Role
from domain.status import TERMINAL

__all__ = [
    "BrandRun",
    "BureauRefreshRequest",
    "BureauRefreshResult",
    "InactiveStaff",
    "OpsJobActivities",
    "ReKycItem",
]


@dataclass(frozen=True)
class InactiveStaff:
    """A staff member found inactive in a brand: when last seen (ISO 8601) and how many whole days ago."""

    brand_id: str
    staff_id: str
    last_seen: str
    days: int

    @property
    def key(self) -> str:
        return f"inactive:{self.brand_id}:{self.staff_id}:{self.last_seen[:10]}"


def find_inactive_staff(session: Session, run: BrandRun) -> list[InactiveStaff]:
    """The brand's active staff (not SUPER_ADMIN) last seen more than the brand's ``inactivityDays`` before
    ``run.now``, none on a day off on ``run.day``; the longest idle first."""
    brand = session.get_one(Brand, run.brand_id)
    days = brand_policy(brand.config).inactivity_days
    now = datetime.fromisoformat(run.now)
    pinged = (
        select(StaffActivitySession.staff_id, func.max(StaffActivitySession.last_active_at).label("at"))
        .group_by(StaffActivitySession.staff_id)
        .subquery()
    )
    off = select(PartnerUnavailabilityDate.id).where(
        PartnerUnavailabilityDate.staff_id == StaffUser.id, PartnerUnavailabilityDate.day == date.fromisoformat(run.day)
    )
    rows = session.execute(
        select(StaffUser.id, StaffUser.created_at, StaffUser.last_login_at, pinged.c.at)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .outerjoin(pinged, pinged.c.staff_id == StaffUser.id)
        .where(
            StaffBrandRole.brand_id == run.brand_id,
            func.upper(StaffBrandRole.role) != Role.SUPER_ADMIN.value,
            StaffUser.is_active.is_(True),
            ~off.exists(),
        )
    ).all()
    found = []
    for staff_id, created_at, login, ping in rows:
        seen = ops_jobs.last_seen(created_at, login, ping)
        if ops_jobs.is_inactive(seen, now, days):
            found.append(InactiveStaff(run.brand_id, str(staff_id), seen.isoformat(), (now - seen).days))
    return sorted(found, key=lambda s: (s.last_seen, s.staff_id))


def allocations(session: Session, brand_id: str, staff_id: str) -> dict[str, int]:
    """What is allocated to a staff member in the brand: open loans assigned to them, open loans they collect,
    customers allocated to them."""
    open_loan = (Loan.brand_id == brand_id) & Loan.status.not_in([s.value for s in TERMINAL])
    count = func.count(Loan.id)
    return {
        "loans": session.scalar(select(count).where(open_loan, Loan.assigned_to == staff_id)) or 0,
        "collections": session.scalar(select(count).where(open_loan, Loan.collector_id == staff_id)) or 0,
        "customers": session.scalar(
            select(func.count(Customer.id)).where(Customer.brand_id == brand_id, Customer.assigned_to == staff_id)
        )
        or 0,
    }


def alert_inactive(session: Session, who: InactiveStaff) -> int:
    """Notify the brand's admins (not the inactive one) once per spell → how many notifications were new."""
    brand = session.get_one(Brand, who.brand_id)
    policy = brand_policy(brand.config)
    staff = session.get_one(StaffUser, who.staff_id)
    meta: dict[str, Any] = {"alert": "STAFF_INACTIVE", "staffId": staff.id, "lastSeen": who.last_seen, "days": who.days}
    body = (
        f"{staff.name} ({staff.email}) has not signed in or worked for {who.days} days"
        f" (last seen {who.last_seen[:10]})."
    )
    if policy.inactivity_note_allocations:
        held = allocations(session, who.brand_id, who.staff_id)
        meta["allocations"] = held
        body += (
            f" Allocated to them: {held['loans']} open loan(s), {held['collections']} in collection,"
            f" {held['customers']} customer(s)."
        )
    admins = [a for a in brand_admins(session, who.brand_id) if a != who.staff_id]
    return notify_once(session, admins, who.brand_id, f"Inactive staff: {staff.name}"[:200], body, meta, who.key)


class OpsJobActivities(ReKycActivities, BureauRefreshActivities, DbActivities):
    """The three jobs' activities; ``all()`` lists them for the worker. Clients: the database, the HTTP client the
    vendors are called with, and the API's URL (the messaging layer's links)."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_url: str = ""):
        self.db = db
        self.http = http
        self.sender = Sender(db, http, api_url)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.ops_job_brands,
            self.inactive_staff,
            self.alert_inactive_staff,
            self.rekyc_due_customers,
            self.mark_rekyc_due,
            self.bureau_refresh_due,
            self.refresh_bureau,
        ]

    @activity.defn
    async def ops_job_brands(self) -> list[str]:
        """Every active brand's id, in a stable order."""
        return await self._tx(portfolio.active_brands)

    @activity.defn
    async def inactive_staff(self, run: BrandRun) -> list[InactiveStaff]:
        """The brand's inactive staff this run (:func:`find_inactive_staff`)."""
        return await self._tx(lambda s: find_inactive_staff(s, run))

    @activity.defn
    async def alert_inactive_staff(self, who: InactiveStaff) -> int:
        """One inactive staff member flagged to the brand's admins (:func:`alert_inactive`) → new notifications."""
        return await self._tx(lambda s: alert_inactive(s, who))
