"""The operations pages in Chromium against the real stack, as the brand's admin: a report over a date range shows
its rows and downloads as CSV; a Facebook Lead Ads export uploaded shows what it gave; global search finds a
customer by name with the PAN masked; a status reason added in the settings persists and the audit log shows it."""

from __future__ import annotations

import uuid
from pathlib import Path

from db.models import Customer
from los.demo import Driver
from los.seed import DEMO_PASSWORD, staff_email

LEADS = Path(__file__).resolve().parents[1] / "fixtures" / "facebook_leads.csv"


async def test_reports_leads_search_settings_and_audit(app, brand, sandbox, db, page) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        s.add(Customer(brand_id=brand["brand_id"], phone="9811122233", full_name="Kavya Raghunathan", pan="KAVYA1234R"))
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        await page.goto(f"{app.api.url}/console#/reports")
        await page.get_by_label("E-mail").fill(staff_email("ADMIN", brand["brand_code"]))
        await page.get_by_label("Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()

        # reports: the admin's own sign-in is a row of today's staff sign-ins; the CSV has the report's header
        await page.get_by_label("Report type").select_option("login-sessions-report")
        await page.get_by_role("button", name="Show the report").click()
        table = page.get_by_role("table", name="Staff sign-ins")
        await table.get_by_text(staff_email("ADMIN", brand["brand_code"])).first.wait_for()
        async with page.expect_download() as waiting:
            await page.get_by_role("button", name="Download CSV").click()
        download = await waiting.value
        name = download.suggested_filename
        assert name.startswith("login-sessions-report_") and name.endswith(".csv"), name
        text = Path(await download.path()).read_text(encoding="utf-8-sig")
        header, *rows = text.splitlines()
        assert header.startswith("logged_at,staff_id,email,staff_name,role,success"), header
        assert any(staff_email("ADMIN", brand["brand_code"]) in row for row in rows)

        # leads: the export uploaded; 6 rows read, 3 new, 1 duplicate (same phone twice), 2 refused with their line
        await page.goto(f"{app.api.url}/console#/leads")
        await page.get_by_label("Facebook Lead Ads export").set_input_files(str(LEADS))
        await page.get_by_role("button", name="Upload", exact=True).click()
        result = await page.get_by_test_id("upload-result").inner_text()
        assert "6 rows read: 3 new, 1 duplicates, 2 refused." in result, result
        assert "line 5, phone_number" in result and "line 7, email" in result
        listed = await driver.partner("ADMIN", "GET", "/lead-forms")
        assert (listed["stats"]["new"], listed["stats"]["duplicate"]) == (3, 1)
        await page.get_by_role("table", name="Leads").get_by_text("Meena Iyer").wait_for()

        # global search by a misspelt name: the customer, the PAN masked
        await page.goto(f"{app.api.url}/console#/search?q=Kavya%20Ragunathan")
        hit = page.get_by_role("table", name="Search results").get_by_role("row", name="Kavya Raghunathan")
        await hit.wait_for()
        assert "KAXXXXX34R" in await hit.inner_text()
        assert "KAVYA1234R" not in await page.content()

        # settings: a status reason added persists; the audit log shows the change
        code = f"NO_INCOME_{uuid.uuid4().hex[:6].upper()}"
        await page.goto(f"{app.api.url}/console#/settings/status-reasons")
        await page.get_by_label("Code").fill(code)
        await page.get_by_label("Label").fill("No verifiable income")
        await page.get_by_label("WRITTEN_OFF").check()
        await page.get_by_role("button", name="Add the reason").click()
        await page.get_by_role("table", name="Status reasons").get_by_text(code).wait_for()
        reasons = await driver.partner("ADMIN", "GET", "/settings/status-reasons")
        saved = next(r for r in reasons if r["code"] == code)
        assert (saved["label"], sorted(saved["statuses"])) == ("No verifiable income", ["REJECTED", "WRITTEN_OFF"])

        await page.goto(f"{app.api.url}/console#/audit")
        await page.get_by_label("Action starts with").fill("settings.status_reason")
        await page.get_by_role("button", name="Apply").click()
        entry = page.get_by_role("table", name="Audit log").get_by_role("row", name="settings.status_reason.create")
        await entry.wait_for()
        await entry.get_by_role("button", name="Show").click()
        assert code in await entry.inner_text()
    finally:
        await driver.close()
