"""Partner lenders' SQL, shared by the routing activities (``activities.partners``) and the API
(``api/partner/partner_lenders.py``, ``api/web/partner_offers.py``). Plain values in, rows or dataclasses out."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from db.models import BureauReport, Loan, PartnerAttempt, PartnerLender, PartnerOffer, PartnerRouting, PartnerRuleTable
from domain.partners import DecisionTable, Limits, Offer, parse_rules
from domain.partners.routing import Attempt

DEFAULT_PICK_WINDOW_SECONDS = 24 * 3600
IST = timezone(timedelta(hours=5, minutes=30), "IST")


def brand_has_partners(session: Session, brand_id: str) -> bool:
    """Whether the brand has an active partner lender (a loan started now is routed; else it runs as before)."""
    return bool(
        session.scalar(select(exists().where(PartnerLender.brand_id == brand_id, PartnerLender.active.is_(True))))
    )


def active_partners(session: Session, brand_id: str) -> list[PartnerLender]:
    """The brand's active partners, by priority then code."""
    query = select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.active.is_(True))
    return list(session.scalars(query.order_by(PartnerLender.priority, PartnerLender.code)))


def limits_of(partner: PartnerLender) -> Limits:
    return Limits(partner.min_amount, partner.max_amount, partner.min_tenure, partner.max_tenure)


def rule_table(session: Session, partner: PartnerLender, version: int | None = None) -> DecisionTable:
    """The partner's table at ``version`` (default: the one in force); an empty table when none was saved."""
    wanted = partner.rules_version if version is None else version
    row = session.scalars(
        select(PartnerRuleTable).where(PartnerRuleTable.partner_id == partner.id, PartnerRuleTable.version == wanted)
    ).first()
    return DecisionTable(wanted, parse_rules(row.rules) if row is not None else ())


def rule_versions(session: Session, partner_id: str) -> list[PartnerRuleTable]:
    """Every saved version of a partner's table, newest first."""
    query = select(PartnerRuleTable).where(PartnerRuleTable.partner_id == partner_id)
    return list(session.scalars(query.order_by(PartnerRuleTable.version.desc())))


def save_rule_table(session: Session, partner: PartnerLender, rows: list[dict], note: str | None, actor: str) -> int:
    """A new version of the partner's table (rows already checked by ``parse_rules``), put in force; its number."""
    latest = session.scalar(
        select(PartnerRuleTable.version)
        .where(PartnerRuleTable.partner_id == partner.id)
        .order_by(PartnerRuleTable.version.desc())
        .limit(1)
    )
    version = (latest or 0) + 1
    session.add(
        PartnerRuleTable(
            brand_id=partner.brand_id, partner_id=partner.id, version=version, rules=rows, note=note, created_by=actor
        )
    )
    partner.rules_version = version
    return version


def routing_of(session: Session, brand_id: str) -> tuple[bool, int]:
    """The brand's (borrower_pick, pick_window_seconds); (False, 1 day) when never set."""
    row = session.get(PartnerRouting, brand_id)
    if row is None:
        return False, DEFAULT_PICK_WINDOW_SECONDS
    return row.borrower_pick, row.pick_window_seconds


def bureau_score(session: Session, loan_id: str) -> int | None:
    return session.scalar(select(BureauReport.score).where(BureauReport.loan_id == loan_id))


