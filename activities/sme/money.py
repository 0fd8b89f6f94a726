"""Money of a financing request: the advance to the seller and the reserve released, through the brand's
disbursal bank (the same adapters and rules as a loan's disbursal, docs/money-out.md), and the buyer's payment
link at the brand's gateways (``activities.providers.payments.links``).

No double transfer: a transfer row is written first (reference ``sme-<kind>-<requestId>-<attempt>``, the bank)
and stamped SENT before the bank is asked; a retry that finds it SENT asks the bank's status API by that
reference, at that bank, and sends again (same reference) only when the bank never got it. A FAILED attempt is
final; staff's RETRY makes a new attempt. The account number is unsealed only here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities import providers
from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.disbursal.base import BankTransferState, Beneficiary, TransferMode
from activities.providers.payments.links import create_link
from activities.sme.common import SmeBase, loaded
from db.models import BankAccount, SmeTransfer
from domain.brand_config import BrandConfig
from domain.disbursal import transfer_mode
from los.crypto import BANK_ACCOUNT, unseal
from workflows.contracts.sme import CollectionOpened, SmeRequestRef, TransferAnswer, TransferOutcome, TransferRequest

SENT, SUCCESS, FAILED = "SENT", "SUCCESS", "FAILED"


def _latest(session: Session, request_id: str, kind: str) -> SmeTransfer | None:
    return session.scalars(
        select(SmeTransfer)
        .where(SmeTransfer.request_id == request_id, SmeTransfer.kind == kind)
        .order_by(SmeTransfer.attempt.desc())
        .with_for_update()
    ).first()


def _mark_sent(session: Session, transfer_id: str) -> None:
    """SENT before the request leaves: a lost answer is asked about, never sent blind again."""
    row = session.get_one(SmeTransfer, transfer_id)
    row.status, row.updated_at = SENT, datetime.now(UTC)


class SmeMoney(SmeBase):
    """Transfers (advance, reserve) and the buyer's collection link."""

    @activity.defn(name="sme_send_transfer")
    async def send_transfer(self, req: TransferRequest) -> TransferAnswer:
        """Send ``req.amount`` paise to the business's verified primary account once: SENT, or FAILED with the
        reason (no verified account, no bank, the bank refused); an attempt already settled answers its outcome.
        A transient bank fault raises (retried; the retry asks the bank's status API first)."""
        ctx = await self._tx(loaded(req.request_id))
        config = dict(ctx.brand.config or {})

        def reserve(session: Session) -> SmeTransfer:
            row = _latest(session, req.request_id, req.kind)
            if row is not None and row.status in (SENT, SUCCESS, "RESERVED"):
                return row
            attempt = (row.attempt + 1) if row is not None else 1
            bank = ProviderConfig.from_brand(config, "disbursal").vendor
            new = SmeTransfer(
                request_id=req.request_id, brand_id=ctx.brand.id, kind=req.kind, amount=req.amount, attempt=attempt,
                reference=f"sme-{req.kind.lower()}-{req.request_id}-{attempt}", bank=bank, status="RESERVED",
            )  # fmt: skip
            session.add(new)
            session.flush()
            return new

        try:
            row = await self._tx(reserve)
            if row.status == SUCCESS:
                return TransferAnswer(SUCCESS, row.utr)
            bank = providers.build("disbursal", config, self.http, vendor=row.bank)
            if row.status == SENT:  # sent before, the answer lost: ask the bank that holds it
                known = await bank.transfer_status(idempotency_key=row.reference)
                if known.state != BankTransferState.NOT_FOUND:
                    return self._answer(known.state, known.utr, known.reason)
            account = await self._tx(
                lambda s: s.scalars(
                    select(BankAccount).where(
                        BankAccount.customer_id == ctx.customer.id,
                        BankAccount.is_primary,
                        BankAccount.penny_drop_status == "VERIFIED",
                    )
                ).first()
            )
            if account is None:
                return TransferAnswer(FAILED, None, "the business has no verified bank account")
            await self._tx(lambda s: _mark_sent(s, row.id))
            beneficiary = Beneficiary(
                account.beneficiary_name or ctx.business.legal_name,
                unseal(self.secret, BANK_ACCOUNT, account.account_sealed) or "",
                account.ifsc, ctx.customer.phone, ctx.customer.email,
            )  # fmt: skip
            await bank.transfer(
                amount=req.amount,
                reference_id=req.request_id,
                beneficiary=beneficiary,
                mode=TransferMode(transfer_mode(req.amount, BrandConfig.of(config).imps_limit)),
                callback_url=f"{self.api_url}/api/v1/sme/webhooks/{ctx.brand.id}/{bank.config.vendor}",
                idempotency_key=row.reference,
            )
        except BusinessRefusal as exc:
            return TransferAnswer(FAILED, None, str(exc))
        return TransferAnswer(SENT)

    @staticmethod
    def _answer(state: str, utr: str | None, reason: str | None) -> TransferAnswer:
        if state == BankTransferState.SUCCESS:
            return TransferAnswer(SUCCESS, utr)
        if state == BankTransferState.FAILED:
            return TransferAnswer(FAILED, None, reason or "failed at the bank")
        return TransferAnswer(SENT)

    @activity.defn(name="sme_check_transfer")
    async def check_transfer(self, req: TransferRequest) -> TransferAnswer:
        """The bank's status API on the latest attempt: SUCCESS with the UTR, FAILED with the reason, else SENT."""
        ctx = await self._tx(loaded(req.request_id))
        row = await self._tx(lambda s: _latest(s, req.request_id, req.kind))
        if row is None or row.status in (SUCCESS, FAILED):
            return TransferAnswer(row.status, row.utr, row.failure_reason) if row else TransferAnswer(FAILED)
        bank = providers.build("disbursal", dict(ctx.brand.config or {}), self.http, vendor=row.bank)
        known = await bank.transfer_status(idempotency_key=row.reference)
        return self._answer(known.state, known.utr, known.reason)

    @activity.defn(name="sme_record_transfer")
    async def record_transfer(self, out: TransferOutcome) -> None:
        """The latest attempt's final word (SUCCESS with its UTR, FAILED with the reason); a settled row stays."""

        def write(session: Session) -> None:
            row = _latest(session, out.request_id, out.kind)
            if row is None:
                row = SmeTransfer(
                    request_id=out.request_id, brand_id=loaded(out.request_id)(session).brand.id, kind=out.kind,
                    amount=out.amount, reference=f"sme-{out.kind.lower()}-{out.request_id}-1", status=FAILED,
                )  # fmt: skip
                session.add(row)
            if row.status != SUCCESS:
                row.status, row.utr, row.failure_reason = out.status, out.utr, out.reason
                row.updated_at = datetime.now(UTC)

        await self._tx(write)

    @activity.defn(name="sme_open_collection")
    async def open_collection(self, ref: SmeRequestRef) -> CollectionOpened:
        """The buyer's payment link for the invoice amount at the brand's gateways (our reference
        ``sme-<requestId>``: a retry gets the same link); its payments come back to
        ``/api/v1/sme/webhooks/{brandId}/{vendor}``. A brand without a gateway collects by the bank's callback
        (a virtual account credit) only: no link."""
        ctx = await self._tx(loaded(ref.request_id))
        inv = ctx.invoice
        try:
            vendor, link = await create_link(
                dict(ctx.brand.config or {}),
                self.http,
                amount=inv.amount,
                reference_id=f"sme-{ref.request_id}",
                description=f"Invoice {inv.number} of {ctx.business.legal_name}"[:200],
                phone=ctx.customer.phone,
                notes={"loan_id": ref.request_id},
                callback_url=f"{self.api_url}/api/v1/sme/webhooks/{ctx.brand.id}/{{vendor}}",
                customer_name=inv.buyer_name or None,
            )
        except BusinessRefusal:
            return CollectionOpened(f"va-{ref.request_id}")
        reference, url = f"{vendor}:{link.link_id}", link.url

        def write(session: Session) -> None:
            row = loaded(ref.request_id, lock=True)(session).request
            row.collection_reference, row.collection_url = reference[:80], url

        await self._tx(write)
        return CollectionOpened(reference, url)
