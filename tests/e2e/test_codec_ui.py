"""The Temporal UI that `los up` embeds shows a loan's history decoded once a super admin has signed in at the
codec sign-in page and the browser's Codec Server settings include cross-origin credentials: the real UI,
in Chromium, fetching the API's codec endpoint with the sign-in cookie."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.e2e.conftest import UpProcess

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The UI's Codec Server settings as "Use my browser setting" + "Include cross-origin credentials" store them
# (the UI's persisted stores: JSON values in localStorage).
BROWSER_SETTING = """([endpoint]) => {
  localStorage.setItem('endpoint', JSON.stringify(endpoint));
  localStorage.setItem('includeCredentials', 'true');
  localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
}"""


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed (bash scripts/install)")
async def test_the_embedded_ui_shows_decoded_history_after_the_codec_sign_in(stack: UpProcess) -> None:
    from playwright.async_api import async_playwright

    demo = subprocess.run(
        [sys.executable, "-m", "los.cli", "demo", "--loans", "1", "--json", "--api", stack.api]
        + ["--sandbox", stack.sandbox],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    [loan] = json.loads(demo.stdout)["loans"]
    ui = f"http://localhost:{stack.ports['ui']}"
    endpoint = f"http://localhost:{stack.ports['api']}/api/v1/codec"
    history = f"{ui}/namespaces/default/workflows/{loan['workflow_id']}"

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=15_000)
        try:
            page = await browser.new_page()
            page.set_default_timeout(20_000)
            decodes: list[int] = []
            page.on("response", lambda r: decodes.append(r.status) if r.url.startswith(f"{endpoint}/decode") else None)
            await page.goto(ui)
            await page.evaluate(BROWSER_SETTING, [endpoint])

            await page.goto(history, wait_until="networkidle")
            assert decodes and set(decodes) == {401}  # not signed in: the UI asks and is refused
            assert '"loan_id"' not in await page.inner_text("body")

            await page.goto(f"{endpoint}/login")
            await page.fill("input[name=email]", "super.admin@demo.example")
            await page.fill("input[name=password]", "demo-password")
            async with page.expect_navigation():
                await page.click("button[type=submit]")
            assert "Signed in as" in await page.inner_text("body")

            decodes.clear()
            await page.goto(history, wait_until="networkidle")
            await page.get_by_text(f'"{loan["loan_id"]}"').first.wait_for()  # the decoded input and result
            assert 200 in decodes and 401 not in decodes
        finally:
            await browser.close()
