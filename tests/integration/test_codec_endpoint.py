"""The codec endpoint the Temporal UI uses (/api/v1/codec): super admins only, Temporal's JSON payload
format both ways, CORS for the UI's origin, clear refusals, every decode audited."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from db.models import AuditLog
from los.codec import ENCODING, KEY_ID, EncryptionCodec
from los.demo import Driver, demo_identity
from los.temporal import payload_codec
from tests.conftest import ThreadedServer, free_port

UI = "https://temporal-ui.lender.example"


@pytest.fixture
def codec_api(app) -> Iterator[str]:  # noqa: ANN001
    """The API of ``app`` with the Temporal UI's origin configured (LOS_CODEC_CORS_ORIGINS)."""
    settings = app.settings.model_copy(update={"api_port": free_port(), "codec_cors_origins": [UI]})
    with ThreadedServer(create_app(settings), port=settings.api_port) as server:
        yield server.url


def _json(p: Payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
        "data": base64.b64encode(p.data).decode(),
    }


def _payload(d: dict) -> Payload:
    return Payload(
        metadata={k: base64.b64decode(v) for k, v in d.get("metadata", {}).items()},
        data=base64.b64decode(d.get("data", "")),
    )


async def test_super_admin_decodes_what_the_system_encrypted(app, codec_api, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = httpx.AsyncClient(base_url=codec_api, timeout=30)
    try:
        admin = await driver.staff_headers("SUPER_ADMIN")
        plain = pydantic_data_converter.payload_converter.to_payloads([{"pan": "ABCDE1234F"}, "hello"])
        sealed = await payload_codec(app.settings).encode(plain)

        resp = await api.post(
            "/api/v1/codec/decode",
            json={"payloads": [_json(p) for p in sealed] + [_json(plain[1])]},
            headers={**admin, "Origin": UI, "X-Namespace": "default"},
        )
        assert resp.status_code == 200, resp.text
        assert [_payload(p) for p in resp.json()["payloads"]] == [*plain, plain[1]]  # plain passes through
        assert resp.headers["access-control-allow-origin"] == UI
        assert resp.headers["access-control-allow-credentials"] == "true"

        resp = await api.post("/api/v1/codec/encode", json={"payloads": [_json(plain[0])]}, headers=admin)
        assert resp.status_code == 200, resp.text
        [encoded] = [_payload(p) for p in resp.json()["payloads"]]
        assert encoded.metadata["encoding"] == ENCODING
        assert encoded.metadata[KEY_ID] == payload_codec(app.settings).key_id.encode()
        assert b"ABCDE1234F" not in encoded.data
        assert await payload_codec(app.settings).decode([encoded]) == [plain[0]]

        with db.unit_of_work() as s:
            rows = s.scalars(select(AuditLog).where(AuditLog.action == "codec.decode")).all()
            mine = [r for r in rows if r.actor_email == f"super.admin@{brand['brand_code']}.example"]
            assert any(r.after == {"payloads": 3, "namespace": "default"} and r.brand_id is None for r in mine)
    finally:
        await api.aclose()
        await driver.close()


async def test_others_are_refused_and_bad_payloads_name_the_field(app, brand, sandbox) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = httpx.AsyncClient(base_url=app.api.url, timeout=30)
    try:
        sealed = await payload_codec(app.settings).encode(pydantic_data_converter.payload_converter.to_payloads([1]))
        body = {"payloads": [_json(p) for p in sealed]}
        assert (await api.post("/api/v1/codec/decode", json=body)).status_code == 401
        bad = await api.post("/api/v1/codec/decode", json=body, headers={"Authorization": "Bearer nonsense"})
        assert bad.status_code == 401
        for role in ("ADMIN", "CREDIT_EXECUTIVE", "LOAN_EXECUTIVE"):  # brand staff: their brand only, the UI is all
            refused = await api.post("/api/v1/codec/decode", json=body, headers=await driver.staff_headers(role))
            assert refused.status_code == 403, (role, refused.text)
            assert refused.json()["message"] == "super admin only"
            encode = await api.post("/api/v1/codec/encode", json=body, headers=await driver.staff_headers(role))
            assert encode.status_code == 403
        customer = await driver.register(demo_identity(0, "auto")[0])
        assert (await api.post("/api/v1/codec/decode", json=body, headers=customer)).status_code == 401

        admin = await driver.staff_headers("SUPER_ADMIN")
        resp = await api.post(
            "/api/v1/codec/decode", json={"payloads": [{"metadata": {}, "data": "not base64!"}]}, headers=admin
        )
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "payloads.0"
        stranger = await EncryptionCodec({"retired-key": os.urandom(32)}, "retired-key").encode(sealed)
        resp = await api.post(
            "/api/v1/codec/decode", json={"payloads": [body["payloads"][0], _json(stranger[0])]}, headers=admin
        )
        assert resp.status_code == 422
        assert resp.json()["errors"][0]["field"] == "payloads.1" and "'retired-key'" in resp.json()["message"]
        flipped = bytearray(sealed[0].data)
        flipped[20] ^= 1
        tampered = Payload(metadata=dict(sealed[0].metadata), data=bytes(flipped))
        resp = await api.post("/api/v1/codec/decode", json={"payloads": [_json(tampered)]}, headers=admin)
        assert resp.status_code == 422 and "does not decrypt" in resp.json()["message"]
        resp = await api.post("/api/v1/codec/decode", json={"payload": []}, headers=admin)
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "payload"
    finally:
        await api.aclose()
        await driver.close()


async def test_cors_preflight_only_for_the_temporal_ui(codec_api) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=codec_api, timeout=30) as api:
        asked = {
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        }
        for path in ("/api/v1/codec/decode", "/api/v1/codec/encode"):
            ok = await api.options(path, headers=asked)
            assert ok.status_code == 204
            assert ok.headers["access-control-allow-origin"] == UI
            allowed = {h.strip() for h in ok.headers["access-control-allow-headers"].split(",")}
            assert {"authorization", "content-type", "x-namespace"} <= allowed
            assert "POST" in ok.headers["access-control-allow-methods"]
        other = await api.options("/api/v1/codec/decode", headers={**asked, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_the_embedded_ui_is_allowed_under_either_loopback_name(app) -> None:  # noqa: ANN001
    settings = app.settings.model_copy(update={"api_port": free_port(), "temporal_ui_url": "http://localhost:8233"})
    with ThreadedServer(create_app(settings), port=settings.api_port) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            for origin in ("http://localhost:8233", "http://127.0.0.1:8233"):
                ok = await api.options("/api/v1/codec/decode", headers={"Origin": origin})
                assert ok.headers["access-control-allow-origin"] == origin
            other = await api.options("/api/v1/codec/decode", headers={"Origin": "http://localhost:9999"})
            assert "access-control-allow-origin" not in other.headers
