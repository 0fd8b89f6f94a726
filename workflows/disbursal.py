"""Origination's disbursal (see ``workflows.loan``).

Since MONEY_OUT_PATCH, each approval is one attempt: the beneficiary is re-verified by penny drop unless a recent
one exists (a name mismatch or a closed account parks the loan for ops), the transfer names the verified account
(its number decrypted only inside the activity, never in this history) and the rail, and settles by the bank's
callback or, when that is lost, by the reconciler asking the bank's status API (``workflows.reconciler``); the first
word on a transfer counts, a later one changes nothing. A failed transfer is recorded with the bank's reason and
waits for a new approval (a new attempt, a new idempotency key). Once disbursed the borrower gets the amount and
the UTR by SMS and email."""

from __future__ import annotations

from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from domain.outcomes import DisbursalStatus, TransferStatus
    from domain.status import LoanStatus
    from workflows.contracts import (
        BeneficiaryCheck,
        BeneficiaryCheckRequest,
        DisbursalEvent,
        DisbursalNotice,
        DisbursalRequest,
        DisbursalResult,
        DisbursedRecord,
        ServicingState,
        StaffAction,
        TransferFailure,
    )
    from workflows.heartbeats import TRANSFER_HEARTBEAT
    from workflows.options import (
        MONEY_OUT_PATCH,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
        TRANSFER_RETRY,
    )

from temporalio.exceptions import ActivityError

from workflows.base import _check_fresh, _refuse
from workflows.colending import colend_disbursed
from workflows.hold import HoldPhase, business_refusal
from workflows.patches import patched

DISBURSAL_ROLES = frozenset({"LOAN_EXECUTIVE", "ADMIN", "SUPER_ADMIN"})


