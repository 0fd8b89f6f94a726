"""Field encryption for the few secrets the system must keep readable (a bank statement's PDF password).

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) under a key derived from the
deployment's secret key material; the stored token reveals nothing and any tampering fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _cipher(key_material: bytes, purpose: str) -> Fernet:
    key = hashlib.sha256(purpose.encode() + b":" + key_material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(key_material: bytes, purpose: str, plaintext: str) -> str:
    return _cipher(key_material, purpose).encrypt(plaintext.encode()).decode()


def unseal(key_material: bytes, purpose: str, token: str) -> str | None:
    """The plaintext, or None if the token was not sealed with this key and purpose."""
    try:
        return _cipher(key_material, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
