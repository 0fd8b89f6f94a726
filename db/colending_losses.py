"""Co-lending's SQL for losses, the default-loss guarantee and the escrow account (docs/co-lending.md), shared by
``activities.colending_losses`` and ``api/partner/colending_losses.py``. Plain values in, rows or domain values out;
money is integer paise, dates IST."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import colending as q
from db.colending_recovery import post_dlg_invoked
from db.models import (
    CoLendingDlg,
    CoLendingDlgInvocation,
    CoLendingEscrowEntry,
    CoLendingLeg,
    CoLendingRemittance,
    CoLentLoan,
)
from domain.colending import Parts
from domain.colending import ledger as cl
from domain.colending.dlg import Dlg, Form
from domain.colending.reports import lender_part, overdue_on


def _parts(rows: Any) -> Parts:
    got = dict.fromkeys(("principal", "interest", "fees", "penal"), 0)
    for kind, account, amount in rows:
        component = cl.resolved_component(kind, account)
        if component is not None:
            got[component] -= int(amount)
    return Parts(**got)


def resolved(session: Session, loan_id: str) -> Parts:
    """What the loan's repayments and losses have resolved so far, by component (paise): the base the next split or
    loss is divided on, so each lender ends with exactly its share of the loan's figures."""
    query = (
        select(CoLendingLeg.kind, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
        .where(CoLendingLeg.loan_id == loan_id)
        .group_by(CoLendingLeg.kind, CoLendingLeg.account)
    )
    return _parts(session.execute(query).all())


def resolved_for(session: Session, key: str, lender: str) -> Parts:
    """One lender's parts of the transaction written under ``key`` (what a retry returns)."""
    query = (
        select(CoLendingLeg.kind, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
        .where(CoLendingLeg.txn_key == key, CoLendingLeg.lender == lender)
        .group_by(CoLendingLeg.kind, CoLendingLeg.account)
    )
    return _parts(session.execute(query).all())


def written(session: Session, key: str) -> bool:
    """Whether a transaction was already written under ``key``."""
    return session.scalar(select(CoLendingLeg.id).where(CoLendingLeg.txn_key == key).limit(1)) is not None


# ------------------------------------------------------------------------------------------------ DLG
def dlg_row(session: Session, brand_id: str, partner_id: str) -> CoLendingDlg | None:
    """The DLG of the brand's agreement with the partner, or None."""
    return session.scalars(
        select(CoLendingDlg).where(CoLendingDlg.brand_id == brand_id, CoLendingDlg.partner_id == partner_id)
    ).first()


def as_dlg(row: CoLendingDlg) -> Dlg:
    """The stored DLG as its domain value."""
    return Dlg(row.cover_bps, row.set_aside, Form(row.form), row.invoke_dpd)


def dlg_usage(session: Session, brand_id: str, partner_id: str) -> tuple[int, int, int]:
    """(the partner's principal disbursed on the brand's co-lent loans with it, paise invoked so far, invocations)."""
    disbursed = session.scalar(
        select(func.coalesce(func.sum(CoLentLoan.partner_principal), 0)).where(
            CoLentLoan.brand_id == brand_id, CoLentLoan.partner_id == partner_id
        )
    )
    used, count = session.execute(
        select(func.coalesce(func.sum(CoLendingDlgInvocation.amount), 0), func.count(CoLendingDlgInvocation.id))
        .where(CoLendingDlgInvocation.brand_id == brand_id, CoLendingDlgInvocation.partner_id == partner_id)
    ).one()  # fmt: skip
    return int(disbursed or 0), int(used or 0), int(count or 0)


def invocations(session: Session, brand_id: str, partner_id: str) -> list[CoLendingDlgInvocation]:
    """The DLG's invocations, oldest first."""
    query = select(CoLendingDlgInvocation).where(
        CoLendingDlgInvocation.brand_id == brand_id, CoLendingDlgInvocation.partner_id == partner_id
    )
    return list(session.scalars(query.order_by(CoLendingDlgInvocation.invoked_on, CoLendingDlgInvocation.created_at)))


def partner_exposure(session: Session, loan: CoLentLoan, on: date) -> int:
    """The partner's loss on the loan if it defaulted on ``on``: its principal outstanding on its sub-ledger plus its
    part of the interest overdue (paise)."""
    principal = session.scalar(
        select(func.coalesce(func.sum(CoLendingLeg.amount), 0)).where(
            CoLendingLeg.loan_id == loan.loan_id, CoLendingLeg.lender == cl.PARTNER,
            CoLendingLeg.account == cl.CL_PRINCIPAL,
        )
    )  # fmt: skip
    got = resolved(session, loan.loan_id)
    whole, _dpd = overdue_on(q.schedules(session, [loan.loan_id])[loan.loan_id], got.principal, got.interest, on)
    interest = lender_part(q.as_agreement(loan), loan.blended_rate_bps, Parts(interest=whole.interest), cl.PARTNER)
    return int(principal or 0) + interest.interest


def invoke(
    session: Session, loan: CoLentLoan, *, reason: str, dpd: int, loss: int, on: date
) -> CoLendingDlgInvocation | None:
    """Invoke the DLG on ``loan`` once (a second call, or a loan with no DLG, returns None): the partner's ``loss``,
    no more than the cover left (``Dlg.invocation``), posted to both lenders' sub-ledgers (the originator's payout,
    the partner's receipt: ``db.colending_recovery.post_dlg_invoked``). The DLG row is locked so two loans never
    overdraw it."""
    if session.scalar(select(CoLendingDlgInvocation.id).where(CoLendingDlgInvocation.loan_id == loan.loan_id)):
        return None
    row = session.scalars(
        select(CoLendingDlg).where(CoLendingDlg.brand_id == loan.brand_id, CoLendingDlg.partner_id == loan.partner_id)
        .with_for_update()
    ).first()  # fmt: skip
    if row is None:
        return None
    disbursed, used, _n = dlg_usage(session, loan.brand_id, loan.partner_id)
    amount = as_dlg(row).invocation(max(0, loss), disbursed, used)
    inv = CoLendingDlgInvocation(brand_id=loan.brand_id, partner_id=loan.partner_id, loan_id=loan.loan_id,
                                 reason=reason, dpd=dpd, loss=max(0, loss), amount=amount, invoked_on=on)  # fmt: skip
    session.add(inv)
    session.flush()
    post_dlg_invoked(session, loan, amount, on)
    return inv


# ------------------------------------------------------------------------------------------------ escrow
def apportion(session: Session, loan: CoLentLoan, payment_id: str, parts: dict[str, Parts], on: date) -> None:
    """One collection's apportionment from the escrow to each lender (``parts``: lender → its part), once per
    payment and lender."""
    for lender, part in parts.items():
        seen = select(CoLendingEscrowEntry.id).where(
            CoLendingEscrowEntry.payment_id == payment_id, CoLendingEscrowEntry.lender == lender
        )
        if part.total > 0 and session.scalar(seen) is None:
            session.add(CoLendingEscrowEntry(brand_id=loan.brand_id, partner_id=loan.partner_id, loan_id=loan.loan_id,
                                             payment_id=payment_id, lender=lender, amount=part.total,
                                             value_date=on))  # fmt: skip
    session.flush()


def escrow_totals(
    session: Session, brand_id: str, since: date | None, until: date
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(partner id, lender) → (apportioned, remitted (approved), pending) paise, dated ``since``–``until`` (IST;
    ``since`` None: from the beginning). Remitted includes the wallet orders the partner confirmed."""
    out: dict[tuple[str, str], list[int]] = {}
    query = select(CoLendingEscrowEntry.partner_id, CoLendingEscrowEntry.lender, func.sum(CoLendingEscrowEntry.amount))
    query = query.where(CoLendingEscrowEntry.brand_id == brand_id, CoLendingEscrowEntry.value_date <= until)
    if since is not None:
        query = query.where(CoLendingEscrowEntry.value_date >= since)
    for pid, lender, total in session.execute(query.group_by(CoLendingEscrowEntry.partner_id,
                                                             CoLendingEscrowEntry.lender)).all():  # fmt: skip
        out.setdefault((pid, lender), [0, 0, 0])[0] += int(total)
    sent = select(CoLendingRemittance).where(CoLendingRemittance.brand_id == brand_id,
                                             CoLendingRemittance.remitted_on <= until)  # fmt: skip
    if since is not None:
        sent = sent.where(CoLendingRemittance.remitted_on >= since)
    for r in session.scalars(sent):
        slot = out.setdefault((r.partner_id, r.lender), [0, 0, 0])
        if r.status == "APPROVED":
            slot[1] += r.amount
        elif r.status == "PENDING":
            slot[2] += r.amount
    for row in q.brand_loans(session, brand_id, until):
        for order in ((row.steps or {}).get("orders") or {}).values():
            on = date.fromisoformat(order.get("on") or "1970-01-01")
            if (since is None or since <= on) and on <= until and order.get("walletOrderId") \
                    and not str(order.get("status")).startswith("REF"):  # fmt: skip
                out.setdefault((row.partner_id, cl.PARTNER), [0, 0, 0])[1] += int(order.get("amount") or 0)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def remittance(session: Session, brand_id: str, remittance_id: str, lock: bool = False) -> CoLendingRemittance | None:
    """The brand's remittance (row-locked with ``lock``: two checkers deciding at once get one decision)."""
    query = select(CoLendingRemittance).where(CoLendingRemittance.brand_id == brand_id,
                                              CoLendingRemittance.id == remittance_id)  # fmt: skip
    return session.scalars(query.with_for_update() if lock else query).first()


def remittances(session: Session, brand_id: str, status: str | None = None) -> list[CoLendingRemittance]:
    """The brand's remittances, newest first (by ``status`` when given)."""
    query = select(CoLendingRemittance).where(CoLendingRemittance.brand_id == brand_id)
    if status is not None:
        query = query.where(CoLendingRemittance.status == status)
    return list(session.scalars(query.order_by(CoLendingRemittance.created_at.desc()).limit(500)))
