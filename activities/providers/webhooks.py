"""Inbound provider webhooks: what every adapter's ``parse_webhook`` returns, and the checks at the door.

A webhook is checked before anything is stored or signalled, so a malformed or poisoned event is answered
4xx and changes nothing (the vendor's retries then stop at its own limit, and no event sits in front of
the loan's later ones):

- :func:`check_body` — the raw body: at most :data:`MAX_BODY_BYTES`, a JSON object, no NUL character in
  any key or string (PostgreSQL's JSONB refuses ``\\u0000``), nesting at most :data:`MAX_DEPTH` deep.
- :func:`text` — a string field: present, no NUL, at most ``max_length`` characters (sized to the column
  it lands in: ``webhook_events.event_id`` is VARCHAR(120), ``event_type`` VARCHAR(60)).
- :func:`paise` — an amount: a JSON integer (not a float, not a string, not a boolean), positive and at
  most :data:`MAX_PAISE` (``domain.money.MAX_ENTERED_PAISE``: no amount beyond the largest a loan can be is
  plausible; far below BIGINT's 2^63).
- :func:`inr` — a currency field, when the vendor sends one: ``INR``.

Each raises :class:`domain.errors.ValidationError` naming the field (a dotted path into the vendor's
body, or ``header:<name>``) and the reason; the webhook endpoint answers it as 422 with the error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from activities.providers.signing import previous_secret, refused
from domain.errors import ValidationError
from domain.money import MAX_ENTERED_PAISE

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_PAISE = MAX_ENTERED_PAISE  # one bound for every amount that comes in: the largest a loan can be
EVENT_ID_MAX = 120  # webhook_events.event_id
EVENT_TYPE_MAX = 60  # webhook_events.event_type
# Vendor ids (payment, link, transfer, docket, consent handle) are kept in VARCHAR(80) columns
# (payment_transactions.gateway_payment_id, payment_links.link_id, disbursals.transfer_id, ...).
ID_MAX = 80
UTR_MAX = 40  # disbursals.utr, loans.disbursal_utr


class LoanSignal(StrEnum):
    """The loan workflow's signals a webhook can send, by their names on the workflow
    (``workflows.loan.LoanWorkflow``); ``api.webhooks.intake.SIGNALS`` maps each to the method it sends."""

    PAYMENT_RECEIVED = "payment_received"  # PaymentEvent
    PAYMENT_FAILED = "payment_failed"  # PaymentFailure (changes no dues)
    MANDATE_UPDATED = "mandate_updated"  # MandateEvent (an autopay mandate confirmed, rejected, cancelled)
    ESIGN_COMPLETED = "esign_completed"  # EsignEvent
    DISBURSAL_SETTLED = "disbursal_settled"  # DisbursalEvent
    KYC_INPUT = "kyc_input"  # KycInput (an Account Aggregator consent changed)


@dataclass(frozen=True)
class InboundEvent:
    """A verified, parsed webhook.

    ``event_id``: the vendor's id of this event (stored once per provider); ``event_type``: e.g.
    ``payment.captured``; ``loan_ref``: the loan id as the vendor carries it back (notes, reference id),
    or None; ``signal``: the loan workflow's signal to send (None: store only); ``arg``: its argument
    (``PaymentEvent``, ``EsignEvent``, ``DisbursalEvent``). ``is_payment``: money received — never dropped."""

    event_id: str
    event_type: str
    loan_ref: str | None
    signal: LoanSignal | None
    arg: Any
    is_payment: bool = False


def invalid(field: str, reason: str) -> ValidationError:
    """The refusal of one field: message ``"<field>: <reason>"``, the field error in the envelope."""
    return ValidationError(f"{field}: {reason}", field=field, details=[{"field": field, "reason": reason}])


def check_body(raw: bytes, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The raw webhook body as a JSON object, or ``ValidationError`` (field ``body``). ``limit``: the most bytes
    taken (an adapter whose vendor sends documents in its callbacks sets its own ``max_body_bytes``)."""
    if len(raw) > limit:
        raise invalid("body", f"is larger than {limit} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise invalid("body", "is not JSON") from exc
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    _no_nul(body, "body", 0)
    return body


def _no_nul(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise invalid(path, f"nested more than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(path, "contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise invalid(path, "a key contains a NUL character")
            _no_nul(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _no_nul(item, f"{path}[{n}]", depth + 1)


def at(body: Mapping[str, Any], path: str) -> Any:
    """``body["a"]["b"]`` for ``path`` "a.b"; ``ValidationError`` naming the path when a step is missing or
    is not an object."""
    value: Any = body
    walked = []
    for step in path.split("."):
        walked.append(step)
        if not isinstance(value, Mapping):
            raise invalid(".".join(walked[:-1]) or "body", "must be an object")
        if step not in value:
            raise invalid(".".join(walked), "is required")
        value = value[step]
    return value


def text(value: Any, field: str, max_length: int = ID_MAX, *, required: bool = True) -> str | None:
    """A string field: non-empty (unless ``required`` is False and it is absent/null), no NUL, at most
    ``max_length`` characters."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise invalid(field, "must be a non-empty string")
    if "\x00" in value:
        raise invalid(field, "contains a NUL character")
    if len(value) > max_length:
        raise invalid(field, f"is longer than {max_length} characters")
    return value


def paise(value: Any, field: str) -> int:
    """An amount in integer paise: a JSON integer, 1 ≤ value ≤ :data:`MAX_PAISE`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "must be an integer amount in paise")
    if value <= 0:
        raise invalid(field, "must be positive")
    if value > MAX_PAISE:
        raise invalid(field, f"is more than {MAX_PAISE} paise, not a plausible amount")
    return value


def inr(value: Any, field: str) -> str:
    """The currency a vendor states: only ``INR`` is accepted."""
    if value != "INR":
        raise invalid(field, "must be INR")
    return value


def one_of(value: Any, field: str, allowed: Mapping[str, str] | frozenset[str] | tuple[str, ...]) -> str:
    """A status-like field that must be one of ``allowed`` (returned as given)."""
    if not isinstance(value, str) or value not in allowed:
        raise invalid(field, f"must be one of {sorted(allowed)}")
    return value


def header(headers: Mapping[str, str] | None, name: str, max_length: int = EVENT_ID_MAX) -> str:
    """A required header's value (case-insensitive name), checked like :func:`text`."""
    found = None
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            found = value
            break
    return text(found, f"header:{name}", max_length) or ""


def notes(value: Any, field: str) -> dict[str, Any]:
    """Razorpay-style ``notes``: an object, or (when empty) an empty array or null."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise invalid(field, "must be an object")
    return value


def verified(adapter: Any, check: Callable[[Any], bool], now: datetime | None = None) -> bool:
    """Whether a webhook verifies: ``check(adapter)`` (the adapter's own ``verify_webhook``, whatever the vendor's
    scheme) under the vendor's ``webhook_secret``, else under its previous secret while the overlap window lasts
    (``activities.providers.signing.previous_secret``): the same adapter, built on the config with that secret.
    Outside development a published sandbox secret verifies nothing (``signing.refused``)."""
    if refused(adapter.config.webhook_secret):
        return False  # the sandbox's published secret, outside development
    if check(adapter):
        return True
    previous = previous_secret(adapter.config, now)
    if previous is None or refused(previous):
        return False
    from activities.providers.failover import adapter_for  # the registry imports every adapter: no cycle at import

    return check(adapter_for(replace(adapter.config, webhook_secret=previous), adapter.http))
