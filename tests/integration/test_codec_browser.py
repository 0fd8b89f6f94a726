"""A real browser (Chromium) signs in on the codec sign-in page, and a page served at the Temporal UI's origin
then decodes payloads with ``fetch(..., {credentials: 'include'})``, as the UI does with "Include cross-origin
credentials" on: the browser really sends the SameSite=Lax cookie from the UI's origin (same site:
localhost), not from the UI opened under 127.0.0.1 (another site), and a page of another origin on the same
site cannot use it."""

from __future__ import annotations

import base64
import os
import shutil

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from db.models import AuditLog
from los.seed import DEMO_PASSWORD, staff_email
from los.temporal import payload_codec
from tests.conftest import ThreadedServer, free_port

CHROMIUM = os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What the Temporal UI's codec request does (ui: codeServerRequest), run in the page at the UI's origin.
FETCH = """async ([url, body, credentials]) => {
  try {
    const r = await fetch(url, {method: 'POST', credentials, body: JSON.stringify(body),
                                headers: {'Content-Type': 'application/json', 'X-Namespace': 'default'}});
    return {status: r.status, body: await r.json()};
  } catch (e) {
    return {status: 0, error: String(e)};
  }
}"""
# What another site can make a browser send without asking (a "simple" request: no preflight, cookies
# attached, answer unreadable): the attack the codec cookie must not serve.
SIMPLE_POST = """async ([url, body]) => {
  await fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include', body: JSON.stringify(body),
                    headers: {'Content-Type': 'text/plain'}});
  return true;
}"""


def _page_server() -> ThreadedServer:
    async def index(request) -> HTMLResponse:  # noqa: ANN001
        return HTMLResponse("<!doctype html><title>a page</title><p>a page</p>")

    return ThreadedServer(Starlette(routes=[Route("/", index)]))


def _json(p: Payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
        "data": base64.b64encode(p.data).decode(),
    }


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed (bash scripts/install)")
async def test_chromium_sends_the_codec_cookie_from_the_ui_origin_only(app, brand, db) -> None:  # noqa: ANN001
    from playwright.async_api import async_playwright

    plain = pydantic_data_converter.payload_converter.to_payloads([{"pan": "ABCDE1234F"}, "hello"])
    body = {"payloads": [_json(p) for p in await payload_codec(app.settings).encode(plain)]}
    email = staff_email("SUPER_ADMIN", brand["brand_code"])
    with _page_server() as ui, _page_server() as other:
        # the UI and the API as `los up` has them: both on localhost, the API allowing the UI's origin
        settings = app.settings.model_copy(
            update={"api_port": free_port(), "temporal_ui_url": f"http://localhost:{ui.port}"}
        )
        with ThreadedServer(create_app(settings), port=settings.api_port) as api:
            endpoint = f"http://localhost:{api.port}/api/v1/codec"
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=15_000)
                try:
                    page = await browser.new_page()
                    page.set_default_timeout(10_000)
                    await page.goto(f"{endpoint}/login")
                    await page.fill("input[name=email]", email)
                    await page.fill("input[name=password]", DEMO_PASSWORD)
                    async with page.expect_navigation():
                        await page.click("button[type=submit]")
                    assert "Signed in as" in await page.inner_text("body")
                    assert "los_codec" not in await page.evaluate("document.cookie")  # HttpOnly

                    await page.goto(f"http://localhost:{ui.port}/")
                    decoded = await page.evaluate(FETCH, [f"{endpoint}/decode", body, "include"])
                    assert decoded["status"] == 200, decoded
                    assert decoded["body"]["payloads"] == [_json(p) for p in plain]
                    # without "Include cross-origin credentials" no cookie goes: a 401 the page can read
                    omitted = await page.evaluate(FETCH, [f"{endpoint}/decode", body, "same-origin"])
                    assert omitted["status"] == 401, omitted

                    # the UI opened as 127.0.0.1 is another site than the API's localhost: no cookie goes
                    await page.goto(f"http://127.0.0.1:{ui.port}/")
                    cross_site = await page.evaluate(FETCH, [f"{endpoint}/decode", body, "include"])
                    assert cross_site["status"] == 401, cross_site

                    # another origin of the same site gets no CORS answer (its preflight is refused), and
                    # what it may send without asking decodes nothing (see the audit count below)
                    await page.goto(f"http://localhost:{other.port}/")
                    foreign = await page.evaluate(FETCH, [f"{endpoint}/decode", body, "include"])
                    assert foreign["status"] == 0 and "fetch" in foreign["error"].lower(), foreign
                    for path in ("decode", "encode"):
                        assert await page.evaluate(SIMPLE_POST, [f"{endpoint}/{path}", body])
                finally:
                    await browser.close()
            async with httpx.AsyncClient(timeout=10) as http:  # the page's cookie is the browser's only
                assert (await http.post(f"{endpoint}/decode", json=body)).status_code == 401

    with db.unit_of_work() as s:
        decodes = s.scalar(select(func.count()).where(AuditLog.action == "codec.decode", AuditLog.actor_email == email))
        assert decodes == 1  # the UI origin's decode; the foreign page's request was refused
