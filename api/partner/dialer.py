"""The dialer: click-to-call through Acefone (Stringee secondary), the vendor's call events, call logs and stats.

Under /api/v1/partner/brand/{brandId}/acefone/dialer/ (the seed's ``/acefone/dialer/...`` routes, brand-scoped):

- ``POST initiate`` — staff click the phone icon beside a customer's number: ``userId`` (the customer), optional
  ``partnerUserId`` (the agent; default the caller — another agent needs ``collections.manage``) and ``loanId`` (one
  of the customer's loans). The call is logged INITIATED, then the brand's dialers are asked in failover order
  (``activities.providers.dialer.place_call``): the vendor rings the agent's extension and, when the agent answers,
  the customer. Its events arrive by webhook (``api/webhooks/dialer.py``) and move the call on. A vendor's refusal
  is 409 and no dialer answering 503; either way the call is kept, FAILED, with the reason.
  A borrower with a loan OVERDUE or WRITTEN_OFF is called only from 08:00 to 19:00 IST (RBI's rule for recovery
  calls, ``domain.contact_hours``): outside it, 409 naming ``userId`` with when the window opens, and no call logged.
- ``GET user/{userId}/calls``, ``GET partner/{partnerUserId}/calls`` — a customer's / an agent's calls, newest first,
  paged (``status``, ``loanId`` filters); ``GET call/{callId}`` — one call with its stored events;
- ``PATCH call/{callId}/end`` — the agent (or a collections manager) ends an open call; the vendor's hangup, when it
  comes, has the last word on status and talk time;
- ``GET user/{userId}/stats``, ``GET partner/{partnerUserId}/stats`` — counts by status, answered rate, talk time.

Who: the loan and collections roles (``loans.view`` or ``collections.view``); reads also with the brand's API key.
The customer's number is never stored or shown whole: ``XXXXXX`` and its last 4 digits. docs/dialer.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.providers import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.dialer import KIND, Agent, mask_number, place_call
from api.access import Allow, audit
from api.deps import call_async, is_uuid, page_of
from api.partner.common import Db, find_loan, iso, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import WHOLE, IsoDate, Uuid, Whole
from db import dialer as calls_db
from db.models import Brand, Customer, DialerCall, Loan, StaffBrandRole, StaffUser
from domain.access import Permission as P
from domain.access import Role
from domain.contact_hours import RECOVERY_STATUSES, check_recovery_contact
from domain.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationError

router = staff_router()
BASE = "/brand/{brand_id}/acefone/dialer"
Caller = Annotated[Principal, Allow(P.COLLECTIONS_VIEW, P.LOANS_VIEW, api_key=False)]
Reader = Annotated[Principal, Allow(P.COLLECTIONS_VIEW, P.LOANS_VIEW)]
CallStatus = Literal["INITIATED", "RINGING", "ANSWERED", "COMPLETED", "MISSED", "BUSY", "FAILED"]
Page = Annotated[int, Query(ge=1, le=10_000, description="1-based page number"), WHOLE]
Limit = Annotated[int, Query(ge=1, le=200, description="page size"), WHOLE]


class InitiateIn(BaseModel):
    """A click-to-call, as the staff app posts it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    user_id: Uuid = Field(alias="userId", description="the customer to call")
    partner_user_id: Uuid | None = Field(
        default=None, alias="partnerUserId", description="the agent whose phone rings first (default: you)"
    )
    loan_id: Uuid | None = Field(default=None, alias="loanId", description="the customer's loan the call is about")
    brand_id: Uuid | None = Field(default=None, alias="brandId", description="when sent, the brand in the path")


class DialerCallView(ApiModel):
    """One click-to-call: who called whom about what, and what the vendor's events said."""

    id: str
    provider: str = Field(description="acefone or stringee: the vendor that took the call")
    provider_call_id: str | None = Field(description="the vendor's call id (known from its answer or first event)")
    customer_id: str
    loan_id: str | None
    staff_id: str = Field(description="the agent")
    agent_number: str | None = Field(description="the extension or number the vendor rang for the agent")
    customer_number_masked: str | None = Field(description="XXXXXX and the customer's last 4 digits")
    status: CallStatus
    direction: str
    started_at: str | None
    answered_at: str | None = Field(description="when the customer answered")
    ended_at: str | None
    duration_seconds: int = Field(description="talk time")
    recording_url: str | None
    hangup_cause: str | None = Field(description="the vendor's words; ENDED_BY_STAFF, or NOT_PLACED: <why>")
    created_at: str
    updated_at: str


