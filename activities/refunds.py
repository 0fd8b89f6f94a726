"""Refund activities (``workflows.refund.RefundWorkflow``): the transfer of an approved refund to the borrower's
verified account through the brand's disbursal bank, the bank's status API, and the outcome with its ledger
posting. Amounts are integer paise.

No double refund, the disbursal's rule (docs/money-out.md): the refund row is reserved first (the bank, the
account, our reference ``refund-<refundId>`` written once) and stamped SENT before the request leaves. A retry
that finds it SENT asks the bank's status API by that reference, at the bank the row names, and sends again (same
reference, same bank, same account) only when the bank says it never got it. The account number is unsealed only
here, never a workflow payload. A refusal (no verified account, no bank configured, the bank said no) is answered
FAILED with its reason: the workflow records it and ends normally.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import providers
from activities.loan import queries
from activities.loan.common import LoanBase
from activities.ops_jobs_common import alert_admins
from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.disbursal.base import BankTransferState, Beneficiary, TransferMode, TransferStatusAnswer
from db.models import BankAccount, Brand, Customer, Loan, Refund
from domain.brand_config import BrandConfig
from domain.disbursal import transfer_mode
from domain.ledger.postings import refund as refund_posting
from los.crypto import BANK_ACCOUNT, unseal
from workflows.refund import APPROVED, FAILED, PROCESSED, SENT, RefundAnswer, RefundOutcome, RefundSend

FINAL = (PROCESSED, FAILED)
BANK_SAYS = {BankTransferState.SUCCESS.value: PROCESSED, BankTransferState.FAILED.value: FAILED}
IST_OFFSET = timedelta(hours=5, minutes=30)


def transfer_key(refund_id: str) -> str:
    """Our reference for a refund at the bank (its idempotency key and ``refunds.transfer_id``)."""
    return f"refund-{refund_id}"


def ledger_key(refund_id: str) -> str:
    """The idempotency key of a refund's ledger posting."""
    return f"refund:{refund_id}"


def _answer(row: Refund) -> RefundAnswer:
    return RefundAnswer(row.status, row.utr, row.failure_reason)


def _bank_answer(state: str, utr: str | None, reason: str | None) -> RefundAnswer:
    """The bank's status API in the refund's words: SUCCESS → PROCESSED, FAILED → FAILED, else still SENT."""
    status = BANK_SAYS.get(str(state), SENT)
    if status == FAILED:
        return RefundAnswer(FAILED, None, reason or "failed at the bank")
    return RefundAnswer(status, utr if status == PROCESSED else None)


def _loaded(refund_id: str) -> Callable[[Session], tuple[Refund, Loan, Customer, Brand]]:
    def load(session: Session) -> tuple[Refund, Loan, Customer, Brand]:
        row = session.execute(
            select(Refund, Loan, Customer, Brand)
            .join(Loan, Loan.id == Refund.loan_id)
            .join(Customer, Customer.id == Loan.customer_id)
            .join(Brand, Brand.id == Refund.brand_id)
            .where(Refund.id == refund_id)
        ).first()
        if row is None:
            raise ApplicationError(f"refund {refund_id} not found", type="NotFound", non_retryable=True)
        return row[0], row[1], row[2], row[3]

    return load


def _reserve(refund_id: str, values: dict[str, Any]) -> Callable[[Session], Refund]:
    """Write the refund's bank, account and reference once (a retry keeps the first ones); the row after."""

    def write(session: Session) -> Refund:
        session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == APPROVED, Refund.transfer_id.is_(None))
            .values(**values)
        )
        return session.get_one(Refund, refund_id, populate_existing=True)

    return write


def _mark_sent(refund_id: str) -> Callable[[Session], None]:
    """SENT before the request leaves: a lost answer is asked about, never sent blind again."""

    def write(session: Session) -> None:
        session.execute(
            update(Refund).where(Refund.id == refund_id, Refund.status.in_((APPROVED, SENT))).values(status=SENT)
        )

    return write


