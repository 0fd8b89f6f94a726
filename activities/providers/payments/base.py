"""Payment gateways: the interface every gateway adapter offers (payment links), and what their webhook parsers
share — the notes we send with a link and get back with its payments, amounts in rupees converted exactly to
paise, the payment method named the same way whatever the gateway.

Adapters: ``razorpay`` (payment links, ``payment.captured`` / ``payment_link.paid`` / ``payment.failed``),
``cashfree`` (Cashfree PG payment links, ``PAYMENT_SUCCESS_WEBHOOK`` / ``PAYMENT_FAILED_WEBHOOK`` /
``PAYMENT_USER_DROPPED_WEBHOOK``), ``paytring`` (orders with a hosted checkout, its order callback). A brand lists
them under ``providers.payments`` with one ``primary``; links are made with failover across them
(:func:`activities.providers.payments.links.create_link`), each payment arrives at the webhook of the gateway that
took it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from activities.providers import webhooks as w

#: what a link is for (``payment_links.purpose``; it comes back in the notes of its payments)
PURPOSES = frozenset({"INSTALLMENT", "PREPAYMENT", "FORECLOSURE", "COOLING_OFF", "OVERDUE", "SETTLEMENT"})
MODE_MAX = 20  # payment_transactions.mode (payment_attempts.method is 30)
REFERENCE_MAX = 80  # payment_transactions.reference


def fitted_reference(text: str, limit: int, *, whole: str | None = None, sep: str = "-") -> str:
    """``text`` within a gateway's ``limit`` characters for our key of a link, the same every time for the same key:
    as it is when it fits, else its first ``limit - 13`` characters, ``sep`` and the first 12 hex digits of the
    SHA-256 of ``whole`` (the key before any rewriting; ``text`` itself by default), so two keys that differ only
    late still differ."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256((text if whole is None else whole).encode()).hexdigest()[:12]
    return f"{text[: limit - 13]}{sep}{digest}"


REASON_MAX = 500  # a failure's reason as kept and shown

# The gateways' names for a payment method → ours (``PaymentEvent.mode``: what the receipt says).
_MODES = {
    "upi": "UPI",
    "card": "CARD",
    "credit_card": "CARD",
    "debit_card": "CARD",
    "prepaid_card": "CARD",
    "credit_card_emi": "EMI",
    "debit_card_emi": "EMI",
    "cardless_emi": "EMI",
    "emi": "EMI",
    "netbanking": "NETBANKING",
    "net_banking": "NETBANKING",
    "nb": "NETBANKING",
    "wallet": "WALLET",
    "app": "WALLET",
    "pay_later": "PAYLATER",
    "paylater": "PAYLATER",
    "emandate": "EMANDATE",
    "nach": "NACH",
    "bank_transfer": "BANK_TRANSFER",
}


@dataclass(frozen=True)
class Link:
    """A payment link as the gateway made it: its id at the gateway (what cancel and its webhooks name) and the
    URL the borrower opens."""

    link_id: str
    url: str


class PaymentGateway(Protocol):
    """A gateway's links. ``amount`` is integer paise; ``reference_id`` our key for the link (the same key gives
    the same link back, so a retried call makes no second one); ``notes`` ours (``loan_id``, ``installment_no``,
    ``purpose``), returned with every payment of the link; ``callback_url`` where the gateway's webhooks for it go
    (gateways that take one per link). Errors: ``ProviderError`` (transient: the caller retries or fails over),
    ``BusinessRefusal`` (the gateway said no)."""

    async def create_payment_link(
        self,
        *,
        amount: int,
        reference_id: str,
        description: str,
        customer_phone: str,
        notes: dict,
        callback_url: str,
        customer_name: str | None = None,
        customer_email: str | None = None,
    ) -> Link: ...

    async def cancel_payment_link(self, link_id: str) -> None: ...

    async def payment_link_amount_paid(self, link_id: str) -> int:
        """The paise the gateway has taken on ``link_id`` (0 when none; paid in part counts): how a cancel refused for
        a paid link is told from one the gateway could not do. ``ProviderError`` when the gateway does not answer
        or answers what cannot be read."""
        ...


