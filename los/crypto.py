"""Field encryption for the secrets the system must keep readable (bank account numbers, a bank statement's
PDF password), and keyed fingerprints to find or deduplicate them without decrypting.

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) under a key derived from the
deployment's secret key material; the stored token reveals nothing and any tampering fails to decrypt.
A fingerprint is an HMAC-SHA256 under the same material: equal values give equal fingerprints, and
without the key nobody can test a guess against one.

Rotation (docs/security.md, "Field-encryption key rotation"): the field key may carry a ring of sealing keys
(:class:`FieldKeys`, from ``LOS_FIELD_KEYS``). A value sealed under a ring key carries its id,
``fk1:<key id>:<Fernet token>``, and opens with that key whatever the current one is; a value without the prefix
was sealed under the legacy key (``LOS_FIELD_SECRET``) and still opens with it. Fingerprints, keyed hashes and
DigiLocker states stay under the legacy key: they are compared, never opened, so they cannot move to a new key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

# The purposes a field is sealed for (each its own key): shared by the API that seals and the activities that open.
STATEMENT_PASSWORD = "statement-password"  # a bank statement's PDF password
BANK_ACCOUNT = "bank-account"  # a bank account number
AADHAAR = "aadhaar"  # an Aadhaar number on its way through the workflow


PREFIX = "fk1"  # the format of a value that names its key: fk1:<key id>:<Fernet token>
KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # a ring key's id (no ':', short enough to prefix every value)


class FieldKeys(bytes):
    """The field key as every caller passes it: the legacy key material itself (so fingerprints, keyed hashes and
    values sealed before the ring keep working), plus the sealing ring (key id → key material) and the id that
    seals new values (None: new values are sealed under the legacy key, without a prefix)."""

    ring: Mapping[str, bytes]
    current: str | None

    def __new__(cls, legacy: bytes, ring: Mapping[str, bytes] | None = None, current: str | None = None) -> FieldKeys:
        """``legacy``: the material of LOS_FIELD_SECRET; ``current`` must be a key of ``ring`` when given."""
        if current is not None and current not in (ring or {}):
            raise ValueError(f"field key id {current!r} is not on the ring")
        for kid in ring or {}:
            if not KEY_ID_RE.fullmatch(kid):
                raise ValueError(f"field key id {kid!r}: letters, digits, '.', '_' or '-', at most 40")
        keys = super().__new__(cls, legacy)
        keys.ring, keys.current = dict(ring or {}), current
        return keys


def key_id(token: str) -> str | None:
    """The id of the ring key ``token`` was sealed under, or None for a value sealed under the legacy key."""
    if token.startswith(PREFIX + ":"):
        return token.split(":", 2)[1]
    return None


def _cipher(key_material: bytes, purpose: str) -> Fernet:
    key = hashlib.sha256(purpose.encode() + b":" + key_material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def key_material(secret: str) -> bytes:
    """The bytes every sealed field and fingerprint is keyed with, from the deployment secret."""
    return hashlib.sha256(("aadhaar:" + secret).encode()).digest()


def fingerprint(key_material: bytes, purpose: str, value: str) -> str:
    return hmac.new(key_material, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def seal(key_material: bytes, purpose: str, plaintext: str) -> str:
    """``plaintext`` encrypted for ``purpose``: under the ring's current key, prefixed with its id, when the key
    is a :class:`FieldKeys` with one; else under the key material itself (the legacy form, no prefix)."""
    current = getattr(key_material, "current", None)
    if current is not None:
        ring: Mapping[str, bytes] = key_material.ring  # type: ignore[attr-defined]
        token = _cipher(ring[current], purpose).encrypt(plaintext.encode()).decode()
        return f"{PREFIX}:{current}:{token}"
    return _cipher(bytes(key_material), purpose).encrypt(plaintext.encode()).decode()


def unseal(key_material: bytes, purpose: str, token: str) -> str | None:
    """The plaintext, or None if the token was not sealed with this key (its ring key, by the id it carries, or
    the legacy key when it carries none) and purpose."""
    kid = key_id(token)
    if kid is None:
        material = bytes(key_material)
    else:
        material_or_none = getattr(key_material, "ring", {}).get(kid)
        if material_or_none is None:
            return None  # a key id this process does not hold
        material, token = material_or_none, token.split(":", 2)[2]
    try:
        return _cipher(material, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def reseal(key_material: bytes, purpose: str, token: str) -> str | None:
    """``token`` sealed again under the current key, or None when it already is (or there is no ring key to move
    to). ``ValueError`` when it cannot be opened: it was sealed under a key no longer held, or for another purpose."""
    current = getattr(key_material, "current", None)
    if current is None or key_id(token) == current:
        return None
    plain = unseal(key_material, purpose, token)
    if plain is None:
        raise ValueError(f"a {purpose} value sealed under key {key_id(token) or 'legacy'!r} does not open")
    return seal(key_material, purpose, plain)


def digilocker_state(loan_id: str, key_material: bytes) -> str:
    """The DigiLocker ``state`` parameter: the loan id and a MAC (HMAC-SHA256, 32 hex digits), so a forged
    callback cannot touch another loan. Built when the authorisation URL is made, checked on the callback."""
    mac = hmac.new(key_material, f"digilocker:{loan_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{loan_id}.{mac}"
