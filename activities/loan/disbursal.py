"""Disbursal: the bank transfer to the verified beneficiary (reserved once per key before the bank is asked), its
failure, the reconciler's questions to the bank, and once it settles the ledger posting net of upfront deductions,
the repayment schedule, the loan's servicing columns and the borrower's notice.

No double disbursal: a transfer row is reserved under the attempt's idempotency key and stamped ``sent_at`` before
the request leaves. A retry that finds it sent without an answer (a timeout, a crash) asks the bank's status API by
that key, always at the bank the row names, and sends again (same key, same bank) only when the bank says it never
got it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities import providers
from activities.loan import queries, schedule_queries
from activities.loan.common import LoanBase, refusal
from activities.ops_jobs_common import alert_admins
from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.disbursal.base import (
    BankTransferState,
    Beneficiary,
    TransferMode,
    TransferStatusAnswer,
)
from activities.providers.heartbeat import keep_alive
from db.models import Disbursal
from domain import ledger
from domain.brand_config import BrandConfig
from domain.disbursal import transfer_mode
from domain.money import format_inr
from domain.outcomes import DisbursalStatus
from los.crypto import BANK_ACCOUNT, unseal
from workflows.contracts import (
    DisbursalNotice,
    DisbursalRequest,
    DisbursalResult,
    DisbursedRecord,
    StaleTransfer,
    TransferCheck,
    TransferFailure,
)


class DisbursalActivities(LoanBase):
    @activity.defn
    async def initiate_disbursal(self, req: DisbursalRequest) -> DisbursalResult:
        """Send the attempt's transfer once: PENDING with the bank's transfer id, or FAILED when the bank's status
        API says a transfer sent earlier under this key failed. ``BusinessRefusal`` (not retried) when the bank
        refuses the request (invalid account or IFSC, limits). Heartbeats throughout (``keep_alive``)."""
        async with keep_alive("bank transfer"):
            return await self._initiate(req)

    async def _initiate(self, req: DisbursalRequest) -> DisbursalResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        account = await self._tx(lambda s: queries.beneficiary_account(s, customer.id, req.bank_account_id))
        if account is None:
            raise refusal(BusinessRefusal("the customer has no verified bank account", code="NO_BENEFICIARY"))
        mode = transfer_mode(req.amount, BrandConfig.of(brand.config).imps_limit)
        try:  # a new attempt goes to the brand's primary bank now; the row keeps it for the attempt's whole life
            primary = ProviderConfig.from_brand(brand.config, "disbursal").vendor
        except BusinessRefusal as exc:
            raise refusal(exc) from exc

        def reserve(session: Session) -> Disbursal:
            return queries.reserve_disbursal(
                session,
                req.idempotency_key,
                loan_id=req.loan_id,
                amount=req.amount,
                provider=primary,
                approved_by=req.approved_by,
                mode=mode,
                bank_account_id=account.id,
                account_last4=account.account_last4,
                ifsc=account.ifsc,
            )

        row = await self._tx(reserve)
        done = DisbursalResult(row.transfer_id or "", DisbursalStatus(row.status), row.failure_reason, row.mode,
                               row.account_last4)  # fmt: skip
        if row.transfer_id:
            return done
        try:
            # the bank the row names (the brand's primary when it was reserved), never another one
            if row.sent_at is not None:  # sent before, answer lost: ask the bank what it has
                bank = await self._sent_before(row, brand)
                known = await self._status_of_sent(bank, row, brand.id)
                if known.state != BankTransferState.NOT_FOUND and known.transfer_id:
                    return await self._known(row, known.transfer_id, known.state, known.reason, done)
            else:
                bank = providers.build("disbursal", brand.config, self.http, vendor=row.provider)
            await self._tx(lambda s: queries.mark_sent(s, row.id, datetime.now(UTC)))
            transfer = await bank.transfer(
                amount=req.amount,
                reference_id=loan.id,
                beneficiary=Beneficiary(
                    account.beneficiary_name or customer.pan_name or customer.full_name or "",
                    unseal(self.secret, BANK_ACCOUNT, account.account_sealed) or "",
                    account.ifsc,
                    customer.phone,
                    customer.email,
                ),
                mode=TransferMode(row.mode or mode),  # a resend repeats the first request exactly
                callback_url=self._callback(brand.id, bank.config.vendor),
                idempotency_key=req.idempotency_key,
            )
        except BusinessRefusal as exc:  # the bank refused this request: the attempt is over, with its reason
            why = str(exc)
            await self._tx(lambda s: queries.refuse_disbursal(s, row.id, why))
            raise refusal(exc) from exc
        await self._tx(lambda s: queries.set_transfer(s, row.id, transfer.transfer_id))
        return DisbursalResult(transfer.transfer_id, DisbursalStatus.PENDING, None, row.mode, row.account_last4)

    async def _sent_before(self, row: Disbursal, brand: Any) -> Any:
        """The bank of a row sent before (its answer lost). A refusal to build it (the bank no longer configured for
        the brand, its keys removed) is not the bank refusing the transfer, which it may hold: ``ProviderError``
        (retried until ops restore it, who are told: :meth:`_unknown_transfer`), never the row refused and a new
        attempt sent elsewhere."""
        try:
            return providers.build("disbursal", brand.config, self.http, vendor=row.provider)
        except BusinessRefusal as exc:
            why = f"that bank cannot be asked ({exc})"
            raise await self._unknown_transfer(row, brand.id, why) from exc

    async def _status_of_sent(self, bank: Any, row: Disbursal, brand_id: str) -> TransferStatusAnswer:
        """The bank's status of a transfer sent before. A refusal of the status request (HTTP 4xx: keys rotated,
        access revoked, an unknown error code) says nothing of the transfer, which may have been made:
        ``ProviderError`` (retried, ops told: :meth:`_unknown_transfer`), never the row refused (that would free a
        new attempt to send the money again)."""
        try:
            return await bank.transfer_status(idempotency_key=row.idempotency_key)
        except BusinessRefusal as exc:
            raise await self._unknown_transfer(row, brand_id, f"the bank refused the status request ({exc})") from exc

    async def _unknown_transfer(self, row: Disbursal, brand_id: str, why: str) -> ProviderError:
        """The ``ProviderError`` for a transfer sent before whose fate the bank cannot be asked (``why``), after
        telling the brand's admins and the staff member who approved the disbursal, once per transfer (a SYSTEM
        notification keyed by the transfer's idempotency key): the step is retried until the bank answers, which
        takes a person (restore the bank's keys or access), and the loan's status alone would not say so."""
        key = row.idempotency_key
        text = (
            f"transfer {key} was sent to {row.provider} and its answer lost; {why}: asked again until it answers, "
            "never sent twice"
        )

        def alert(session: Session) -> None:
            meta = {"alert": "TRANSFER_STATUS_REFUSED", "loanId": row.loan_id, "transferKey": key, "bank": row.provider}
            title = "Disbursal waiting: the bank cannot be asked about a transfer"
            alert_admins(session, brand_id, [row.approved_by], title, text, meta, f"transfer-unknown:{key}")

        try:
            await self._tx(alert)
        except Exception:  # noqa: BLE001 - the bank's word is the step's failure, not the alert's
            activity.logger.exception("transfer %s: ops could not be told", key)
        return ProviderError(text, vendor=row.provider)

    async def _known(
        self, row: Disbursal, transfer_id: str, state: str, reason: str | None, done: DisbursalResult
    ) -> DisbursalResult:
        """A transfer the bank already has (its status API): recorded under its id; FAILED ones with the reason."""
        await self._tx(lambda s: queries.set_transfer(s, row.id, transfer_id))
        if state == BankTransferState.FAILED:
            await self._tx(lambda s: queries.fail_disbursal(s, transfer_id, reason, "status_api"))
            return DisbursalResult(transfer_id, DisbursalStatus.FAILED, reason, done.mode, done.account_last4)
        return DisbursalResult(transfer_id, DisbursalStatus.PENDING, None, done.mode, done.account_last4)

    @activity.defn
    async def record_transfer_failure(self, failure: TransferFailure) -> None:
        """The transfer failed (the bank's callback or its status API): FAILED with the bank's reason."""
        await self._tx(lambda s: queries.fail_disbursal(s, failure.transfer_id, failure.reason, failure.source))

    @activity.defn
    async def find_stale_transfers(self, now: datetime) -> list[StaleTransfer]:
        """Transfers pending at the bank longer than their brand's ``transfer_sla_seconds`` with no callback."""
        rows = await self._tx(lambda s: queries.pending_transfers(s))
        stale: list[StaleTransfer] = []
        for disbursal, brand_id, config in rows:
            sla = timedelta(seconds=BrandConfig.of(config).transfer_sla_seconds)
            if disbursal.sent_at is not None and now - disbursal.sent_at >= sla:
                stale.append(
                    StaleTransfer(
                        disbursal.loan_id,
                        brand_id,
                        disbursal.transfer_id or "",
                        disbursal.idempotency_key,
                        disbursal.provider,
                    )  # fmt: skip
                )
        return stale

    @activity.defn
    async def check_transfer(self, transfer: StaleTransfer) -> TransferCheck:
        """The bank's status API on one stale transfer (at the bank that holds it)."""
        brand = await self._tx(lambda s: queries.brand_of(s, transfer.brand_id))
        try:
            bank = providers.build("disbursal", brand.config, self.http, vendor=transfer.provider)
            answer = await bank.transfer_status(idempotency_key=transfer.idempotency_key)
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        return TransferCheck(str(answer.state), answer.utr, answer.reason)

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
            schedule_queries.add_installments(session, rec.loan_id, rec.installments, rec.amount)
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

    @activity.defn
    async def notify_disbursed(self, notice: DisbursalNotice) -> None:
        """The borrower's message once the money left: amount, UTR, and where the KFS and agreement are."""
        loan, customer, brand = await self._tx(self._context(notice.loan_id))
        await self._notify(
            brand,
            customer.phone,
            "DISBURSED",
            f"{brand.name}: {format_inr(notice.amount)} sent to your bank account, UTR {notice.utr or '-'}. "
            f"Your KFS and signed agreement are in the app under loan {loan.id[:8]}.",
        )
        await self._email(
            brand,
            customer.email,
            f"{brand.name}: {format_inr(notice.amount)} disbursed",
            f"Dear {customer.full_name or 'customer'},\n\n{format_inr(notice.amount)} was sent to your bank account "
            f"(UTR {notice.utr or '-'}). Welcome aboard: your Key Fact Statement and signed agreement are at "
            f"{self.api_url}/api/v1/web/loans/{loan.id}/kfs and {self.api_url}/api/v1/web/loans/{loan.id}/agreement."
            f"\n\n{brand.name}",
            reference=f"{loan.id}:disbursed",
        )
