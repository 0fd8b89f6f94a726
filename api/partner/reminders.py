"""Staff reminders: messages staff schedule for customers, dispatched at their time through the messaging layer, with
their log, under /api/v1/partner/brand/{brandId}/reminders (docs/operations.md, "Staff reminders").

A reminder is PENDING until the ``reminder-dispatch`` schedule sends it (SENT) or the vendors refuse it (FAILED), or
staff cancel it (CANCELLED); only a PENDING one can be edited or cancelled. Reading needs ``customers.view``; writing
needs ``loans.comment``, which every staff role that talks to customers holds (the credit, loan and collection
executives up to the admins) and brand API keys do not: ``customers.allocate`` is the admins' alone.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.deps import MAX_PAGE, is_uuid, page_of
from api.partner.common import Db, iso, staff_router
from api.partner.reminders_rules import check_contact_hours, check_template, check_variables, check_when
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDateTime, Uuid, Whole
from db.models import Customer, Loan, StaffReminder, StaffReminderLog
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError

router = staff_router()
Viewer = Annotated[Principal, Allow(P.CUSTOMERS_VIEW)]
Writer = Annotated[Principal, Allow(P.LOANS_COMMENT, api_key=False)]
Channel = Literal["sms", "email", "whatsapp"]
Status = Literal["PENDING", "SENT", "FAILED", "CANCELLED"]
VARIABLES = 'by name: a string or a number, as the variable\'s kind needs (docs/operations.md, "Staff reminders")'


# ------------------------------------------------------------------------------------------- models
class ReminderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Uuid = Field(alias="userId", description="a customer of this brand")
    loan_id: Uuid | None = Field(default=None, alias="loanId", description="one of the customer's loans")
    channel: Channel
    template: str = Field(max_length=40, description="a notice event of the catalogue, e.g. DUE_REMINDER")
    scheduled_at: IsoDateTime = Field(alias="scheduledAt", description="ISO 8601 with an offset; within 90 days")
    variables: dict[str, Any] = Field(default_factory=dict, max_length=30, description=VARIABLES)


class ReminderPatch(BaseModel):
    """What may change while the reminder is PENDING; what is left out stays."""

    model_config = ConfigDict(extra="forbid")
    channel: Channel | None = None
    template: str | None = Field(default=None, max_length=40)
    scheduled_at: IsoDateTime | None = Field(default=None, alias="scheduledAt")
    variables: dict[str, Any] | None = Field(default=None, max_length=30, description=VARIABLES)

    @model_validator(mode="after")
    def _something(self) -> ReminderPatch:
        if not self.model_fields_set:
            raise ValidationError("nothing to change", field="scheduledAt")
        return self


class ReminderFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    channel: Channel | None = None
    customer_id: Uuid | None = Field(default=None, alias="customerId")
    scheduled_from: IsoDateTime | None = Field(default=None, alias="scheduledFrom")
    scheduled_to: IsoDateTime | None = Field(default=None, alias="scheduledTo")
    page: Whole = Field(default=1, ge=1, le=MAX_PAGE)
    limit: Whole = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _range(self) -> ReminderFilters:
        for name, value in (("scheduledFrom", self.scheduled_from), ("scheduledTo", self.scheduled_to)):
            if value is not None and value.tzinfo is None:
                raise ValidationError("needs an offset, e.g. +05:30", field=name)
        if self.scheduled_from and self.scheduled_to and self.scheduled_from > self.scheduled_to:
            raise ValidationError("must not be before scheduledFrom", field="scheduledTo")
        return self


Filters = Annotated[ReminderFilters, Query()]


class ReminderOut(ApiModel):
    id: str
    brand_id: str
    customer_id: str
    customer_name: str | None
    loan_id: str | None
    channel: str
    template: str
    variables: dict[str, Any]
    scheduled_at: str
    status: str
    attempts: int
    sent_at: str | None
    failure_reason: str | None
    created_by: str
    created_at: str | None
    updated_at: str | None


class ReminderLogOut(ApiModel):
    id: str
    action: str
    actor_id: str | None = Field(description="the staff member; null: the dispatcher")
    details: dict[str, Any]
    created_at: str | None


class ReminderDetail(ReminderOut):
    log: list[ReminderLogOut]


class ReminderPage(ApiModel):
    items: list[ReminderOut]
    page: int
    limit: int
    total: int


# ------------------------------------------------------------------------------------------- helpers
def _find(session: Session, brand_id: str, reminder_id: str, *, lock: bool = False) -> StaffReminder:
    query = select(StaffReminder).where(StaffReminder.id == reminder_id, StaffReminder.brand_id == brand_id)
    row = session.scalars(query.with_for_update() if lock else query).first() if is_uuid(reminder_id) else None
    if row is None:
        raise NotFound("no such reminder in this brand")
    return row


def _state(r: StaffReminder) -> dict[str, Any]:
    return {
        "channel": r.channel,
        "template": r.template,
        "variables": dict(r.variables or {}),
        "scheduledAt": iso(r.scheduled_at),
        "status": r.status,
    }


def _out(r: StaffReminder, name: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "brandId": r.brand_id,
        "customerId": r.customer_id,
        "customerName": name,
        "loanId": r.loan_id,
        "channel": r.channel,
        "template": r.template,
        "variables": dict(r.variables or {}),
        "scheduledAt": iso(r.scheduled_at),
        "status": r.status,
        "attempts": r.attempts,
        "sentAt": iso(r.sent_at),
        "failureReason": r.failure_reason,
        "createdBy": r.created_by,
        "createdAt": iso(r.created_at),
        "updatedAt": iso(r.updated_at),
    }


def _detail(session: Session, r: StaffReminder) -> dict[str, Any]:
    name = session.scalar(select(Customer.full_name).where(Customer.id == r.customer_id))
    logs = session.scalars(
        select(StaffReminderLog)
        .where(StaffReminderLog.reminder_id == r.id)
        .order_by(StaffReminderLog.created_at, StaffReminderLog.id)
    ).all()
    log = [
        {
            "id": x.id,
            "action": x.action,
            "actorId": x.actor_id,
            "details": dict(x.details or {}),
            "createdAt": iso(x.created_at),
        }
        for x in logs
    ]
    return {**_out(r, name), "log": log}


def reminders_of_customer(session: Session, brand_id: str, customer_id: str) -> list[dict[str, Any]]:
    """A customer's reminders, the latest scheduled first (the customer file's ``reminders``)."""
    rows = session.scalars(
        select(StaffReminder)
        .where(StaffReminder.brand_id == brand_id, StaffReminder.customer_id == customer_id)
        .order_by(StaffReminder.scheduled_at.desc(), StaffReminder.id)
        .limit(200)
    ).all()
    return [_out(r, None) for r in rows]


def _log(session: Session, r: StaffReminder, action: str, staff: Principal, details: dict[str, Any]) -> None:
    session.add(StaffReminderLog(reminder_id=r.id, action=action, actor_id=_staff_id(staff), details=details))


def _staff_id(staff: Principal) -> str | None:
    return staff.id if staff.kind == "staff" else None


# ------------------------------------------------------------------------------------------- routes
@router.post("/brand/{brand_id}/reminders", response_model=ReminderDetail, status_code=201)
def create_reminder(request: Request, brand_id: str, staff: Writer, session: Db, body: ReminderIn) -> dict[str, Any]:
    """Schedule a message for a customer: the channel, the template (a notice event) with its variables, when.
    422 naming the field: ``userId``, ``loanId``, ``template``, ``scheduledAt``, or ``variables.<name>`` for a
    variable the event does not have, one the message uses and is not given, or one of the wrong type
    (``api.partner.reminders_rules.check_variables``)."""
    customer = session.scalars(
        select(Customer).where(Customer.id == body.user_id, Customer.brand_id == brand_id)
    ).first()
    if customer is None:
        raise ValidationError("no customer of this brand has that id", field="userId")
    if body.loan_id is not None:
        owner = session.scalar(select(Loan.customer_id).where(Loan.id == body.loan_id, Loan.brand_id == brand_id))
        if owner != customer.id:
            raise ValidationError("not a loan of this customer", field="loanId")
    template = check_template(body.template)
    variables = check_variables(session, brand_id, template, body.channel, body.variables)
    when = check_when(body.scheduled_at, template)
    r = StaffReminder(
        brand_id=brand_id,
        customer_id=customer.id,
        loan_id=body.loan_id,
        created_by=staff.id,
        channel=body.channel,
        template=template,
        variables=variables,
        scheduled_at=when,
        status="PENDING",
        attempts=0,
    )
    session.add(r)
    session.flush()
    _log(session, r, "CREATED", staff, _state(r))
    audit(
        session,
        request,
        staff,
        "reminder.create",
        "staff_reminder",
        r.id,
        after={**_state(r), "customerId": r.customer_id},
    )
    session.flush()
    return _detail(session, r)


@router.get("/brand/{brand_id}/reminders", response_model=ReminderPage)
def list_reminders(brand_id: str, staff: Viewer, session: Db, filters: Filters) -> dict[str, Any]:
    """The brand's reminders, the soonest scheduled first; filters: status, channel, customer, scheduled range."""
    f = filters
    query = (
        select(StaffReminder, Customer.full_name)
        .join(Customer, Customer.id == StaffReminder.customer_id)
        .where(StaffReminder.brand_id == brand_id)
    )
    if f.status is not None:
        query = query.where(StaffReminder.status == f.status)
    if f.channel is not None:
        query = query.where(StaffReminder.channel == f.channel)
    if f.customer_id is not None:
        query = query.where(StaffReminder.customer_id == f.customer_id)
    if f.scheduled_from is not None:
        query = query.where(StaffReminder.scheduled_at >= f.scheduled_from)
    if f.scheduled_to is not None:
        query = query.where(StaffReminder.scheduled_at <= f.scheduled_to)
    rows, total = page_of(session, query, f.page, f.limit, StaffReminder.scheduled_at, StaffReminder.id)
    return {"items": [_out(r, name) for r, name in rows], "page": f.page, "limit": f.limit, "total": total}