def offer_row(
    session: Session,
    *,
    loan: Loan,
    partner: PartnerLender,
    round_no: int,
    version: int,
    offer: Offer | None,
    reasons: tuple[str, ...],
) -> PartnerOffer:
    """The partner's offer (or its refusal) in ``round_no``, written once: a retry finds the row written before."""
    row = session.scalars(
        select(PartnerOffer).where(
            PartnerOffer.loan_id == loan.id, PartnerOffer.partner_id == partner.id, PartnerOffer.round == round_no
        )
    ).first()
    if row is not None:
        return row
    figures: dict[str, Any] = {"amount": loan.amount, "tenure": loan.tenure}
    if offer is not None:
        figures = {
            "amount": offer.amount,
            "tenure": offer.tenure,
            "annual_rate_bps": offer.annual_rate_bps,
            "emi": offer.emi,
            "total_interest": offer.total_interest,
            "fees": offer.fees,
            "gst": offer.gst,
            "third_party": offer.third_party,
            "net_disbursed": offer.net_disbursed,
            "total_payable": offer.total_payable,
            "apr": offer.apr,
        }
    row = PartnerOffer(
        brand_id=loan.brand_id,
        loan_id=loan.id,
        partner_id=partner.id,
        round=round_no,
        status="OFFERED" if offer is not None else "INELIGIBLE",
        reasons=list(reasons),
        rules_version=version,
        **figures,
    )
    session.add(row)
    session.flush()
    return row


def loan_offers(session: Session, loan_id: str) -> list[tuple[PartnerOffer, PartnerLender]]:
    """Every offer of the loan (all rounds) with its partner, latest round first, then by APR."""
    query = (
        select(PartnerOffer, PartnerLender)
        .join(PartnerLender, PartnerLender.id == PartnerOffer.partner_id)
        .where(PartnerOffer.loan_id == loan_id)
        .order_by(PartnerOffer.round.desc(), PartnerOffer.status == "INELIGIBLE", PartnerOffer.apr, PartnerLender.code)
    )
    return [(o, p) for o, p in session.execute(query).all()]


def loan_attempts(session: Session, loan_id: str) -> list[tuple[PartnerAttempt, PartnerLender]]:
    """Every attempt on the loan, in the order made."""
    query = (
        select(PartnerAttempt, PartnerLender)
        .join(PartnerLender, PartnerLender.id == PartnerAttempt.partner_id)
        .where(PartnerAttempt.loan_id == loan_id)
        .order_by(PartnerAttempt.started_at, PartnerAttempt.created_at)
    )
    return [(a, p) for a, p in session.execute(query).all()]


def record_attempt(
    session: Session,
    *,
    offer: PartnerOffer,
    outcome: str,
    reason: str | None,
    partner_reference: str | None,
    elapsed_ms: int,
    sla_seconds: int,
    started_at: datetime,
    key: str,
    picked: bool = False,
) -> bool:
    """The attempt, once per ``key`` (False when a retry finds it written), and the offer's status from it."""
    if session.scalar(select(PartnerAttempt.id).where(PartnerAttempt.idempotency_key == key)) is not None:
        return False
    session.add(
        PartnerAttempt(
            brand_id=offer.brand_id,
            loan_id=offer.loan_id,
            partner_id=offer.partner_id,
            offer_id=offer.id,
            outcome=outcome,
            reason=reason,
            partner_reference=partner_reference,
            elapsed_ms=elapsed_ms,
            sla_seconds=sla_seconds,
            sla_breached=outcome == "SLA_BREACHED" or elapsed_ms > sla_seconds * 1000,
            started_at=started_at,
            idempotency_key=key,
        )
    )
    offer.status = outcome
    offer.picked = offer.picked or picked
    return True


def sla_attempts(session: Session, brand_id: str, since: date, until: date) -> list[Attempt]:
    """The brand's attempts started between ``since`` and ``until`` (IST dates, inclusive), for the SLA report."""
    start = datetime.combine(since, time(), IST)
    end = datetime.combine(until + timedelta(days=1), time(), IST)
    query = (
        select(PartnerLender.code, PartnerAttempt.outcome, PartnerAttempt.elapsed_ms, PartnerAttempt.sla_seconds)
        .join(PartnerLender, PartnerLender.id == PartnerAttempt.partner_id)
        .where(PartnerAttempt.brand_id == brand_id, PartnerAttempt.started_at >= start, PartnerAttempt.started_at < end)
    )
    return [Attempt(code, outcome, ms, sla) for code, outcome, ms, sla in session.execute(query).all()]


def apr_text(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"
