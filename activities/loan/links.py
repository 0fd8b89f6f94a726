"""Payment links for the amount due on an installment, made at the brand's gateways with failover (primary first):
the link the borrower pays an installment with, kept to exactly the amount now due.

The activity keeps its name, ``ensure_payment_link``, wherever it lives: recorded histories name it."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan import link_holds, schedule_queries
from activities.loan.common import LoanBase, refusal
from activities.providers.base import BusinessRefusal
from activities.providers.payments.links import (
    cancel_link,
    create_link,
    link_amount_paid,
    reference_after,
    webhook_url,
)
from db.models import PaymentLink
from domain.outcomes import InstallmentStatus, PaymentLinkStatus
from domain.status import TERMINAL
from workflows.contracts import PaymentLinkRequest

INSTALLMENT = "INSTALLMENT"


class LinkActivities(LoanBase):
    @activity.defn
    async def ensure_payment_link(self, req: PaymentLinkRequest) -> str:
        """An ACTIVE link for exactly the amount now due on the installment; its URL. A link for another amount
        (a penal charge was levied, or a part-payment made) is cancelled at the gateway that made it and superseded;
        a paid one is left as it is. A new link is made at the brand's primary gateway, or the next one when the
        primary is down (``create_link``), and ``payment_links.provider`` records which gateway made it.

        A link of another amount the gateway will not cancel because the borrower has just paid it, with that
        payment not yet recorded by the loan, is HELD and no link is made (the empty string): the borrower would
        pay the new amount on top of it. Each later ask weighs it again, and once its payment is recorded (or
        :data:`HOLD_WINDOW` after it was first held) the successor is made (``activities.loan.link_holds``).

        An empty string, and nothing made or cancelled, when the installment is paid or gone or the loan has ended:
        a link asked for before that and reached only now (a loan's follow-up work runs after it asks,
        ``workflows.followup``) must not offer a paid installment again.

        An amount due again after its link was superseded (a penal charge, then a part-payment back to the earlier
        amount) gets a new link, recorded beside the old row (migration 0029): its reference names the earlier links
        of that amount (``link_reference``), since the old reference would find the cancelled link at the gateway."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        key = link_holds.LinkKey(req.loan_id, req.installment_no, req.amount)
        seen = None if loan.status in TERMINAL else await self._tx(partial(link_holds.read_links, key=key))
        if seen is None:
            activity.logger.info("no link for installment %s of loan %s: no longer due", req.installment_no, loan.id)
            return ""
        settled: link_holds.InstallmentLinks | None = seen
        if seen.to_weigh:
            # each link's gateway asked before anything is marked: a customer must not pay a stale amount (a payment
            # made on it is still applied), and a link paid just now must not get a successor before its payment
            # lands; a held link is cancelled too (a paid one is refused, one whose payment was reversed is not)
            paid: dict[str, int | None] = {}
            for link in seen.to_weigh:
                cancelled = await cancel_link(brand.config, self.http, link.provider, link.link_id, loan.id)
                paid[link.link_id] = (
                    0 if cancelled else await link_amount_paid(brand.config, self.http, link.provider, link.link_id)
                )
            settled = await self._tx(partial(link_holds.settle_links, key=key, paid=paid))
        if settled is None:
            activity.logger.info("no link for installment %s of loan %s: no longer due", req.installment_no, loan.id)
            return ""
        for link_id, vendor, taken in settled.lapsed:
            activity.logger.warning(
                "link %s of loan %s was paid %s paise at %s, not received by the loan within %s: its successor is "
                "made; reconcile the payment", link_id, loan.id, taken, vendor, link_holds.HOLD_WINDOW,
            )  # fmt: skip
        if settled.held:
            activity.logger.info(
                "no new link for installment %s of loan %s: link %s was paid as it was superseded and its payment "
                "is on its way; the loan asks again once it is applied",
                req.installment_no, loan.id, ", ".join(settled.held),
            )  # fmt: skip
            return ""
        if settled.match_url is not None:
            return settled.match_url
        return await make_link(
            self, loan, customer, brand, amount=req.amount, installment_no=req.installment_no, purpose=INSTALLMENT,
            # each gateway keeps our reference unique, so a retried call gets the same link back
            reference_id=link_reference(loan.id, req.installment_no, req.amount, settled.earlier),
            description=f"{brand.name} loan installment {req.installment_no}",
        )  # fmt: skip


def link_reference(loan_id: str, installment_no: int, amount: int, earlier: list[PaymentLink]) -> str:
    """Our reference for an installment's link of ``amount`` paise: ``<loan id>:<installment>:<amount>`` for the
    first link of that amount, and for a link that replaces earlier ones (``earlier``: the same key's links no longer
    ACTIVE) the same with ``:r<12 hex digits>`` (``reference_after``)."""
    return reference_after(f"{loan_id}:{installment_no}:{amount}", (e.link_id for e in earlier))


