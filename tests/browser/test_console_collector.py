"""The collector-profile screen in Chromium against the real stack, and the read-only route it adds (a collector's
day: follow-ups, field visits, promises and call-backs due). Loans, a promise and a field visit are written straight
to the tables as the collections workbench leaves them, so the test needs no loan workflow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from db.models import FieldVisit
from los.demo import Driver
from tests.integration.test_collections_api import promise_row, seed_loan, staff_of, today


async def _get(driver: Driver, role: str, path: str, **params: str):  # noqa: ANN202
    headers = await driver.staff_headers(role)
    return await driver.api.get(f"/api/v1/partner/brand/{driver._brand_id}{path}", headers=headers, params=params)


def _visit(db, brand_id: str, loan_id: str, staff_id: str) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        s.add(
            FieldVisit(
                brand_id=brand_id, loan_id=loan_id, staff_id=staff_id, visited_at=datetime.now(UTC),
                latitude=Decimal("12.971600"), longitude=Decimal("77.594600"), disposition="CUSTOMER_MET",
            )
        )  # fmt: skip


async def test_a_collectors_day_is_read_by_them_and_by_a_manager(app, brand, sandbox, db, console) -> None:  # noqa: ANN001
    brand_id = brand["brand_id"]
    executive, manager = staff_of(brand, "COLLECTION_EXECUTIVE"), staff_of(brand, "COLLECTION_MANAGER")
    first = seed_loan(db, brand_id, dpd=5, overdue=3_000_00, bucket=None, collector=executive)
    seed_loan(db, brand_id, dpd=12, overdue=4_500_00, bucket=None, collector=executive)
    promise_row(db, brand_id, first, executive, today(), amount=1_500_00)
    _visit(db, brand_id, first, executive)

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        # the route: one's own day; another's only with collections.manage; the field named when refused
        resp = await _get(driver, "COLLECTION_EXECUTIVE", f"/collection/collectors/{executive}/day")
        assert resp.status_code == 200, resp.text
        day = resp.json()
        assert (day["followUps"], day["byDisposition"], day["fieldVisits"]) == (1, {"PROMISE_TO_PAY": 1}, 1)
        assert [(f["loanId"], f["ptpAmountPaise"]) for f in day["due"]] == [(first, 1_500_00)]
        resp = await _get(driver, "COLLECTION_EXECUTIVE", f"/collection/collectors/{manager}/day")
        assert resp.status_code == 403 and resp.json()["errors"][0]["field"] == "staffId", resp.text
        resp = await _get(driver, "COLLECTION_MANAGER", f"/collection/collectors/{executive}/day", date="2026-13-01")
        assert resp.status_code == 422 and "date" in resp.text, resp.text
        resp = await _get(driver, "COLLECTION_MANAGER", f"/collection/collectors/{uuid.uuid4()}/day")
        assert resp.status_code == 404, resp.text
        resp = await _get(driver, "COLLECTION_MANAGER", f"/collection/collectors/{executive}/day", date="2020-01-01")
        assert resp.status_code == 200 and resp.json()["followUps"] == 0, resp.text
    finally:
        await driver.close()

    page = console.page
    # the collector's own profile
    await console.sign_in("COLLECTION_EXECUTIVE")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Collector profile").click()
    figure = page.locator("[data-figure='follow-ups'] .figure-value")
    await figure.get_by_text("1", exact=True).wait_for()
    assert await page.locator("[data-figure='visits-today'] .figure-value").inner_text() == "1"
    await page.locator("[data-figure='cases'] .figure-value").get_by_text("2", exact=True).wait_for()
    due = page.get_by_role("table", name="Due today")
    await due.get_by_text("Promise to pay ₹1,500.00 (Pending)").wait_for()
    cases = page.get_by_role("table", name="Allocated cases")
    assert await cases.get_by_role("row").count() == 3  # the header and the two loans
    await page.get_by_role("button", name="Show the period").wait_for()
    assert not await page.get_by_role("heading", name="Allocation profile").count()  # a manager's view only

    # a manager opens the executive's profile from the list of collectors
    await console.sign_in("COLLECTION_MANAGER")
    await console.open("/collectors")
    email = f"collection.executive@{brand['brand_code']}.example"
    await page.get_by_role("button", name=f"Open {email}").click()
    await page.get_by_role("heading", name="Allocation profile").wait_for()
    await page.locator("[data-figure='visits-today'] .figure-value").get_by_text("1", exact=True).wait_for()
    await page.get_by_role("table", name="Due today").get_by_text("Promise to pay").wait_for()
    await page.get_by_text("Open cases").wait_for()
    assert page.url.endswith(f"#/collectors/{executive}")
