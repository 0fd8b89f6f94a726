"""When a borrower in arrears may be contacted about the dues: 08:00 to 19:00 IST.

Source: RBI circular RBI/2022-23/108, DOR.ORG.REC.65/21.04.158/2022-23 of 12 August 2022, "Outsourcing of Financial
Services - Responsibilities of regulated entities employing Recovery Agents": regulated entities and their agents
shall not resort to "calling the borrower before 8:00 a.m. and after 7:00 p.m. for recovery of overdue loans", nor
send inappropriate messages. The window here is that rule, applied to everything the lender's side starts about
overdue dues: a collector's click-to-call (``api/partner/dialer.py``) and the loan's automated overdue notices
(SMS, WhatsApp, e-mail; ``workflows/money_in.py``), which wait for the window to open instead of going out at the
00:00 IST day-end that found the installment unpaid. What the borrower starts (a payment, its receipt) and the
reminders before a due date (sent at 09:00 and 10:00 IST) are not recovery contact and are not held.

Times are IST (UTC+05:30, no daylight saving); instants are timezone-aware datetimes. Pure: the standard library
only, no clock (callers pass the instant).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from domain.errors import Conflict

IST = timezone(timedelta(hours=5, minutes=30), "IST")
CONTACT_FROM = time(8)
"""The window opens at 08:00 IST (inclusive)."""
CONTACT_UNTIL = time(19)
"""The window closes at 19:00 IST (exclusive: 19:00:00 is outside)."""
CONTACT_SPREAD_SECONDS = 30 * 60
"""Held notices go from 08:00 to 08:30 IST, each loan at its own time, not a whole book in the window's first
second."""
RECOVERY_EVENTS = frozenset({"OVERDUE", "COLLECTION_PAYMENT_LINK", "SETTLEMENT_OFFER"})
"""The customer notices (message templates) about overdue dues: a staff reminder with one is scheduled only inside
the window."""
RECOVERY_STATUSES = frozenset({"OVERDUE", "WRITTEN_OFF"})
"""Loan statuses whose borrower is contacted "for recovery of overdue loans": dues past their date, and a written-off
loan whose dues are still owed and recovered."""


def within_contact_hours(at: datetime) -> bool:
    """Whether ``at`` (timezone-aware) is inside 08:00 (inclusive) to 19:00 (exclusive) IST. Raises ValueError for a
    naive datetime, whose zone nobody knows."""
    if at.tzinfo is None:
        raise ValueError("a timezone-aware instant is needed")
    clock = at.astimezone(IST).time()
    return CONTACT_FROM <= clock < CONTACT_UNTIL


def next_contact_opening(at: datetime) -> datetime:
    """``at`` itself (in its own zone) when it is inside the window, else the next 08:00 IST after it (the same day
    before 08:00, the next day from 19:00), as an IST datetime."""
    if within_contact_hours(at):
        return at
    local = at.astimezone(IST)
    day = local.date() if local.time() < CONTACT_FROM else local.date() + timedelta(days=1)
    return datetime.combine(day, CONTACT_FROM, IST)


def check_recovery_contact(at: datetime, what: str = "a borrower in arrears", field: str | None = None) -> None:
    """Refuse (``Conflict``, HTTP 409, naming ``field``) contact with ``what`` outside the window, saying when it
    opens next; nothing when ``at`` is inside it."""
    if within_contact_hours(at):
        return
    opens = next_contact_opening(at)
    raise Conflict(
        f"{what} may be contacted about overdue dues only between 08:00 and 19:00 IST (RBI circular of 12 August "
        f"2022 on recovery agents); it is {at.astimezone(IST):%H:%M} IST now, next from "
        f"{opens:%d %b %Y %H:%M} IST",
        field=field,
    )