@router.get("/brand/{brand_id}/reminders/{reminder_id}", response_model=ReminderDetail)
def get_reminder(brand_id: str, reminder_id: str, staff: Viewer, session: Db) -> dict[str, Any]:
    """One reminder with its log (created, edited, cancelled, sent, failed), oldest first."""
    return _detail(session, _find(session, brand_id, reminder_id))


@router.patch("/brand/{brand_id}/reminders/{reminder_id}", response_model=ReminderDetail)
def edit_reminder(
    request: Request, brand_id: str, reminder_id: str, staff: Writer, session: Db, body: ReminderPatch
) -> dict[str, Any]:
    """Reschedule or edit a PENDING reminder (409 once it is sent, failed or cancelled). The variables are checked
    against the template and channel it will have (``check_variables``)."""
    r = _find(session, brand_id, reminder_id, lock=True)  # waits for a dispatch holding it
    if r.status != "PENDING":
        raise Conflict(f"the reminder is {r.status}: only a PENDING one can be edited")
    before = _state(r)
    template = check_template(body.template) if body.template is not None else r.template
    variables = body.variables if body.variables is not None else dict(r.variables or {})
    check_variables(session, brand_id, template, body.channel or r.channel, variables)
    if body.scheduled_at is not None:
        r.scheduled_at = check_when(body.scheduled_at, template)
    else:  # a new template at the same time
        check_contact_hours(r.scheduled_at, template)
    if body.channel is not None:
        r.channel = body.channel
    r.template, r.variables = template, variables
    after = _state(r)
    changed = {k: v for k, v in after.items() if before[k] != v}
    _log(session, r, "EDITED", staff, {"before": {k: before[k] for k in changed}, "after": changed})
    audit(session, request, staff, "reminder.edit", "staff_reminder", r.id, before=before, after=after)
    session.flush()
    return _detail(session, r)


@router.post("/brand/{brand_id}/reminders/{reminder_id}/cancel", response_model=ReminderDetail)
def cancel_reminder(request: Request, brand_id: str, reminder_id: str, staff: Writer, session: Db) -> dict[str, Any]:
    """PENDING → CANCELLED (409 once it is sent, failed or cancelled)."""
    r = _find(session, brand_id, reminder_id, lock=True)
    if r.status != "PENDING":
        raise Conflict(f"the reminder is {r.status}: only a PENDING one can be cancelled")
    r.status = "CANCELLED"
    _log(session, r, "CANCELLED", staff, {})
    audit(
        session,
        request,
        staff,
        "reminder.cancel",
        "staff_reminder",
        r.id,
        before={"status": "PENDING"},
        after={"status": "CANCELLED"},
    )
    session.flush()
    return _detail(session, r)
