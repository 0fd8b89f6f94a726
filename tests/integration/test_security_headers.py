"""Security headers, the CORS allow-list and the customer OTP limits (docs/security.md).

Every answer (pages, static modules, JSON, errors, refusals by the request limits) carries nosniff, a referrer
policy, a frame refusal, a permissions policy and a Content-Security-Policy fitting what it is: the console and the
app load only their own modules and styles (no inline script), /docs may run FastAPI's Swagger UI from where it
loads it, JSON answers load nothing. HSTS is sent for https (or a proxy saying https). CORS answers go to the
configured origins only, and the codec endpoint keeps its own list. The OTP resend gap and hourly cap hold on every
route that sends one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from db.models import Customer, OtpChallenge
from los.demo import Driver, demo_identity
from los.settings import Settings

WEB = "/api/v1/web"
UI = Path(__file__).resolve().parents[2] / "ui" / "static"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def csp(resp: httpx.Response) -> dict[str, list[str]]:
    """The answer's Content-Security-Policy, directive → sources."""
    policy = resp.headers.get("content-security-policy", "")
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class _Refs(HTMLParser):
    """The scripts (inline or not), styles and icons an HTML page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a.get("src"))
        elif tag == "link" and a.get("href"):
            self.links.append(a["href"] or "")


def refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


async def test_every_answer_carries_the_security_headers(app, brand, sandbox, db) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as api:
        answers = {
            "console": await api.get("/console"),
            "app": await api.get("/app"),
            "module": await api.get("/ui/console/main.js"),
            "json": await api.get(f"{WEB}/brands"),
            "401": await api.get(f"{WEB}/loans"),
            "404": await api.get("/no/such/page"),
            "405": await api.delete(f"{WEB}/brands"),
            "422": await api.post(f"{WEB}/auth/login", content=b'{"phoneNumber": NaN}'),
            "413": await api.post(f"{WEB}/auth/login", content=b"[" * (Settings().max_body_bytes + 1)),
            "docs": await api.get("/docs"),
            "openapi": await api.get("/openapi.json"),
            "codec": await api.get("/api/v1/codec/login"),
        }
        for name, resp in answers.items():
            for header, value in ALWAYS.items():
                assert resp.headers.get(header) == value, (name, header, resp.headers)
            assert "geolocation=(self)" in resp.headers["permissions-policy"], name
            assert csp(resp)["frame-ancestors"] == ["'none'"], (name, resp.headers["content-security-policy"])
            assert "strict-transport-security" not in resp.headers, name  # plain http
        assert [answers[n].status_code for n in ("401", "404", "405", "422", "413")] == [401, 404, 405, 422, 413]

        # the console and the app: their own modules and styles only, no inline script, nothing framed but files
        for name in ("console", "app", "module"):
            policy = csp(answers[name])
            assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'self'"], policy
            assert policy["connect-src"] == ["'self'"] and policy["object-src"] == ["'none'"], policy
        for shell in ("console", "app"):
            page = refs(answers[shell].text)
            assert page.scripts and None not in page.scripts, page.scripts  # every script is a file
            assert all(s and s.startswith("/ui/") for s in page.scripts + page.links if not s.startswith("data:"))

        # JSON answers load nothing
        for name in ("json", "401", "404", "422", "413", "openapi"):
            assert csp(answers[name])["default-src"] == ["'none'"], name

        # /docs runs FastAPI's inline start-up script and loads Swagger UI from this API alone (no CDN: a network
        # without internet egress still shows it), and its policy allows nothing from elsewhere
        policy = csp(answers["docs"])
        assert "'unsafe-inline'" in policy["script-src"], policy
        assert not any("//" in source for sources in policy.values() for source in sources), policy
        page = refs(answers["docs"].text)
        assert page.scripts.count(None) >= 1  # the inline start-up script
        assets = [s for s in page.scripts if s] + page.links
        assert assets and all(url.startswith("/docs/assets/") and not urlsplit(url).netloc for url in assets), assets
        for url in assets:
            assert (await api.get(url)).status_code == 200, url

        # behind a proxy that says https (or over https itself): HSTS
        resp = await api.get(f"{WEB}/brands", headers={"X-Forwarded-Proto": "https"})
        assert resp.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_private_files_keep_their_own_policy_and_may_be_framed_by_the_console(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers = await driver.register(demo_identity(0, "auto")[0])
        pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n%" + bytes(512) + b"\n%%EOF\n"
        r = await driver.api.post(
            f"{WEB}/kyc/upload-document",
            headers=headers,
            data={"docType": "OTHER"},
            files={"file": ("a.pdf", pdf, "application/pdf")},
        )
        assert r.status_code == 201, r.text
        file = await driver.api.get(urlsplit(r.json()["url"]).path)
        assert file.status_code == 200 and file.content == pdf
        assert file.headers["content-security-policy"] == "default-src 'none'; sandbox"  # the route's own
        assert file.headers["x-frame-options"] == "SAMEORIGIN"  # the console previews it in a frame
        assert file.headers["x-content-type-options"] == "nosniff"
    finally:
        await driver.close()


def test_the_shells_hold_no_inline_script() -> None:
    """The console's and the app's HTML load every script from a file (what their CSP requires)."""
    for shell in ("console", "app"):
        html = (UI / shell / "index.html").read_text()
        page = refs(html)
        assert page.scripts and None not in page.scripts, (shell, page.scripts)
        assert not re.search(r"\son[a-z]+\s*=", html), shell  # no inline event handlers either


def _client(settings: Settings) -> TestClient:
    api = create_app(settings)
    api.state.settings = settings  # what the lifespan sets; these requests reach no database
    return TestClient(api, raise_server_exceptions=False)


def test_cors_answers_only_the_configured_origins_and_the_codec_keeps_its_own() -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    # none configured: same-origin only, no CORS answer at all
    plain = _client(Settings())
    r = plain.options(f"{WEB}/loans", headers={"Origin": "https://app.example", **preflight})
    assert "access-control-allow-origin" not in r.headers and r.status_code == 405
    r = plain.get("/no/such/page", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers

    settings = Settings(cors_origins=["https://app.example"], temporal_ui_url="http://ui.example:8233")
    client = _client(settings)
    r = client.options(f"{WEB}/loans", headers={"Origin": "https://app.example", **preflight})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in r.headers  # bearer tokens, no cookies cross-origin
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.get("/no/such/page", headers={"Origin": "https://app.example"})
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "https://app.example"
    for other in ("https://evil.example", "http://app.example", "null"):
        r = client.options(f"{WEB}/loans", headers={"Origin": other, **preflight})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers, other
        r = client.get("/no/such/page", headers={"Origin": other})
        assert "access-control-allow-origin" not in r.headers, other

    # the codec endpoint answers its own list (the Temporal UI), not LOS_CORS_ORIGINS
    codec = "/api/v1/codec/decode"
    r = client.options(codec, headers={"Origin": "http://ui.example:8233", **preflight})
    assert r.headers.get("access-control-allow-origin") == "http://ui.example:8233", r.headers
    assert r.headers.get("access-control-allow-credentials") == "true"
    r = client.options(codec, headers={"Origin": "https://app.example", **preflight})
    assert "access-control-allow-origin" not in r.headers, r.headers


async def test_the_otp_gap_and_hourly_cap_hold_on_login_and_mobile_verification(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    """The resend limits are tested on /resend-otp (test_customer_auth.py); they hold on the other routes that send
    an OTP too: /login and /kyc/verify-mobile."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, _ = demo_identity(0, "auto")
    who = {"phoneNumber": phone, "brand": brand["brand_code"]}

    def backdate(minutes: int, extra: int = 0) -> None:
        """Every OTP of the customer's sent ``minutes`` ago, and ``extra`` more sent then."""
        then = datetime.now(UTC) - timedelta(minutes=minutes)
        with db.unit_of_work() as s:
            cid = s.scalars(select(Customer.id).where(Customer.phone == phone)).one()
            s.execute(update(OtpChallenge).where(OtpChallenge.customer_id == cid).values(created_at=then))
            for _ in range(extra):
                s.add(OtpChallenge(customer_id=cid, code_hash="x", expires_at=then, created_at=then))

    def sent() -> int:
        with db.unit_of_work() as s:
            cid = s.scalars(select(Customer.id).where(Customer.phone == phone)).one()
            return len(s.scalars(select(OtpChallenge.id).where(OtpChallenge.customer_id == cid)).all())

    try:
        headers = await driver.register(phone)  # one OTP sent (and used)
        r = await driver.api.post(f"{WEB}/auth/login", json=who)
        assert r.status_code == 429 and r.json()["errors"][0]["field"] == "phoneNumber", r.text
        assert "try again in" in r.json()["message"]
        r = await driver.api.post(f"{WEB}/kyc/verify-mobile", json={}, headers=headers)
        assert r.status_code == 429 and r.json()["errors"][0]["field"] == "phoneNumber", r.text
        assert sent() == 1  # neither refusal sent one
        backdate(2)  # a minute later both send again
        assert (await driver.api.post(f"{WEB}/auth/login", json=who)).status_code == 200
        backdate(2)
        r = await driver.api.post(f"{WEB}/kyc/verify-mobile", json={}, headers=headers)
        assert r.status_code == 200, r.text
        backdate(5, extra=2)  # five in the last hour: the sixth is refused on both routes
        assert sent() == 5
        r = await driver.api.post(f"{WEB}/auth/login", json=who)
        assert r.status_code == 429 and "hour" in r.json()["message"], r.text
        r = await driver.api.post(f"{WEB}/kyc/verify-mobile", json={}, headers=headers)
        assert r.status_code == 429 and "hour" in r.json()["message"], r.text
        assert sent() == 5
    finally:
        await driver.close()
