"""The collector's payment link for a loan's overdue amount, on the collector's router
(``api.partner.collection_work``): ``POST collection/{loanId}/payment-link`` makes (or reuses) the link at the
brand's gateways and sends it to the borrower on the brand's channels, once per link and IST day (again only after a
send that failed). docs/collections.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.messaging.send import Sender
from api.access import audit
from api.deps import call_async
from api.one_off_links import one_off_link
from api.partner.collection_work import Worker, router, workable
from api.partner.collections import REPAYING
from api.partner.common import Db
from api.responses import ApiModel
from db import collections as sql
from db.models import Brand, Customer, CustomerMessage, LoanProduct
from domain.contact_hours import check_recovery_contact
from domain.errors import Conflict
from workflows.options import IST


class CollectionLinkView(ApiModel):
    loan_id: str
    url: str
    amount_paise: int = Field(description="the overdue amount the link collects")
    purpose: str
    gateway: str
    dpd: int
    sent: dict[str, str] = Field(
        description="each channel the brand sends on → its logged status (SENT, DELIVERED, FAILED...): the link is "
        "sent once an IST day, so asked again that day this is what the first send logged"
    )


# ------------------------------------------------------------------------------------------- payment link
@router.post("/brand/{brand_id}/collection/{loan_id}/payment-link", response_model=CollectionLinkView)
def payment_link(request: Request, brand_id: str, loan_id: str, staff: Worker, session: Db) -> dict[str, Any]:
    """A payment link for the loan's overdue amount (unpaid principal, interest, fees and penal of its overdue
    installments) at the brand's gateways (failover; purpose OVERDUE, so the payment is applied by the waterfall),
    sent to the customer on the brand's channels as the notice COLLECTION_PAYMENT_LINK. The same amount asked again
    reuses the link while it is unpaid, and the same link is sent at most once an IST day (asked again, ``sent`` gives
    what was logged for it; again only after a send that failed, ``_link_message_key``). Only from 08:00 to 19:00 IST
    for a calendar product (``domain.contact_hours``; 409 naming ``loanId`` outside it, nothing made or sent). 409
    when nothing is overdue or the loan is not being repaid; 503 when no gateway answers."""
    loan = workable(session, brand_id, loan_id, staff)
    if loan.status not in REPAYING:
        raise Conflict(f"loan is {loan.status}; a payment link is for a loan being repaid", field="status")
    if not session.scalar(select(LoanProduct.period_seconds).where(LoanProduct.id == loan.product_id)):
        # messages about overdue dues: RBI's contact hours (a product timed in seconds, a demo's, has no night)
        check_recovery_contact(_now(), "a borrower in arrears", field="loanId")
    amount = int(session.scalar(select(sql.overdue_paise(loan.id))) or 0)
    if amount <= 0:
        raise Conflict("nothing is overdue on this loan", field="loanId")
    brand, customer = session.get_one(Brand, brand_id), session.get_one(Customer, loan.customer_id)
    link = one_off_link(
        request, session, loan, brand, customer, amount=amount, purpose="OVERDUE",
        description=f"{brand.name} loan overdue amount",
        changed="the overdue link changed while it was being made; ask again",
        commit=False,  # recorded with its audit row, below
    )  # fmt: skip
    url, vendor, link_id = link.url, link.gateway, link.link_id
    dpd = loan.dpd
    made = {"amountPaise": amount, "gateway": vendor, "linkId": link_id}
    audit(session, request, staff, "loan.collection_payment_link", "loan", loan.id, after=made)
    session.commit()
    sender = Sender(request.app.state.db, request.app.state.http, request.app.state.settings.api_url)
    # one message per link and IST day: a collector asking again (another click, the borrower on the phone) gets the
    # same link and its logged statuses, and the borrower is not sent the same SMS, WhatsApp and e-mail again
    day = _now().astimezone(IST).date().isoformat()
    key = f"collection-link:{loan.id}:{link_id}:{day}"
    _retry_failed_channels(session, key)
    session.commit()
    values = {"amount": amount, "dpd": dpd, "payment_link": url}
    sent = call_async(sender.notice, loan.id, "COLLECTION_PAYMENT_LINK", key, values)
    return {
        "loanId": loan.id,
        "url": url,
        "amountPaise": amount,
        "purpose": "OVERDUE",
        "gateway": vendor,
        "dpd": dpd,
        "sent": sent,
    }


def _now() -> datetime:
    """The instant the link is asked for (a seam the tests move)."""
    return datetime.now(UTC)


MAX_TRIES_A_DAY = 6
"""Vendor tries a channel of one link's message may log in an IST day (a send tries each of the brand's vendors for
the channel, so about three sends): a channel that keeps failing is not tried on every click."""
RETRIED = ("FAILED", "UNDELIVERED")


def _retry_failed_channels(session: Session, key: str) -> None:
    """Before the link's message of ``key`` (the link and the IST day) is asked again: each channel whose send
    failed or was not delivered (a vendor down, a template refused, a bounced e-mail) is queued again, so that
    channel alone is sent again (the messaging log sends only QUEUED rows); one that went is not re-sent. Not past
    MAX_TRIES_A_DAY vendor tries of that channel."""
    rows = session.scalars(
        select(CustomerMessage)
        .where(CustomerMessage.idempotency_key.in_([f"{key}:{kind}" for kind in ("sms", "whatsapp", "email")]))
        .with_for_update()
    ).all()
    for row in rows:
        if row.status in RETRIED and len(row.attempts or []) < MAX_TRIES_A_DAY:
            row.status, row.error = "QUEUED", None