async def make_link(
    base: LoanBase, loan: Any, customer: Any, brand: Any, *, amount: int, installment_no: int, purpose: str,
    reference_id: str, description: str, replaces_others: bool = False,
) -> str:  # fmt: skip
    """A link for ``amount`` paise at the brand's gateways (failover), recorded in ``payment_links`` with the gateway
    that made it (one ACTIVE link per loan, installment, amount and purpose); its URL. A gateway's refusal is final.

    An installment's link (``purpose`` INSTALLMENT) whose installment was paid in full while the gateway made it
    is recorded CANCELLED, cancelled at that gateway (best effort) and not offered: the empty string.

    ``replaces_others``: every other ACTIVE link of the loan with this installment number and purpose recorded before
    this activity was first scheduled is superseded in the same transaction and cancelled at its gateway (best
    effort): a new settlement replaces a lapsed one's link, which would otherwise stay payable and, at the same
    amount, keep the new link from being recorded. A link another attempt of this same activity recorded is newer,
    and is not superseded (below). It is for a regular activity (``settlement_link``): it compares the first
    attempt's scheduling (Temporal's clock) with ``payment_links.created_at`` (PostgreSQL's): a retry's link follows
    it by at least the start-to-close timeout; the first attempt's follows it only by a gateway call, but if clock
    skew lets a retry supersede that one, no link the workflow was given is lost (only the retry's answer counts).

    Two attempts of one activity that overlap (the first timed out while its gateway call still ran) can make two
    links for the same amount, at two gateways when the first failed over. The one recorded first is the loan's
    ACTIVE link; the other is recorded CANCELLED (so a payment made on it anyway still finds its loan, as Cashfree's
    events name only the link), cancelled at its gateway (best effort), and the ACTIVE link's URL is answered."""
    try:
        vendor, link = await create_link(
            brand.config,
            base.http,
            amount=amount,
            reference_id=reference_id,
            description=description,
            phone=customer.phone,
            notes={"loan_id": loan.id, "installment_no": installment_no, "purpose": purpose},
            callback_url=webhook_url(base.api_url, brand.id),
            customer_name=customer.full_name or customer.pan_name,
            customer_email=customer.email,
        )
    except BusinessRefusal as exc:
        raise refusal(exc) from exc

    replaced: list[tuple[str, str]] = []
    # the first attempt's scheduling (a regular activity's; a local activity's is the scheduling workflow task's):
    # every attempt's links are newer
    first_scheduled = activity.info().scheduled_time if replaces_others else None

    def write(session: Session) -> tuple[str, str | None]:
        # (the URL to answer; why our link is not the one offered and must be cancelled at its gateway, else None)
        # An installment's link: the installment is read again (FOR SHARE, the order record_payment locks in), since
        # a payment may have committed while the gateway was making the link; then the link is recorded CANCELLED.
        still_due = purpose != INSTALLMENT or schedule_queries.installment_status(
            session, loan.id, installment_no, share=True
        ) not in (None, InstallmentStatus.PAID)
        if first_scheduled is not None:
            replaced[:] = schedule_queries.supersede_links(
                session, loan.id, installment_no, purpose, keep_link_id=link.link_id, created_before=first_scheduled
            )
        row = {
            "loan_id": loan.id,
            "installment_no": installment_no,
            "provider": vendor,
            "link_id": link.link_id,
            "url": link.url,
            "amount": amount,
            "purpose": purpose,
        }
        status = PaymentLinkStatus.ACTIVE if still_due else PaymentLinkStatus.CANCELLED
        if schedule_queries.insert_payment_link(session, **row, status=status):
            return (link.url, None) if still_due else ("", "paid meanwhile")
        recorded = schedule_queries.link_status(session, link.link_id)
        if recorded is None:  # another attempt recorded a different link for this amount first: that one stays
            other = schedule_queries.active_link_url(session, loan.id, installment_no, amount, purpose)
            if other is None:  # and it is gone already (paid, superseded): this attempt is retried, nothing written
                raise RuntimeError(f"the ACTIVE link for {amount} paise changed while link {link.link_id} was made")
            schedule_queries.insert_payment_link(session, **row, status=PaymentLinkStatus.CANCELLED)
            return other, "another attempt's link was recorded first"
        if still_due and recorded == PaymentLinkStatus.ACTIVE:
            return link.url, None  # a retry that got its own link back
        # recorded before and no longer offered (paid, superseded, cancelled), or its installment paid meanwhile
        other = schedule_queries.active_link_url(session, loan.id, installment_no, amount, purpose)
        return (other or "") if still_due else "", None

    answer, cancel_because = await base._tx(write)
    for old_vendor, old_link in replaced:  # a replaced link must not take money any more (a payment still applies)
        await cancel_link(brand.config, base.http, old_vendor, old_link, loan.id)
    if cancel_because is None:
        return answer
    activity.logger.info(
        "link %s for installment %s of loan %s: %s", link.link_id, installment_no, loan.id, cancel_because
    )
    # the borrower must not be offered a paid installment again; money paid on it anyway is a credit balance
    await cancel_link(brand.config, base.http, vendor, link.link_id, loan.id)
    return answer
