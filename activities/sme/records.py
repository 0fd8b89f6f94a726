"""The request's facts in the database (``sme_financing_requests`` and its rows), each once per key so a retried
activity writes nothing twice, and the business's messages (SMS through the brand's messaging vendors, logged in
``customer_messages``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from temporalio import activity

from activities.messaging.send import Sender
from activities.sme.common import SmeBase, loaded
from db.models import SmeOffer, SmePayment, SmeRequestEvent, SmeVirtualAccount
from domain.money import format_inr
from domain.sme.credits import mode_of, utr_of
from workflows.contracts.sme import (
    AcceptedRecord,
    FundedRecord,
    OffersRecord,
    OverdueMark,
    PaymentRecord,
    SettlementRecord,
    SmeNotice,
    SmeStatusChange,
)

#: The business's SMS per event; values in paise are shown in rupees.
TEXTS: dict[str, str] = {
    "OFFERED": "{business}: {offers} offer(s) for invoice {invoice}; the best advance is {best}. Accept it in the app.",
    "REFUSED": "{business}: invoice {invoice} cannot be financed: {reason}.",
    "EXPIRED": "{business}: the offers for invoice {invoice} expired.",
    "REJECTED": "{business}: the financing of invoice {invoice} was not approved: {reason}.",
    "CANCELLED": "{business}: the financing request for invoice {invoice} is withdrawn.",
    "HOLD": "{business}: the financing of invoice {invoice} is on hold while we check it.",
    "FUNDED": "{business}: {advance} advanced against invoice {invoice} (UTR {utr}). Buyer's payment link: {link}"
    "{account}",
    "DUE_SOON": "{business}: invoice {invoice} is due on {due}; the buyer's link: {link}{account}",
    "OVERDUE": "{business}: invoice {invoice} is {daysLate} day(s) overdue. Please ask the buyer to pay: {link}"
    "{account}",
    "PAID": "{business}: the buyer paid invoice {invoice}; {release} of the reserve is on its way.",
    "CLOSED": "{business}: invoice {invoice} settled; reserve of {release} released (UTR {utr}).",
}
MONEY_KEYS = frozenset({"best", "advance", "release", "amount", "collected", "lateCharge"})


class SmeRecords(SmeBase):
    """Status history, offers, decisions, funding, payments, settlement, overdue marks and messages."""

    @activity.defn(name="sme_record_status")
    async def record_status(self, change: SmeStatusChange) -> None:
        """The request's new status, once per sequence number (its history row and the request's status and
        reason; NEEDS_ATTENTION keeps the held step and reason, leaving it clears them)."""

        def write(session: Session) -> None:
            ctx = loaded(change.request_id, lock=True)(session)
            added = session.execute(
                insert(SmeRequestEvent)
                .values(
                    request_id=change.request_id,
                    brand_id=ctx.brand.id,
                    seq=change.seq,
                    kind="STATUS",
                    status=change.status,
                    reason=change.reason,
                    detail=change.detail,
                )  # fmt: skip
                .on_conflict_do_nothing(index_elements=["request_id", "kind", "seq"])
                .returning(SmeRequestEvent.id)
            ).first()
            if added is None:
                return
            row = ctx.request
            row.status, row.updated_at = change.status, datetime.now(UTC)
            if change.status in ("REFUSED", "REJECTED", "CANCELLED", "EXPIRED"):
                row.reason = (change.reason or "")[:40] or None
                row.reason_text = str(change.detail.get("text") or change.reason or "")
            if change.status == "NEEDS_ATTENTION":
                row.hold_step, row.hold_reason = str(change.detail.get("step") or ""), change.reason
            else:
                row.hold_step = row.hold_reason = None

        await self._tx(write)

    @activity.defn(name="sme_record_offers")
    async def record_offers(self, rec: OffersRecord) -> None:
        """The offers (best first) and their expiry; an offer already recorded stays."""

        def write(session: Session) -> None:
            ctx = loaded(rec.request_id, lock=True)(session)
            for rank, o in enumerate(rec.offers, start=1):
                session.execute(
                    insert(SmeOffer)
                    .values(
                        request_id=rec.request_id,
                        brand_id=ctx.brand.id,
                        lender_id=o.lender_id,
                        lender_name=o.lender_name,
                        source=o.source,
                        rank=rank,
                        advance=o.advance,
                        discount=o.discount,
                        reserve=o.reserve,
                        days=o.days,
                        advance_rate_bps=o.advance_rate_bps,
                        discount_rate_bps=o.discount_rate_bps,
                        overdue_rate_bps=o.overdue_rate_bps,
                    )  # fmt: skip
                    .on_conflict_do_nothing(index_elements=["request_id", "lender_id"])
                )
            ctx.request.offers_expire_at = rec.expires_at

        await self._tx(write)

    @activity.defn(name="sme_record_acceptance")
    async def record_acceptance(self, rec: AcceptedRecord) -> None:
        """The business's choice: the lender and its terms onto the request."""

        def write(session: Session) -> None:
            ctx = loaded(rec.request_id, lock=True)(session)
            offer = session.scalars(
                select(SmeOffer).where(SmeOffer.request_id == rec.request_id, SmeOffer.lender_id == rec.lender_id)
            ).one()
            row = ctx.request
            row.lender_id, row.advance, row.discount, row.reserve = (
                offer.lender_id,
                offer.advance,
                offer.discount,
                offer.reserve,
            )
            row.days, row.advance_rate_bps = offer.days, offer.advance_rate_bps
            row.discount_rate_bps, row.overdue_rate_bps = offer.discount_rate_bps, offer.overdue_rate_bps

        await self._tx(write)

    @activity.defn(name="sme_record_approval")
    async def record_approval(self, rec: AcceptedRecord) -> None:
        """A maker's or checker's approval: its history row (once per step) and the request's maker/checker."""

        def write(session: Session) -> None:
            ctx = loaded(rec.request_id, lock=True)(session)
            step = rec.step or "MAKER"
            session.execute(
                insert(SmeRequestEvent)
                .values(
                    request_id=rec.request_id,
                    brand_id=ctx.brand.id,
                    seq=0,
                    kind=step,
                    status=ctx.request.status,
                    staff_id=rec.staff_id,
                    detail={},
                )  # fmt: skip
                .on_conflict_do_nothing(index_elements=["request_id", "kind", "seq"])
            )
            if step == "MAKER":
                ctx.request.maker_id = rec.staff_id
            else:
                ctx.request.checker_id = rec.staff_id

        await self._tx(write)

    @activity.defn(name="sme_record_funded")
    async def record_funded(self, rec: FundedRecord) -> None:
        """The advance reached the seller: the funding date, UTR and the terms for that date."""

        def write(session: Session) -> None:
            row = loaded(rec.request_id, lock=True)(session).request
            row.funded_on, row.advance_utr, row.advance = rec.funded_on, rec.utr, rec.advance
            row.discount, row.reserve, row.days = rec.discount, rec.reserve, rec.days

        await self._tx(write)

    @activity.defn(name="sme_record_payment")
    async def record_payment(self, rec: PaymentRecord) -> None:
        """One credit from the buyer, once per payment id (a bank credit's is its UTR's key, kept with its mode);
        the request's collected total."""

        def write(session: Session) -> None:
            ctx = loaded(rec.request_id, lock=True)(session)
            p = rec.payment
            session.execute(
                insert(SmePayment)
                .values(
                    request_id=rec.request_id,
                    brand_id=ctx.brand.id,
                    payment_id=p.payment_id[:80],
                    amount=p.amount,
                    source=p.source[:20],
                    paid_at=p.paid_at,
                    utr=utr_of(p.payment_id),
                    mode=mode_of(p.source),
                )  # fmt: skip
                .on_conflict_do_nothing(index_elements=["request_id", "payment_id"])
            )
            amounts = session.scalars(select(SmePayment.amount).where(SmePayment.request_id == rec.request_id))
            ctx.request.collected = sum(amounts)

        await self._tx(write)

    @activity.defn(name="sme_record_settlement")
    async def record_settlement(self, rec: SettlementRecord) -> None:
        """What the buyer's money paid: the late charge, the release, the day, and the release's UTR once sent."""

        def write(session: Session) -> None:
            row = loaded(rec.request_id, lock=True)(session).request
            row.collected, row.late_charge, row.release = rec.collected, rec.late_charge, rec.release
            row.paid_on = row.paid_on or rec.paid_on
            row.release_utr = rec.release_utr or row.release_utr

        await self._tx(write)

    @activity.defn(name="sme_mark_overdue")
    async def mark_overdue(self, mark: OverdueMark) -> None:
        """The request in collections: days late and reminders sent (the staff's collections queue reads these)."""

        def write(session: Session) -> None:
            row = loaded(mark.request_id, lock=True)(session).request
            row.days_late, row.reminders = max(row.days_late, mark.days_late), max(row.reminders, mark.reminder)

        await self._tx(write)

    @activity.defn(name="sme_notify")
    async def notify(self, notice: SmeNotice) -> str:
        """The business's SMS for ``notice.event`` (once per key; best effort: a vendor fault is logged FAILED).
        Answers the logged status, or SKIPPED for an event with no text."""
        ctx = await self._tx(loaded(notice.request_id))
        template = TEXTS.get(notice.event)
        if template is None:
            return "SKIPPED"
        values = {k: format_inr(v) if k in MONEY_KEYS and isinstance(v, int) else v for k, v in notice.values.items()}
        of_request = select(SmeVirtualAccount).where(SmeVirtualAccount.request_id == notice.request_id)
        account = await self._tx(lambda s: s.scalars(of_request).first())
        values = {
            "business": ctx.business.legal_name, "invoice": ctx.invoice.number,
            "link": ctx.request.collection_url or "-", "utr": "-", "reason": "-",
            "account": f"; or by NEFT/RTGS/IMPS to account {account.account_number}, IFSC {account.ifsc}"
            if account is not None and account.status == "ACTIVE" else "",
            **values,
        }  # fmt: skip
        try:
            text = template.format(**values)
        except (KeyError, IndexError, ValueError):
            text = f"{ctx.business.legal_name}: invoice {ctx.invoice.number}: {notice.event}"
        sender = Sender(self.db, self.http, self.api_url)
        return await sender.sms_text(ctx.brand, ctx.customer.phone, f"SME_{notice.event}", text, key=notice.key)
