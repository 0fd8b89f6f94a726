"""The partner's disbursal of a loan it booked, tracked against its DISBURSAL SLA (rules: ``domain.partners.
disbursal``): opening a case per disbursed partner-booked loan, the cases due for a status check, recording a check
or a callback (the UTR once), the staff alerts, the loan's case and the report's cases. Used by the watch's
activities (``activities.partners``) and the API (``api/partner/partner_lenders.py``). Money is paise, instants
tz-aware (UTC)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import (
    CoLentLoan,
    Loan,
    PartnerAttempt,
    PartnerDisbursal,
    PartnerLender,
    PartnerOffer,
    StaffBrandRole,
    StaffUser,
)
from db.notifications import notify
from db.partners import IST
from domain.access import Role
from domain.partners import parse_sla
from domain.partners.disbursal import (
    CaseState,
    CheckOutcome,
    DisbursalCase,
    WatchConfig,
    after_check,
    breached_by,
    due_at,
    takes_utr,
)

SYSTEM = "SYSTEM"  # the staff notification type of the alerts (``meta.alert`` says which)
LOG_KEEP = 50  # the latest status checks kept on a case


def open_cases(
    session: Session, limit: int = 500, *, partner_id: str | None = None, reference: str | None = None
) -> int:
    """A case for each partner-booked loan (an ACCEPTED attempt) that is disbursed and has none yet: the amount is
    the offer's net disbursal, the SLA the partner's DISBURSAL SLA now, due at the loan's disbursal plus it.
    ``partner_id`` and ``reference`` (our booking reference) narrow it to one booking. Idempotent (one case per
    loan); how many were opened."""
    query = (
        select(PartnerAttempt, PartnerOffer, PartnerLender, Loan.disbursed_at)
        .join(PartnerOffer, PartnerOffer.id == PartnerAttempt.offer_id)
        .join(PartnerLender, PartnerLender.id == PartnerAttempt.partner_id)
        .join(Loan, Loan.id == PartnerAttempt.loan_id)
        .where(
            PartnerAttempt.outcome == "ACCEPTED",
            Loan.disbursed_at.is_not(None),
            ~exists().where(PartnerDisbursal.loan_id == PartnerAttempt.loan_id),
        )
    )
    if partner_id is not None and reference is not None:
        query = query.where(
            PartnerAttempt.partner_id == partner_id, PartnerAttempt.idempotency_key == f"{reference}:record"
        )
    rows = session.execute(query.order_by(Loan.disbursed_at).limit(limit)).all()
    opened = 0
    for attempt, offer, partner, disbursed_at in rows:
        assert disbursed_at is not None  # the query's condition
        sla = parse_sla(partner.sla)["DISBURSAL"]
        done = session.execute(
            insert(PartnerDisbursal)
            .values(
                brand_id=attempt.brand_id, loan_id=attempt.loan_id, partner_id=partner.id, offer_id=offer.id,
                partner_reference=attempt.partner_reference,
                our_reference=attempt.idempotency_key.removesuffix(":record"), amount=offer.net_disbursed,
                disbursed_at=disbursed_at, sla_seconds=sla, due_at=due_at(disbursed_at, sla),
                state=CaseState.PENDING.value, breached=False, checks=0, check_log=[],
            )
            .on_conflict_do_nothing(index_elements=["loan_id"])
            .returning(PartnerDisbursal.id)
        ).first()  # fmt: skip
        opened += done is not None
    return opened


def due_cases(session: Session, now: datetime, limit: int = 200) -> list[tuple[PartnerDisbursal, PartnerLender]]:
    """The cases to ask the partner about at ``now`` (``domain.partners.disbursal.is_due``), oldest due first."""
    query = (
        select(PartnerDisbursal, PartnerLender)
        .join(PartnerLender, PartnerLender.id == PartnerDisbursal.partner_id)
        .where(
            or_(
                and_(PartnerDisbursal.state == CaseState.PENDING.value, PartnerDisbursal.due_at <= now),
                and_(
                    PartnerDisbursal.state.in_([CaseState.BREACHED.value, CaseState.ESCALATED.value]),
                    or_(PartnerDisbursal.next_check_at.is_(None), PartnerDisbursal.next_check_at <= now),
                ),
            )
        )
        .order_by(PartnerDisbursal.due_at)
        .limit(limit)
    )
    return [(c, p) for c, p in session.execute(query).all()]


def _log(case: PartnerDisbursal, entry: dict[str, Any]) -> None:
    case.check_log = [*(case.check_log or []), entry][-LOG_KEEP:]


def confirm(
    case: PartnerDisbursal,
    utr: str | None,
    via: str,
    at: datetime,
    event_id: str | None = None,
    late: bool | None = None,
) -> bool:
    """Take the partner's UTR once (``domain.partners.disbursal.takes_utr``): the case CONFIRMED at ``at`` by ``via``
    (CALLBACK, STATUS_API or CO_LENDING), the breach marked when the UTR came after the SLA (``late``, when the
    caller knows better than ``at``). False when a UTR was taken before (nothing changes)."""
    if not takes_utr(case.utr, utr):
        return False
    case.utr, case.confirmed_at, case.confirmed_via = utr, at, via
    case.callback_event_id = event_id or case.callback_event_id
    breached = breached_by(case.breached, case.due_at, at) if late is None else case.breached or late
    if breached and not case.breached:
        case.breached, case.breached_at = True, at
    case.state = CaseState.CONFIRMED.value
    case.next_check_at = None
    return True


def record_check(
    session: Session,
    case: PartnerDisbursal,
    partner: PartnerLender,
    *,
    status: str,
    utr: str | None,
    detail: str | None,
    now: datetime,
) -> CheckOutcome:
    """One status answer of the partner on ``case`` (locked by the caller): logged, the case moved by
    ``domain.partners.disbursal.after_check`` with the partner's follow-up settings (``WatchConfig.of``), the UTR
    taken once, the breach marked on the first check past the SLA (loan ops alerted unless that check found the
    UTR), the admins alerted when it is escalated. What the answer did."""
    case.checks += 1
    _log(case, {"at": now.isoformat(), "status": status, "utr": utr, "detail": (detail or "")[:300] or None})
    outcome = after_check(case.state, case.checks, status, utr, now, WatchConfig.of(partner.settings))
    if outcome.breach_now and not case.breached:
        case.breached, case.breached_at = True, now
        if outcome.state != CaseState.CONFIRMED:  # a UTR found by this very check needs nobody to chase it
            alert(session, case, partner, "breach")
    if outcome.state == CaseState.CONFIRMED:
        confirm(case, utr, "STATUS_API", now)
        return outcome
    if outcome.escalate_now:
        case.escalated_at = now
        alert(session, case, partner, "escalation")
    case.state, case.next_check_at = outcome.state.value, outcome.next_check_at
    return outcome


def log_callback(case: PartnerDisbursal, event_id: str, status: str, detail: str | None, at: datetime) -> bool:
    """A callback that brought no UTR (PENDING, FAILED) kept on the case's log once per event id (False: kept
    before); the watch's checks decide the rest."""
    if any(entry.get("callback") == event_id for entry in case.check_log or []):
        return False
    _log(case, {"at": at.isoformat(), "status": status, "utr": None, "detail": (detail or "")[:300] or None,
                "callback": event_id})  # fmt: skip
    return True


