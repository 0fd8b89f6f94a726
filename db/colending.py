"""Co-lending's SQL, shared by its activities (``activities.colending``), its routes (``api/partner/colending.py``)
and the partner's webhook (``api/webhooks/lendbox.py``). Plain values in, rows or domain values out."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from db.models import CoLendingAgreement, CoLendingEvent, CoLendingLeg, CoLentLoan, PartnerLender
from domain.colending import Agreement, Parts, Rule
from domain.colending import ledger as cl
from domain.colending.reports import Book, Due, Statement, add_loan, lender_part, overdue_on
from domain.ledger import Transaction

COMPONENT_ACCOUNTS = {"principal": cl.CL_PRINCIPAL, "interest": cl.CL_INTEREST_INCOME, "fees": cl.CL_FEE_INCOME,
                      "penal": cl.CL_PENAL_INCOME}  # fmt: skip


def agreement_row(session: Session, brand_id: str, partner_id: str) -> CoLendingAgreement | None:
    """The brand's agreement with the partner (active or not); None when there is none."""
    return session.scalars(
        select(CoLendingAgreement).where(
            CoLendingAgreement.brand_id == brand_id, CoLendingAgreement.partner_id == partner_id
        )
    ).first()


def agreements(session: Session, brand_id: str) -> list[tuple[CoLendingAgreement, PartnerLender]]:
    """Every co-lending agreement of the brand with its partner, by partner code."""
    query = (
        select(CoLendingAgreement, PartnerLender)
        .join(PartnerLender, PartnerLender.id == CoLendingAgreement.partner_id)
        .where(CoLendingAgreement.brand_id == brand_id)
        .order_by(PartnerLender.code)
    )
    return [(a, p) for a, p in session.execute(query).all()]


def as_agreement(row: CoLendingAgreement | CoLentLoan) -> Agreement:
    """The domain agreement of an agreement row, or of a co-lent loan (the terms it was booked on)."""
    floor = getattr(row, "min_originator_share_bps", 1000)
    return Agreement(row.partner_share_bps, row.partner_rate_bps, Rule(row.fees_rule), Rule(row.penal_rule), floor)


