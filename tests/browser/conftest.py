"""Real Chromium (Debian's, driven by Playwright) against the real stack: the `app` fixture's API and worker,
the Temporal dev server, PostgreSQL and the sandbox over HTTP.

`page` is a fresh browser context and page per test; every console error, uncaught exception and failed
request of the page is collected in `page.problems`, and a test that leaves any fails (the console and the app
must run without errors in the browser console). A 4xx answer the test provoked on purpose is not a problem:
only network failures and 5xx are, but not the long poll of a loan the app aborts when the borrower leaves its
screen.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest_asyncio

CHROMIUM = os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        await browser.close()


def watch(page, problems: list[str]) -> None:  # noqa: ANN001
    """Collect in `problems` every console error, uncaught exception, failed request and 5xx of `page` (a second
    tab of a test watches into the first one's `page.problems`)."""

    def on_console(message) -> None:  # noqa: ANN001
        provoked = "Failed to load resource: the server responded with a status of 4" in message.text
        if message.type == "error" and not provoked:
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_failed(request) -> None:  # noqa: ANN001
        # a long poll of the loan the app let go of when its screen went (ui/static/app/lib.js useLoanWatch)
        let_go = "ERR_ABORTED" in (request.failure or "") and "wait=" in (request.headers.get("prefer") or "")
        if not let_go:
            problems.append(f"request failed: {request.url} {request.failure}")

    page.on("requestfailed", on_failed)
    page.on(
        "response",
        lambda response: problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 500 else None,
    )


@pytest_asyncio.fixture
async def page(chromium) -> AsyncIterator:  # noqa: ANN001
    """A page 1280x800 (the console's desktop size); `await page.set_viewport_size(...)` for a tablet or phone."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = await context.new_page()
    problems: list[str] = []
    watch(page, problems)
    page.problems = problems
    yield page
    await context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


class Console:
    """Drives the staff console in the test's `page`: sign in as a brand's staff member (signing out whoever is in
    first), open a hash route, read the shell's alerts."""

    def __init__(self, page, base_url: str, brand_code: str) -> None:  # noqa: ANN001
        self.page = page
        self.url = f"{base_url}/console"
        self.brand_code = brand_code

    async def sign_in(self, role: str, password: str | None = None) -> None:
        from los.seed import DEMO_PASSWORD, staff_email

        page = self.page
        if not page.url.startswith(self.url):
            await page.goto(self.url)
        sign_out = page.get_by_role("button", name="Sign out")
        sign_in = page.get_by_role("button", name="Sign in")
        await sign_out.or_(sign_in).first.wait_for()
        if await sign_out.count():
            await sign_out.click()
            await sign_in.wait_for()
        await page.get_by_label("E-mail").fill(staff_email(role, self.brand_code))
        await page.get_by_label("Password").fill(password or DEMO_PASSWORD)
        await sign_in.click()
        await page.get_by_role("navigation", name="Main").wait_for()

    async def open(self, route: str) -> None:
        """Go to a hash route (``/queues/credit-executive``) of the signed-in console."""
        await self.page.evaluate("(route) => { location.hash = '#' + route; }", route)


@pytest_asyncio.fixture
async def console(app, brand, page) -> Console:  # noqa: ANN001
    """The console of the test's app and brand, in the test's `page`."""
    return Console(page, app.api.url, brand["brand_code"])
