"""Encryption of every Temporal payload (workflow and activity inputs and results, signals, updates,
queries, memos, failure details, activity and timer summaries): what the Temporal server stores, and
what its UI and CLI show without the codec endpoint, is ciphertext.

AES-GCM (``cryptography``'s ``AESGCM``), as in the Temporal Python SDK's encryption sample
(temporalio/samples-python ``encryption/codec.py``), with a key ring so keys can rotate. An encoded
payload is::

    metadata {"encoding": b"binary/encrypted", "encryption-key-id": b"<key id>"}
    data     12-byte random nonce || AES-GCM(key, nonce, original Payload protobuf bytes, aad=b"")

New payloads are sealed with the ring's current key; any key id still on the ring decrypts. A payload
whose ``encoding`` is not ``binary/encrypted`` (a history recorded before encryption, such as the saved
histories the replay tests read) passes through ``decode`` unchanged. Search attributes are never given
to a codec by the SDK, so the Temporal UI can still list and filter loans.

Keys come from settings (``los.settings.Settings.payload_keyring``): ``LOS_PAYLOAD_KEYS`` and
``LOS_PAYLOAD_KEY_ID``; see docs/security.md.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_SIZES = (16, 24, 32)  # AES-128, AES-192, AES-256


class PayloadDecryptionError(ValueError):
    """An encrypted payload could not be decrypted: its key id is not on the ring, or its bytes were
    changed (the AES-GCM tag does not verify), or it is too short to hold a nonce and tag."""


def decode_key(key_id: str, text: str) -> bytes:
    """A key as configured (standard or URL-safe base64 of 16, 24 or 32 bytes) as bytes.

    Raises ``ValueError`` naming the key id when the text is not base64 or the length is not an AES one."""
    cleaned = text.strip()
    try:
        # altchars: URL-safe "-_" read as "+/", so either alphabet is taken
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"payload key {key_id!r} is not base64") from exc
    if len(raw) not in KEY_SIZES:
        raise ValueError(f"payload key {key_id!r} is {len(raw)} bytes; AES-GCM needs 16, 24 or 32")
    return raw


class EncryptionCodec(PayloadCodec):
    """Encrypts payloads with the key ``key_id`` of ``keys`` (key id → raw AES key bytes) and decrypts
    payloads sealed with any key of ``keys``.

    Raises ``ValueError`` at construction when ``key_id`` is not in ``keys`` or a key has a length AES does
    not take; ``decode`` raises :class:`PayloadDecryptionError` for an unknown key id or a tampered payload.
    """

    def __init__(self, keys: Mapping[str, bytes], key_id: str) -> None:
        super().__init__()
        if key_id not in keys:
            raise ValueError(f"the encrypting key id {key_id!r} is not among the payload keys {sorted(keys)}")
        for kid, key in keys.items():
            if not kid or len(key) not in KEY_SIZES:
                raise ValueError(f"payload key {kid!r} must be 16, 24 or 32 bytes under a non-empty id")
        self.key_id = key_id
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec decrypts (the encrypting one included)."""
        return sorted(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each payload serialised and sealed under the current key; one encrypted payload per input."""
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each encrypted payload opened; payloads not marked ``binary/encrypted`` are returned as they are."""
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding", b"") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r}, which is not configured (known: {self.key_ids}); "
                "add it to LOS_PAYLOAD_KEYS"
            )
        data = payload.data
        if len(data) <= NONCE_BYTES:
            raise PayloadDecryptionError(f"payload under key id {key_id!r} is too short to be encrypted data")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag as exc:
            raise PayloadDecryptionError(
                f"payload under key id {key_id!r} does not decrypt: changed, or sealed with another key of that id"
            ) from exc
        return Payload.FromString(plain)


def is_encrypted(payloads: Iterable[Payload]) -> bool:
    """True when every payload given is marked ``binary/encrypted`` (and there is at least one)."""
    seen = False
    for p in payloads:
        seen = True
        if p.metadata.get("encoding", b"") != ENCODING:
            return False
    return seen
