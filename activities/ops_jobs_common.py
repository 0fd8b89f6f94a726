"""What the daily operations jobs' activities share (``activities.ops_jobs``): the inputs the workflows pass, the
brand's admins (who are told), the loan statuses that count as active, and the system audit row."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from activities.base import is_row_id
from db.models import AuditLog, StaffBrandRole, StaffNotification, StaffUser
from db.notifications import notify
from domain import ops_jobs
from domain.access import Role
from domain.errors import ValidationError
from domain.status import LoanStatus

log = logging.getLogger("los.worker")

#: A loan that is disbursed and not closed (``OVERPAID`` is fully repaid, only waiting for its refund).
ACTIVE_LOAN = (LoanStatus.DISBURSED.value, LoanStatus.OVERDUE.value)

#: The staff notification type of every alert these jobs raise (``meta.alert`` says which).
SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class BrandRun:
    """One brand in one run: ``now`` the run's instant (ISO 8601, UTC), ``day`` its IST date (YYYY-MM-DD)."""

    brand_id: str
    now: str
    day: str


def brand_policy(config: Any) -> ops_jobs.OpsJobsPolicy:
    """The brand's ``ops_jobs`` settings (``domain.ops_jobs.policy_of``). A bad stored value fails the step
    without retries (``BrandConfigError``, naming the key): retrying cannot fix it, the brand's settings can."""
    try:
        return ops_jobs.policy_of(config)
    except ValidationError as exc:
        raise ApplicationError(
            f"brand configuration: {exc.field}: {exc.message}", type="BrandConfigError", non_retryable=True
        ) from exc


def brand_admins(session: Session, brand_id: str) -> list[str]:
    """The ids of the brand's active ADMIN staff (its role in the brand, ``staff_brand_roles``), stable order."""
    return [
        str(i)
        for i in session.scalars(
            select(StaffUser.id)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(
                StaffBrandRole.brand_id == brand_id,
                func.upper(StaffBrandRole.role) == Role.ADMIN.value,
                StaffUser.is_active.is_(True),
            )
            .order_by(StaffUser.email)
        )
    ]


def notify_once(
    session: Session,
    staff_ids: list[str],
    brand_id: str,
    title: str,
    body: str,
    meta: dict[str, Any],
    key: str,
) -> int:
    """A SYSTEM notification to each of ``staff_ids`` (duplicates dropped), stored once per ``key:<staff id>``
    (``db.notifications``) → how many were new."""
    wanted = list(dict.fromkeys(s for s in staff_ids if s))
    keys = {staff: f"{key}:{staff}" for staff in wanted}
    existing = set(
        session.scalars(
            select(StaffNotification.idempotency_key).where(StaffNotification.idempotency_key.in_(keys.values()))
        )
    )
    for staff, k in keys.items():
        notify(session, staff, brand_id, SYSTEM, title, body, meta, k)
    return sum(1 for k in keys.values() if k not in existing)


def staff_of_actor(session: Session, brand_id: str, actor: str | None) -> str | None:
    """The id of the brand's staff member an actor names: a staff id, or ``ROLE:email`` as workflows record who
    approved a step (``Disbursal.approved_by``); None for the system, or someone no longer on the brand's staff."""
    if not actor:
        return None
    if is_row_id(actor):
        wanted = StaffUser.id == actor
    else:
        wanted = func.lower(StaffUser.email) == actor.rpartition(":")[2].strip().lower()
    found = session.scalar(
        select(StaffUser.id)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(wanted, StaffBrandRole.brand_id == brand_id)
    )
    return str(found) if found is not None else None


def alert_admins(
    session: Session,
    brand_id: str,
    actors: list[str | None],
    title: str,
    body: str,
    meta: dict[str, Any],
    key: str,
) -> int:
    """:func:`notify_once` to the brand's admins and to the staff each of ``actors`` names (:func:`staff_of_actor`:
    e.g. who approved the money's move) → how many were new. ``meta`` should carry ``alert`` (what kind: the console
    and ops filter on it, docs/operations.md). A brand with nobody to tell is logged (warning)."""
    people = [p for p in (staff_of_actor(session, brand_id, a) for a in actors) if p]
    staff = [*brand_admins(session, brand_id), *people]
    if not staff:
        log.warning("alert %s for brand %s: no admin and no approver to tell (%s)", key, brand_id, title)
    return notify_once(session, staff, brand_id, title, body, meta, key)


def audit_once(session: Session, key: str, **values: Any) -> bool:
    """A system row on the audit log (no actor), stored once per ``key`` → True when this call wrote it."""
    row = session.execute(
        insert(AuditLog)
        .values(idempotency_key=key, actor_id=None, actor_email=None, actor_role=None, **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(AuditLog.id)
    ).first()
    return row is not None
