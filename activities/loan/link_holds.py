"""Superseding an installment's payment links, and holding back a successor while a paid link's payment is on the
way: the two transactions ``ensure_payment_link`` (``activities.loan.links``) runs around its gateway calls.

A link whose amount is no longer due is cancelled at its gateway and marked SUPERSEDED. A gateway refuses to cancel
a link the borrower has just paid (the penal charge was levied as they paid the old amount): when it says money was
taken on it that the loan has not recorded from that gateway since the link was made, the payment is on its way by
webhook, and offering the new amount now would have the borrower pay twice. Such a link is HELD
(``payment_links.held_since``, migration 0030) and no successor is made; each later ask weighs it again (its payment
recorded: PAID; the window over: SUPERSEDED, logged to reconcile; else still HELD). Nothing is marked before the
gateway has been asked, so an attempt that fails between the two transactions leaves every link as it was, and its
retry weighs them again.

    key = LinkKey(loan_id, installment_no, amount_due)
    seen = await base._tx(partial(read_links, key=key))   # None: the installment is paid or gone
    paid = {link.link_id: <paise the gateway says it took, 0 once cancelled> for link in seen.to_weigh}
    settled = await base._tx(partial(settle_links, key=key, paid=paid))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from activities.loan import schedule_queries
from db.models import PaymentLink
from domain.outcomes import InstallmentStatus, PaymentLinkStatus

#: How long a paid link's successor is held back for its payment to reach the loan, from when it was first held:
#: Razorpay retries a webhook not answered 2xx for 24 hours after the event
#: (https://razorpay.com/docs/webhooks/best-practices), the longest of the brand's gateways (Cashfree: three retries
#: over about 40 minutes). It is weighed when the loan next asks for the installment's link.
HOLD_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class LinkKey:
    """The installment a link is asked for, and the amount now due on it (paise)."""

    loan_id: str
    installment_no: int
    amount: int


@dataclass(frozen=True)
class LinkToWeigh:
    """A link the gateway is asked about: one of another amount (ACTIVE, to supersede) or one HELD."""

    link_id: str
    provider: str
    status: str
    amount: int


@dataclass
class InstallmentLinks:
    """An installment's links as a transaction left them: those to weigh at their gateways (``read_links``: ACTIVE
    links of another amount, HELD links); the ACTIVE link of the amount due (its URL) or None; the links no longer
    ACTIVE of that amount (for ``link_reference``); the links HELD now (no successor while any is); the holds whose
    window ended with the payment not received (``(link id, gateway, paise)``, to reconcile)."""

    to_weigh: list[LinkToWeigh] = field(default_factory=list)
    match_url: str | None = None
    earlier: list[PaymentLink] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    lapsed: list[tuple[str, str, int]] = field(default_factory=list)


def _still_due(session: Session, loan_id: str, installment_no: int) -> bool:
    # the installment first (FOR SHARE), then its links, the order record_payment locks them in: a payment being
    # recorded on the installment is waited for and seen
    status = schedule_queries.installment_status(session, loan_id, installment_no, share=True)
    return status is not None and status != InstallmentStatus.PAID


def _amount_due(links: list[PaymentLink], key: LinkKey, found: InstallmentLinks) -> InstallmentLinks:
    for link in links:
        if link.status == PaymentLinkStatus.ACTIVE and link.amount == key.amount:
            found.match_url = link.url
        elif link.status != PaymentLinkStatus.ACTIVE and link.amount == key.amount:
            found.earlier.append(link)
    return found


def read_links(session: Session, *, key: LinkKey) -> InstallmentLinks | None:
    """The installment's links for ``key.amount`` paise now due; None when the installment is paid or gone. Changes
    nothing. With nothing to weigh it is the whole answer (the usual case: one transaction)."""
    if not _still_due(session, key.loan_id, key.installment_no):
        return None
    links = schedule_queries.installment_links_for_update(session, key.loan_id, key.installment_no)
    to_weigh = [
        LinkToWeigh(link.link_id, link.provider, link.status, link.amount)
        for link in links
        if link.status == PaymentLinkStatus.HELD
        or (link.status == PaymentLinkStatus.ACTIVE and link.amount != key.amount)
    ]
    return _amount_due(links, key, InstallmentLinks(to_weigh))


def settle_links(session: Session, *, key: LinkKey, paid: dict[str, int | None]) -> InstallmentLinks | None:
    """Mark each weighed link by what its gateway said (``paid``: link id → paise taken on it, 0 when it was
    cancelled or nothing was taken, None when the gateway could not say: a link HELD now was paid, so it counts its
    amount; another is replaced, as before holds): SUPERSEDED when nothing was taken or its hold's window is over;
    PAID when the loan has recorded that much from that gateway since the link was made (``recorded_since``); else
    HELD (``held_since`` set the first time). Judged against each row as locked now: a link a payment marked PAID
    meanwhile is left as it is. None when the installment is paid or gone by now."""
    if not _still_due(session, key.loan_id, key.installment_no):
        return None
    found = InstallmentLinks()
    links = schedule_queries.installment_links_for_update(session, key.loan_id, key.installment_no)
    for link in links:
        if link.link_id in paid and link.status in (PaymentLinkStatus.ACTIVE, PaymentLinkStatus.HELD):
            taken = paid[link.link_id]
            if taken is None:
                taken = link.amount if link.status == PaymentLinkStatus.HELD else 0
            _settle_one(session, link, taken, found)
    return _amount_due(links, key, found)


def _settle_one(session: Session, link: PaymentLink, taken: int, settled: InstallmentLinks) -> None:
    if taken <= 0:
        link.status = PaymentLinkStatus.SUPERSEDED
    elif schedule_queries.recorded_since(session, link.loan_id, link.provider, taken, link.created_at):
        link.status = PaymentLinkStatus.PAID  # its payment has reached the loan
    elif link.status == PaymentLinkStatus.ACTIVE:
        link.status = PaymentLinkStatus.HELD
        link.held_since = func.now()
        settled.held.append(link.link_id)
    elif session.scalar(select(PaymentLink.held_since > func.now() - HOLD_WINDOW).where(PaymentLink.id == link.id)):
        settled.held.append(link.link_id)
    else:
        link.status = PaymentLinkStatus.SUPERSEDED
        settled.lapsed.append((link.link_id, link.provider, taken))
