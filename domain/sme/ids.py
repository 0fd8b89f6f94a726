"""Business identifiers: GSTIN and PAN format checks.

GSTIN (CBIC, GST registration rules, Form GST REG-06): 15 characters: 2-digit state code, the holder's 10-character
PAN, the entity number (1-9, A-Z), ``Z`` by default, and a check character computed over the first 14 with the
GSTN's base-36 Luhn-style algorithm (weights alternately 1 and 2, the product's quotient and remainder by 36
summed). Business PAN (Income Tax Department, PAN structure): 5 letters, 4 digits, 1 letter, the 4th letter the
holder's status (C company, F firm/LLP, P individual/proprietor, H HUF, A AOP, T trust...).
"""

from __future__ import annotations

import re

from domain.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
GSTIN_RE = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
#: The 4th PAN letter of holders that may finance invoices as a business (company, firm/LLP, proprietor, HUF,
#: association of persons, body of individuals, trust, local authority, artificial juridical person, government).
BUSINESS_PAN_STATUSES = frozenset("CFPHABTLJG")


def gstin_check_char(first14: str) -> str:
    """The GSTIN check character for its first 14 characters (GSTN base-36 algorithm). Raises ValueError on a
    character outside 0-9, A-Z."""
    total = 0
    for i, ch in enumerate(first14.upper()):
        value = ALPHABET.index(ch) * (2 if i % 2 else 1)
        total += value // 36 + value % 36
    return ALPHABET[(36 - total % 36) % 36]


def validate_gstin(value: object, field: str = "gstin") -> str:
    """A GSTIN upper-cased and checked (format, state code 01-38 or 97/99, check character); answers it.
    Raises ValidationError naming ``field`` and the reason."""
    if not isinstance(value, str):
        raise ValidationError("GSTIN must be text", field=field)
    gstin = value.strip().upper()
    if not GSTIN_RE.match(gstin):
        raise ValidationError("GSTIN must be 15 characters: state code, PAN, entity number, Z, check", field=field)
    state = int(gstin[:2])
    if not (1 <= state <= 38 or state in (97, 99)):
        raise ValidationError(f"GSTIN state code {gstin[:2]} does not exist", field=field)
    if gstin_check_char(gstin[:14]) != gstin[14]:
        raise ValidationError("GSTIN check character does not match", field=field)
    return gstin


def validate_business_pan(value: object, field: str = "pan") -> str:
    """A business PAN upper-cased and checked (format, holder status letter); answers it. Raises ValidationError."""
    if not isinstance(value, str):
        raise ValidationError("PAN must be text", field=field)
    pan = value.strip().upper()
    if not PAN_RE.match(pan):
        raise ValidationError("PAN must be 5 letters, 4 digits and a letter", field=field)
    if pan[3] not in BUSINESS_PAN_STATUSES:
        raise ValidationError(f"PAN holder status {pan[3]} is not a business", field=field)
    return pan


def gstin_pan(gstin: str) -> str:
    """The PAN inside a valid GSTIN (characters 3-12)."""
    return gstin[2:12]


def make_gstin(state: str, pan: str, entity: str = "1") -> str:
    """A valid GSTIN for ``state`` (2 digits), ``pan`` and the entity number (demo and test data)."""
    first14 = f"{state}{pan}{entity}Z"
    return first14 + gstin_check_char(first14)
