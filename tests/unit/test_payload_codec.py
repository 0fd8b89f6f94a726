"""The payload codec (los.codec) and its keys from settings: round trip, rotation, tampering, unknown
keys, plain payloads passing through, and the settings that configure it."""

from __future__ import annotations

import base64
import json
import os

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from los.codec import ENCODING, KEY_ID, EncryptionCodec, PayloadDecryptionError, decode_key, is_encrypted
from los.settings import DEV_PAYLOAD_KEY_ID, Settings
from los.temporal import data_converter
from workflows.contracts import AadhaarInitiate

AADHAAR = "523412341236"


def _payloads(*values: object) -> list[Payload]:
    return pydantic_data_converter.payload_converter.to_payloads(list(values))


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def test_round_trip_hides_the_plaintext_and_names_the_key() -> None:
    codec = EncryptionCodec({"k1": os.urandom(32)}, "k1")
    original = _payloads(AadhaarInitiate(aadhaar_number=AADHAAR), {"pan": "ABCDE1234F"}, None)
    encoded = await codec.encode(original)
    assert len(encoded) == 3 and is_encrypted(encoded)
    for p in encoded:
        assert p.metadata["encoding"] == ENCODING and p.metadata[KEY_ID] == b"k1"
        assert set(p.metadata) == {"encoding", KEY_ID}  # the original's metadata is inside the ciphertext
        assert AADHAAR.encode() not in p.data and b"ABCDE1234F" not in p.data and b"json/plain" not in p.data
    assert await codec.decode(encoded) == original
    # a fresh nonce each time: the same value never encrypts to the same bytes
    again = await codec.encode(original)
    assert [p.data for p in again] != [p.data for p in encoded]


async def test_rotation_old_key_decrypts_new_payloads_use_the_new_key() -> None:
    old, new = os.urandom(32), os.urandom(16)
    before = EncryptionCodec({"2024": old}, "2024")
    sealed_before = await before.encode(_payloads("history written under the old key"))
    after = EncryptionCodec({"2024": old, "2025": new}, "2025")
    assert await after.decode(sealed_before) == _payloads("history written under the old key")
    fresh = await after.encode(_payloads("new"))
    assert fresh[0].metadata[KEY_ID] == b"2025"
    # the new payload really is under the new key: a ring without it cannot open it
    with pytest.raises(PayloadDecryptionError, match="'2025'"):
        await before.decode(fresh)


async def test_tampering_fails() -> None:
    codec = EncryptionCodec({"k1": os.urandom(32)}, "k1")
    [sealed] = await codec.encode(_payloads({"amount": 5_000_000}))
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(PayloadDecryptionError, match="does not decrypt"):
        await codec.decode([tampered])
    truncated = Payload(metadata=dict(sealed.metadata), data=sealed.data[:8])
    with pytest.raises(PayloadDecryptionError, match="too short"):
        await codec.decode([truncated])
    # the same id on another ring (a wrong key configured under the right name) fails the same way
    impostor = EncryptionCodec({"k1": os.urandom(32)}, "k1")
    with pytest.raises(PayloadDecryptionError, match="does not decrypt"):
        await impostor.decode([sealed])


async def test_unknown_key_id_fails_clearly() -> None:
    writer = EncryptionCodec({"retired": os.urandom(32)}, "retired")
    reader = EncryptionCodec({"current": os.urandom(32)}, "current")
    sealed = await writer.encode(_payloads("x"))
    with pytest.raises(PayloadDecryptionError, match=r"key id 'retired'.*not configured.*LOS_PAYLOAD_KEYS"):
        await reader.decode(sealed)


async def test_plain_payloads_pass_through_decode() -> None:
    codec = EncryptionCodec({"k1": os.urandom(32)}, "k1")
    plain = _payloads({"loan_id": "L1"}, "text")
    assert await codec.decode(plain) == plain
    assert not is_encrypted(plain) and not is_encrypted([])
    mixed = [plain[0], *(await codec.encode(plain[1:]))]
    assert await codec.decode(mixed) == plain


