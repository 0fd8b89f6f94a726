"""Inputs and outputs the invoice financing workflow added for its collection account and staff-recorded credits
(``workflows.invoice_collect``; the rest are ``workflows.contracts.sme``). Dataclasses; money integer paise, dates
IST calendar dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass
class VirtualAccountOpened:
    """``sme_open_virtual_account``: the collection account the buyer pays into (``account_number``, ``ifsc`` at
    ``bank_name``); all None when the brand has no collections vendor (the buyer pays by the link only)."""

    account_number: str | None = None
    ifsc: str | None = None
    bank_name: str | None = None


@dataclass
class StaffCredit:
    """A credit staff recorded and another staff member approved (update ``record_credit``): ``payment_id`` the
    UTR's credit key (``domain.sme.credits.credit_key``), ``amount`` paise, paid by ``mode`` on ``paid_on`` (IST);
    ``credit_id`` the ``sme_offline_credits`` row; ``staff_id`` the checker."""

    credit_id: str
    brand_id: str
    staff_id: str
    payment_id: str
    amount: int
    mode: str
    paid_on: date
    paid_at: datetime
    expires_at: datetime | None = None


@dataclass
class LateCredit:
    """``sme_record_late_credit``: a credit from the buyer (``workflows.contracts.sme.BuyerPayment``: payment id,
    paise, when, source) that reached the workflow once the invoice was settled; ``received_while`` the request's
    status then (PAID or CLOSED)."""

    request_id: str
    payment_id: str
    amount: int
    paid_at: datetime
    source: str
    received_while: str


@dataclass
class LateCreditKept:
    """What ``sme_record_late_credit`` did: ``applied`` paise to the invoice's dues left, ``kept`` paise as the
    business's credit balance (refundable); ``counted`` False when that payment id had been counted before."""

    applied: int = 0
    kept: int = 0
    counted: bool = False
