"""Autopay mandates: the shape every mandate vendor's adapter takes (Razorpay e-mandate and UPI Autopay today; NACH
through a sponsor bank or a NACH aggregator fits the same four operations).

A mandate is registered once by the borrower through a link (``create_mandate_registration``), becomes usable when
the vendor confirms it (a webhook parsed by ``parse_token_event`` into a ``MandateEvent``), is charged once per debit
(``charge_mandate``: the outcome follows by webhook as a payment captured or failed) and may be cancelled
(``cancel_mandate``). Money is integer paise; instants the vendor wants are unix seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from activities.providers.webhooks import InboundEvent
from workflows.contracts import PaymentEvent, PaymentFailure


class MandateMethod(StrEnum):
    """How the borrower authorises the mandate: e-mandate (net banking, debit card or Aadhaar at their bank),
    UPI Autopay (their UPI app), or NACH (a signed paper or e-NACH form through a sponsor bank)."""

    EMANDATE = "EMANDATE"
    UPI = "UPI"
    NACH = "NACH"


class DebitStatus(StrEnum):
    """A debit as the vendor answered it: SENT (the outcome comes by webhook), CAPTURED, FAILED."""

    SENT = "SENT"
    CAPTURED = "CAPTURED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class MandateCustomer:
    """The account holder as the vendor keeps them (name, email, phone: 10 digits or +91…)."""

    name: str
    contact: str
    email: str | None = None


@dataclass(frozen=True)
class MandateAccount:
    """The bank account an e-mandate or NACH debits: the plain number only inside the adapter's request."""

    beneficiary_name: str
    account_number: str
    ifsc: str
    account_type: str = "savings"


@dataclass(frozen=True)
class MandateRegistration:
    """A registration created at the vendor: its customer id, the registration order id and the URL the borrower
    opens to authorise (``link_id``: the vendor's id of the link itself, when it has one)."""

    customer_ref: str
    order_id: str
    url: str
    link_id: str | None = None


@dataclass(frozen=True)
class MandateCharge:
    """What a charge got: the vendor's order id, its payment id (None when it has none yet) and the status."""

    order_id: str
    payment_id: str | None
    status: DebitStatus
    reason: str | None = None


@dataclass(frozen=True)
class RegistrationRequest:
    """One mandate registration. ``max_amount``: the most one debit may take (paise); ``expire_at``: when the
    mandate lapses (unix seconds); ``receipt``: our id for it (the mandate row's id); ``notes``: carried back on the
    vendor's events (``loan_id``, ``mandate_id``); ``account``: required for EMANDATE and NACH; ``callback_url``: where
    the borrower returns after authorising (the sandbox also delivers the mandate's webhooks there)."""

    method: MandateMethod
    customer: MandateCustomer
    max_amount: int
    expire_at: int
    receipt: str
    description: str
    notes: Mapping[str, str] = field(default_factory=dict)
    account: MandateAccount | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class DebitLookup:
    """What the gateway has for a debit, looked up by its receipt (our debit id): ``payment`` captured (as its
    webhook would have given it), ``failure`` (as its failure webhook would have), ``pending`` (the bank is still
    processing it), or none of them (no payment was made for it)."""

    payment: PaymentEvent | None = None
    failure: PaymentFailure | None = None
    pending: bool = False


class MandateProvider(Protocol):
    """What the mandate steps need from a vendor. ``BusinessRefusal``: the vendor said no (never retried);
    ``ProviderError``: a transient fault (retried)."""

    async def create_mandate_registration(self, req: RegistrationRequest) -> MandateRegistration: ...

    async def charge_mandate(
        self,
        *,
        token_id: str,
        customer_ref: str,
        amount: int,
        notes: Mapping[str, str],
        receipt: str,
        contact: str | None = None,
        email: str | None = None,
    ) -> MandateCharge:
        """Charge ``amount`` paise once per ``receipt``: a second call with the same receipt answers the first
        charge instead of charging again."""
        ...

    async def find_debit(self, receipt: str) -> DebitLookup:
        """What became of the debit charged with ``receipt``, asked when its outcome never arrived."""
        ...

    async def cancel_mandate(self, *, token_id: str, customer_ref: str) -> None: ...

    def parse_token_event(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> InboundEvent: ...
