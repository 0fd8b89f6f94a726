"""Notices about overdue dues held for RBI's contact hours (08:00 to 19:00 IST, ``domain.contact_hours``; RBI circular
RBI/2022-23/108 of 12 August 2022 on recovery agents), under CONTACT_HOURS_PATCH: an OVERDUE notice found at the
00:00 IST day-end, a SETTLEMENT_OFFER decided at night. They wait in ``ServicingState.held_notices`` (kept across
continue-as-new); the servicing loop wakes for them at the loan's own minute from 08:00 to 08:30 and sends them after
the pass made the link they point at, each only while it still holds (``HeldNotice``). docs/collections.md,
"Contact hours".
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contact_hours import CONTACT_SPREAD_SECONDS, next_contact_opening, within_contact_hours
    from workflows.contracts import HeldNotice
    from workflows.options import IST

from workflows.base import LoanBase


class HeldNoticesPhase(LoanBase):
    """Holding and releasing the notices about overdue dues (module docstring)."""

    async def _recovery_notice(
        self, event: str, key: str, about: HeldNotice | None = None, hold: bool = False, **values: object
    ) -> None:
        """A notice about overdue dues (OVERDUE, SETTLEMENT_OFFER), once per ``key``: sent now from 08:00 to 19:00
        IST, else (CONTACT_HOURS_PATCH) held in ``ServicingState.held_notices``, kept across continue-as-new, for the
        loop to send once the window opens (``domain.contact_hours``); ``hold``: held in the window too, for this
        pass to send after its link. ``about``: what it is about (an installment, or a settlement's link), checked
        again when it goes (``_release_held_notices``)."""
        state = self.servicing
        now = workflow.now()
        if self.contact_hours and state is not None and (hold or not within_contact_hours(now)):
            if key in state.notices_sent or any(h.key == key for h in state.held_notices):
                return
            about = about or HeldNotice(event, key)
            if about.settlement_id is not None:  # a newer offer of the settlement replaces an older one held
                state.held_notices = [h for h in state.held_notices if h.settlement_id != about.settlement_id]
            state.held_notices.append(
                replace(about, event=event, key=key, values=dict(values), schedule_version=state.schedule_version)
            )
            self.notice_held = not hold  # a handler's notice: the loop's next pass sets its wake-up
            return
        await self._notice(event, key, **values)

    def _held_notices_wake(self) -> datetime | None:
        """When the loop wakes to send the held notices: the next 08:00 IST plus this loan's own minutes (0-29, from
        its id), so a book's notices are not all sent in the same second; None when none is held or it is already
        inside the window."""
        state, now = self.servicing, workflow.now()  # now, not when the pass began: a notice held at 19:00 waits
        if not (self.contact_hours and state is not None and state.held_notices) or within_contact_hours(now):
            return None
        spread = int(hashlib.sha256(self.inp.loan_id.encode()).hexdigest()[:8], 16) % CONTACT_SPREAD_SECONDS
        return next_contact_opening(now) + timedelta(seconds=spread)

    async def _release_held_notices(self) -> None:
        """Inside the window (now, not when the pass began), send the held notices in the order they were held,
        after the pass made the link they point at, each only while it still holds (``HeldNotice``): an
        installment's with what it asks now."""
        state = self.servicing
        if state is None or not state.held_notices or not within_contact_hours(workflow.now()):
            return
        held, state.held_notices = state.held_notices, []
        by_number = {i.number: i for i in state.installments}
        open_settlement = self._settlement_open() if self.collections else None
        for notice in held:
            values = dict(notice.values)
            if notice.installment is not None:
                inst = by_number.get(notice.installment)
                stale = notice.schedule_version != state.schedule_version
                if stale or inst is None or inst.paid or not inst.overdue or inst.due_at > workflow.now():
                    continue
                values["amount"] = inst.remaining
            if notice.settlement_id is not None:
                s = open_settlement
                if (
                    s is None
                    or s.settlement_id != notice.settlement_id
                    or s.link_version != notice.link_version
                    or (s.deadline is not None and workflow.now().astimezone(IST).date() > s.deadline)
                ):
                    continue
            await self._notice(notice.event, notice.key, **values)