def co_lending_utr(session: Session, loan_id: str) -> tuple[str | None, date | None]:
    """The UTR and IST date of a co-lent loan's partner funding (its share, from the co-lending webhook's DISBURSED
    event, ``api/webhooks/lendbox.py``), which is that partner's disbursal of the loan; (None, None) when not co-lent
    or not funded yet."""
    row = session.execute(
        select(CoLentLoan.partner_utr, CoLentLoan.partner_funded_on).where(CoLentLoan.loan_id == loan_id)
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def brand_staff(session: Session, brand_id: str, roles: tuple[Role, ...]) -> list[str]:
    """The ids of the brand's active staff in ``roles``, in e-mail order."""
    return [
        str(i)
        for i in session.scalars(
            select(StaffUser.id)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(
                StaffBrandRole.brand_id == brand_id,
                func.upper(StaffBrandRole.role).in_([r.value for r in roles]),
                StaffUser.is_active.is_(True),
            )
            .order_by(StaffUser.email)
        )
    ]


def alert(session: Session, case: PartnerDisbursal, partner: PartnerLender, kind: str) -> int:
    """The staff alert of a ``breach`` (loan ops and admins: the partner's UTR is late) or an ``escalation`` (admins:
    checks spent or the partner says its disbursal failed), once per case and kind (idempotency key per staff).
    How many staff were told."""
    hours = case.sla_seconds / 3600
    if kind == "breach":
        roles: tuple[Role, ...] = (Role.LOAN_EXECUTIVE, Role.ADMIN)
        title = f"{partner.name}: disbursal past its SLA"
        body = (f"{partner.name} has not confirmed its disbursal (UTR) of loan {case.loan_id[:8]} within its SLA of "
                f"{hours:g} h; its status is being asked again.")  # fmt: skip
    else:
        roles = (Role.ADMIN,)
        title = f"{partner.name}: disbursal escalated"
        last = (case.check_log or [{}])[-1]
        body = (f"{partner.name}'s disbursal of loan {case.loan_id[:8]} is still not confirmed after {case.checks} "
                f"checks (last answer {last.get('status')}: {last.get('detail') or 'no detail'}).")  # fmt: skip
    staff = brand_staff(session, case.brand_id, roles)
    meta = {"alert": f"partner_disbursal_{kind}", "loanId": case.loan_id, "partner": partner.code}
    for staff_id in staff:
        key = f"partner-disbursal:{case.id}:{kind}:{staff_id}"
        notify(session, staff_id, case.brand_id, SYSTEM, title, body, meta, key)
    return len(staff)


def case_of_reference(session: Session, partner_id: str, reference: str) -> PartnerDisbursal | None:
    """The case of the partner's booking ``reference`` (our idempotency key sent with it), row-locked."""
    return session.scalars(
        select(PartnerDisbursal)
        .where(PartnerDisbursal.partner_id == partner_id, PartnerDisbursal.our_reference == reference)
        .with_for_update()
    ).first()


def loan_case(session: Session, loan_id: str) -> PartnerDisbursal | None:
    """The loan's partner disbursal case, or None (not booked with a partner, or not disbursed yet)."""
    return session.scalars(select(PartnerDisbursal).where(PartnerDisbursal.loan_id == loan_id)).first()


def report_cases(session: Session, brand_id: str, since: date, until: date) -> list[DisbursalCase]:
    """The brand's cases of loans disbursed between ``since`` and ``until`` (IST dates, inclusive), for the SLA
    report."""
    start = datetime.combine(since, time(), IST)
    end = datetime.combine(until + timedelta(days=1), time(), IST)
    rows = session.execute(
        select(PartnerLender.code, PartnerDisbursal)
        .join(PartnerLender, PartnerLender.id == PartnerDisbursal.partner_id)
        .where(
            PartnerDisbursal.brand_id == brand_id,
            PartnerDisbursal.disbursed_at >= start,
            PartnerDisbursal.disbursed_at < end,
        )
    ).all()
    return [
        DisbursalCase(
            code, c.state, c.breached, c.escalated_at is not None,
            int((c.confirmed_at - c.disbursed_at).total_seconds()) if c.confirmed_at else None,
        )  # fmt: skip
        for code, c in rows
    ]
