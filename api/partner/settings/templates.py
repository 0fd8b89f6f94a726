"""A brand's customer-message templates: /settings/templates.

One template per (event, kind): ``sms`` (its DLT template id required), ``email`` (a subject required), ``whatsapp``
(``dltTemplateId`` holds the AiSensy campaign name; the body lists the template's parameters, one per line). The list
shows every event and kind, the shipped default where the brand has none (``isDefault``). A template may use only its
event's variables (``variables`` in each answer); one that does not parse, uses another variable or reaches for an
attribute the sandboxed renderer refuses is a 422 naming ``body`` or ``subject``. ``DELETE`` goes back to the default;
``POST .../preview`` renders a template (the saved one, or the body given) with sample values."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import select

from activities.messaging import defaults, events, templates
from api.access import audit
from api.partner.settings.common import Db, Instant, Manager, Strict, Viewer, settings_router
from api.responses import ApiModel
from db.models import MessageTemplate
from domain.errors import NotFound, ValidationError

router = settings_router()
DLT_ID = re.compile(r"^[0-9]{10,30}$")  # the numeric id a DLT platform gives a template (typically 19 digits)
CAMPAIGN = re.compile(r"^[A-Za-z0-9 _.-]{1,40}$")


class TemplateIn(Strict):
    body: str = Field(min_length=1, max_length=20000, description="jinja2; only the event's variables")
    subject: str | None = Field(default=None, max_length=500, description="email: required")
    dlt_template_id: str | None = Field(
        default=None, alias="dltTemplateId", description="sms: the DLT template id; whatsapp: the campaign name"
    )
    active: bool = True


class PreviewIn(Strict):
    event: str
    kind: str
    body: str | None = Field(default=None, max_length=20000, description="absent: the brand's current template")
    subject: str | None = Field(default=None, max_length=500)
    values: dict[str, Any] = Field(default_factory=dict, description="values replacing the samples")


class VariableView(ApiModel):
    name: str
    description: str
    kind: str = Field(description="text, money (paise), date (ISO) or number")


class TemplateView(ApiModel):
    """A template as a brand sends it (its own, or the shipped default: ``is_default``)."""

    event: str
    kind: str = Field(description="sms, whatsapp or email")
    subject: str | None
    body: str
    dlt_template_id: str | None = Field(description="sms: DLT template id; whatsapp: campaign name")
    active: bool
    is_default: bool
    needs_dlt_id: bool = Field(description="true while an SMS template still carries the placeholder DLT id")
    variables: list[VariableView]
    updated_at: Instant | None


class PreviewView(ApiModel):
    event: str
    kind: str
    subject: str | None
    body: str
    params: list[str] = Field(description="whatsapp: the template parameters, in order")
    characters: int


def _view(event: str, kind: str, row: MessageTemplate | None) -> dict:
    t = defaults.default(event, kind) if row is None else row
    dlt = t.dlt_template_id
    return {
        "event": event,
        "kind": kind,
        "subject": t.subject,
        "body": t.body,
        "dltTemplateId": dlt,
        "active": t.active,
        "isDefault": row is None,
        "needsDltId": kind == "sms" and (not dlt or dlt == defaults.PLACEHOLDER_DLT_ID),
        "variables": [{"name": v.name, "description": v.description, "kind": v.kind} for v in events.variables(event)],
        "updatedAt": row.updated_at if row is not None else None,
    }


def _pair(event: str, kind: str) -> None:
    if event not in events.EVENT_VARIABLES:
        raise NotFound(f"unknown event {event!r}")
    if kind not in events.KINDS:
        raise NotFound(f"unknown kind {kind!r}: sms, whatsapp or email")


def _row(session: Any, brand_id: str, event: str, kind: str) -> MessageTemplate | None:
    return session.scalars(
        select(MessageTemplate)
        .where(MessageTemplate.brand_id == brand_id, MessageTemplate.event == event, MessageTemplate.kind == kind)
        .with_for_update()
    ).first()


def _check(event: str, kind: str, body: TemplateIn) -> None:
    """The kind's own rules, then the variables (422 naming the field)."""
    dlt = (body.dlt_template_id or "").strip()
    if kind == "sms" and not DLT_ID.match(dlt):
        raise ValidationError(
            "an SMS template needs the DLT template id it was registered with (digits)", field="dltTemplateId"
        )
    if kind == "whatsapp" and (not CAMPAIGN.match(dlt) or dlt == defaults.PLACEHOLDER_CAMPAIGN):
        raise ValidationError(
            "a WhatsApp template needs its campaign name (letters, digits, _ . -)", field="dltTemplateId"
        )
    if kind == "email" and not (body.subject or "").strip():
        raise ValidationError("an email template needs a subject", field="subject")
    if kind != "email" and body.subject:
        raise ValidationError(f"a {kind} message has no subject", field="subject")
    templates.check(event, kind, body.body, body.subject if kind == "email" else None)


