"""Disbursal: the bank transfer (reserved once per key before the bank is asked), and once it settles the ledger
posting net of upfront deductions, the repayment schedule and the loan's servicing columns."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity

from activities import providers
from activities.loan import queries
from activities.loan.common import LoanBase, refusal
from activities.providers.base import BusinessRefusal
from db.models import Disbursal
from domain import ledger
from domain.outcomes import DisbursalStatus
from workflows.contracts import DisbursalRequest, DisbursalResult, DisbursedRecord


class DisbursalActivities(LoanBase):
    @activity.defn
    async def initiate_disbursal(self, req: DisbursalRequest) -> DisbursalResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))

        def reserve(session: Session) -> Disbursal:
            return queries.reserve_disbursal(
                session,
                req.idempotency_key,
                loan_id=req.loan_id,
                amount=req.amount,
                provider=req.provider,
                approved_by=req.approved_by,
            )

        row = await self._tx(reserve)
        if row.transfer_id:
            return DisbursalResult(row.transfer_id, DisbursalStatus(row.status))
        try:
            bank = providers.build("disbursal", brand.config, self.http)
            transfer = await bank.transfer(
                amount=req.amount,
                reference_id=loan.id,
                beneficiary={"name": customer.full_name, "phone": customer.phone},
                callback_url=self._callback(brand.id, bank.config.vendor),
                idempotency_key=req.idempotency_key,
            )
        except BusinessRefusal as exc:
            raise refusal(exc) from exc

        def save(session: Session) -> None:
            queries.set_transfer(session, row.id, transfer.transfer_id)

        await self._tx(save)
        return DisbursalResult(transfer.transfer_id, DisbursalStatus.PENDING)

    @activity.defn
    async def record_disbursal(self, rec: DisbursedRecord) -> None:
        def write(session: Session) -> None:
            txn = ledger.disbursal_with_deductions(
                rec.amount,
                upfront_fees=rec.upfront_fees,
                upfront_fees_gst=rec.upfront_fees_gst,
                third_party=rec.third_party,
            )
            if not queries.post_ledger(session, rec.loan_id, rec.ledger_key, txn):
                return
            queries.add_installments(session, rec.loan_id, rec.installments, rec.amount)
            queries.settle_disbursal(session, rec.transfer_id, rec.utr, rec.disbursed_at)
            queries.update_loan(
                session,
                rec.loan_id,
                disbursed_at=rec.disbursed_at,
                disbursal_utr=rec.utr,
                outstanding_principal=rec.amount,
                next_due_at=rec.installments[0].due_at,
            )

        await self._tx(write)
