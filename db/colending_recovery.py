"""Co-lending's SQL for money recovered on a written-off co-lent loan and for the default-loss guarantee's postings
(docs/co-lending.md, "Recoveries after a write-off"): called from ``db.receipts.record_credit_balance`` in the
transaction that records the recovery, and from ``db.colending_losses.invoke``. The rules are
``domain.colending.recovery`` and ``domain.colending.ledger``; money is integer paise, dates IST."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import colending as q
from db.models import CoLendingDlgInvocation, CoLendingLeg, CoLentLoan
from domain.colending import Parts
from domain.colending import ledger as cl
from domain.colending.recovery import RecoverySplit, split_recovery


def post_dlg_invoked(session: Session, loan: CoLentLoan, amount: int, on: date) -> None:
    """The DLG's invocation of ``amount`` paise on ``loan`` posted to both lenders' sub-ledgers, once per loan
    (``colending:dlg:<loanId>``): the originator's payout from its cover, the partner's receipt against its loss."""
    key = f"colending:dlg:{loan.loan_id}"
    for lender in cl.LENDERS:
        q.post(session, loan, lender, cl.dlg_invoked(lender, amount), key, on)


def written_off(session: Session, loan_id: str) -> dict[str, Parts]:
    """Each lender's part of the loan's write-off by component (its ``CL_WRITE_OFF`` legs), paise."""
    query = (
        select(CoLendingLeg.lender, CoLendingLeg.account, func.sum(CoLendingLeg.amount))
        .where(CoLendingLeg.loan_id == loan_id, CoLendingLeg.kind == cl.CL_WRITE_OFF)
        .group_by(CoLendingLeg.lender, CoLendingLeg.account)
    )
    got: dict[str, dict[str, int]] = {lender: {} for lender in cl.LENDERS}
    for lender, account, total in session.execute(query).all():
        component = cl.resolved_component(cl.CL_WRITE_OFF, account)
        if component is not None:
            got.setdefault(lender, {})[component] = -int(total)
    return {lender: Parts(**parts) for lender, parts in got.items()}


def _sum(session: Session, loan_id: str, kind: str, account: str, lender: str | None = None) -> int:
    query = select(func.coalesce(func.sum(CoLendingLeg.amount), 0)).where(
        CoLendingLeg.loan_id == loan_id, CoLendingLeg.kind == kind, CoLendingLeg.account == account
    )
    if lender is not None:
        query = query.where(CoLendingLeg.lender == lender)
    return int(session.scalar(query) or 0)


def dlg_unpaid(session: Session, loan_id: str) -> int:
    """What the partner still owes back of the DLG invoked on the loan: the invocation's amount less what its
    recoveries paid back (0 when the DLG was not invoked on it)."""
    invoked = session.scalar(select(CoLendingDlgInvocation.amount).where(CoLendingDlgInvocation.loan_id == loan_id))
    repaid = _sum(session, loan_id, cl.CL_DLG_REPAID, cl.CL_LOSS_COVERED, cl.PARTNER)
    return max(0, int(invoked or 0) - repaid)


def record_recovery(session: Session, loan_id: str, *, key: str, amount: int, on: date) -> RecoverySplit | None:
    """Money recovered on a written-off loan, if it is co-lent: split between the lenders as its write-off was
    (``domain.colending.recovery.split_recovery``), each lender's part posted to its sub-ledger (``CL_RECOVERY``),
    the DLG paid back from the partner's part (``CL_DLG_REPAID``), and each lender's net part apportioned from the
    escrow, all once per ``key`` in the caller's transaction. The co-lent loan's row is locked, so recoveries are
    split one at a time. None when the loan is not co-lent, its write-off was not split, or ``key`` was recorded."""
    row = q.co_lent(session, loan_id, lock=True)
    if row is None or amount <= 0:
        return None
    seen = select(CoLendingLeg.id).where(CoLendingLeg.txn_key == key).limit(1)
    if session.scalar(seen) is not None:
        return None
    lost = written_off(session, loan_id)
    if not any(p.total for p in lost.values()):
        return None
    before = _sum(session, loan_id, cl.CL_RECOVERY, cl.CL_COLLECTIONS)
    split = split_recovery(lost, before, amount, dlg_unpaid(session, loan_id))
    q.post(session, row, cl.ORIGINATOR, cl.recovered(split.originator, split.excess), key, on)
    q.post(session, row, cl.PARTNER, cl.recovered(split.partner), key, on)
    for lender in cl.LENDERS:
        q.post(session, row, lender, cl.dlg_repaid(lender, split.dlg_repaid), f"{key}:dlg", on)
    from db.colending_losses import apportion

    apportion(session, row, key[:100], {lender: Parts(principal=split.net(lender)) for lender in cl.LENDERS}, on)
    return split
