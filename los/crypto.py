"""Field encryption for the secrets the system must keep readable (bank account numbers, a bank statement's
PDF password), and keyed fingerprints to find or deduplicate them without decrypting.

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) under a key derived from the
deployment's secret key material; the stored token reveals nothing and any tampering fails to decrypt.
A fingerprint is an HMAC-SHA256 under the same material: equal values give equal fingerprints, and
without the key nobody can test a guess against one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

# The purposes a field is sealed for (each its own key): shared by the API that seals and the activities that open.
STATEMENT_PASSWORD = "statement-password"  # a bank statement's PDF password
BANK_ACCOUNT = "bank-account"  # a bank account number
AADHAAR = "aadhaar"  # an Aadhaar number on its way through the workflow


def _cipher(key_material: bytes, purpose: str) -> Fernet:
    key = hashlib.sha256(purpose.encode() + b":" + key_material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def key_material(secret: str) -> bytes:
    """The bytes every sealed field and fingerprint is keyed with, from the deployment secret."""
    return hashlib.sha256(("aadhaar:" + secret).encode()).digest()


def fingerprint(key_material: bytes, purpose: str, value: str) -> str:
    return hmac.new(key_material, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def seal(key_material: bytes, purpose: str, plaintext: str) -> str:
    return _cipher(key_material, purpose).encrypt(plaintext.encode()).decode()


def unseal(key_material: bytes, purpose: str, token: str) -> str | None:
    """The plaintext, or None if the token was not sealed with this key and purpose."""
    try:
        return _cipher(key_material, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def digilocker_state(loan_id: str, key_material: bytes) -> str:
    """The DigiLocker ``state`` parameter: the loan id and a MAC (HMAC-SHA256, 32 hex digits), so a forged
    callback cannot touch another loan. Built when the authorisation URL is made, checked on the callback."""
    mac = hmac.new(key_material, f"digilocker:{loan_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{loan_id}.{mac}"
