"""Recording a link a gateway made for a one-off ask (a borrower's prepayment, foreclosure or cooling-off link, a
collector's overdue link; installment 0): the SQL shared by the customer and partner routes that make them.
``payment_links`` holds one ACTIVE link per (loan, installment, amount, purpose) and each gateway link id once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import PaymentLink
from domain.outcomes import PaymentLinkStatus


@dataclass(frozen=True)
class Offered:
    """The link to answer (its URL, gateway and link id there), and whether the link just made lost to it and must be
    cancelled at its own gateway (``made_lost``)."""

    url: str
    gateway: str
    link_id: str
    made_lost: bool = False


def record_one_off(
    session: Session, *, loan_id: str, provider: str, link_id: str, url: str, amount: int, purpose: str
) -> Offered | None:
    """Record the link ``provider`` made (``amount`` in paise) as the loan's ACTIVE one-off link for ``purpose``.

    - recorded now, or recorded before and still ACTIVE (the same ask again: the gateway gave the same link back):
      that link; one recorded before and no longer ACTIVE (paid, cancelled) is not answered: the ACTIVE link is, or
      None;
    - another ask for the same amount recorded a different link first (two asks at once that landed at two gateways,
      one failing over): that one is answered, and the link made here is recorded CANCELLED (a payment on it anyway
      still finds its loan; Cashfree's events name only the link) with ``made_lost``, for the caller to cancel it at
      its gateway;
    - None when no ACTIVE link is there to answer (the one that kept this one out was paid or superseded by the time
      it is read, or this link was recorded before and is no longer ACTIVE): the link made here is recorded CANCELLED
      if it was not recorded yet, and the caller cancels it at its gateway (best effort) and answers that the borrower
      should ask again."""
    row = {
        "loan_id": loan_id,
        "installment_no": 0,
        "provider": provider,
        "link_id": link_id,
        "url": url,
        "amount": amount,
        "purpose": purpose,
    }
    inserted = session.execute(
        insert(PaymentLink)
        .values(**row, status=PaymentLinkStatus.ACTIVE)
        .on_conflict_do_nothing()
        .returning(PaymentLink.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return Offered(url, provider, link_id)
    recorded = session.scalars(select(PaymentLink.status).where(PaymentLink.link_id == link_id)).first()
    if recorded == PaymentLinkStatus.ACTIVE:
        return Offered(url, provider, link_id)  # this very link, recorded before
    if recorded is None:  # another ask's link holds the slot: this one is kept CANCELLED
        session.execute(insert(PaymentLink).values(**row, status=PaymentLinkStatus.CANCELLED).on_conflict_do_nothing())
    first = session.execute(
        select(PaymentLink.url, PaymentLink.provider, PaymentLink.link_id).where(
            PaymentLink.loan_id == loan_id,
            PaymentLink.installment_no == 0,
            PaymentLink.amount == amount,
            PaymentLink.purpose == purpose,
            PaymentLink.status == PaymentLinkStatus.ACTIVE,
        )
    ).first()
    if first is None:
        return None
    return Offered(first[0], first[1], first[2], made_lost=recorded is None)
