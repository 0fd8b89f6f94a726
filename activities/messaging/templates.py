"""Rendering and checking message templates: jinja2 in a sandbox, every variable declared.

Templates are written by brand staff, so they are rendered by :class:`jinja2.sandbox.SandboxedEnvironment` (no
attribute tricks such as ``''.__class__``: :class:`jinja2.exceptions.SecurityError`) with
:class:`jinja2.StrictUndefined` (a missing value is an error, never an empty string) and no autoescaping (SMS and
plain-text email). :func:`check` refuses a template using a variable its event does not have, one that does not
parse, or one that does not render with the event's sample values; :func:`render` fills in real values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from activities.messaging import events
from domain.errors import ValidationError
from domain.money import format_inr

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
MAX_BODY = {"sms": 1000, "whatsapp": 1000, "email": 20000}


class TemplateError(Exception):
    """A template that cannot be rendered (``field``: body or subject; ``reason``: why)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Rendered:
    """A rendered message: ``body`` (text), ``subject`` (email) and the WhatsApp parameters (body lines)."""

    body: str
    subject: str | None = None

    @property
    def params(self) -> list[str]:
        return [line.strip() for line in self.body.splitlines() if line.strip()]


def written(variable: events.Variable, value: Any) -> str:
    """A value as the message shows it: money (paise) as ₹1,234.50, an ISO date as 05 Jan 2026."""
    if variable.kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_inr(value)
    if variable.kind == "date" and isinstance(value, str | date):
        try:
            day = value if isinstance(value, date) else date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
        return day.strftime("%d %b %Y")
    return str(value)


def context(event: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The event's variables that have a value, written for the message (unknown names are dropped)."""
    return {v.name: written(v, values[v.name]) for v in events.variables(event) if values.get(v.name) is not None}


def sample_values(event: str) -> dict[str, Any]:
    return {v.name: v.sample for v in events.variables(event)}


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """The template compiled once per process and source text (jinja2 compiles ``from_string`` anew each call: a
    tenth of the worker's CPU on a due-date storm). Compiled templates are immutable and safe to share."""
    return ENV.from_string(source)


def _render(source: str, where: str, values: Mapping[str, str]) -> str:
    try:
        return _compiled(source).render(**values)
    except SecurityError as exc:
        raise TemplateError(where, f"not allowed in a template: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateError(where, f"no value for {exc.message}") from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(where, f"line {exc.lineno}: {exc.message}") from exc
    except Exception as exc:  # noqa: BLE001 - a template error of any other kind (a filter on a wrong type...)
        raise TemplateError(where, f"{type(exc).__name__}: {exc}") from exc


def render(event: str, body: str, subject: str | None, values: Mapping[str, Any]) -> Rendered:
    """Render a template with the notice's values (raw: paise, ISO dates) → :class:`Rendered`;
    :class:`TemplateError` when it cannot be."""
    ctx = context(event, values)
    return Rendered(_render(body, "body", ctx).strip(), _render(subject, "subject", ctx).strip() if subject else None)


def check(event: str, kind: str, body: str, subject: str | None) -> Rendered:
    """Whether staff may save this template; :class:`domain.errors.ValidationError` naming ``body`` or ``subject``
    and the reason. Answers the rendering with the sample values (the preview)."""
    if event not in events.EVENT_VARIABLES:
        raise ValidationError(f"unknown event {event!r}", field="event")
    allowed = {v.name for v in events.variables(event)}
    for where, source in (("body", body), ("subject", subject)):
        if source is None:
            continue
        if len(source) > MAX_BODY.get(kind, 1000):
            raise ValidationError(f"is longer than {MAX_BODY.get(kind, 1000)} characters", field=where)
        try:
            names = meta.find_undeclared_variables(ENV.parse(source))
        except TemplateSyntaxError as exc:
            raise ValidationError(f"line {exc.lineno}: {exc.message}", field=where) from exc
        unknown = sorted(names - allowed)
        if unknown:
            raise ValidationError(
                f"unknown variable {', '.join(unknown)} for {event}; allowed: {', '.join(sorted(allowed))}", field=where
            )
    try:
        return render(event, body, subject, sample_values(event))
    except TemplateError as exc:
        raise ValidationError(exc.reason, field=exc.field) from exc
