"""The console's and the app's shells load in Chromium from the project's own server, with no CDN and no error."""

from __future__ import annotations

from los.seed import DEMO_PASSWORD, staff_email


async def test_console_signs_in_and_out(app, brand, page) -> None:  # noqa: ANN001
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto(f"{app.api.url}/console")
    await page.get_by_label("E-mail").fill(staff_email("ADMIN", brand["brand_code"]))
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").wait_for()
    assert "sign-in was refused" in (await page.get_by_role("alert").inner_text())
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Main").wait_for()
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("button", name="Sign in").wait_for()
    assert all(url.startswith(app.api.url) or url.startswith("data:") for url in requests), requests


async def test_app_shell_loads(app, page) -> None:  # noqa: ANN001
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto(f"{app.api.url}/app")
    await page.locator("main").wait_for()
