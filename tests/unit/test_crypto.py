"""Sealed fields and keyed fingerprints (los.crypto), and where their key comes from."""

from __future__ import annotations

from pydantic import SecretStr

from los.crypto import fingerprint, key_material, seal, unseal
from los.settings import Settings


def test_seal_round_trip_and_refusals() -> None:
    key = key_material("one secret")
    token = seal(key, "bank-account", "123456789012")
    assert "123456789012" not in token and unseal(key, "bank-account", token) == "123456789012"
    assert seal(key, "bank-account", "123456789012") != token  # random IV: equal numbers, different tokens
    assert unseal(key, "statement-password", token) is None  # another purpose cannot read it
    assert unseal(key_material("another secret"), "bank-account", token) is None
    assert unseal(key, "bank-account", token[:-4] + "AAAA") is None  # tampered


def test_fingerprints_are_keyed() -> None:
    key = key_material("one secret")
    assert fingerprint(key, "bank-account", "123") == fingerprint(key, "bank-account", "123")
    assert fingerprint(key, "bank-account", "123") != fingerprint(key_material("x"), "bank-account", "123")
    assert fingerprint(key, "bank-account", "123") != fingerprint(key, "aadhaar", "123")


def test_field_key_defaults_to_the_jwt_secret_and_can_stand_alone() -> None:
    plain = Settings(jwt_secret=SecretStr("jwt-one"))
    assert plain.field_key() == key_material("jwt-one")
    own = Settings(jwt_secret=SecretStr("jwt-two"), field_secret=SecretStr("fields"))
    assert own.field_key() == key_material("fields")
    rotated = Settings(jwt_secret=SecretStr("jwt-three"), field_secret=SecretStr("fields"))
    assert rotated.field_key() == own.field_key()  # the JWT secret rotates, sealed data stays readable
