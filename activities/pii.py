"""Identifiers kept out of what activities hand back to the workflow (and so out of Temporal history).

Results carry masked values or database ids; free text that came from a vendor (a refusal's reason, an
error body) can still quote what the vendor was sent, so it passes through :func:`redact` first.
"""

from __future__ import annotations

import re

# A PAN: five letters, four digits, a letter (ITD format); matched as a whole word, any case.
PAN_RE = re.compile(r"\b[A-Za-z]{5}[0-9]{4}[A-Za-z]\b")
# An Aadhaar written in groups ("2345 6789 0124", "2345-6789-0124").
GROUPED_AADHAAR_RE = re.compile(r"\b[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}\b")
# Any run of 9 or more digits: an Aadhaar (12), a bank account number (9-18), a card or a UAN (12).
LONG_DIGITS_RE = re.compile(r"[0-9]{9,}")


def _keep_last4(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    return "X" * (len(digits) - 4) + digits[-4:]


def redact(text: str) -> str:
    """``text`` with every PAN replaced by ``XXXXXXXXXX`` and every Aadhaar, account number or other run of
    9+ digits by X's and its last four digits (``523412341236`` → ``XXXXXXXX1236``). Shorter numbers
    (amounts, OTP counts, HTTP statuses, pincodes) are left alone."""
    text = PAN_RE.sub("XXXXXXXXXX", text)
    text = GROUPED_AADHAAR_RE.sub(_keep_last4, text)
    return LONG_DIGITS_RE.sub(_keep_last4, text)
