"""Co-lending's losses and default-loss guarantee (``workflows.colending``): a waiver, a settlement's waiver or a
write-off on a co-lent loan split between the lenders as payments are (``domain.colending.Splitter`` over
everything repaid or lost before it, each lender's part on its sub-ledger once per loss), and the agreement's DLG
invoked once per loan at a write-off or on its invocation DPD (``domain.colending.dlg``; RBI Guidelines on Default
Loss Guarantee in Digital Lending, DOR.CRE.REC.21/21.07.001/2023-24, 8 June 2023). Mixed into
``activities.colending.CoLendingActivities``."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from db import colending as q
from db import colending_losses as lq
from domain.colending import Parts, Splitter
from domain.colending import ledger as cl
from domain.colending.dlg import OVERDUE, WRITE_OFF
from workflows.contracts.colending import CoLendSplit
from workflows.contracts.colending_losses import CoLendLoss, CoLendOverdue


def parts_dict(parts: Parts) -> dict[str, int]:
    """``parts`` as component → paise."""
    return {"principal": parts.principal, "interest": parts.interest, "fees": parts.fees, "penal": parts.penal}


class CoLendingLosses(DbActivities):
    """``colending_loss`` and ``colending_overdue``."""

    @activity.defn
    async def colending_loss(self, req: CoLendLoss) -> CoLendSplit:
        """A loss divided between the lenders (each component cumulatively with the repayments and losses before
        it), each lender's part posted once under ``colending:<kind>:<reference>``; a write-off then invokes the
        DLG for the partner's part of it (once per loan). A loan that is not co-lent splits nothing. ValueError
        (not retried) for an unknown kind or a negative component."""
        if req.kind not in cl.LOSS_KINDS:
            raise ValueError(f"unknown loss kind {req.kind!r}")
        parts = Parts(req.principal, req.interest, req.fees, req.penal)
        key = f"colending:{req.kind.lower()}:{req.reference}"[:200]

        def run(session: Session) -> CoLendSplit:
            row = q.co_lent(session, req.loan_id, lock=True)
            if row is None:
                return CoLendSplit()
            if lq.written(session, key):
                mine, theirs = lq.resolved_for(session, key, cl.ORIGINATOR), lq.resolved_for(session, key, cl.PARTNER)
            else:
                split = Splitter(q.as_agreement(row), row.blended_rate_bps, lq.resolved(session, req.loan_id)).split(
                    parts
                )
                q.post(session, row, cl.ORIGINATOR, cl.lost(req.kind, split.originator), key, req.value_date)
                q.post(session, row, cl.PARTNER, cl.lost(req.kind, split.partner), key, req.value_date)
                mine, theirs = split.originator, split.partner
            if req.kind == cl.CL_WRITE_OFF:
                lq.invoke(session, row, reason=WRITE_OFF, dpd=req.dpd, loss=theirs.total, on=req.value_date)
            return CoLendSplit(parts_dict(mine), parts_dict(theirs))

        return await self._tx(run)

    @activity.defn
    async def colending_overdue(self, req: CoLendOverdue) -> int | None:
        """The loan's DPD against its agreement's DLG: on or past the invocation day, the DLG is invoked for the
        partner's exposure (its principal outstanding and its part of the interest overdue) once; answers the DPD
        at which to ask again (the invocation day), or None when there is nothing more to ask in this run (not
        co-lent, no DLG, already invoked)."""

        def run(session: Session) -> int | None:
            row = q.co_lent(session, req.loan_id)
            if row is None:
                return None
            dlg_row = lq.dlg_row(session, row.brand_id, row.partner_id)
            if dlg_row is None:
                return None
            dlg = lq.as_dlg(dlg_row)
            if dlg.due(req.dpd) is None:
                return dlg.invoke_dpd
            loss = lq.partner_exposure(session, row, req.as_of)
            lq.invoke(session, row, reason=OVERDUE, dpd=req.dpd, loss=loss, on=req.as_of)
            return None

        return await self._tx(run)
