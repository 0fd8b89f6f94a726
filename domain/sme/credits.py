"""Money into a financed invoice's collection: the bank references (UTR) that make each credit count once, whether
it reached the virtual account (the vendor's webhook) or was recorded by staff (docs/invoice-financing.md,
"Collection").

One credit, one UTR: a credit is known to the workflow by :func:`credit_key` of its UTR, so the same transfer
reported twice (a webhook re-sent under a new event id, or a transfer staff also recorded by hand) counts once.
"""

from __future__ import annotations

import re

from domain.errors import ValidationError

#: The modes a credit recorded by staff may have: each carries a bank reference (UTR / RRN).
CREDIT_MODES = ("NEFT", "RTGS", "IMPS", "UPI")

# What a reference looks like per mode (upper-cased, spaces removed first): NEFT's UTR is 16 characters and RTGS's
# 22, each starting with the sending bank's 4-letter IFSC bank code (RBI NEFT and RTGS procedural guidelines); IMPS
# and UPI carry NPCI's 12-digit RRN.
UTR_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "NEFT": (re.compile(r"[A-Z]{4}[A-Z0-9]{12}"), "a NEFT UTR: 16 characters, the bank's 4 letters first"),
    "RTGS": (re.compile(r"[A-Z]{4}[A-Z0-9]{18}"), "an RTGS UTR: 22 characters, the bank's 4 letters first"),
    "IMPS": (re.compile(r"[0-9]{12}"), "an IMPS reference (RRN): 12 digits"),
    "UPI": (re.compile(r"[0-9]{12}"), "a UPI reference (RRN): 12 digits"),
}
KEY_PREFIX = "UTR:"


def normalise_utr(utr: str) -> str:
    """``utr`` upper-cased with its spaces removed (as banks print it in groups)."""
    return re.sub(r"\s+", "", utr).upper()


def check_utr(mode: str, utr: str) -> str:
    """The normalised UTR of a credit paid by ``mode`` (one of :data:`CREDIT_MODES`). Raises ``ValidationError``
    naming ``mode`` for another mode, ``utr`` when it is not shaped as that mode's reference."""
    if mode not in UTR_RULES:
        raise ValidationError(f"must be one of {', '.join(CREDIT_MODES)}", field="mode")
    value = normalise_utr(utr)
    pattern, what = UTR_RULES[mode]
    if not pattern.fullmatch(value):
        raise ValidationError(f"for {mode} the reference must be {what}", field="utr")
    return value


def credit_key(utr: str) -> str:
    """The payment id the workflow knows a bank credit by: ``UTR:<normalised utr>`` (at most 44 characters)."""
    return f"{KEY_PREFIX}{normalise_utr(utr)}"


def utr_of(payment_id: str) -> str | None:
    """The UTR inside a payment id made by :func:`credit_key`; None for any other (a gateway's payment id)."""
    return payment_id[len(KEY_PREFIX) :] or None if payment_id.startswith(KEY_PREFIX) else None


def source(channel: str, mode: str) -> str:
    """A payment's source as stored (at most 20 characters): ``VA:<mode>`` for a credit to the virtual account,
    ``OFFLINE:<mode>`` for one recorded by staff."""
    return f"{channel}:{mode}"[:20]


def mode_of(source_value: str) -> str | None:
    """The mode inside a source made by :func:`source` (``VA:NEFT`` → ``NEFT``); None for ``PAYMENT_LINK``."""
    return source_value.split(":", 1)[1][:10] or None if ":" in source_value else None
