"""The codec endpoint the Temporal UI uses (/api/v1/codec): super admins only, Temporal's JSON payload
format both ways, CORS for the UI's origin (error answers included), clear refusals, every decode audited;
the codec sign-in (a cookie for a UI without a sign-in of its own): who gets one, where it is accepted
(only from the UI's origin), and when it stops working."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from db.models import AuditLog, StaffActivitySession, StaffLoginLog, StaffUser
from los.codec import ENCODING, KEY_ID, EncryptionCodec
from los.demo import Driver, demo_identity
from los.seed import DEMO_PASSWORD, staff_email
from los.temporal import payload_codec
from tests.conftest import ThreadedServer, free_port

UI = "https://temporal-ui.lender.example"
COOKIE = "los_codec"
LOGIN = "/api/v1/codec/login"


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


def _cookie_of(resp: httpx.Response) -> tuple[str, list[str]]:
    """The codec cookie a sign-in answer set, and that Set-Cookie header's attributes (lower case)."""
    [header] = [h for h in resp.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    value, *attributes = [part.strip() for part in header.split(";")]
    return value.split("=", 1)[1], [a.lower() for a in attributes]


async def _sign_in(api: httpx.AsyncClient, brand: dict, role: str = "SUPER_ADMIN") -> httpx.Response:
    return await api.post(LOGIN, data={"email": staff_email(role, brand["brand_code"]), "password": DEMO_PASSWORD})


async def test_a_super_admin_signs_in_and_the_ui_decodes_with_the_cookie(app, codec_api, brand, db) -> None:  # noqa: ANN001
    plain = pydantic_data_converter.payload_converter.to_payloads([{"pan": "ABCDE1234F"}, "hello"])
    body = {"payloads": [_json(p) for p in await payload_codec(app.settings).encode(plain)]}
    admin_email = staff_email("SUPER_ADMIN", brand["brand_code"])
    async with httpx.AsyncClient(base_url=codec_api, timeout=30) as api:
        page = await api.get(LOGIN)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (
            'name="email"' in page.text
            and 'name="password"' in page.text
            and "frame-ancestors 'none'" in (page.headers["content-security-policy"])
        )

        signed_in = await _sign_in(api, brand)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["email"] == admin_email
        token, attributes = _cookie_of(signed_in)
        assert {"httponly", "samesite=lax", "path=/api/v1/codec"} <= set(attributes)
        assert "secure" not in attributes  # plain http in development; https or production adds it
        max_age = next(int(a.split("=")[1]) for a in attributes if a.startswith("max-age="))
        assert 0 < max_age <= app.settings.access_token_minutes * 60
        cookie = {"Cookie": f"{COOKIE}={token}"}

        # the UI's request: the cookie, its Origin, X-Namespace; decoded, with CORS for credentials
        resp = await api.post(
            "/api/v1/codec/decode", json=body, headers={**cookie, "Origin": UI, "X-Namespace": "default"}
        )
        assert resp.status_code == 200, resp.text
        assert [_payload(p) for p in resp.json()["payloads"]] == plain
        assert resp.headers["access-control-allow-origin"] == UI
        assert resp.headers["access-control-allow-credentials"] == "true"
        encoded = await api.post(
            "/api/v1/codec/encode", json={"payloads": [_json(plain[1])]}, headers={**cookie, "Origin": UI}
        )
        assert encoded.status_code == 200
        assert await payload_codec(app.settings).decode([_payload(encoded.json()["payloads"][0])]) == [plain[1]]

        # cross-site abuse: another site's page makes the signed-in browser post with the cookie
        for path in ("/api/v1/codec/encode", "/api/v1/codec/decode"):
            for origin in ({"Origin": "https://evil.example"}, {}):  # a foreign origin, or none at all
                refused = await api.post(path, json=body, headers={**cookie, **origin})
                assert refused.status_code == 403, (path, origin, refused.text)
                assert "origin" in refused.json()["message"]
                assert "access-control-allow-origin" not in refused.headers

        # the codec token is nobody's bearer token, here or on the staff API
        as_bearer = {"Authorization": f"Bearer {token}"}
        assert (await api.post("/api/v1/codec/decode", json=body, headers=as_bearer)).status_code == 401
        assert (await api.get("/api/v1/partner/auth/me", headers=as_bearer)).status_code == 401

        again = await api.get(LOGIN, headers=cookie)
        assert f"Signed in as <b>{admin_email}</b>" in again.text and "/api/v1/codec</code>" in again.text

        out = await api.post("/api/v1/codec/logout", headers=cookie)
        assert out.status_code == 200
        cleared, cleared_attributes = _cookie_of(out)
        assert cleared in ("", '""') and "max-age=0" in cleared_attributes
        # a copy of the cookie kept from before the logout is refused, and the refusal is readable by the UI
        replay = await api.post("/api/v1/codec/decode", json=body, headers={**cookie, "Origin": UI})
        assert replay.status_code == 401 and "signed out" in replay.json()["message"]
        assert replay.headers["access-control-allow-origin"] == UI
        assert replay.headers["access-control-allow-credentials"] == "true"
        assert "Signed in as" not in (await api.get(LOGIN, headers=cookie)).text

    with db.unit_of_work() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.actor_email == admin_email)).all()
        assert actions.count("codec.sign_in") == 1 and actions.count("codec.decode") == 1
        sessions = s.scalars(select(StaffActivitySession).join(StaffUser).where(StaffUser.email == admin_email)).all()
        assert len(sessions) == 1 and sessions[0].logout_at is not None  # the sign-in's session, closed


