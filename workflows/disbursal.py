"""Origination's disbursal (see ``workflows.loan``)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.outcomes import TransferStatus
    from domain.status import LoanStatus
    from workflows.contracts import (
        DisbursalEvent,
        DisbursalRequest,
        DisbursedRecord,
        ServicingState,
        StaffAction,
    )
    from workflows.options import (
        DB_RETRY,
        DB_TIMEOUT,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
    )

from workflows.base import LoanBase, _check_fresh, _refuse

DISBURSAL_ROLES = frozenset({"LOAN_EXECUTIVE", "ADMIN", "SUPER_ADMIN"})


class DisbursalPhase(LoanBase):
    """Origination, last part: loan ops approve the disbursal (maker-checker: not who sanctioned it), the bank
    transfer goes out and settles by webhook; a failed transfer waits for a new approval. Then the schedule and
    the disbursal's ledger posting are recorded and the loan is DISBURSED."""

    async def _disburse(self, key: str) -> None:
        inp = self.inp
        attempt = 0
        while True:
            await workflow.wait_condition(lambda: self.disbursal_approval is not None)
            assert self.disbursal_approval is not None
            approver = self.disbursal_approval
            attempt += 1
            transfer = await workflow.execute_activity_method(
                LoanActivities.initiate_disbursal,
                DisbursalRequest(
                    inp.loan_id,
                    inp.brand_id,
                    inp.policy.disbursal_provider,
                    f"{key}:disbursal:{attempt}",
                    inp.terms.net_disbursed if inp.terms.net_disbursed is not None else inp.terms.amount,
                    f"{approver.role}:{approver.staff_email}",
                ),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Bank transfer, attempt {attempt}",
            )
            await self._move(
                LoanStatus.DISBURSAL_PENDING,
                f"transfer {transfer.transfer_id} initiated",
                f"{approver.role}:{approver.staff_email}",
            )
            self.awaited_transfer = transfer.transfer_id
            await workflow.wait_condition(lambda: self.awaited_transfer in self.disbursal_events)
            settled = self.disbursal_events[transfer.transfer_id]
            if settled.status == TransferStatus.SUCCESS:
                break
            self.disbursal_approval = None
            await self._move(
                LoanStatus.AGREEMENT_SIGNED,
                f"transfer {transfer.transfer_id} failed; awaiting a new disbursal approval",
            )

        now = workflow.now()
        installments = self._installments(now)
        await workflow.execute_activity_method(
            LoanActivities.record_disbursal,
            DisbursedRecord(
                inp.loan_id,
                settled.utr,
                transfer.transfer_id,
                inp.terms.amount,
                now,
                installments,
                f"{key}:ledger:disbursal",
                upfront_fees=inp.terms.upfront_fees,
                upfront_fees_gst=inp.terms.upfront_fees_gst,
                third_party=dict(inp.terms.third_party),
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Persist schedule and ledger",
        )
        self.servicing = ServicingState(installments=installments, disbursed_at=now)
        await self._move(LoanStatus.DISBURSED, f"UTR {settled.utr}")

    @workflow.update(
        description="Loan ops approve the disbursal of a signed loan (StaffAction; not who sanctioned it)."
    )
    async def approve_disbursal(self, action: StaffAction) -> str:
        self.disbursal_approval = action
        # Taken on AGREEMENT_SIGNED as the database shows it, maybe while the workflow still records it.
        await workflow.wait_condition(
            lambda: self.moving_to is None
            and self.status not in (LoanStatus.AGREEMENT_PENDING, LoanStatus.AGREEMENT_SIGNED)
        )
        return self.status

    @approve_disbursal.validator
    def _validate_approve_disbursal(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        self._check_staff(action, DISBURSAL_ROLES, {LoanStatus.AGREEMENT_SIGNED}, as_recorded=True)
        if action.staff_id in self.reviewers:
            raise _refuse("PermissionDenied", "maker-checker: who sanctioned a loan cannot also release its money")
        if self.disbursal_approval is not None:
            raise _refuse("Conflict", "disbursal already approved")

    @workflow.signal(description="The bank's webhook: a disbursal transfer settled (SUCCESS with its UTR) or failed.")
    def disbursal_settled(self, event: DisbursalEvent) -> None:
        self.disbursal_events.setdefault(event.transfer_id, event)