class CallAttempt(ApiModel):
    """One vendor asked to place the call."""

    vendor: str
    outcome: str = Field(description="ok, error, refused or unsupported")
    error: str | None
    elapsed_ms: int


class InitiatedCall(DialerCallView):
    """The call just placed, and every vendor asked (failover)."""

    attempts: list[CallAttempt]


class CallEventView(ApiModel):
    """A vendor event as stored (phone numbers masked)."""

    id: str
    provider: str
    event: str
    received_at: str
    payload: dict[str, Any]


class DialerCallDetail(DialerCallView):
    """A call with its events, in the order received."""

    events: list[CallEventView]


class DialerCallPage(ApiModel):
    items: list[DialerCallView]
    page: Whole = Field(description="1-based page number")
    limit: Whole = Field(description="page size")
    total: int = Field(description="calls matching the filters, over all pages")


class DialerStats(ApiModel):
    """A customer's or an agent's calls, counted."""

    subject: Literal["customer", "staff"]
    subject_id: str
    date_from: str | None = Field(alias="from", description="IST date, included (none: from the first call)")
    date_to: str | None = Field(alias="to", description="IST date, included (none: up to now)")
    total: int
    by_status: dict[str, int] = Field(description="every status, with 0 where there is none")
    answered: int = Field(description="calls the customer answered (ANSWERED or COMPLETED)")
    answered_rate: float = Field(description="answered / total, 0..1 (0 when there are no calls)")
    total_talk_seconds: int
    average_talk_seconds: int = Field(description="over answered calls, rounded")


def view(call: DialerCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "provider": call.provider,
        "providerCallId": call.provider_call_id,
        "customerId": call.customer_id,
        "loanId": call.loan_id,
        "staffId": call.staff_id,
        "agentNumber": call.agent_number,
        "customerNumberMasked": call.customer_number_masked,
        "status": call.status,
        "direction": call.direction,
        "startedAt": iso(call.started_at),
        "answeredAt": iso(call.answered_at),
        "endedAt": iso(call.ended_at),
        "durationSeconds": call.duration_seconds or 0,
        "recordingUrl": call.recording_url,
        "hangupCause": call.hangup_cause,
        "createdAt": iso(call.created_at),
        "updatedAt": iso(call.updated_at),
    }


def _customer(session: Session, brand_id: str, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id) if is_uuid(customer_id) else None
    if customer is None or customer.brand_id != brand_id:
        raise NotFound("customer not found")
    return customer


def _staff(session: Session, brand_id: str, staff_id: str) -> StaffUser:
    """A staff member of the brand (a role in it, or a super admin); 404 otherwise."""
    user = session.get(StaffUser, staff_id) if is_uuid(staff_id) else None
    in_brand = user is not None and (
        user.role == Role.SUPER_ADMIN
        or session.scalar(
            select(StaffBrandRole.id).where(StaffBrandRole.staff_id == staff_id, StaffBrandRole.brand_id == brand_id)
        )
        is not None
    )
    if user is None or not in_brand:
        raise NotFound("staff user not found")
    return user


def _call(session: Session, brand_id: str, call_id: str, *, lock: bool = False) -> DialerCall:
    call = session.get(DialerCall, call_id, with_for_update=lock) if is_uuid(call_id) else None
    if call is None or call.brand_id != brand_id:
        raise NotFound("call not found")
    return call


