"""The staff reminders' dispatch activity (``workflows.reminder_dispatch``): the due PENDING reminders claimed in a
bounded batch (``FOR UPDATE SKIP LOCKED``), each sent on its channel through the messaging layer (the brand's template
for its event and channel, else the shipped default; the channel's vendors with failover) and marked SENT or FAILED
with a log row. The message log is keyed by the reminder's id, so a retried activity (or a later run finding a
reminder still PENDING after a crash) never sends it twice: it finds the logged outcome and records that."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from activities.messaging import events, templates
from activities.messaging.send import Recipient, Sender, template_for
from activities.providers import ProviderConfig
from activities.providers.messaging.base import FAILED, SENT
from db.models import Brand, Customer, CustomerMessage, StaffReminder, StaffReminderLog
from db.session import Database

BATCH = 50  # reminders claimed per run: the schedule runs every minute, so a backlog drains in order


@dataclass(frozen=True)
class DispatchResult:
    claimed: int
    sent: int
    failed: int


def message_key(reminder_id: str) -> str:
    """The message log's key of a reminder (the sender appends the channel)."""
    return f"reminder:{reminder_id}"


def claim_due(session: Session, now: datetime, limit: int = BATCH) -> list[str]:
    """The ids of up to ``limit`` PENDING reminders due by ``now``, oldest first, skipping any another dispatcher (or a
    staff member's edit) holds; each one's ``attempts`` counted."""
    rows = session.scalars(
        select(StaffReminder)
        .where(StaffReminder.status == "PENDING", StaffReminder.scheduled_at <= now)
        .order_by(StaffReminder.scheduled_at, StaffReminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.attempts += 1
    return [r.id for r in rows]


def _mark(session: Session, reminder_id: str, status: str, reason: str | None, vendor: str | None) -> bool:
    """The reminder SENT or FAILED with its log row, unless it is no longer PENDING; True when marked."""
    row = session.scalars(select(StaffReminder).where(StaffReminder.id == reminder_id).with_for_update()).one()
    if row.status != "PENDING":
        return False
    row.status = status
    if status == SENT:
        row.sent_at, row.failure_reason = datetime.now(UTC), None
    else:
        row.failure_reason = (reason or "not sent")[:500]
    details: dict[str, Any] = {"channel": row.channel, "vendor": vendor, "attempt": row.attempts}
    if status != SENT:
        details["reason"] = row.failure_reason
    session.add(StaffReminderLog(reminder_id=row.id, action=status, actor_id=None, details=details))
    return True


class ReminderActivities(DbActivities):
    """The dispatch activity; ``all()`` lists it for the worker."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_url: str = ""):
        self.db = db
        self.sender = Sender(db, http, api_url)

    def all(self) -> list[Callable[..., Any]]:
        return [self.dispatch_due_reminders]

    @activity.defn
    async def dispatch_due_reminders(self) -> DispatchResult:
        """Claim the due reminders and send each once → how many were claimed, sent and failed."""
        ids = await self._tx(lambda s: claim_due(s, datetime.now(UTC)))
        sent = failed = 0
        for reminder_id in ids:
            status = await self.dispatch_one(reminder_id)
            sent += status == SENT
            failed += status == FAILED
        return DispatchResult(len(ids), sent, failed)

    async def dispatch_one(self, reminder_id: str) -> str | None:
        """Send one claimed reminder and mark it → SENT / FAILED, or None when it was cancelled meanwhile."""

        def load(session: Session) -> tuple[StaffReminder, Recipient, Any] | None:
            r = session.get(StaffReminder, reminder_id)
            if r is None or r.status != "PENDING":
                return None
            customer, brand = session.get_one(Customer, r.customer_id), session.get_one(Brand, r.brand_id)
            who = Recipient(
                brand.id,
                brand.name,
                dict(brand.config or {}),
                customer.phone,
                customer.email,
                customer.full_name or "Customer",
                customer.id,
                r.loan_id,
            )
            session.expunge(r)
            return r, who, template_for(session, brand.id, r.template, r.channel)

        loaded = await self._tx(load)
        if loaded is None:
            return None
        r, who, template = loaded
        status, reason, vendor = await self._send(r, who, template)
        marked = await self._tx(lambda s: _mark(s, reminder_id, status, reason, vendor))
        return status if marked else None

    async def _send(self, r: StaffReminder, who: Recipient, template: Any) -> tuple[str, str | None, str | None]:
        kind, event = r.channel, r.template
        if event not in events.EVENT_VARIABLES:
            return FAILED, f"no such template: {event}", None
        if template is None or not template.active:
            return FAILED, f"the brand sends no {kind} for {event}", None
        if not ProviderConfig.candidates(who.brand_config, kind):
            return FAILED, f"the brand has no {kind} vendor", None
        if kind == "email" and not who.email:
            return FAILED, "the customer has no email address", None
        common = {"customer_name": who.name, "brand_name": who.brand_name, "loan_ref": (r.loan_id or "")[:8]}
        filled = {**(r.variables or {}), **common}
        try:
            rendered = templates.render(event, template.body, template.subject, filled)
        except templates.TemplateError as exc:
            return FAILED, f"template: {exc}", None
        key = message_key(r.id)
        status = await self.sender.deliver(who, kind, event, key, rendered, template.dlt_template_id, filled)

        def logged(session: Session) -> tuple[str | None, str | None]:
            row = session.scalars(
                select(CustomerMessage).where(CustomerMessage.idempotency_key == f"{key}:{kind}")
            ).one_or_none()
            return (row.error, row.vendor) if row is not None else (None, None)

        error, vendor = await self._tx(logged)
        # a delivery report may have moved the logged message past SENT (DELIVERED, READ): it went
        return (FAILED, error, vendor) if status == FAILED else (SENT, None, vendor)
