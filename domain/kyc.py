"""KYC identifiers and the brand's KYC step list (pure: no I/O, standard library only).

Conventions:

* Every ``validate_*`` function takes the raw text a customer typed, normalises it (strips spaces and
  hyphens where the identifier is usually written in groups, upper-cases letters) and returns the
  canonical form, or raises :class:`~domain.errors.ValidationError` naming the API field
  (``aadhaar``, ``ifsc``, ``accountNumber``, ``uan``, ``pincode``, ``dob``, ``kycSteps``).
* A non-string argument is a ``ValidationError`` too (an API client sent a number), never a crash.
* Aadhaar is never stored whole: :func:`mask_aadhaar` gives the ``XXXX XXXX 1234`` display form and
  :func:`aadhaar_hash` a keyed HMAC-SHA256 (64 hex characters) for blocklist / dedup matching.

Sources: UIDAI's Aadhaar number format (12 digits, the last a Verhoeff check digit; numbers are not
issued starting with 0 or 1); RBI's IFSC format (4-letter bank code, a 0 reserved for future use,
6-character branch code); EPFO's 12-digit UAN; India Post's 6-digit PIN code (first digit 1–9 is the
postal region); Verhoeff, "Error Detecting Decimal Codes" (1969), in the dihedral group D5 formulation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Collection, Iterable
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ValidationError

# --- Verhoeff -----------------------------------------------------------------------------------------

# Multiplication table of the dihedral group D5.
_VERHOEFF_D: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
# Position permutation table: row i is σ^i, σ = row 1 = (1 5 7 6 2 8 3 0 9 4), applied to the digit at
# position i (mod 8) counting from the right, position 0 being the check digit (σ has order 8).
_VERHOEFF_P: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
# Inverse of each element of D5.
_VERHOEFF_INV: tuple[int, ...] = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

_DIGITS_RE = re.compile(r"^[0-9]+$")


def _digits(value: object, field: str) -> str:
    if not isinstance(value, str) or not _DIGITS_RE.match(value):
        raise ValidationError("must be a string of digits", field=field)
    return value


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit (one character "0"–"9") to append to ``digits``.

    ``digits`` is a non-empty string of decimal digits without the check digit, e.g. ``"236"`` → ``"3"``
    (so ``"2363"`` is valid). Anything else → ValidationError(field="digits").
    """
    _digits(digits, "digits")
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(_VERHOEFF_INV[c])


def verhoeff_validate(number: str) -> bool:
    """True when ``number`` (digits, its last digit the check digit) passes the Verhoeff check.

    Never raises: a non-string, an empty string or one with a non-digit is simply not valid. Detects
    every single-digit error and every transposition of adjacent digits.
    """
    if not isinstance(number, str) or not _DIGITS_RE.match(number):
        return False
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


# --- Aadhaar ------------------------------------------------------------------------------------------

_SEPARATORS_RE = re.compile(r"[\s-]+")