@router.get("/templates", response_model=list[TemplateView])
def list_templates(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    """Every event and kind: the brand's template, or the default it would send."""
    rows = {
        (r.event, r.kind): r
        for r in session.scalars(select(MessageTemplate).where(MessageTemplate.brand_id == brand_id))
    }
    return [_view(e, k, rows.get((e, k))) for e in events.EVENT_VARIABLES for k in events.KINDS]


@router.get("/templates/{event}/{kind}", response_model=TemplateView)
def get_template(brand_id: str, event: str, kind: str, staff: Viewer, session: Db) -> dict:
    _pair(event, kind)
    return _view(event, kind, _row(session, brand_id, event, kind))


@router.put("/templates/{event}/{kind}", response_model=TemplateView)
def put_template(
    request: Request, brand_id: str, event: str, kind: str, body: TemplateIn, staff: Manager, session: Db
) -> dict:
    """Save the brand's template (checked before anything is written)."""
    _pair(event, kind)
    _check(event, kind, body)
    row = _row(session, brand_id, event, kind)
    before = _view(event, kind, row)
    if row is None:
        row = MessageTemplate(brand_id=brand_id, event=event, kind=kind, body=body.body)
        session.add(row)
    row.body, row.active, row.updated_by = body.body, body.active, staff.id
    row.subject = body.subject if kind == "email" else None
    row.dlt_template_id = (body.dlt_template_id or "").strip() or None
    session.flush()
    session.refresh(row)
    after = _view(event, kind, row)
    keys = ("subject", "body", "dltTemplateId", "active")
    audit(
        session,
        request,
        staff,
        "settings.template.update",
        "message_template",
        row.id,
        before={k: before[k] for k in keys},
        after={k: after[k] for k in keys},
    )
    session.commit()
    return after


@router.delete("/templates/{event}/{kind}", response_model=TemplateView)
def reset_template(request: Request, brand_id: str, event: str, kind: str, staff: Manager, session: Db) -> dict:
    """Back to the shipped default (the answer shows it)."""
    _pair(event, kind)
    row = _row(session, brand_id, event, kind)
    if row is not None:
        audit(session, request, staff, "settings.template.reset", "message_template", row.id, before={"body": row.body})
        session.delete(row)
        session.commit()
    return _view(event, kind, None)


@router.post("/templates/preview", response_model=PreviewView)
def preview_template(brand_id: str, body: PreviewIn, staff: Viewer, session: Db) -> dict:
    """Render with the event's sample values (``values`` replace them); the saved template when no body is given."""
    if body.event not in events.EVENT_VARIABLES:
        raise ValidationError(f"unknown event {body.event!r}", field="event")
    if body.kind not in events.KINDS:
        raise ValidationError("must be sms, whatsapp or email", field="kind")
    if body.body is None:
        current = _view(body.event, body.kind, _row(session, brand_id, body.event, body.kind))
        source, subject = current["body"], current["subject"]
    else:
        source, subject = body.body, body.subject if body.kind == "email" else None
    templates.check(body.event, body.kind, source, subject)
    values = {**templates.sample_values(body.event), **body.values}
    try:
        rendered = templates.render(body.event, source, subject, values)
    except templates.TemplateError as exc:
        raise ValidationError(exc.reason, field=exc.field if exc.field != "body" else "values") from exc
    return {
        "event": body.event,
        "kind": body.kind,
        "subject": rendered.subject,
        "body": rendered.body,
        "params": rendered.params if body.kind == "whatsapp" else [],
        "characters": len(rendered.body),
    }