def co_lent(session: Session, loan_id: str, *, lock: bool = False) -> CoLentLoan | None:
    """The loan's co-lending record (None: not co-lent); ``lock`` takes it FOR UPDATE (splits run one at a time)."""
    query = select(CoLentLoan).where(CoLentLoan.loan_id == loan_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def by_partner_reference(session: Session, partner_id: str, reference: str) -> CoLentLoan | None:
    """The co-lent loan the partner names by our loan id (``reference``) or by its own loan id."""
    query = select(CoLentLoan).where(CoLentLoan.partner_id == partner_id)
    row = session.scalars(query.where(cast(CoLentLoan.loan_id, String) == reference)).first()
    if row is None:
        row = session.scalars(query.where(CoLentLoan.partner_loan_id == reference)).first()
    return row


def post(session: Session, loan: CoLentLoan, lender: str, txn: Transaction | None, key: str, on: date) -> bool:
    """One lender's transaction on the loan's sub-ledger, once per (``key``, lender): False when a retry finds it
    written (or there is nothing to post)."""
    if txn is None:
        return False
    seen = select(CoLendingLeg.id).where(CoLendingLeg.txn_key == key, CoLendingLeg.lender == lender).limit(1)
    if session.scalar(seen) is not None:
        return False
    for leg in txn.legs:
        session.add(
            CoLendingLeg(brand_id=loan.brand_id, loan_id=loan.loan_id, partner_id=loan.partner_id, lender=lender,
                         txn_key=key, kind=txn.kind, account=leg.account, amount=leg.amount, value_date=on)
        )  # fmt: skip
    session.flush()
    return True


def collected(session: Session, loan_id: str, lender: str | None = None) -> Parts:
    """What repayments have credited so far, by component (paise): the whole loan's, or one lender's."""
    query = select(CoLendingLeg.account, func.sum(CoLendingLeg.amount)).where(
        CoLendingLeg.loan_id == loan_id, CoLendingLeg.kind == "CL_REPAYMENT"
    )
    if lender is not None:
        query = query.where(CoLendingLeg.lender == lender)
    sums = dict(session.execute(query.group_by(CoLendingLeg.account)).all())
    return Parts(**{c: -int(sums.get(a) or 0) for c, a in COMPONENT_ACCOUNTS.items()})


def lender_balances(session: Session, loan_id: str) -> dict[str, dict[str, int]]:
    """Each lender's sub-account balances on the loan (lender → account → signed paise, debit > 0)."""
    query = (
        select(CoLendingLeg.lender, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
        .where(CoLendingLeg.loan_id == loan_id)
        .group_by(CoLendingLeg.lender, CoLendingLeg.account)
    )
    out: dict[str, dict[str, int]] = {lender: {} for lender in cl.LENDERS}
    for lender, account, total in session.execute(query).all():
        out.setdefault(lender, {})[account] = int(total)
    return out


def set_step(loan: CoLentLoan, step: str, **values: Any) -> None:
    """Record a lifecycle step's state on the loan (``steps`` JSONB, replaced so the change is written)."""
    steps = dict(loan.steps or {})
    steps[step] = {**steps.get(step, {}), **values}
    loan.steps = steps


def record_event(
    session: Session, *, brand_id: str, partner_id: str, event_id: str, event_type: str, loan_id: str | None,
    payload: dict[str, Any],
) -> CoLendingEvent | None:  # fmt: skip
    """The partner's callback, kept once per event id: the new row, or None when it was seen before."""
    seen = select(CoLendingEvent.id).where(CoLendingEvent.partner_id == partner_id, CoLendingEvent.event_id == event_id)
    if session.scalar(seen) is not None:
        return None
    row = CoLendingEvent(brand_id=brand_id, partner_id=partner_id, event_id=event_id, event_type=event_type,
                         loan_id=loan_id, payload=payload)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def legs_between(session: Session, brand_id: str, since: date | None, until: date) -> list[tuple[Any, ...]]:
    """(partner code, partner id, loan id, lender, kind, account, value date, amount) of the brand's legs dated
    from ``since`` (None: the beginning) to ``until`` (IST, inclusive)."""
    query = (
        select(PartnerLender.code, CoLendingLeg.partner_id, CoLendingLeg.loan_id, CoLendingLeg.lender,
               CoLendingLeg.kind, CoLendingLeg.account, CoLendingLeg.value_date, CoLendingLeg.amount)
        .join(PartnerLender, PartnerLender.id == CoLendingLeg.partner_id)
        .where(CoLendingLeg.brand_id == brand_id, CoLendingLeg.value_date <= until)
    )  # fmt: skip
    if since is not None:
        query = query.where(CoLendingLeg.value_date >= since)
    return [tuple(r) for r in session.execute(query).all()]


def brand_loans(session: Session, brand_id: str, on: date) -> list[CoLentLoan]:
    """The brand's loans co-lent on or before ``on``."""
    query = select(CoLentLoan).where(CoLentLoan.brand_id == brand_id, CoLentLoan.disbursed_on <= on)
    return list(session.scalars(query.order_by(CoLentLoan.disbursed_on, CoLentLoan.created_at)))


def collected_for(session: Session, key: str, lender: str) -> Parts:
    """One lender's parts of the payment split under ``key`` (what a retry returns)."""
    query = select(CoLendingLeg.account, func.sum(CoLendingLeg.amount)).where(
        CoLendingLeg.txn_key == key, CoLendingLeg.lender == lender
    )
    sums = dict(session.execute(query.group_by(CoLendingLeg.account)).all())
    return Parts(**{c: -int(sums.get(a) or 0) for c, a in COMPONENT_ACCOUNTS.items()})


def schedules(session: Session, loan_ids: list[str]) -> dict[str, list[Due]]:
    """Each loan's schedule (due date, principal, interest), oldest installment first."""
    from db.models import RepaymentInstallment

    out: dict[str, list[Due]] = {loan_id: [] for loan_id in loan_ids}
    if not loan_ids:
        return out
    query = (
        select(RepaymentInstallment.loan_id, RepaymentInstallment.due_date, RepaymentInstallment.principal,
               RepaymentInstallment.interest)
        .where(RepaymentInstallment.loan_id.in_(loan_ids), RepaymentInstallment.due_date.is_not(None))
        .order_by(RepaymentInstallment.loan_id, RepaymentInstallment.installment_no)
    )  # fmt: skip
    for loan_id, due_date, principal, interest in session.execute(query).all():
        if due_date is not None:
            out[loan_id].append(Due(due_date, principal, interest))
    return out


def books(session: Session, brand_id: str, on: date) -> dict[str, dict[str, Book]]:
    """Each partner's co-lent book on ``on`` (IST), with the originator's side of the same loans: partner code →
    {ORIGINATOR, PARTNER} → :class:`~domain.colending.reports.Book`."""
    loans = brand_loans(session, brand_id, on)
    legs: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for _code, _pid, loan_id, lender, kind, account, _on, amount in legs_between(session, brand_id, None, on):
        legs.setdefault((loan_id, lender), []).append((kind, account, int(amount)))
    plans = schedules(session, [row.loan_id for row in loans])
    out: dict[str, dict[str, Book]] = {}
    for row in loans:
        sides = out.setdefault(row.partner_code, {lender: Book(lender) for lender in cl.LENDERS})
        mine = [(k, a, v) for lender in cl.LENDERS for k, a, v in legs.get((row.loan_id, lender), [])]
        got = {"principal": 0, "interest": 0}  # repaid or lost (waived, written off): no longer overdue
        for kind, account, amount in mine:
            component = cl.resolved_component(kind, account)
            if component in got:
                got[component] -= amount
        whole, dpd = overdue_on(plans[row.loan_id], got["principal"], got["interest"], on)
        for lender in cl.LENDERS:
            part = lender_part(as_agreement(row), row.blended_rate_bps, whole, lender)
            add_loan(sides[lender], legs.get((row.loan_id, lender), []), part, dpd)
    return out


def statements(session: Session, brand_id: str, since: date, until: date) -> dict[str, dict[str, Statement]]:
    """Each partner's settlement statement for ``since``–``until`` (IST, both included): partner code →
    {ORIGINATOR, PARTNER} → :class:`~domain.colending.reports.Statement`: what each lender was collected (the
    escrow's apportionment to it) and lost (waived, settled below dues, written off) by component, from the legs
    dated in the period; remitted is what the partner's wallet orders for payments dated in the period carried
    (orders refused or not yet sent do not count) plus the escrow's approved remittances dated in it."""
    from db.colending_losses import escrow_totals

    out: dict[str, dict[str, Statement]] = {}
    codes: dict[str, str] = {}
    for code, pid, _loan, lender, kind, account, _on, amount in legs_between(session, brand_id, since, until):
        sides = out.setdefault(code, {x: Statement(x) for x in cl.LENDERS})
        codes[pid] = code
        component = cl.resolved_component(kind, account)
        if component is None:
            continue
        part = Parts(**{component: -int(amount)})
        if kind == "CL_REPAYMENT":
            sides[lender].collected = sides[lender].collected.plus(part)
        else:
            sides[lender].lost = sides[lender].lost.plus(part)
    for row in brand_loans(session, brand_id, until):
        codes.setdefault(row.partner_id, row.partner_code)
    for (pid, lender), (_apportioned, remitted, _pending) in escrow_totals(session, brand_id, since, until).items():
        if pid in codes and remitted:
            sides = out.setdefault(codes[pid], {x: Statement(x) for x in cl.LENDERS})
            sides[lender].remitted += remitted
    return out