@router.post(f"{BASE}/initiate", response_model=InitiatedCall)
def initiate(request: Request, brand_id: str, body: InitiateIn, staff: Caller, session: Db) -> dict:
    """Click-to-call: ring the agent, then bridge the customer (module docstring). 409 when the vendor refuses the
    call or the brand has no dialer (or none with an extension for the agent), 503 when no dialer answers, and 409
    naming ``userId`` for a borrower in arrears outside 08:00–19:00 IST (``domain.contact_hours``; nothing logged)."""
    if body.brand_id is not None and body.brand_id != brand_id:
        raise ValidationError("brandId must be the brand in the path", field="brandId")
    customer = _customer(session, brand_id, body.user_id)
    if body.loan_id is not None:
        loan = find_loan(session, brand_id, body.loan_id)
        if loan.customer_id != customer.id:
            raise ValidationError("the loan is not this customer's", field="loanId")
    agent_id = body.partner_user_id or staff.id
    if agent_id != staff.id and P.COLLECTIONS_MANAGE not in staff.permissions:
        raise PermissionDenied("only a collections manager places calls for another agent", field="partnerUserId")
    agent = _staff(session, brand_id, agent_id) if agent_id != staff.id else session.get_one(StaffUser, staff.id)
    if not agent.is_active:
        raise ValidationError("this staff account is deactivated", field="partnerUserId")
    if _in_arrears(session, brand_id, customer.id):  # a recovery call: only in RBI's hours, and nothing is logged
        check_recovery_contact(_now(), "a borrower in arrears", field="userId")
    config = dict(session.get_one(Brand, brand_id).config or {})
    try:
        candidates = ProviderConfig.candidates(config, KIND)
    except BusinessRefusal as exc:
        raise Conflict(f"the brand's dialer settings are malformed: {exc}", field="provider") from exc
    if not candidates:
        raise Conflict("the brand has no dialer configured (settings → providers → dialer)", field="provider")
    call = calls_db.create_call(
        session,
        brand_id=brand_id,
        provider=candidates[0].vendor,
        customer_id=customer.id,
        loan_id=body.loan_id,
        staff_id=agent.id,
        customer_number_masked=mask_number(customer.phone),
    )
    call_id, phone, customer_id, agent_id = call.id, customer.phone, customer.id, agent.id
    contact = Agent(agent.id, agent.email, agent.phone)
    session.commit()  # the call exists (its id is the reference) before any vendor rings anyone
    try:
        placed = call_async(place_call, config, request.app.state.http, contact, phone, call_id)
    except (BusinessRefusal, ProviderError) as exc:
        attempts = list(getattr(exc, "attempts", ()) or ())
        last = attempts[-1]["vendor"] if attempts else None
        calls_db.mark_not_placed(session, call_id, provider=last, reason=str(exc))
        audit(session, request, staff, "dialer.call_failed", "dialer_call", call_id, after={"attempts": attempts})
        session.commit()
        if isinstance(exc, ProviderError):
            raise ServiceUnavailable("no dialer is answering; try again shortly") from exc
        raise Conflict(f"the call was not placed: {exc}", field="userId") from exc
    call = calls_db.mark_placed(
        session,
        call_id,
        provider=placed.vendor,
        provider_call_id=placed.provider_call_id,
        agent_number=placed.agent_number,
    )
    after = {"vendor": placed.vendor, "customerId": customer_id, "loanId": body.loan_id, "staffId": agent_id}
    audit(session, request, staff, "dialer.call_initiated", "dialer_call", call_id, after=after)
    session.commit()
    session.refresh(call)
    return {**view(call), "attempts": [_attempt(a) for a in placed.attempts]}


def _now() -> datetime:
    """The instant a call is asked at (a seam the tests move)."""
    return datetime.now(UTC)


def _in_arrears(session: Session, brand_id: str, customer_id: str) -> bool:
    """Whether the customer has a loan of the brand in a recovery status (``domain.contact_hours.RECOVERY_STATUSES``):
    a call to them is then a call about overdue dues, whichever loan (if any) it names."""
    query = select(Loan.id).where(
        Loan.brand_id == brand_id, Loan.customer_id == customer_id, Loan.status.in_(RECOVERY_STATUSES)
    )
    return session.scalars(query.limit(1)).first() is not None


def _attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    return {
        "vendor": attempt["vendor"],
        "outcome": attempt["outcome"],
        "error": attempt["error"],
        "elapsedMs": attempt["elapsed_ms"],
    }


def _page(session: Session, brand_id: str, page: int, limit: int, **filters: Any) -> dict:
    rows, total = page_of(session, calls_db.calls_query(brand_id, **filters), page, limit, *calls_db.NEWEST_FIRST)
    return {"items": [view(r[0]) for r in rows], "page": page, "limit": limit, "total": total}