class DisbursalPhase(HoldPhase):
    """Origination, last part: loan ops approve the disbursal (maker-checker: not who sanctioned it), the bank
    transfer goes out and settles by webhook; a failed transfer waits for a new approval. Then the schedule and
    the disbursal's ledger posting are recorded and the loan is DISBURSED."""

    async def _disburse(self, key: str) -> None:
        if not patched(MONEY_OUT_PATCH):
            return await self._disburse_v1(key)
        inp = self.inp
        attempt = 0
        while True:
            await workflow.wait_condition(lambda: self.disbursal_approval is not None)
            assert self.disbursal_approval is not None
            approver = f"{self.disbursal_approval.role}:{self.disbursal_approval.staff_email}"
            attempt += 1
            beneficiary = await self._verified_beneficiary(key, attempt)
            request = DisbursalRequest(
                inp.loan_id,
                inp.brand_id,
                inp.policy.disbursal_provider,
                f"{key}:disbursal:{attempt}",
                inp.terms.net_disbursed if inp.terms.net_disbursed is not None else inp.terms.amount,
                approver,
                bank_account_id=beneficiary.bank_account_id,
            )
            try:
                transfer = await self._send(request, attempt)
            except ActivityError as err:
                reason = business_refusal(err)
                if reason is None:
                    raise
                # The bank refused the request (an invalid account...): park it; once resumed, the approval stands
                # and the next attempt checks the beneficiary again and goes out under a new key.
                await self._hold("disbursal", reason)
                continue
            await self._move(
                LoanStatus.DISBURSAL_PENDING,
                f"transfer {transfer.transfer_id} initiated ({transfer.mode or 'bank'} to account "
                f"XXXX{transfer.account_last4 or beneficiary.account_last4 or ''})",
                approver,
            )
            if transfer.status == DisbursalStatus.FAILED:  # the bank's status API said so before any callback
                settled = DisbursalEvent(
                    transfer.transfer_id, TransferStatus.FAILED, None, "", transfer.reason, "status_api"
                )
            else:
                self.awaited_transfer = transfer.transfer_id
                await workflow.wait_condition(lambda: self.awaited_transfer in self.disbursal_events)
                settled = self.disbursal_events[transfer.transfer_id]
            if settled.status == TransferStatus.SUCCESS:
                break
            await self._origination_step(
                LoanActivities.record_transfer_failure,
                TransferFailure(inp.loan_id, transfer.transfer_id, settled.reason, settled.source),
                summary=f"Transfer {transfer.transfer_id} failed",
            )
            self.disbursal_approval = None
            await self._move(
                LoanStatus.AGREEMENT_SIGNED,
                f"transfer {transfer.transfer_id} failed: {settled.reason or 'no reason given'}; "
                "awaiting a new disbursal approval",
            )
        await self._record_disbursed(key, transfer.transfer_id, settled)
        try:
            await workflow.execute_activity_method(
                LoanActivities.notify_disbursed,
                DisbursalNotice(inp.loan_id, inp.brand_id, request.amount, settled.utr),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                heartbeat_timeout=TRANSFER_HEARTBEAT,
                retry_policy=PROVIDER_RETRY,
                summary="Tell the borrower: amount, UTR, KFS and agreement",
            )
        except ActivityError:
            workflow.logger.warning("disbursal notice for loan %s not sent", inp.loan_id)  # the money is out
        await colend_disbursed(self, key)  # a loan booked with a co-lending partner (co-lending-v1): split books

    async def _send(self, request: DisbursalRequest, attempt: int) -> DisbursalResult:
        return await workflow.execute_activity_method(
            LoanActivities.initiate_disbursal,
            request,
            start_to_close_timeout=PROVIDER_TIMEOUT,
            heartbeat_timeout=TRANSFER_HEARTBEAT,
            retry_policy=TRANSFER_RETRY,
            summary=f"Bank transfer, attempt {attempt}",
        )

    async def _verified_beneficiary(self, key: str, attempt: int) -> BeneficiaryCheck:
        """The beneficiary account, verified by a recent penny drop (one now if the last is older than the brand's
        window); a mismatch or a closed account parks the loan until ops resume it (the customer fixed the account)
        or reject it."""
        check_no = 0
        while True:
            check_no += 1
            request = BeneficiaryCheckRequest(
                self.inp.loan_id, self.inp.brand_id, f"{key}:beneficiary:{attempt}:{check_no}", workflow.now()
            )
            check = await self._or_hold("beneficiary", partial(self._check_beneficiary, request))
            if check.verified:
                return check
            await self._hold("beneficiary", check.reason or "the beneficiary account could not be verified")

    async def _check_beneficiary(self, request: BeneficiaryCheckRequest) -> BeneficiaryCheck:
        return await workflow.execute_activity_method(
            KycActivities.reverify_beneficiary,
            request,
            start_to_close_timeout=PROVIDER_TIMEOUT,
            heartbeat_timeout=TRANSFER_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Penny drop on the beneficiary before the transfer",
        )

    async def _record_disbursed(self, key: str, transfer_id: str, settled: DisbursalEvent) -> None:
        inp = self.inp
        now = workflow.now()
        installments = self._installments(now)
        await self._origination_step(
            LoanActivities.record_disbursal,
            DisbursedRecord(
                inp.loan_id,
                settled.utr,
                transfer_id,
                inp.terms.amount,
                now,
                installments,
                f"{key}:ledger:disbursal",
                upfront_fees=inp.terms.upfront_fees,
                upfront_fees_gst=inp.terms.upfront_fees_gst,
                third_party=dict(inp.terms.third_party),
            ),
            summary="Persist schedule and ledger",
        )
        self.servicing = ServicingState(installments=installments, disbursed_at=now)
        await self._move(LoanStatus.DISBURSED, f"UTR {settled.utr}")

    async def _disburse_v1(self, key: str) -> None:
        """Loans started before MONEY_OUT_PATCH."""
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
                heartbeat_timeout=TRANSFER_HEARTBEAT,
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

        await self._record_disbursed(key, transfer.transfer_id, settled)

    @workflow.update(
        description="Loan ops approve the disbursal of a signed loan (StaffAction; not who sanctioned it)."
    )
    async def approve_disbursal(self, action: StaffAction) -> str:
        self.disbursal_approval = action
        # Taken on AGREEMENT_SIGNED as the database shows it, maybe while the workflow still records it.
        await workflow.wait_condition(
            lambda: (
                self.moving_to is None
                and self.status not in (LoanStatus.AGREEMENT_PENDING, LoanStatus.AGREEMENT_SIGNED)
            )
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