# --- amounts -------------------------------------------------------------------------------------------------
def rupees(amount: int) -> float:
    """Integer paise as the JSON number of rupees a gateway takes (``123456`` → ``1234.56``). A float only on
    the wire: its shortest repr is exactly the two-decimal rupee amount for every amount a loan can have
    (checked, so a number that would not print back exactly is refused rather than sent)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"not an amount in paise: {amount!r}")
    exact = Decimal(amount).scaleb(-2)
    value = float(exact)
    if Decimal(repr(value)) != exact:
        raise ValueError(f"{amount} paise cannot be sent exactly as a JSON number")
    return value


def paise_from_rupees(value: Any, field: str) -> int:
    """A gateway's rupee amount (a JSON number such as ``1234.5`` or ``170.00``, or a decimal string
    ``"200.12"``) as integer paise — exactly: more than two decimals, a non-number, a boolean or a non-finite value
    is refused (``ValidationError`` naming ``field``), never rounded; then the bounds of :func:`webhooks.paise`.
    A JSON float goes through ``str`` (Python prints the shortest form that reads back the same, so ``0.1`` stays
    ``0.1``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise w.invalid(field, "must be an amount in rupees")
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        raise w.invalid(field, "must be an amount in rupees")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise w.invalid(field, "must be an amount in rupees") from exc
    if not amount.is_finite():
        raise w.invalid(field, "must be an amount in rupees")
    paise = amount.scaleb(2)
    if paise != paise.to_integral_value():
        raise w.invalid(field, "has more than two decimals (paise)")
    if abs(paise) > w.MAX_PAISE * 10:  # an absurd exponent: refused before it becomes a huge integer
        raise w.invalid(field, f"is more than {w.MAX_PAISE} paise, not a plausible amount")
    return w.paise(int(paise), field)


def paise_from_digits(value: Any, field: str) -> int:
    """An amount a gateway writes as a string of paise (``"125000"``), or a JSON integer: exact, then bounded."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,20}", value):
            raise w.invalid(field, "must be a whole number of paise")
        value = int(value)
    return w.paise(value, field)


# --- what comes back with a payment ----------------------------------------------------------------------------
def payment_mode(value: Any, field: str) -> str | None:
    """The gateway's payment method as the receipt names it (``upi`` → UPI, ``net_banking`` → NETBANKING, ...);
    None when the gateway gives none. An unknown method is kept, upper-cased, at most 20 characters."""
    if value is None or value == "":
        return None
    method = w.text(value, field, 40) or ""
    return _MODES.get(method.strip().lower(), method.strip().upper()[:MODE_MAX]) or None


def optional_text(value: Any, field: str, max_length: int) -> str | None:
    """A string field a gateway may leave out, null or empty: None then; else checked like :func:`webhooks.text`.
    A number (some gateways send ids as numbers) is taken as its decimal text."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return w.text(value, field, max_length)


def reason(*candidates: Any) -> str | None:
    """The first non-empty string among ``candidates`` (a failure's description, then its reason code...), at most
    :data:`REASON_MAX` characters, NUL-free (the body was checked for NUL at the door)."""
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()[:REASON_MAX]
    return None


@dataclass(frozen=True)
class LinkNotes:
    """What our notes (Razorpay ``notes``, Cashfree ``order_tags``, Paytring ``udf`` fields) say about a payment:
    the loan (``loan_id``, as the vendor carries it back; the intake checks it is a loan of the brand), what the
    link was for (``purpose``), the autopay debit it settles (``mandate_debit_id``)."""

    loan_id: str | None = None
    purpose: str | None = None
    mandate_debit_id: str | None = None


def link_notes(notes: Mapping[str, Any], field: str) -> LinkNotes:
    """Read our keys from ``notes`` (already an object), each checked and named ``<field>.<key>`` when wrong:
    ``loan_id`` a string; ``purpose`` one of :data:`PURPOSES`; ``mandate_debit_id`` a UUID (our debit's id)."""
    loan_id = notes.get("loan_id")
    purpose = notes.get("purpose")
    debit = notes.get("mandate_debit_id")
    return LinkNotes(
        w.text(loan_id, f"{field}.loan_id", required=False) if loan_id is not None else None,
        w.one_of(purpose, f"{field}.purpose", PURPOSES) if purpose not in (None, "") else None,
        uuid_text(debit, f"{field}.mandate_debit_id") if debit not in (None, "") else None,
    )


def uuid_text(value: Any, field: str) -> str:
    """A UUID string (any case) in its lower-case canonical form, else ``ValidationError`` naming ``field``."""
    text = w.text(value, field, 36) or ""
    if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text):
        raise w.invalid(field, "must be a UUID")
    return text.lower()


def phone_digits(phone: str) -> str:
    """An Indian mobile number as the gateways want it: its last 10 digits (``+91 98765 43210`` → ``9876543210``)."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-10:] if len(digits) >= 10 else digits


def string_notes(notes: Mapping[str, Any]) -> dict[str, str]:
    """Our notes as the string key-value pairs gateways keep (None dropped, numbers as text)."""
    return {str(k): str(v) for k, v in notes.items() if v is not None}
