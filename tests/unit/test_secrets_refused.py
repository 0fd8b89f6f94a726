"""Outside development (LOS_ENV other than ``development``) no secret may be the published default, nor be left
unset to be derived from another: the JWT secret, the field secret, the storage URL secret (when documents are
stored locally), the field key ring's keys, the payload keys. In development every default still works."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from pydantic import ValidationError

from los.settings import DEV_SECRET, PUBLISHED_SECRETS, Settings

COMPOSE_PLACEHOLDER = "change-me-in-production-to-a-long-random-value"  # docker-compose.yml's LOS_JWT_SECRET


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOS_") and name != "LOS_HOME":
            monkeypatch.delenv(name)


def production(**changes: Any) -> Settings:
    """Settings outside development with every secret set to a value of its own, then ``changes``."""
    values: dict[str, Any] = {
        "env": "production",
        "jwt_secret": "jwt-secret-of-its-own-0123456789",
        "field_secret": "field-secret-of-its-own-012345678",
        "storage_url_secret": "storage-url-secret-of-its-own-01",
        "payload_keys": {"p1": base64.b64encode(b"k" * 32).decode()},
    }
    values.update(changes)
    return Settings(**values)


def test_a_production_with_every_secret_of_its_own_starts() -> None:
    s = production()
    assert (
        s.env == "production" and s.field_key() != Settings(jwt_secret="jwt-secret-of-its-own-0123456789").field_key()
    )


def test_development_still_runs_on_the_defaults() -> None:
    s = Settings()
    assert s.jwt_secret.get_secret_value() == DEV_SECRET and s.field_secret is None and s.storage_url_secret is None


@pytest.mark.parametrize("published", sorted(PUBLISHED_SECRETS))
def test_the_jwt_secret_is_refused_when_published(published: str) -> None:
    with pytest.raises(ValidationError, match="LOS_JWT_SECRET must be set outside development"):
        production(jwt_secret=published)


def test_the_jwt_secret_left_at_its_default_is_refused() -> None:
    with pytest.raises(ValidationError, match="LOS_JWT_SECRET must be set outside development"):
        Settings(
            env="staging", field_secret="f" * 32, storage_url_secret="s" * 32, payload_keys=production().payload_keys
        )


def test_the_field_secret_is_refused_when_left_to_derive_from_the_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="LOS_FIELD_SECRET must be set outside development"):
        production(field_secret=None)


@pytest.mark.parametrize("published", [DEV_SECRET, COMPOSE_PLACEHOLDER])
def test_the_field_secret_is_refused_when_published(published: str) -> None:
    with pytest.raises(ValidationError, match="LOS_FIELD_SECRET is a published default"):
        production(field_secret=published)


def test_the_field_secret_is_refused_when_it_is_the_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="LOS_FIELD_SECRET must differ from LOS_JWT_SECRET"):
        production(field_secret="jwt-secret-of-its-own-0123456789")


def test_the_storage_url_secret_is_refused_when_derived_and_documents_are_local() -> None:
    with pytest.raises(ValidationError, match="LOS_STORAGE_URL_SECRET must be set outside development"):
        production(storage_url_secret=None)
    # with S3, documents are served by presigned URLs and the local link secret is never used
    assert production(storage_url_secret=None, s3_bucket="documents").storage_url_secret is None


def test_the_storage_url_secret_is_refused_when_published_or_the_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="LOS_STORAGE_URL_SECRET is a published default"):
        production(storage_url_secret=DEV_SECRET)
    with pytest.raises(ValidationError, match="LOS_STORAGE_URL_SECRET must differ from LOS_JWT_SECRET"):
        production(storage_url_secret="jwt-secret-of-its-own-0123456789")


def test_a_field_ring_key_is_refused_when_published() -> None:
    with pytest.raises(ValidationError, match=r"LOS_FIELD_KEYS\[k2\] is a published default"):
        production(field_keys={"k1": "ring-key-one-of-its-own-0123456", "k2": DEV_SECRET}, field_key_id="k1")


def test_payload_keys_are_required_outside_development() -> None:
    with pytest.raises(ValidationError, match="LOS_PAYLOAD_KEYS must be set outside development"):
        production(payload_keys={})


def test_the_environment_is_read_like_any_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOS_ENV", "production")
    monkeypatch.setenv("LOS_JWT_SECRET", "jwt-secret-of-its-own-0123456789")
    monkeypatch.setenv("LOS_PAYLOAD_KEYS", '{"p1": "' + base64.b64encode(b"k" * 32).decode() + '"}')
    monkeypatch.setenv("LOS_STORAGE_URL_SECRET", "storage-url-secret-of-its-own-01")
    with pytest.raises(ValidationError, match="LOS_FIELD_SECRET must be set outside development"):
        Settings()
    monkeypatch.setenv("LOS_FIELD_SECRET", "field-secret-of-its-own-012345678")
    assert Settings().field_secret is not None


def test_the_sandbox_webhook_secret_verifies_nothing_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from activities.providers.base import ProviderConfig
    from activities.providers.failover import adapter_for
    from activities.providers.signing import PUBLISHED_WEBHOOK_SECRETS, SIGNATURE_HEADERS, sign, verify
    from activities.providers.webhooks import verified
    from los.seed import SANDBOX_SECRET
    from los.settings import get_settings

    assert SANDBOX_SECRET in PUBLISHED_WEBHOOK_SECRETS
    body = b'{"event": "payment.captured"}'
    entry = {"vendor": "razorpay", "base_url": "http://vendor.invalid", "webhook_secret": SANDBOX_SECRET}
    (config,) = ProviderConfig.configured({"providers": {"payments": entry}}, "payments")
    razorpay = adapter_for(config, httpx.AsyncClient())
    headers = {SIGNATURE_HEADERS["razorpay"]: sign(body, SANDBOX_SECRET)}
    get_settings.cache_clear()
    try:
        assert verify(body, SANDBOX_SECRET, sign(body, SANDBOX_SECRET))  # development: the sandbox works
        assert verified(razorpay, lambda a: a.verify_webhook(body, headers))
        monkeypatch.setenv("LOS_ENV", "production")
        monkeypatch.setenv("LOS_JWT_SECRET", "jwt-secret-of-its-own-0123456789")
        monkeypatch.setenv("LOS_FIELD_SECRET", "field-secret-of-its-own-012345678")
        monkeypatch.setenv("LOS_STORAGE_URL_SECRET", "storage-url-secret-of-its-own-01")
        monkeypatch.setenv("LOS_PAYLOAD_KEYS", '{"p1": "' + base64.b64encode(b"k" * 32).decode() + '"}')
        get_settings.cache_clear()
        assert get_settings().env == "production"
        assert not verify(body, SANDBOX_SECRET, sign(body, SANDBOX_SECRET))
        assert not verified(razorpay, lambda a: a.verify_webhook(body, headers))
        assert verify(body, "a-secret-of-its-own", sign(body, "a-secret-of-its-own"))
    finally:
        get_settings.cache_clear()
