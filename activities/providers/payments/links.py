"""A payment link at the brand's gateways, with failover: the one function both the loan's own links (the amount
due on an installment, ``activities.loan.links``) and the links a borrower or a collector asks for (prepayment,
foreclosure, cooling-off, overdue; the customer and partner APIs) are made with.

    vendor, link = await create_link(
        brand.config, http,
        amount=1_250_00,                                   # paise
        reference_id=f"{loan.id}:PREPAYMENT:{request_id}",  # our key: the same key gives the same link back
        description="Demo Finance loan prepayment",
        phone=customer.phone,
        notes={"loan_id": loan.id, "purpose": "PREPAYMENT", "installment_no": 0},
        callback_url=f"{api_url}/api/v1/webhooks/{brand.id}/{{vendor}}",
    )
    # record it: payment_links(loan_id, installment_no=0, purpose, provider=vendor, link_id=link.link_id,
    #                          url=link.url, amount)

The brand's ``providers.payments`` lists its gateways (razorpay, cashfree, paytring), one ``primary``; the active
ones are tried primary first, then in list order (:func:`activities.providers.call_with_failover`): a gateway that
is down, slow or answers nonsense (``ProviderError``) gives way to the next; a refusal (``BusinessRefusal``, e.g.
an amount the gateway will not take) is the answer and is raised at once; when every gateway failed a
``ProviderError`` carrying the attempts is raised (an activity retries it). Each payment then arrives at the webhook
of the gateway that made the link, so record ``vendor`` with the link: it is also where the link is cancelled
(``build("payments", config, http, vendor=...)``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from activities.providers.failover import call_with_failover
from activities.providers.payments.base import Link

KIND = "payments"
log = logging.getLogger("los.payments")


def reference_after(base: str, earlier: Iterable[str]) -> str:
    """Our reference for a new link of a key whose earlier links are no longer ACTIVE (paid, superseded, cancelled):
    ``base`` for the first, else ``base:r<12 hex digits>``, the SHA-256 of the earlier links' ids (``earlier``), sorted
    and joined with ``|`` (one id: the SHA-256 of that id). Each gateway answers a reference it has seen with the link
    it made for it, so the old reference would give back the paid or cancelled link; this one is new whenever a link
    was recorded since, whatever the clocks say, and a retried call (none recorded meanwhile) finds its own link.
    Gateways with a length limit fit it (``activities.providers.payments.base.fitted_reference``)."""
    ids = sorted(set(earlier))
    if not ids:
        return base
    return f"{base}:r{hashlib.sha256('|'.join(ids).encode()).hexdigest()[:12]}"


def webhook_url(api_url: str, brand_id: str) -> Callable[[str], str]:
    """The ``callback_url`` for :func:`create_link`: the LOS webhook endpoint of whichever gateway makes the link
    (``<api_url>/api/v1/webhooks/<brand_id>/<vendor>``)."""
    base = api_url.rstrip("/")
    return lambda vendor: f"{base}/api/v1/webhooks/{brand_id}/{vendor}"


async def create_link(
    brand_config: Mapping[str, Any],
    http: httpx.AsyncClient,
    *,
    amount: int,
    reference_id: str,
    description: str,
    phone: str,
    notes: Mapping[str, Any],
    callback_url: str | Callable[[str], str],
    customer_name: str | None = None,
    customer_email: str | None = None,
) -> tuple[str, Link]:
    """A payment link for ``amount`` paise at the first of the brand's gateways that can make one; returns
    ``(vendor, link)`` — the gateway's name (record it as ``payment_links.provider``) and its link (``link_id`` at
    that gateway, ``url`` for the borrower).

    - ``reference_id``: our key for this link, stable across retries (each gateway turns it into its own reference:
      Razorpay's ``reference_id``, Cashfree's ``link_id``, Paytring's ``receipt_id``); a retried call gets the same
      link back from a gateway that made it. Use a new key for a new amount.
    - ``notes``: ours, returned with every payment of the link — ``loan_id`` (required for the payment to find its
      loan), ``purpose`` (INSTALLMENT, PREPAYMENT, FORECLOSURE, COOLING_OFF, OVERDUE), ``installment_no`` (0 for a
      link the borrower asked for), optionally ``mandate_debit_id``.
    - ``callback_url``: where the gateway sends its webhooks for the link — the LOS endpoint of *that* gateway, so
      either a function of the vendor (:func:`webhook_url`) or a string in which ``{vendor}`` is replaced by it.
    - ``phone`` (any format; the gateways get its last 10 digits), ``customer_name``, ``customer_email``: shown on
      the gateway's page (Paytring asks for a name; the description stands in when there is none).

    Raises ``BusinessRefusal`` (a gateway said no; ``attempts`` lists what was tried; code ``NO_PROVIDER`` when the
    brand has no active gateway) or ``ProviderError`` (every gateway failed; retry later)."""

    def url_for(vendor: str) -> str:
        return callback_url(vendor) if callable(callback_url) else callback_url.replace("{vendor}", vendor)

    async def make(gateway: Any) -> Link:
        return await gateway.create_payment_link(
            amount=amount,
            reference_id=reference_id,
            description=description,
            customer_phone=phone,
            notes=dict(notes),
            callback_url=url_for(gateway.config.vendor),
            customer_name=customer_name,
            customer_email=customer_email,
        )

    result = await call_with_failover(KIND, brand_config, http, make)
    return result.vendor, result.value


async def cancel_link(
    brand_config: Mapping[str, Any], http: httpx.AsyncClient, vendor: str, link_id: str, loan_id: str
) -> bool:
    """Cancel ``link_id`` (of loan ``loan_id``) at ``vendor`` (the gateway that made it), best effort: True when the
    gateway did, False (logged with the loan's id) when it refused or did not answer. A payment made on it anyway is
    still recorded by its webhook."""
    from activities import providers  # the registry imports this module's package

    try:
        await providers.build(KIND, brand_config, http, vendor=vendor).cancel_payment_link(link_id)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not cancel link %s of loan %s at %s: %s", link_id, loan_id, vendor, exc)
        return False
    return True


async def link_amount_paid(
    brand_config: Mapping[str, Any], http: httpx.AsyncClient, vendor: str, link_id: str
) -> int | None:
    """The paise ``vendor`` (the gateway that made ``link_id``) says it took on the link, best effort: None (logged)
    when the gateway does not answer or cannot be read. Asked after a cancel was refused: a link paid just before it
    was superseded may have its payment still on the way (its webhook), and the borrower must not be offered a
    second link meanwhile (``activities.loan.link_holds``)."""
    from activities import providers  # the registry imports this module's package

    try:
        return await providers.build(KIND, brand_config, http, vendor=vendor).payment_link_amount_paid(link_id)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not read link %s at %s: %s", link_id, vendor, exc)
        return None
