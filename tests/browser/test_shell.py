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


async def test_the_api_docs_render_in_chromium_from_this_server_alone(app, page) -> None:  # noqa: ANN001
    """/docs (Swagger UI) shows the API's operations with nothing loaded from elsewhere: FastAPI's page fetched
    Swagger UI from a CDN, and stayed blank on a machine without internet."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto(f"{app.api.url}/docs")
    await page.locator(".opblock").first.wait_for(timeout=30_000)  # an operation, read from /openapi.json
    assert "/api/v1/web/loans" in await page.locator("#swagger-ui").inner_text()
    assert requests and all(url.startswith(app.api.url) or url.startswith("data:") for url in requests), [
        url for url in requests if not url.startswith(app.api.url)
    ]
