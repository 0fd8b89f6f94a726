"""The re-send of a partner's disbursal request (rules: ``domain.partners.resend``): the case's one re-send record
(``partner_disbursal_resends``), the check that leads to it, the answer kept on the case's log, loan ops alerted,
and the open cases staff watch. Used by the watch's activities (``activities.partners``) and the API
(``api/partner/partner_lenders.py``). Money is paise, instants tz-aware (UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db import partner_disbursals as pd
from db.models import Loan, PartnerDisbursal, PartnerDisbursalResend, PartnerLender
from db.notifications import notify
from domain.access import Role
from domain.partners.disbursal import CaseState, CheckOutcome, WatchConfig
from domain.partners.resend import ResendStatus, after_resend_check

LOG_KEEP = 50


def resend_of(session: Session, case_id: str, *, lock: bool = False) -> PartnerDisbursalResend | None:
    """The case's re-send record, or None (row-locked with ``lock``)."""
    query = select(PartnerDisbursalResend).where(PartnerDisbursalResend.case_id == case_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def record_resend_check(
    session: Session,
    case: PartnerDisbursal,
    partner: PartnerLender,
    *,
    status: str,
    detail: str | None,
    reason: str,
    now: datetime,
) -> CheckOutcome:
    """The check whose answer (``status``: FAILED, or UNKNOWN for a 404) leads to a re-send, on ``case`` (locked by
    the caller): logged with the ``reason``, the case moved by ``after_resend_check`` (the breach marked and loan
    ops alerted on a first check past the SLA; not escalated by this answer)."""
    case.checks += 1
    entry = {"at": now.isoformat(), "status": status, "utr": None, "detail": (detail or "")[:300] or None,
             "resendReason": reason}  # fmt: skip
    case.check_log = [*(case.check_log or []), entry][-LOG_KEEP:]
    outcome = after_resend_check(case.state, case.checks, now, WatchConfig.of(partner.settings))
    if outcome.breach_now and not case.breached:
        case.breached, case.breached_at = True, now
        pd.alert(session, case, partner, "breach")
    if outcome.escalate_now:
        case.escalated_at = now
        pd.alert(session, case, partner, "escalation")
    case.state, case.next_check_at = outcome.state.value, outcome.next_check_at
    return outcome


def reserve(session: Session, case: PartnerDisbursal, reference: str, reason: str, now: datetime) -> (
    PartnerDisbursalResend
):
    """The case's re-send record, created SENT before the partner is asked (one per case: an existing one is
    answered, with its attempts counted)."""
    session.execute(
        insert(PartnerDisbursalResend)
        .values(case_id=case.id, brand_id=case.brand_id, loan_id=case.loan_id, partner_id=case.partner_id,
                reference=reference, reason=reason, status=ResendStatus.SENT.value, attempts=0, sent_at=now)
        .on_conflict_do_nothing(index_elements=["case_id"])
    )  # fmt: skip
    row = resend_of(session, case.id, lock=True)
    assert row is not None  # just written, or written before
    row.attempts += 1
    return row


def record_answer(
    session: Session,
    row: PartnerDisbursalResend,
    case: PartnerDisbursal,
    partner: PartnerLender,
    *,
    accepted: bool,
    partner_status: str | None,
    detail: str | None,
    now: datetime,
) -> int:
    """The partner's answer to the re-send, once: the record ACCEPTED or REFUSED, an entry on the case's log, and
    loan ops (loan executives and admins) alerted once per case. How many staff were told."""
    row.status = (ResendStatus.ACCEPTED if accepted else ResendStatus.REFUSED).value
    row.partner_status, row.detail, row.answered_at = (partner_status or "")[:40] or None, detail, now
    entry = {"at": now.isoformat(), "status": "RESENT" if accepted else "RESEND_REFUSED", "utr": None,
             "detail": (detail or partner_status or "")[:300] or None, "resend": row.reference}  # fmt: skip
    case.check_log = [*(case.check_log or []), entry][-LOG_KEEP:]
    staff = pd.brand_staff(session, case.brand_id, (Role.LOAN_EXECUTIVE, Role.ADMIN))
    said = "took it" if accepted else f"refused it ({detail or partner_status or 'no reason'})"
    title = f"{partner.name}: disbursal request re-sent"
    body = (f"{partner.name} said its disbursal of loan {case.loan_id[:8]} {row.reason.lower().replace('_', ' ')}; "
            f"the disbursal request was re-sent (reference {row.reference}) and the partner {said}.")  # fmt: skip
    meta = {"alert": "partner_disbursal_resend", "loanId": case.loan_id, "partner": partner.code}
    for staff_id in staff:
        key = f"partner-disbursal:{case.id}:resend:{staff_id}"
        notify(session, staff_id, case.brand_id, pd.SYSTEM, title, body, meta, key)
    return len(staff)


def resend_view(row: PartnerDisbursalResend | None) -> dict[str, Any] | None:
    """A re-send as the API spells it (camelCase), or None."""
    if row is None:
        return None
    answered = row.answered_at.isoformat() if row.answered_at else None
    return {"reference": row.reference, "reason": row.reason, "status": row.status,
            "partnerStatus": row.partner_status, "detail": row.detail, "attempts": row.attempts,
            "sentAt": row.sent_at.isoformat(), "answeredAt": answered}  # fmt: skip


OpenCase = tuple[PartnerDisbursal, PartnerLender, Loan, PartnerDisbursalResend | None]


def open_cases(session: Session, brand_id: str, limit: int = 200) -> list[OpenCase]:
    """The brand's partner disbursal cases not yet confirmed (PENDING, BREACHED, ESCALATED), most overdue first, each
    with its partner, loan and re-send record."""
    query = (
        select(PartnerDisbursal, PartnerLender, Loan, PartnerDisbursalResend)
        .join(PartnerLender, PartnerLender.id == PartnerDisbursal.partner_id)
        .join(Loan, Loan.id == PartnerDisbursal.loan_id)
        .outerjoin(PartnerDisbursalResend, PartnerDisbursalResend.case_id == PartnerDisbursal.id)
        .where(PartnerDisbursal.brand_id == brand_id, PartnerDisbursal.state != CaseState.CONFIRMED.value)
        .order_by(PartnerDisbursal.due_at)
        .limit(limit)
    )
    return [(c, p, loan, r) for c, p, loan, r in session.execute(query).all()]