class RefundActivities(LoanBase):
    """The refund's three activities; ``all()`` lists them for the worker."""

    def all(self) -> list[Callable[..., Any]]:
        return [self.send_refund, self.check_refund, self.record_refund]

    @activity.defn
    async def send_refund(self, req: RefundSend) -> RefundAnswer:
        """Send the approved refund ``req.refund_id`` once: SENT (the bank took it), or FAILED with the reason (no
        verified account, no disbursal bank configured, the bank refused); a refund already settled answers its
        outcome. A transient bank fault raises (retried: the retry asks the bank's status API first)."""
        row, loan, customer, brand = await self._tx(_loaded(req.refund_id))
        if row.status in FINAL:
            return _answer(row)
        if row.status not in (APPROVED, SENT):
            raise ApplicationError(f"refund {row.id} is {row.status}, not approved", non_retryable=True)
        try:
            if row.status == SENT:  # sent before, answer lost: ask the bank the row names what it has
                known = await self._status_of_sent(row, brand.config)
                if known.state != BankTransferState.NOT_FOUND:
                    return _bank_answer(known.state, known.utr, known.reason)
            account = await self._tx(lambda s: queries.beneficiary_account(s, customer.id, row.bank_account_id))
            if account is None:  # re-checked on every attempt: an account no longer verified gets nothing
                return RefundAnswer(FAILED, None, "the borrower has no verified bank account")
            if row.transfer_id is None:
                primary = ProviderConfig.from_brand(brand.config, "disbursal").vendor
                values = {"provider": primary, "bank_account_id": account.id, "account_last4": account.account_last4,
                          "transfer_id": transfer_key(row.id)}  # fmt: skip
                row = await self._tx(_reserve(row.id, values))
            bank = providers.build("disbursal", brand.config, self.http, vendor=row.provider)
            await self._tx(_mark_sent(row.id))
            await bank.transfer(
                amount=row.amount,
                reference_id=loan.id,
                beneficiary=self._beneficiary(account, customer),
                mode=TransferMode(transfer_mode(row.amount, BrandConfig.of(brand.config).imps_limit)),
                callback_url=self._callback(brand.id, bank.config.vendor),
                idempotency_key=row.transfer_id or transfer_key(row.id),
            )
        except BusinessRefusal as exc:  # no bank configured, or the bank said no to this request: with its reason
            return RefundAnswer(FAILED, None, str(exc))
        return RefundAnswer(SENT)

    async def _status_of_sent(self, row: Refund, config: Any) -> TransferStatusAnswer:
        """The bank's status of a refund sent before (its answer lost), at the bank the row names. A refusal of the
        look-up itself (that bank no longer configured, its keys refused: HTTP 4xx) says nothing of the transfer it
        may hold: ``ProviderError`` (retried until it answers; the brand's admins and the refund's checker told once),
        never the refund FAILED, which would free its amount for a second refund while the first may be paid."""
        key = row.transfer_id or transfer_key(row.id)
        try:
            bank = providers.build("disbursal", config, self.http, vendor=row.provider)
            return await bank.transfer_status(idempotency_key=key)
        except BusinessRefusal as exc:
            text = (
                f"refund {row.id} was sent to {row.provider} and its answer lost; its status cannot be read ({exc}): "
                "asked again until the bank answers, never sent twice"
            )

            def alert(session: Session) -> None:  # it takes a person (the bank's keys or access): told once
                meta = {"alert": "REFUND_STATUS_REFUSED", "loanId": row.loan_id, "refundId": row.id}
                meta["bank"] = row.provider or ""
                title = "Refund waiting: the bank cannot be asked about it"
                alert_admins(session, row.brand_id, [row.decided_by], title, text, meta, f"refund-unknown:{row.id}")

            try:
                await self._tx(alert)
            except Exception:  # noqa: BLE001 - the bank's word is the step's failure, not the alert's
                activity.logger.exception("refund %s: ops could not be told", row.id)
            raise ProviderError(text, vendor=row.provider) from exc

    def _beneficiary(self, account: BankAccount, customer: Customer) -> Beneficiary:
        return Beneficiary(
            account.beneficiary_name or customer.pan_name or customer.full_name or "",
            unseal(self.secret, BANK_ACCOUNT, account.account_sealed) or "",
            account.ifsc,
            customer.phone,
            customer.email,
        )

    @activity.defn
    async def check_refund(self, req: RefundSend) -> RefundAnswer:
        """The bank's status API on a SENT refund (at the bank the row names): PROCESSED with the UTR, FAILED with
        the bank's reason, or SENT while it is pending. A refund already settled answers its outcome."""
        row, _loan, _customer, brand = await self._tx(_loaded(req.refund_id))
        if row.status in FINAL or row.provider is None:
            return _answer(row)
        try:
            bank = providers.build("disbursal", brand.config, self.http, vendor=row.provider)
            known = await bank.transfer_status(idempotency_key=row.transfer_id or transfer_key(row.id))
        except BusinessRefusal as exc:
            raise ApplicationError(str(exc), type="BusinessRefusal", non_retryable=True) from exc
        return _bank_answer(known.state, known.utr, known.reason)

    @activity.defn
    async def record_refund(self, out: RefundOutcome) -> bool:
        """Record a refund's outcome once: PROCESSED with its UTR and the ledger posting Dr CUSTOMER_CREDIT_BALANCE
        / Cr DISBURSAL_BANK (key ``refund:<id>``, value date today in IST), or FAILED with the reason (nothing
        posted). Returns False when the refund was already settled (a retry changes nothing)."""
        if out.status not in FINAL:
            raise ApplicationError(f"not an outcome: {out.status}", non_retryable=True)

        def write(session: Session) -> bool:
            row = session.get(Refund, out.refund_id, with_for_update=True)
            if row is None:
                raise ApplicationError(f"refund {out.refund_id} not found", type="NotFound", non_retryable=True)
            if row.status in FINAL:
                return False
            if out.status == PROCESSED:
                value_date = (datetime.now(UTC) + IST_OFFSET).date()
                queries.post_ledger(session, row.loan_id, ledger_key(row.id), refund_posting(row.amount), value_date)
                row.status, row.utr = PROCESSED, out.utr
            else:
                row.status, row.failure_reason = FAILED, out.reason or "failed"
            return True

        return await self._tx(write)