def test_codec_refuses_bad_keys() -> None:
    with pytest.raises(ValueError, match="not among the payload keys"):
        EncryptionCodec({"a": os.urandom(32)}, "b")
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        EncryptionCodec({"a": os.urandom(20)}, "a")
    assert decode_key("k", _b64(b"\xfb" * 32)) == b"\xfb" * 32
    assert decode_key("k", base64.urlsafe_b64encode(b"\xfb" * 32).decode()) == b"\xfb" * 32
    with pytest.raises(ValueError, match="'k' is not base64"):
        decode_key("k", "not base64 at all!")
    with pytest.raises(ValueError, match="'k' is 10 bytes"):
        decode_key("k", _b64(b"0123456789"))


def test_settings_key_ring_and_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOS_PAYLOAD_KEYS", "LOS_PAYLOAD_KEY_ID", "LOS_ENV"):
        monkeypatch.delenv(name, raising=False)
    # development without keys: one key derived from the field key, the same for every process
    key_id, keys = Settings().payload_keyring()
    assert key_id == DEV_PAYLOAD_KEY_ID and keys == Settings().payload_keyring()[1] and len(keys[key_id]) == 32
    assert Settings(field_secret="another").payload_keyring()[1][key_id] != keys[key_id]

    k1, k2 = os.urandom(32), os.urandom(32)
    monkeypatch.setenv("LOS_PAYLOAD_KEYS", json.dumps({"k1": _b64(k1)}))
    assert Settings().payload_keyring()[0] == "k1"  # the only configured key encrypts
    monkeypatch.setenv("LOS_PAYLOAD_KEYS", json.dumps({"k1": _b64(k1), "k2": _b64(k2)}))
    with pytest.raises(ValidationError, match="LOS_PAYLOAD_KEY_ID must name the key"):
        Settings()
    monkeypatch.setenv("LOS_PAYLOAD_KEY_ID", "k2")
    key_id, keys = Settings().payload_keyring()
    assert key_id == "k2" and keys["k1"] == k1 and keys["k2"] == k2
    monkeypatch.setenv("LOS_PAYLOAD_KEY_ID", "k3")
    with pytest.raises(ValidationError, match="'k3' is not a key of LOS_PAYLOAD_KEYS"):
        Settings()
    monkeypatch.setenv("LOS_PAYLOAD_KEY_ID", "k1")
    monkeypatch.setenv("LOS_PAYLOAD_KEYS", json.dumps({"k1": "c2hvcnQ="}))
    with pytest.raises(ValidationError, match="'k1' is 5 bytes"):
        Settings()


def test_outside_development_keys_are_required_and_the_derived_key_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOS_PAYLOAD_KEY_ID", raising=False)
    monkeypatch.delenv("LOS_PAYLOAD_KEYS", raising=False)
    secrets = {"jwt_secret": "a-real-secret", "field_secret": "a-field-secret", "storage_url_secret": "a-link-secret"}
    with pytest.raises(ValidationError, match="LOS_PAYLOAD_KEYS must be set outside development"):
        Settings(env="production", **secrets)
    key = os.urandom(32)
    s = Settings(env="production", **secrets, payload_keys={"prod-1": _b64(key)})
    assert s.payload_keyring() == ("prod-1", {"prod-1": key})


async def test_data_converter_encrypts_values_and_failures() -> None:
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    converter = data_converter(Settings())
    [payload] = await converter.encode([AadhaarInitiate(aadhaar_sealed="gAAAA", aadhaar_masked="XXXX XXXX 1236")])
    assert is_encrypted([payload]) and b"XXXX" not in payload.data
    [value] = await converter.decode([payload], [AadhaarInitiate])
    assert value == AadhaarInitiate(aadhaar_sealed="gAAAA", aadhaar_masked="XXXX XXXX 1236")
    # failure text (a provider's error can quote what it was sent) travels encrypted too
    failure = Failure()
    await converter.encode_failure(ApplicationError("vendor said: 523412341236 unknown", type="Refused"), failure)
    assert "523412341236" not in failure.message and "523412341236" not in str(failure)
    assert is_encrypted([failure.encoded_attributes])
    decoded = await converter.decode_failure(failure)
    assert "523412341236 unknown" in str(decoded)