@router.get(f"{BASE}/user/{{user_id}}/calls", response_model=DialerCallPage)
def customer_calls(
    brand_id: str,
    user_id: str,
    staff: Reader,
    session: Db,
    page: Page = 1,
    limit: Limit = 50,
    status: CallStatus | None = None,
    loan_id: Annotated[Uuid | None, Query(alias="loanId")] = None,
) -> dict:
    """A customer's calls, newest first."""
    customer = _customer(session, brand_id, user_id)
    return _page(session, brand_id, page, limit, customer_id=customer.id, status=status, loan_id=loan_id)


@router.get(f"{BASE}/partner/{{partner_user_id}}/calls", response_model=DialerCallPage)
def agent_calls(
    brand_id: str,
    partner_user_id: str,
    staff: Reader,
    session: Db,
    page: Page = 1,
    limit: Limit = 50,
    status: CallStatus | None = None,
    loan_id: Annotated[Uuid | None, Query(alias="loanId")] = None,
) -> dict:
    """An agent's calls, newest first."""
    agent = _staff(session, brand_id, partner_user_id)
    return _page(session, brand_id, page, limit, staff_id=agent.id, status=status, loan_id=loan_id)


@router.get(f"{BASE}/call/{{call_id}}", response_model=DialerCallDetail)
def call_detail(brand_id: str, call_id: str, staff: Reader, session: Db) -> dict:
    """One call and the vendor's events for it."""
    call = _call(session, brand_id, call_id)
    events = [
        {
            "id": e.id,
            "provider": e.provider,
            "event": e.event,
            "receivedAt": iso(e.received_at),
            "payload": e.payload or {},
        }
        for e in calls_db.events_of(session, call.id)
    ]
    return {**view(call), "events": events}


@router.patch(f"{BASE}/call/{{call_id}}/end", response_model=DialerCallView)
def end_call(request: Request, brand_id: str, call_id: str, staff: Caller, session: Db) -> dict:
    """End an open call (the agent who placed it, or a collections manager): COMPLETED when the customer had
    answered, else MISSED, with ``ENDED_BY_STAFF``. A call already ended is returned as it is."""
    call = _call(session, brand_id, call_id, lock=True)
    if call.staff_id != staff.id and P.COLLECTIONS_MANAGE not in staff.permissions:
        raise PermissionDenied("only the agent who placed the call or a collections manager ends it")
    before = call.status
    if calls_db.end_call(session, call):
        audit(
            session, request, staff, "dialer.call_ended", "dialer_call", call.id,
            before={"status": before}, after={"status": call.status},
        )  # fmt: skip
    session.commit()
    session.refresh(call)
    return view(call)


def _stats(
    session: Session, subject: str, subject_id: str, brand_id: str, since: date | None, until: date | None
) -> dict:
    if since is not None and until is not None and until < since:
        raise ValidationError("to must not be before from", field="to")
    kwargs = {"customer_id": subject_id} if subject == "customer" else {"staff_id": subject_id}
    counted = calls_db.stats(session, brand_id, since=since, until=until, **kwargs)
    return {
        "subject": subject,
        "subjectId": subject_id,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "total": counted["total"],
        "byStatus": counted["by_status"],
        "answered": counted["answered"],
        "answeredRate": counted["answered_rate"],
        "totalTalkSeconds": counted["total_talk_seconds"],
        "averageTalkSeconds": counted["average_talk_seconds"],
    }


@router.get(f"{BASE}/user/{{user_id}}/stats", response_model=DialerStats)
def customer_stats(
    brand_id: str,
    user_id: str,
    staff: Reader,
    session: Db,
    since: Annotated[IsoDate | None, Query(alias="from", description="IST date, included")] = None,
    until: Annotated[IsoDate | None, Query(alias="to", description="IST date, included")] = None,
) -> dict:
    """A customer's calls counted: by status, answered, talk time."""
    customer = _customer(session, brand_id, user_id)
    return _stats(session, "customer", customer.id, brand_id, since, until)


@router.get(f"{BASE}/partner/{{partner_user_id}}/stats", response_model=DialerStats)
def agent_stats(
    brand_id: str,
    partner_user_id: str,
    staff: Reader,
    session: Db,
    since: Annotated[IsoDate | None, Query(alias="from", description="IST date, included")] = None,
    until: Annotated[IsoDate | None, Query(alias="to", description="IST date, included")] = None,
) -> dict:
    """An agent's calls counted: by status, answered, talk time."""
    agent = _staff(session, brand_id, partner_user_id)
    return _stats(session, "staff", agent.id, brand_id, since, until)