async def test_wrong_passwords_and_other_staff_get_no_cookie(app, codec_api, brand, db) -> None:  # noqa: ANN001
    email = staff_email("SUPER_ADMIN", brand["brand_code"])
    async with httpx.AsyncClient(base_url=codec_api, timeout=30) as api:
        wrong = await api.post(LOGIN, data={"email": email, "password": "not-the-password"})
        assert wrong.status_code == 401 and wrong.json()["message"] == "invalid email or password"
        assert not wrong.headers.get_list("set-cookie")
        unknown = await api.post(LOGIN, data={"email": f"nobody@{brand['brand_code']}.example", "password": "x"})
        assert unknown.status_code == 401 and not unknown.headers.get_list("set-cookie")
        # a browser gets the form again, with the reason, under the same status
        page = await api.post(LOGIN, data={"email": email, "password": "nope"}, headers={"Accept": "text/html"})
        assert page.status_code == 401 and "invalid email or password" in page.text and 'name="password"' in page.text

        for role in ("ADMIN", "CREDIT_EXECUTIVE"):  # right password, wrong role: no cookie, sign-in closed
            refused = await _sign_in(api, brand, role)
            assert refused.status_code == 403, refused.text
            assert refused.json()["message"].startswith("super admin only")
            assert not refused.headers.get_list("set-cookie")
        assert (await api.post(LOGIN, data={"email": email})).status_code == 422  # no password
        nul = await api.post(LOGIN, data={"email": email, "password": "x\x00y"})
        assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "password"

        # the same lockout as the staff sign-in: wrong passwords here count there, and the reverse
        loan_exec = staff_email("LOAN_EXECUTIVE", brand["brand_code"])
        for _ in range(app.settings.staff_max_failed_logins - 1):
            bad = await api.post(LOGIN, data={"email": loan_exec, "password": "wrong"})
            assert bad.status_code == 401
        staff = await api.post("/api/v1/partner/auth/login", json={"email": loan_exec, "password": "wrong"})
        assert staff.status_code == 429  # the last allowed failure locks the account
        locked = await api.post(LOGIN, data={"email": loan_exec, "password": DEMO_PASSWORD})
        assert locked.status_code == 429 and not locked.headers.get_list("set-cookie")

    with db.unit_of_work() as s:
        for role in ("ADMIN", "CREDIT_EXECUTIVE"):
            who = staff_email(role, brand["brand_code"])
            opened = s.scalars(select(StaffActivitySession).join(StaffUser).where(StaffUser.email == who)).all()
            assert opened and all(row.logout_at is not None for row in opened)
        logged = s.scalars(select(StaffLoginLog.reason).where(StaffLoginLog.email == email)).all()
        assert logged.count("wrong password") == 2  # every attempt is in the staff login log