def _compact(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError("must be text", field=field)
    return _SEPARATORS_RE.sub("", value)


def validate_aadhaar(value: str) -> str:
    """The 12-digit Aadhaar number from ``value`` ("2345 6789 0124", "2345-6789-0124" or compact).

    Rules: exactly 12 digits after removing spaces/hyphens, first digit 2–9 (UIDAI issues no number
    starting with 0 or 1), last digit the Verhoeff check digit of the first 11. Returns the compact
    12-digit string; any breach → ValidationError(field="aadhaar") whose message never echoes the number.
    """
    text = _compact(value, "aadhaar")
    if len(text) != 12 or not _DIGITS_RE.match(text):
        raise ValidationError("Aadhaar must be 12 digits", field="aadhaar")
    if text[0] in "01":
        raise ValidationError("Aadhaar cannot start with 0 or 1", field="aadhaar")
    if not verhoeff_validate(text):
        raise ValidationError("Aadhaar number is not valid (checksum mismatch)", field="aadhaar")
    return text


def mask_aadhaar(value: str) -> str:
    """Display form ``XXXX XXXX 1234`` (14 characters) of a valid Aadhaar: only the last 4 digits shown.

    Validates first (:func:`validate_aadhaar`), so a malformed number → ValidationError(field="aadhaar").
    """
    return f"XXXX XXXX {validate_aadhaar(value)[-4:]}"


def aadhaar_hash(value: str, key: bytes) -> str:
    """Keyed hash of a valid Aadhaar for blocklist / dedup matching: HMAC-SHA256(key, 12 digits), lower-case
    hex (64 characters). The key is the deployment's secret (``bytes``, at least 16 of them); without it a
    hash cannot be reversed by enumerating the ~10^11 possible numbers. Same number + key → same hash.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValidationError("hash key must be at least 16 bytes", field="key")
    return hmac.new(bytes(key), validate_aadhaar(value).encode("ascii"), hashlib.sha256).hexdigest()


# --- Bank, employment, address ------------------------------------------------------------------------

IFSC_RE = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
ACCOUNT_NUMBER_RE = re.compile(r"^[0-9]{9,18}$")
UAN_RE = re.compile(r"^[0-9]{12}$")
PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")


def validate_ifsc(value: str) -> str:
    """IFSC upper-cased and stripped: 4 letters (bank), ``0``, 6 letters/digits (branch), e.g. HDFC0001234.
    Otherwise ValidationError(field="ifsc")."""
    if not isinstance(value, str):
        raise ValidationError("must be text", field="ifsc")
    text = value.strip().upper()
    if not IFSC_RE.match(text):
        raise ValidationError("IFSC must be 4 letters, 0, then 6 letters or digits (e.g. HDFC0001234)", field="ifsc")
    return text


def validate_account_number(value: str) -> str:
    """Bank account number with spaces/hyphens removed: 9 to 18 digits (leading zeros kept, it is an
    identifier, not a number). Otherwise ValidationError(field="accountNumber")."""
    text = _compact(value, "accountNumber")
    if not ACCOUNT_NUMBER_RE.match(text):
        raise ValidationError("account number must be 9 to 18 digits", field="accountNumber")
    return text


def validate_uan(value: str) -> str:
    """EPFO Universal Account Number with spaces/hyphens removed: exactly 12 digits.
    Otherwise ValidationError(field="uan")."""
    text = _compact(value, "uan")
    if not UAN_RE.match(text):
        raise ValidationError("UAN must be 12 digits", field="uan")
    return text


def validate_pincode(value: str) -> str:
    """Indian PIN code with spaces removed: 6 digits, the first 1–9. Otherwise ValidationError(field="pincode")."""
    text = _compact(value, "pincode")
    if not PINCODE_RE.match(text):
        raise ValidationError("PIN code must be 6 digits and cannot start with 0", field="pincode")
    return text


def age_on(dob: date, on: date) -> int:
    """Completed years of age on ``on`` (both plain dates, not datetimes).

    A birthday counts as reached on the day itself; a 29 February birthday is reached on 1 March in a
    non-leap year. ``dob`` after ``on`` → ValidationError(field="dob").
    """
    for value, name in ((dob, "dob"), (on, "on")):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError("must be a calendar date (not a datetime)", field=name)
    if dob > on:
        raise ValidationError("date of birth is in the future", field="dob")
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


# --- Names --------------------------------------------------------------------------------------------

# Honorifics dropped when they lead the name (English and Indian forms, without their dots).
NAME_TITLES: frozenset[str] = frozenset(
    {
        "MR",
        "MRS",
        "MS",
        "MISS",
        "MX",
        "DR",
        "PROF",
        "SHRI",
        "SHREE",
        "SRI",
        "SMT",
        "SHRIMATI",
        "KUM",
        "KUMARI",
        "KU",
        "SUSHRI",
        "CAPT",
        "COL",
        "LATE",
        "MASTER",
        "BABY",
    }
)
_APOSTROPHES_RE = re.compile(r"['’`´]")
_NON_ALNUM_RE = re.compile(r"[^A-Z0-9]+")


def normalise_name(name: str) -> str:
    """A person's name reduced for comparison: what the fuzzy matcher (activities/, rapidfuzz) should feed
    both sides through before scoring, e.g. PAN name vs Aadhaar name vs bank account holder.

    Steps: Unicode NFKD with accents removed, upper case; apostrophes deleted (D'Souza → DSOUZA); every
    other non-alphanumeric run (dots, commas, hyphens, slashes, extra whitespace) → one space; leading
    honorifics in :data:`NAME_TITLES` dropped (Mr., Mrs, Shri, Smt, Dr, Kumari...), repeatedly, but never
    the last remaining word. ``"  Mr. A.K.  sharma "`` → ``"A K SHARMA"``. Empty or non-text → ``""``.
    Pure and idempotent.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = _APOSTROPHES_RE.sub("", text)
    words = _NON_ALNUM_RE.sub(" ", text).split()
    while len(words) > 1 and words[0] in NAME_TITLES:
        words.pop(0)
    return " ".join(words)


# --- KYC steps ----------------------------------------------------------------------------------------


class KycStep(StrEnum):
    """The KYC steps a brand can require, in the order the customer meets them (seed 001: PAN → Aadhaar →
    Mobile → Selfie → Bank Account (penny drop) → Employment → Bank Statement; plus CKYC and DigiLocker)."""

    PAN = "PAN"
    AADHAAR = "AADHAAR"
    MOBILE = "MOBILE"
    SELFIE = "SELFIE"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    EMPLOYMENT = "EMPLOYMENT"
    BANK_STATEMENT = "BANK_STATEMENT"
    CKYC = "CKYC"
    DIGILOCKER = "DIGILOCKER"


DEFAULT_KYC_STEPS: tuple[KycStep, ...] = (
    KycStep.PAN,
    KycStep.AADHAAR,
    KycStep.MOBILE,
    KycStep.SELFIE,
    KycStep.BANK_ACCOUNT,
    KycStep.EMPLOYMENT,
    KycStep.BANK_STATEMENT,
)


def validate_kyc_steps(steps: Iterable[object], field: str = "kycSteps") -> tuple[KycStep, ...]:
    """A brand's configured KYC steps, in order, as :class:`KycStep` values.

    Accepts step names case-insensitively ("pan", "Bank_Account", KycStep.SELFIE). Rules: not empty,
    every step known, no step twice, PAN first (every later step matches against the PAN name and the
    bureau pull needs it). Any breach → ValidationError(field=``field``) naming the offending step.
    """
    if isinstance(steps, str | bytes) or not isinstance(steps, Iterable):
        raise ValidationError("must be a list of KYC steps", field=field)
    allowed = ", ".join(s.value for s in KycStep)
    result: list[KycStep] = []
    for raw in steps:
        text = str(raw.value if isinstance(raw, KycStep) else raw).strip().upper()
        try:
            step = KycStep(text)
        except ValueError:
            raise ValidationError(f"unknown KYC step {raw!r}; allowed: {allowed}", field=field) from None
        if step in result:
            raise ValidationError(f"KYC step {step.value} is listed twice", field=field)
        result.append(step)
    if not result:
        raise ValidationError("at least one KYC step (PAN) is required", field=field)
    if result[0] is not KycStep.PAN:
        raise ValidationError(f"PAN must be the first KYC step, not {result[0].value}", field=field)
    return tuple(result)


def next_kyc_step(steps: Iterable[KycStep], completed: Collection[KycStep | str]) -> KycStep | None:
    """The first configured step (in the brand's order) not yet in ``completed``; None when all are done.

    ``steps`` should come from :func:`validate_kyc_steps`; ``completed`` may hold steps or their names.
    """
    done = {str(c.value if isinstance(c, KycStep) else c).strip().upper() for c in completed}
    for step in steps:
        if step.value not in done:
            return step
    return None
