"""Staff reminders: the checks a reminder passes before it is stored (``api/partner/reminders.py``; docs/operations.md,
"Staff reminders"): the template is a notice event of the messaging catalogue, its variables are the ones the
template needs, each of the right type, and the time is ahead, with an offset, within 90 days. Every refusal is a
``ValidationError`` (422) naming the field (``template``, ``variables.<name>``, ``scheduledAt``); nothing is stored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from sqlalchemy.orm import Session

from activities.messaging import events
from activities.messaging.send import template_for
from activities.messaging.templates import ENV
from domain.contact_hours import IST, RECOVERY_EVENTS, within_contact_hours
from domain.errors import ValidationError

MAX_AHEAD = timedelta(days=90)
MAX_TEXT = 500  # characters of a text value
EVENTS = tuple(str(e) for e in events.EVENT_VARIABLES)
FILLED_AT_SEND = frozenset(v.name for v in events.COMMON)  # customer_name, brand_name, loan_ref: the dispatcher's


def check_template(template: str) -> str:
    """``template`` when it is a notice event of the catalogue (``activities.messaging.events``); else 422 naming
    ``template`` with the list of events."""
    if template not in EVENTS:
        raise ValidationError(f"not a template of the catalogue ({', '.join(EVENTS)})", field="template")
    return template


def placeholders(session: Session, brand_id: str, template: str, channel: str) -> set[str]:
    """The variables the message that will go uses: the brand's template for (event, channel), else the shipped
    default (``activities.messaging.send.template_for``, as the dispatcher picks it), body and subject; empty when
    there is none or it is switched off (the dispatch then fails it, "the brand sends no …")."""
    found = template_for(session, brand_id, template, channel)
    if found is None or not found.active:
        return set()
    names: set[str] = set()
    for source in (found.body, found.subject):
        if source:
            try:
                names |= meta.find_undeclared_variables(ENV.parse(source))
            except TemplateSyntaxError:  # saved templates are checked; a broken one fails at dispatch, as before
                continue
    return names


def value_problem(variable: events.Variable, value: Any) -> str | None:
    """Why ``value`` cannot fill ``variable``, or None. Every value is a string or a number (not true/false, null,
    a list or an object); by the variable's kind: ``money`` a whole number of paise (≥ 0), ``number`` a number,
    ``date`` an ISO date ``YYYY-MM-DD`` (IST calendar date), ``text`` a string of at most 500 characters or a
    number (written as given). The kinds are ``activities.messaging.events``'s."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"must be a string or a number, not {type(value).__name__ if value is not None else 'null'}"
    if variable.kind == "money" and not (isinstance(value, int) and value >= 0):
        return "must be a whole number of paise, 0 or more (e.g. 450050 for ₹4,500.50)"
    if variable.kind == "number" and isinstance(value, str):
        return "must be a number"
    if variable.kind == "date" and not _iso_date(value):
        return "must be a date, YYYY-MM-DD"
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters"
    return None


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_variables(
    session: Session, brand_id: str, template: str, channel: str, values: dict[str, Any]
) -> dict[str, Any]:
    """``values`` when they fill the reminder's message: only the event's declared variables, every placeholder of
    the template that will go on ``channel`` given (but the customer's name, the brand's name and the loan's
    reference, which the dispatcher fills), each of its kind (``value_problem``). Else ValidationError (422) with one
    error per variable, each naming ``variables.<name>``: unknown, missing or of the wrong type."""
    declared = {v.name: v for v in events.variables(template)}
    problems: list[dict[str, str]] = []
    for name in sorted(set(values) - set(declared)):
        problems.append({"field": f"variables.{name}", "reason": f"not a variable of {template}"})
    needed = placeholders(session, brand_id, template, channel) - FILLED_AT_SEND
    for name in sorted(needed - set(values)):
        problems.append(
            {"field": f"variables.{name}", "reason": f"missing: the {channel} message of {template} uses it"}
        )
    for name in sorted(set(values) & set(declared)):
        reason = value_problem(declared[name], values[name])
        if reason is not None:
            problems.append({"field": f"variables.{name}", "reason": reason})
    if problems:
        summary = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:5])
        raise ValidationError(f"the variables do not fill {template} ({summary})", field="variables", details=problems)
    return values


def check_when(when: datetime, template: str | None = None) -> datetime:
    """``when`` in UTC, when it has an offset, is not in the past (a minute's grace) and is within 90 days, and, for a
    message about overdue dues (``template`` in ``domain.contact_hours.RECOVERY_EVENTS``), from 08:00 to 19:00 IST
    (RBI's contact hours); else 422 naming ``scheduledAt``."""
    if when.tzinfo is None:
        raise ValidationError("needs an offset, e.g. 2026-01-31T09:30:00+05:30", field="scheduledAt")
    now = datetime.now(UTC)
    if when < now - timedelta(minutes=1):  # a minute's grace for the caller's clock
        raise ValidationError("must not be in the past", field="scheduledAt")
    if when > now + MAX_AHEAD:
        raise ValidationError("must be within 90 days", field="scheduledAt")
    check_contact_hours(when, template)
    return when.astimezone(UTC)


def check_contact_hours(when: datetime, template: str | None) -> None:
    """422 naming ``scheduledAt`` for a message about overdue dues (``domain.contact_hours.RECOVERY_EVENTS``) due
    outside 08:00 to 19:00 IST (RBI's contact hours); nothing for any other."""
    if template in RECOVERY_EVENTS and not within_contact_hours(when):
        raise ValidationError(
            f"{template} is about overdue dues: it goes only between 08:00 and 19:00 IST (RBI circular of 12 August "
            f"2022 on recovery agents), not at {when.astimezone(IST):%H:%M} IST",
            field="scheduledAt",
        )
