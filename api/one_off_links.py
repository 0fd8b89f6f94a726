"""A loan's one-off payment links (installment 0: a part-prepayment, a foreclosure, the cooling-off exit, a
collector's overdue link), shared by the borrower's and the collector's routes (docs/money-in.md, docs/collections.md).

The same ask (amount, purpose) on one day gets the same link while it is ACTIVE; once that link is paid or cancelled
a new one is made with a new reference (``reference_after``), since each gateway keeps our reference unique. Two asks
at once that land at two gateways are settled by ``db.payment_links.record_one_off``: one link is offered, the other
is cancelled at its gateway (best effort)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.payments.links import cancel_link, create_link, reference_after, webhook_url
from api.deps import call_async
from db.models import Brand, Customer, Loan, PaymentLink
from db.payment_links import record_one_off
from domain.errors import Conflict, ServiceUnavailable
from workflows.options import IST


@dataclass(frozen=True)
class OneOffLink:
    """The link offered: its URL, the gateway that made it and the gateway's link id."""

    url: str
    gateway: str
    link_id: str


def one_off_link(
    request: Request, session: Session, loan: Loan, brand: Brand, customer: Customer, *, amount: int, purpose: str,
    description: str, changed: str = "the link for this amount changed while it was being made; ask again",
    commit: bool = True,
) -> OneOffLink:  # fmt: skip
    """The loan's ACTIVE one-off link for ``amount`` paise and ``purpose``, or a new one made at the brand's gateways
    with failover (notes: the loan, the purpose, installment 0) and recorded: committed here, or with ``commit``
    False left for the caller's transaction (its audit row with it), except a link that lost to another ask's, which
    is committed before it is cancelled at its gateway. Raises ``Conflict`` (field ``amount``) when the gateway
    refuses the link, or with ``changed`` when the link for this amount changed while it was being made;
    ``ServiceUnavailable`` when no gateway answers."""
    same = session.scalars(
        select(PaymentLink).where(
            PaymentLink.loan_id == loan.id,
            PaymentLink.installment_no == 0,
            PaymentLink.amount == amount,
            PaymentLink.purpose == purpose,
        )
    ).all()
    found = next((link for link in same if link.status == "ACTIVE"), None)
    if found is not None:
        return OneOffLink(found.url, found.provider, found.link_id)
    today = datetime.now(IST).date().isoformat()
    try:
        vendor, link = call_async(
            create_link,
            brand.config or {},
            request.app.state.http,
            amount=amount,
            reference_id=reference_after(f"{loan.id}:{purpose}:{amount}:{today}", (x.link_id for x in same)),
            description=description,
            phone=customer.phone,
            notes={"loan_id": loan.id, "purpose": purpose, "installment_no": 0},
            callback_url=webhook_url(request.app.state.settings.api_url, brand.id),
            customer_name=customer.full_name,
            customer_email=customer.email,
        )
    except BusinessRefusal as exc:
        raise Conflict(f"the payment gateway refused the link: {exc}", field="amount") from exc
    except ProviderError as exc:
        raise ServiceUnavailable("no payment gateway is answering; try again shortly") from exc
    offered = record_one_off(
        session, loan_id=loan.id, provider=vendor, link_id=link.link_id, url=link.url, amount=amount, purpose=purpose
    )
    lost = offered is None or offered.made_lost  # another ask's link was recorded first: this one is cancelled
    if commit or lost:
        session.commit()
    if lost:
        call_async(cancel_link, brand.config or {}, request.app.state.http, vendor, link.link_id, loan.id)
    if offered is None:
        raise Conflict(changed, field="amount")
    return OneOffLink(offered.url, offered.gateway, offered.link_id)
