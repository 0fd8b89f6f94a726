"""Field-encryption key rotation: a ring of sealing keys (LOS_FIELD_KEYS, LOS_FIELD_KEY_ID); every value sealed under
the ring names its key, opens with that key after the current one changed, and values sealed before the ring (no
id) still open with the legacy key. Fingerprints stay under the legacy key. ``reseal`` moves a value to the current
key."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from los.crypto import BANK_ACCOUNT, STATEMENT_PASSWORD, FieldKeys, fingerprint, key_id, reseal, seal, unseal
from los.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOS_") and name != "LOS_HOME":
            monkeypatch.delenv(name)


def ring(current: str | None, *ids: str) -> bytes:
    """The field key of settings with the legacy secret ``legacy`` and ring keys ``ids`` (each its own secret)."""
    return Settings(
        field_secret="legacy", field_keys={kid: f"secret-of-{kid}" for kid in ids}, field_key_id=current
    ).field_key()


def test_without_a_ring_values_are_sealed_as_before() -> None:
    key = Settings(field_secret="legacy").field_key()
    token = seal(key, BANK_ACCOUNT, "123456789012")
    assert token.startswith("gAAAA") and key_id(token) is None
    assert unseal(key, BANK_ACCOUNT, token) == "123456789012"
    assert reseal(key, BANK_ACCOUNT, token) is None  # nothing to move to


def test_a_value_sealed_under_the_ring_names_its_key_and_opens_after_the_key_changes() -> None:
    first = ring("2026-01", "2026-01")
    token = seal(first, BANK_ACCOUNT, "123456789012")
    assert token.startswith("fk1:2026-01:gAAAA") and key_id(token) == "2026-01"
    assert "123456789012" not in token
    second = ring("2026-07", "2026-01", "2026-07")
    newer = seal(second, BANK_ACCOUNT, "123456789012")
    assert key_id(newer) == "2026-07"
    assert unseal(second, BANK_ACCOUNT, token) == unseal(second, BANK_ACCOUNT, newer) == "123456789012"
    # the id picks the key: the same token under the other id does not open
    assert unseal(second, BANK_ACCOUNT, token.replace("2026-01", "2026-07", 1)) is None


def test_a_value_sealed_before_the_ring_still_opens_with_the_legacy_key() -> None:
    legacy = seal(Settings(field_secret="legacy").field_key(), STATEMENT_PASSWORD, "pdf-pass")
    assert unseal(ring("k1", "k1"), STATEMENT_PASSWORD, legacy) == "pdf-pass"
    # but not when the legacy secret changed: that key is not on any ring
    other = Settings(field_secret="another", field_keys={"k1": "secret-of-k1"}).field_key()
    assert unseal(other, STATEMENT_PASSWORD, legacy) is None


def test_a_key_removed_from_the_ring_no_longer_opens_its_values() -> None:
    token = seal(ring("old", "old"), BANK_ACCOUNT, "123456789012")
    assert unseal(ring("new", "new"), BANK_ACCOUNT, token) is None
    with pytest.raises(ValueError, match="sealed under key 'old' does not open"):
        reseal(ring("new", "new"), BANK_ACCOUNT, token)


def test_reseal_moves_old_values_to_the_current_key_and_leaves_current_ones() -> None:
    legacy = seal(Settings(field_secret="legacy").field_key(), BANK_ACCOUNT, "111122223333")
    old = seal(ring("old", "old"), BANK_ACCOUNT, "444455556666")
    key = ring("new", "old", "new")
    moved = [reseal(key, BANK_ACCOUNT, t) for t in (legacy, old)]
    assert [key_id(t or "") for t in moved] == ["new", "new"]
    assert [unseal(ring("new", "new"), BANK_ACCOUNT, t or "") for t in moved] == ["111122223333", "444455556666"]
    assert reseal(key, BANK_ACCOUNT, moved[0] or "") is None


def test_purposes_stay_apart_under_the_ring() -> None:
    key = ring("k1", "k1")
    assert unseal(key, STATEMENT_PASSWORD, seal(key, BANK_ACCOUNT, "123456789012")) is None


def test_fingerprints_stay_under_the_legacy_key_whatever_the_ring() -> None:
    before = fingerprint(Settings(field_secret="legacy").field_key(), BANK_ACCOUNT, "123456789012")
    assert fingerprint(ring("k2", "k1", "k2"), BANK_ACCOUNT, "123456789012") == before


def test_the_ring_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOS_FIELD_SECRET", "legacy")
    monkeypatch.setenv("LOS_FIELD_KEYS", '{"a": "secret-of-a", "b": "secret-of-b"}')
    monkeypatch.setenv("LOS_FIELD_KEY_ID", "b")
    key = Settings().field_key()
    assert isinstance(key, FieldKeys) and key.current == "b" and set(key.ring) == {"a", "b"}
    assert key_id(seal(key, BANK_ACCOUNT, "123456789012")) == "b"


def test_one_key_needs_no_id_but_several_do_and_the_id_must_be_on_the_ring() -> None:
    assert Settings(field_keys={"only": "secret"}).field_key().current == "only"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="LOS_FIELD_KEY_ID must name the key"):
        Settings(field_keys={"a": "x", "b": "y"})
    with pytest.raises(ValidationError, match="'c' is not on the ring"):
        Settings(field_keys={"a": "x"}, field_key_id="c")
    with pytest.raises(ValidationError, match="letters, digits"):
        Settings(field_keys={"a:b": "x"})