async def test_the_cookie_stops_with_a_password_reset_a_deactivation_or_a_lost_role(app, codec_api, brand, db) -> None:  # noqa: ANN001
    plain = pydantic_data_converter.payload_converter.to_payloads(["hello"])
    body = {"payloads": [_json(p) for p in await payload_codec(app.settings).encode(plain)]}
    email = staff_email("SUPER_ADMIN", brand["brand_code"])
    async with httpx.AsyncClient(base_url=codec_api, timeout=30) as api:

        async def decode(cookie: dict) -> httpx.Response:
            return await api.post("/api/v1/codec/decode", json=body, headers={**cookie, "Origin": UI})

        async def signed_in() -> dict:
            resp = await _sign_in(api, brand)
            assert resp.status_code == 200, resp.text
            cookie = {"Cookie": f"{COOKIE}={_cookie_of(resp)[0]}"}
            assert (await decode(cookie)).status_code == 200
            return cookie

        # a password reset ends every sign-in of the account, the codec one included
        cookie = await signed_in()
        staff = await api.post("/api/v1/partner/auth/login", json={"email": email, "password": DEMO_PASSWORD})
        bearer = {"Authorization": f"Bearer {staff.json()['accessToken']}"}
        me = staff.json()["user"]["id"]
        reset = await api.put(f"/api/v1/admin/users/{me}", json={"password": "Another-passw0rd-2026"}, headers=bearer)
        assert reset.status_code == 200, reset.text
        ended = await decode(cookie)
        assert ended.status_code == 401 and "ended" in ended.json()["message"]
        assert ended.headers["access-control-allow-origin"] == UI
        with db.unit_of_work() as s:  # back to the demo password for the rest
            from api.security import hash_password

            s.execute(update(StaffUser).where(StaffUser.id == me).values(password_hash=hash_password(DEMO_PASSWORD)))

        cookie = await signed_in()
        with db.unit_of_work() as s:
            s.execute(update(StaffUser).where(StaffUser.id == me).values(role="ADMIN"))
        demoted = await decode(cookie)
        assert demoted.status_code == 403 and demoted.json()["message"] == "super admin only"
        with db.unit_of_work() as s:
            s.execute(update(StaffUser).where(StaffUser.id == me).values(role="SUPER_ADMIN", is_active=False))
        gone = await decode(cookie)
        assert gone.status_code == 401 and "deactivated" in gone.json()["message"]
        with db.unit_of_work() as s:
            s.execute(update(StaffUser).where(StaffUser.id == me).values(is_active=True))
        assert (await decode(cookie)).status_code == 200  # nothing else had ended this sign-in

        forged = await decode({"Cookie": f"{COOKIE}=not.a.token"})
        assert forged.status_code == 401 and forged.headers["access-control-allow-origin"] == UI


async def test_error_answers_carry_cors_for_the_ui(codec_api) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=codec_api, timeout=30) as api:
        for headers, status in (({}, 401), ({"Authorization": "Bearer nonsense"}, 401)):
            resp = await api.post("/api/v1/codec/decode", json={"payloads": []}, headers={**headers, "Origin": UI})
            assert resp.status_code == status
            assert resp.headers["access-control-allow-origin"] == UI
            assert resp.headers["access-control-allow-credentials"] == "true"
            assert resp.headers["vary"] == "Origin"
        bad = await api.post(
            "/api/v1/codec/decode", content=b"{not json", headers={"Origin": UI, "Content-Type": "application/json"}
        )
        assert bad.status_code == 422 and bad.headers["access-control-allow-origin"] == UI
        other = await api.post(
            "/api/v1/codec/decode", json={"payloads": []}, headers={"Origin": "https://evil.example"}
        )
        assert other.status_code == 401 and "access-control-allow-origin" not in other.headers
        preflight = await api.options(
            "/api/v1/codec/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert preflight.headers["access-control-allow-origin"] == UI  # the origin itself, never *
